"""FTS5's `snippet()` for plain-word queries, worked out without an FTS5 table.

`app.search.scratch` answers a page's snippets by loading its texts into an in-memory
FTS5 table, which tokenizes and stems every text three times: about 11 us a text, the
largest part of a search request. For queries of plain words (no phrase, no prefix),
when the search index says how many tokens each text holds and how often it holds each
query term, the same snippet comes out of FTS5's own algorithm (fts5_aux.c:
`fts5SnippetFunction`, `fts5SnippetScore`, `fts5SentenceFinderCb`, `fts5HighlightCb`)
run here on the positions of the query's instances, on these grounds:

* Tokens: the unicode61 tokenizer (porter's parent) splits text into maximal runs of
  token characters, each character classed on its own. FTS5 itself classes the 256
  first code points, once per process; a text of those is translated byte for byte
  (separators to spaces, ASCII letters to lower case), so that a token is a run of
  non-spaces and its byte offsets are its character offsets in the text.
* Instances: FTS5 makes each token into its term alone (case folding, diacritics,
  porter's stem), so FTS5 itself tells which translated tokens ("forms") make each
  term, once per process. The occurrences of a term's known forms as whole tokens are
  instances of it; when they are as many as the search index counts for the text (FTS5's
  own count), they are all of them. Otherwise the text's tokens are learned from FTS5
  and the count is tried again, and FTS5 answers if it still differs.
* The rest is FTS5's arithmetic on token positions, written out below step by step;
  `tests/test_search_snippets.py` compares both ways on generated texts and queries.

Phrases, prefixes, any-of queries, texts beyond Latin-1 and tokenizers outside
unicode61's family are left to the scratch table.
"""

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from app.search.scratch import Scratch, scratch
from app.search_syntax import SearchQuery

# Tokenizer words of the unicode61 family: tokens are runs of token characters, each
# character classed alone, each token made into its term alone.
_FAMILY = frozenset({"porter", "unicode61", "ascii", "remove_diacritics", "0", "1", "2"})
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_SPACE = 0x20
# A text's sentence shape: a token character is "a", '.' and ':' are ".", a space, tab
# or line end is " ", any other separator "#". A sentence starts at a token right after
# '.' or ':' and one or more spaces, tabs or line ends (fts5SentenceFinderCb).
_SENTENCE_START = re.compile(rb"\. +a")
_TOKENS_AS_A = bytes(_SPACE if code == _SPACE else ord("a") for code in range(256))
# snippet()'s scores: 1000 for a phrase's first instance in a window, 1 for each other
# (999 a phrase, 1 an instance); a window from a sentence start scores 100 more (120
# from the text's start).
_PHRASE = 999
_SENTENCE_BONUS, _START_BONUS = 100, 120
# Forms kept per tokenizer and process; past this many they are learned again.
MAX_FORMS = 200_000


@dataclass(frozen=True, slots=True)
class Marks:
    """snippet()'s arguments: highlight start and end, ellipsis, and tokens per snippet."""

    start: str
    stop: str
    ellipsis: str
    tokens: int


@dataclass(frozen=True, slots=True)
class Counts:
    """What FTS5's index holds of each text: its tokens and how often it holds each term."""

    sizes: Sequence[int]
    terms: Mapping[str, Sequence[int]]  # term to its count in each text


class Vocabulary:
    """What FTS5 makes of characters and tokens under one tokenizer, learned on first use."""

    def __init__(self, tokenizer: str) -> None:
        self.tokenizer = tokenizer
        self.usable = set(tokenizer.split()) <= _FAMILY
        self.table: bytes | None = None  # code point < 256 to itself, lower case or space
        self.shape = b""  # code point < 256 to its sentence shape
        # Every translated token asked about; the forms of each term (as " form " needles).
        self.asked: set[bytes] = set()
        self.forms: dict[str, list[bytes]] = {}
        self._lock = threading.Lock()

    def translation(self, table: Scratch) -> bytes | None:
        """The byte translation of Latin-1 text into tokens separated by spaces; None
        when FTS5 classes a character other than as a token character or a separator."""
        if self.table is None and self.usable:
            chars = [chr(code) for code in range(256)]
            counts = table.token_counts([f"a{char}a" for char in chars])
            apart = {char for char, count in zip(chars, counts, strict=True) if count == 2}
            if any(count not in (1, 2) for count in counts) or not apart >= set(".: \t\n\r"):
                self.usable = False
                return None
            self.table = bytes(
                _SPACE if char in apart else ord(char.lower()) if char.isascii() else ord(char)
                for char in chars
            )
            self.shape = bytes(ord(_shape(char, char in apart)) for char in chars)
        return self.table

    def learn(self, table: Scratch, translated: list[bytes]) -> None:
        """Learn the terms of the tokens of `translated` texts not asked about yet."""
        tokens = sorted({token for text in translated for token in text.split()} - self.asked)
        if not tokens:
            return
        terms = table.token_terms([token.decode("latin-1") for token in tokens])
        with self._lock:
            if len(self.asked) + len(tokens) > MAX_FORMS:
                self.asked.clear()
                self.forms.clear()
            self.asked.update(tokens)
            for token, term in zip(tokens, terms, strict=True):
                if term:
                    self.forms.setdefault(term, []).append(b" " + token + b" ")


def _shape(char: str, separator: bool) -> str:
    """The sentence shape of one character."""
    if not separator:
        return "a"
    return "." if char in ".:" else " " if char in " \t\n\r" else "#"


_VOCABULARIES: dict[str, Vocabulary] = {}


def vocabulary(tokenizer: str) -> Vocabulary:
    """The process's vocabulary of `tokenizer`."""
    found = _VOCABULARIES.get(tokenizer)
    if found is None:
        found = _VOCABULARIES.setdefault(tokenizer, Vocabulary(tokenizer))
    return found


def query_terms(tokenizer: str, query: SearchQuery) -> tuple[str, ...] | None:
    """The term of each included word, in order, when the query is plain ASCII words
    AND-ed (with exclusions): what `snippets` can answer itself. None otherwise."""
    if query.any_of:
        return None
    table = scratch(tokenizer)
    found: list[str] = []
    for term in (*query.include, *query.exclude):
        if term.prefix or len(term.words) != 1:
            return None
        # An ASCII run of letters and digits is one token to every unicode61 tokenizer.
        if not _ASCII_WORD.fullmatch(term.words[0]):
            return None
        stems = table.terms(term.words[0])
        if len(stems) != 1:
            return None
        found.append(stems[0])
    return tuple(found[: len(query.include)])


def snippets(
    tokenizer: str,
    texts: Sequence[str],
    query: SearchQuery,
    marks: Marks,
    counts: Counts | None = None,
) -> list[str]:
    """`snippet(table, -1, start, stop, ellipsis, tokens)` of each text for `query`, as an
    FTS5 table of `tokenizer` holding the texts answers it.

    Every text must match the query. `counts`: FTS5's counts of the texts' tokens and of
    the terms of `query_terms`; without them, FTS5 answers.
    """
    return _snippets(tokenizer, texts, query, marks, counts, None)


def html_snippets(
    tokenizer: str,
    texts: Sequence[str],
    query: SearchQuery,
    marks: Marks,
    counts: Counts | None,
    html: Callable[[str], str],
    tags: tuple[str, str],
) -> list[str]:
    """`html(snippet)` of each of `snippets`, where `html` escapes a snippet's text and
    turns its marks into `tags`: a text holding none of `&<>` and of the marks has
    nothing to escape, so its tags are put in at once."""
    return _snippets(tokenizer, texts, query, marks, counts, (html, tags))


def _snippets(
    tokenizer: str,
    texts: Sequence[str],
    query: SearchQuery,
    marks: Marks,
    counts: Counts | None,
    html: tuple[Callable[[str], str], tuple[str, str]] | None,
) -> list[str]:
    """`snippets`, or `html_snippets` with `html` given."""
    table = scratch(tokenizer)
    words = vocabulary(tokenizer)
    translation = words.translation(table)
    phrases = query_terms(tokenizer, query) if translation is not None else None
    found: list[str | None] = [None] * len(texts)
    if phrases is not None and translation is not None and counts is not None:
        pending = _answer(found, texts, phrases, counts, words, marks, html)
        if pending:
            # Forms not met before, or a text FTS5 counts otherwise: learn, try again.
            words.learn(
                table,
                [texts[number].encode("latin-1").translate(translation) for number in pending],
            )
            _answer(found, texts, phrases, counts, words, marks, html, pending)
    rest = [number for number, snippet in enumerate(found) if snippet is None]
    if rest:
        answered = table.snippets(
            [texts[number] for number in rest], query.fts5(), _arguments(marks), marks.tokens
        )
        for number, snippet in zip(rest, answered, strict=True):
            found[number] = snippet if html is None else html[0](snippet)
    return [snippet or "" for snippet in found]


@lru_cache(maxsize=16)
def _safe_bytes(marks: Marks) -> bytes:
    """Every Latin-1 byte but those HTML escaping changes and those of the marks: what
    `bytes.translate` deletes to leave a text's unsafe bytes."""
    unsafe = set(b"&<>") | {ord(char) for char in marks.start + marks.stop if ord(char) < 256}
    return bytes(code for code in range(256) if code not in unsafe)


def _answer(
    found: list[str | None],
    texts: Sequence[str],
    phrases: tuple[str, ...],
    counts: Counts,
    words: Vocabulary,
    marks: Marks,
    html: tuple[Callable[[str], str], tuple[str, str]] | None,
    numbers: Sequence[int] | None = None,
) -> list[int]:
    """Fill in `found` for the texts (`numbers`, default all) whose instances the known
    forms account for; the numbers of the others of Latin-1 text."""
    translation, shape_of, sizes = words.table or b"", words.shape, counts.sizes
    tagged, safe = marks, b""
    if html is not None:
        tagged = _tagged(marks, *html)
        safe = _safe_bytes(marks)
    # Per distinct term: its counts, its forms, and the phrases it stands for.
    plan: _Plan = [
        (
            counts.terms[term],
            words.forms.get(term, ()),
            tuple(at for at, other in enumerate(phrases) if other == term),
        )
        for term in dict.fromkeys(phrases)
    ]
    pending: list[int] = []
    for number in range(len(texts)) if numbers is None else numbers:
        text = texts[number]
        try:
            latin = text.encode("latin-1")
        except UnicodeEncodeError:
            continue  # FTS5's own way
        if b"\0" in latin:
            continue  # FTS5 copies text up to a NUL only: its own way (ingest refuses NULs)
        translated = latin.translate(translation)
        spans = _instances(translated, number, plan)
        if spans is None:
            pending.append(number)
            continue
        size = sizes[number]
        shape = latin.translate(shape_of) if size > marks.tokens else b""
        if html is None:
            found[number] = _snippet(text, translated, size, spans, marks, shape)
        elif latin.translate(None, safe):  # bytes to escape, or marks in the text
            found[number] = html[0](_snippet(text, translated, size, spans, marks, shape))
        else:
            found[number] = _snippet(text, translated, size, spans, tagged, shape)
    return pending


@lru_cache(maxsize=16)
def _tagged(marks: Marks, html: Callable[[str], str], tags: tuple[str, str]) -> Marks:
    """`marks` with `tags` for highlights and the ellipsis as `html` gives it."""
    return replace(marks, start=tags[0], stop=tags[1], ellipsis=html(marks.ellipsis))


def _arguments(marks: Marks) -> tuple[str, str, str]:
    return marks.start, marks.stop, marks.ellipsis


# An instance: its offset in the text, the offset past its token, and its phrases.
_Span = tuple[int, int, tuple[int, ...]]
# Per distinct query term: its count in each text, its forms, the phrases it makes.
_Plan = list[tuple[Sequence[int], Sequence[bytes], tuple[int, ...]]]


def _instances(translated: bytes, number: int, plan: _Plan) -> list[_Span] | None:
    """Every token of the text that is an instance of a phrase, in text order; None when
    the known forms of a term do not make up its count (or it holds none)."""
    padded = b" " + translated + b" "
    spans: list[_Span] = []
    for held, needles, phrases in plan:
        wanted = held[number]
        if not wanted:
            return None  # the text does not match: FTS5 says so
        for needle in needles:
            # A token at offset `at` of the text is found at `at` of `padded`.
            at = padded.find(needle)
            if at < 0:
                continue
            skip = len(needle) - 1
            while at >= 0:
                spans.append((at, at + skip - 1, phrases))
                wanted -= 1
                at = padded.find(needle, at + skip)
            if wanted <= 0:
                break
        if wanted:
            return None
    if len(spans) > 1:
        spans.sort()
    return spans


def _snippet(
    text: str, translated: bytes, size: int, spans: list[_Span], marks: Marks, shape: bytes
) -> str:
    """FTS5's snippet of one text of `size` tokens, given every instance of the query's
    phrases; `shape` is the text's sentence shape (see `Vocabulary.translation`)."""
    width = marks.tokens
    if size <= width:
        # Every window starts at token 0 and reaches the end: the whole text, marked.
        return _marked(text, spans, 0, len(text), marks)
    # Tokens before an offset: the " a" pairs before it, spaces and tokens made one byte
    # each (padded: a token at offset 0 counts too).
    # Counted on from the offset before: " a" cannot overlap itself, so the pairs before
    # `end` are those before `done` plus those starting at `done - 1` or later.
    count = (b" " + translated.translate(_TOKENS_AS_A)).count
    firsts = [0]
    position, done = 0, 1
    for match in _SENTENCE_START.finditer(shape, 0, spans[-1][0] + 1):
        end = match.end()
        position += count(b" a", done - 1, end)
        done = end
        if position > 0:
            firsts.append(position)
    # Instances as xInst lists them: by position, then phrase number.
    positions: list[int] = []
    phrases: list[int] = []
    position, done = 0, 1
    for at, _, numbers in spans:
        position += count(b" a", done - 1, at + 1)
        done = at + 1
        for phrase in numbers:
            positions.append(position)
            phrases.append(phrase)
    start = _best_start(positions, phrases, firsts, size, width)
    end = start + width - 1
    low = _token_start(translated, start) if start > 0 else 0
    head = marks.ellipsis if start > 0 else ""
    if end < size - 1:
        high = translated.find(b" ", _token_start(translated, end - start, low))
        shown = [span for span in spans if low <= span[0] < high]
        return head + _marked(text, shown, low, high, marks) + marks.ellipsis
    shown = [span for span in spans if low <= span[0]] if start > 0 else spans
    return head + _marked(text, shown, low, len(text), marks)


def _best_start(
    positions: list[int], phrases: list[int], firsts: list[int], size: int, width: int
) -> int:
    """fts5SnippetFunction's choice of the snippet's first token: for each instance, the
    window centred on the instances from it on, then the window from the start of its
    sentence; the first best scoring wins (an instance or sentence met again scores the
    same, so it is skipped).

    fts5SnippetScore of a window: 1000 for each phrase's first instance in it, 1 for each
    other one, i.e. 999 a phrase plus 1 an instance.
    """
    single = len(set(phrases)) == 1
    best_score, best_start = 0, 0
    done = -1
    tried = -1  # sentence starts come in order: the last one tried
    for at, position in enumerate(positions):
        if position == done:
            continue
        done = position
        # The window [position, position + width) holds instances at..stop-1.
        stop = bisect_left(positions, position + width, at)
        distinct = 1 if single else len(set(phrases[at:stop]))
        score = _PHRASE * distinct + stop - at
        if score > best_score:
            # Centred on the window's instances, kept inside the text.
            last = positions[stop - 1] + 1
            start = position - (width - (last - position)) // 2
            best_score, best_start = score, max(min(start, size - width), 0)
        sentence = firsts[bisect_right(firsts, position) - 1]
        if sentence < position and sentence != tried:
            tried = sentence
            low = bisect_left(positions, sentence, 0, at)
            high = bisect_left(positions, sentence + width, low)
            if high > low:
                distinct = 1 if single else len(set(phrases[low:high]))
                score = _PHRASE * distinct + high - low
            else:
                score = 0
            score += _START_BONUS if sentence == 0 else _SENTENCE_BONUS
            if score > best_score:
                best_score, best_start = score, sentence
    return best_start


def _token_start(translated: bytes, position: int, offset: int = 0) -> int:
    """The offset of the token `position` tokens on from the one at `offset` (or from the
    text's start) in the translated text (it has that many)."""
    pattern = _STARTS.get(position)
    if pattern is None:
        pattern = re.compile(rb" *(?:[^ ]+ +){%d}" % position)
        if len(_STARTS) < 4096:
            _STARTS[position] = pattern
    match = pattern.match(translated, offset)
    assert match is not None, "a token position within the text"
    return match.end()


_STARTS: dict[int, re.Pattern[bytes]] = {}


def _marked(text: str, spans: list[_Span], low: int, high: int, marks: Marks) -> str:
    """The text from offset `low` to `high` with the instances `spans` marked."""
    pieces: list[str] = []
    done = low
    for begin, stop, _ in spans:
        pieces += (text[done:begin], marks.start, text[begin:stop], marks.stop)
        done = stop
    pieces.append(text[done:high])
    return "".join(pieces)
