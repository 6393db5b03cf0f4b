"""The search box language, parsed once and written out for each engine.

Users type words (all must match), "quoted phrases", prefixes (`llm*`) and exclusions
(`-apple`, `-"vision pro"`). Anything else an engine would read as syntax (parentheses,
`NEAR(`, column filters, a lone `*`, an unbalanced quote) is refused with a message
saying what and where, so no engine ever sees text it could reject.
"""

import re
from dataclasses import dataclass

MAX_TERMS = 32

# Words as both engines' tokenizers see them: runs of letters and digits.
_WORD = re.compile(r"[^\W_]+")
# Characters that are syntax in FTS5 or tsquery and mean nothing in a search box here.
_SYNTAX = set("()[]{}:^~!&|<>@")


class SearchSyntaxError(ValueError):
    """The query cannot be searched for; the message says why, for the `q` parameter."""


@dataclass(frozen=True, slots=True)
class Term:
    """One search term: a word or a phrase (several words in a row)."""

    words: tuple[str, ...]
    prefix: bool = False
    exclude: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Terms that must all match, and terms that must not."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...]
    any_of: bool = False  # any included term suffices (similarity), instead of all

    def fts5(self) -> str:
        """The query as an FTS5 MATCH expression (every term quoted, so never syntax)."""

        def render(term: Term) -> str:
            return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")

        joiner = " OR " if self.any_of else " AND "
        text = joiner.join(render(term) for term in self.include)
        for term in self.exclude:
            text = f"({text}) NOT {render(term)}"
        return text


def parse_search(text: str) -> SearchQuery:
    """Parse what a user typed; raise SearchSyntaxError with the reason."""
    include: list[Term] = []
    exclude: list[Term] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char.isspace():
            position += 1
            continue
        start = position
        negated = char == "-"
        if negated:
            position += 1
            if position >= length or text[position].isspace():
                raise SearchSyntaxError(
                    f"a lone '-' at character {start + 1}: put it before a word"
                )
        if text[position] == '"':
            end = text.find('"', position + 1)
            if end < 0:
                raise SearchSyntaxError(
                    f"unbalanced quote at character {position + 1}: close the phrase with '\"'"
                )
            raw, position = text[position + 1 : end], end + 1
            prefix = position < length and text[position] == "*"
            position += prefix
        else:
            end = position
            while end < length and not text[end].isspace() and text[end] != '"':
                end += 1
            raw, position = text[position:end], end
            prefix = raw.endswith("*")
            raw = raw[:-1] if prefix else raw
            if "*" in raw:
                raise SearchSyntaxError(
                    f"'*' inside {text[start:end]!r}: it may only end a word (prefix search)"
                )
        bad = sorted(_SYNTAX.intersection(raw))
        if bad:
            raise SearchSyntaxError(
                f"{''.join(bad)!r} in {raw!r} is not search syntax here: use words, "
                '"phrases", prefix* and -exclusions'
            )
        words = tuple(word.lower() for word in _WORD.findall(raw))
        if not words:
            what = "'*'" if prefix and not raw else repr(text[start:position])
            raise SearchSyntaxError(f"{what} at character {start + 1} has no word to search for")
        (exclude if negated else include).append(Term(words, prefix, negated))
    if len(include) + len(exclude) > MAX_TERMS:
        raise SearchSyntaxError(f"at most {MAX_TERMS} terms")
    if not include:
        raise SearchSyntaxError("needs at least one word to look for (not only exclusions)")
    return SearchQuery(tuple(include), tuple(exclude))


# Words too common to say two texts are about the same thing.
_STOPWORDS = frozenset(
    {
        "about",
        "above",
        "after",
        "again",
        "also",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "could",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "from",
        "further",
        "have",
        "having",
        "here",
        "into",
        "just",
        "more",
        "most",
        "much",
        "must",
        "only",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
        "like",
        "make",
        "made",
        "many",
        "using",
        "used",
        "uses",
        "via",
    }
)


def similarity_query(text: str, *, most: int = 8) -> SearchQuery | None:
    """A query matching texts that share the most telling words of `text` (any of them).

    Telling words: at least four letters, not common English, longest first (a cheap
    stand-in for rarity). None when the text has none.
    """
    words = {word.lower() for word in _WORD.findall(text) if len(word) >= 4}
    telling = sorted(words - _STOPWORDS, key=lambda word: (-len(word), word))[:most]
    if not telling:
        return None
    return SearchQuery(tuple(Term((word,)) for word in telling), (), any_of=True)
