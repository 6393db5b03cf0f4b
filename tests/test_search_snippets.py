"""`app.search.snippets` answers as FTS5's own snippet() does, text for text.

Each case is a set of texts matching a query, snippeted both ways: by FTS5 on an
in-memory table of the texts (`Scratch.snippets`, what search used before) and by the
Python way, given the counts FTS5 keeps of the texts. Texts mix inflected and
capitalized words, digits, Latin-1 letters, sentence ends ('.', ':' and white space),
other punctuation and separators, and a few characters beyond Latin-1 (FTS5 answers
those texts itself); queries repeat, exclude and capitalize words, and some are phrases
or prefixes (FTS5 again).
"""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.queries.search import highlighted
from app.search import scratch as scratch_module
from app.search.scratch import scratch
from app.search.snippets import Counts, Marks, html_snippets, query_terms, snippets
from app.search_syntax import SearchQuery, SearchSyntaxError, parse_search

TOKENIZER = "porter unicode61 remove_diacritics 2"
MARKS = ("\x02", "\x03", "…")
# Words with shared stems and their variants, as texts and queries use them.
WORDS = [
    *("model", "models", "modeling", "modelled", "Model", "MODELS", "run", "running", "runs"),
    *("Runner", "happy", "happiness", "happily", "relational", "relate", "relating"),
    *("connect", "connection", "connected", "CONNECTS", "general", "generalization"),
    *("generalize", "gpu", "GPUs", "v1", "2024", "x", "a", "I", "the", "of", "and", "naïve"),
    *("naive", "café", "CAFÉ", "über", "Straße", "µs", "déjà", "vu", "attention", "attend"),
    *("attentive", "index", "indexes", "indices"),
]
FILLER = ["lorem", "ipsum", "dolor", "sit", "amet", "tempor", "labore", "magna", "aliqua"]
# Gaps between words: sentence ends FTS5 looks for and other separators, Latin-1 or not.
GAPS = (
    [" "] * 12
    + [", ", ". ", ".  ", ":\n", ".\t", ". \r\n", " - ", "_", "'", " (", ") ", "\n", "!? "]
    + ["\xa0", " · ", "...", ".", ": ", ":", " .a ", " & ", " <b>", "</i> ", "\x02", "\x03 "]
)
WIDE_GAPS = [" \u2014 ", "\u2019", " 日本 "]  # beyond Latin-1: FTS5 answers the text


def _text(rng: random.Random, must: list[str]) -> str:
    """A text of 1 to 90 words, holding `must` somewhere."""
    count = rng.choice([rng.randint(1, 12), rng.randint(13, 30), rng.randint(25, 90)])
    words = [rng.choice(WORDS if rng.random() < 0.3 else FILLER) for _ in range(count)]
    for word in must:
        words.insert(rng.randint(0, len(words)), word)
    pieces = [rng.choice(["", "", " ", "(", ". "])]
    for word in words:
        pieces += (word, rng.choice(GAPS if rng.random() > 0.004 else WIDE_GAPS))
    if rng.random() < 0.3:
        pieces.append(rng.choice([".", " ", "…", "!"]))
    return "".join(pieces)


def _query(rng: random.Random) -> str:
    """A query of one to three words, sometimes with an exclusion, phrase or prefix."""
    words = [rng.choice(WORDS) for _ in range(rng.choice([1, 1, 2, 2, 3]))]
    kind = rng.random()
    if kind < 0.1:
        words.append("-" + rng.choice(FILLER + WORDS))
    elif kind < 0.15:
        words.append(words[0])
    elif kind < 0.2:
        words = ['"' + " ".join(words) + '"']
    elif kind < 0.25:
        words[0] += "*"
    return " ".join(words)


def _counts(texts: list[str], query: SearchQuery) -> Counts | None:
    """What an FTS5 index of `texts` counts of their tokens and of the query's terms."""
    terms = query_terms(TOKENIZER, query)
    if terms is None:
        return None
    sizes, held = scratch(TOKENIZER).counts(texts, list(dict.fromkeys(terms)))
    return Counts(sizes, held)


def _matching(texts: list[str], query: SearchQuery) -> list[str]:
    """The texts FTS5 says match `query` (snippets are asked for matches only)."""
    table = scratch(TOKENIZER)
    found = table.snippets(texts, query.fts5(), MARKS, 1)
    return [text for text, snippet in zip(texts, found, strict=True) if snippet]


class FallbackCount:
    """How many texts went to FTS5's own snippet()."""

    texts = 0


@pytest.fixture
def fallback(monkeypatch: pytest.MonkeyPatch) -> FallbackCount:
    """Counts the texts `Scratch.snippets` is given while the test runs."""
    counted = FallbackCount()
    original = scratch_module.Scratch.snippets

    def counting(
        self: scratch_module.Scratch,
        texts: list[str],
        match: str,
        marks: tuple[str, str, str],
        tokens: int,
    ) -> list[str]:
        counted.texts += len(texts)
        return original(self, texts, match, marks, tokens)

    monkeypatch.setattr(scratch_module.Scratch, "snippets", counting)
    return counted


def _both_ways(
    texts: list[str], query: SearchQuery, width: int, fallback: FallbackCount | None = None
) -> tuple[list[str], list[str], int]:
    """(Python's snippets, FTS5's snippets, how many texts the first left to FTS5)."""
    counts = _counts(texts, query)
    theirs = scratch(TOKENIZER).snippets(texts, query.fts5(), MARKS, width)
    before = fallback.texts if fallback else 0
    mine = snippets(TOKENIZER, texts, query, Marks(*MARKS, width), counts)
    left = (fallback.texts if fallback else 0) - before
    # The HTML flavour: FTS5's snippet escaped and marked as search answers it.
    tags = ("<mark>", "</mark>")
    html = html_snippets(TOKENIZER, texts, query, Marks(*MARKS, width), counts, highlighted, tags)
    assert html == [highlighted(snippet) for snippet in theirs]
    return mine, theirs, left


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("width", [24, 7])
def test_snippets_are_fts5s_on_generated_texts(
    seed: int, width: int, fallback: FallbackCount
) -> None:
    rng = random.Random(seed)
    compared = plain = plain_fallbacks = 0
    differences: list[tuple[str, str, str, str]] = []
    for _ in range(60):
        try:
            query = parse_search(_query(rng))
        except SearchSyntaxError:
            continue
        words = [term.words[0] for term in query.include if len(term.words) == 1]
        texts = _matching([_text(rng, words) for _ in range(12)], query)
        if not texts:
            continue
        mine, theirs, left = _both_ways(texts, query, width, fallback)
        if query_terms(TOKENIZER, query) is not None:
            plain += len(texts)
            plain_fallbacks += left
        else:
            assert left == len(texts)  # FTS5 answered, Python never
        compared += len(texts)
        differences += [
            (query.fts5(), text, a, b)
            for text, a, b in zip(texts, mine, theirs, strict=True)
            if a != b
        ]
    assert compared > 200
    assert differences == []
    # Most texts of plain-word queries were answered without FTS5's snippet() (counting
    # the texts learned from FTS5 the first time a word form is met, tried again after).
    assert plain > 100
    assert plain_fallbacks < plain / 4


def test_texts_beyond_latin1_and_wrong_counts_are_fts5s_answer(fallback: FallbackCount) -> None:
    query = parse_search("model running")
    texts = [
        "A model — running 日本語. Model running again: running models.",
        "Running the model. " * 5,
        "model running",
    ]
    counts = _counts(texts, query)
    assert counts is not None
    wrong = Counts(counts.sizes, {term: [n + 1 for n in ns] for term, ns in counts.terms.items()})

    theirs = scratch(TOKENIZER).snippets(texts, query.fts5(), MARKS, 24)
    before = fallback.texts
    assert snippets(TOKENIZER, texts, query, Marks(*MARKS, 24), wrong) == theirs
    assert fallback.texts - before == len(texts)  # no count matched: FTS5 answered all
    before = fallback.texts
    assert snippets(TOKENIZER, texts, query, Marks(*MARKS, 24), counts) == theirs
    assert fallback.texts - before == 1  # the text beyond Latin-1 only


def test_a_text_holding_a_nul_is_fts5s_answer(fallback: FallbackCount) -> None:
    # FTS5 copies a snippet's text up to a NUL only: "ab<mark>run</mark>", not "ab\0cd ...".
    query = parse_search("run")
    texts = ["ab\x00cd run", "we run"]
    theirs = scratch(TOKENIZER).snippets(texts, query.fts5(), MARKS, 24)
    before = fallback.texts
    assert snippets(TOKENIZER, texts, query, Marks(*MARKS, 24), _counts(texts, query)) == theirs
    assert fallback.texts - before == 1


_WORD = st.sampled_from(WORDS + FILLER)
_GAP = st.sampled_from(GAPS)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(_WORD, _GAP), min_size=1, max_size=60),
    st.lists(_WORD, min_size=1, max_size=3),
    st.sampled_from([24, 5, 40]),
)
def test_snippets_are_fts5s_on_any_word_sequence(
    pieces: list[tuple[str, str]], words: list[str], width: int
) -> None:
    text = "".join(word + gap for word, gap in pieces)
    query = parse_search(" ".join(words))
    if not _matching([text], query):
        return
    mine, theirs, _ = _both_ways([text], query, width)
    assert mine == theirs
