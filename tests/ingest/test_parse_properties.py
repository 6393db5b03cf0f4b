"""Properties of the parser, checked with hypothesis on generated text (pure: no database).

Whatever the text, parse_post gives a ParsedPost or a ParseError; every http(s) link
markdown-it renders is among the post's links; every list item markdown-it sees is an
entry or was folded; the same text always gives the same post.
"""

import datetime as dt
import html
import json
import re
from html.parser import HTMLParser

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ingest.discover import normalise
from app.ingest.front_matter import split_front_matter
from app.ingest.parse import ParsedPost, parse_post
from app.ingest.problems import ParseError
from app.render import new_markdown

# Reproducible and quick: the same examples on every run, no example database.
PROFILE = settings(
    derandomize=True,
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PATH = "2024-05-01-generated.md"
MD = new_markdown()


def outcome(text: str) -> ParsedPost | ParseError:
    """The post, or the documented error; anything else escapes and fails the test."""
    try:
        return parse_post(text, PATH)
    except ParseError as error:
        return error


def read_outcome(text: str) -> ParsedPost | ParseError:
    """`outcome` for `text` written to a file and read back as the ingest reads it."""
    try:
        return outcome(normalise(text.encode("utf-8")).text)
    except ParseError as error:  # NUL characters: not text
        return error


def check(result: ParsedPost | ParseError, text: str, *, read: bool = True) -> None:
    """What either result promises; a post read from a file is storable on every engine."""
    if isinstance(result, ParseError):
        assert result.reason
        assert result.line is None or 1 <= result.line <= len(text.splitlines()) + 2
        return
    assert result.title
    stored = json.dumps(result.front_matter, allow_nan=False)  # every key kept, as JSON
    if read:  # PostgreSQL text holds no NUL, however the front matter spelled one
        strings = [result.title, result.excerpt or "", stored, *result.tags]
        strings += [entry.text for entry in result.entries] + [link.url for link in result.links]
        assert not any("\x00" in string or "\\u0000" in string for string in strings)


def comparable(result: ParsedPost | ParseError) -> object:
    """A value equal for equal outcomes (exceptions compare by identity)."""
    if isinstance(result, ParseError):
        return (type(result), result.reason, result.line)
    return result


# -- generators ------------------------------------------------------------------------------

WORD = st.text(alphabet="abcxyzé漢 ", min_size=1, max_size=8).map(str.strip).filter(bool)
PUNCTUATION = st.sampled_from([*"*_`[]()<>!#&;:\\|~-+=.\"'{}%", "{{", "}}", "{%", "%}"])
INLINE_TEXT = st.lists(st.one_of(WORD, PUNCTUATION), min_size=1, max_size=6).map(" ".join)
URL = st.builds(
    "{}{}/{}".format,
    st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "javascript:", "mailto:a@", ""]),
    st.sampled_from(["example.com", "www.Example.com", "arxiv.org", "github.com", "a.b"]),
    st.text(alphabet="abc123-_.~()%&?=#/'\"<> é", max_size=12),
)
REF = st.sampled_from(["ref", "Ref", "other", "x y"])


def _inline(draw: st.DrawFn) -> str:
    """One inline fragment: text, a link in any spelling, code, emphasis, a marker."""
    url = draw(URL)
    label = draw(INLINE_TEXT)
    attribute = html.escape(url)  # as an author writing raw HTML would
    return draw(
        st.sampled_from(
            [
                label,
                f"[{label}]({url})",
                f'[{label}]({url} "title")',
                f"[{label}](<{url}>)",
                f"<{url}>",
                f"{url} ",
                f"[{label}][{draw(REF)}]",
                f"[{draw(REF)}]",
                f"![{label}]({url})",
                f'<a href="{attribute}">{label}</a>',
                f"<a href='{attribute}'>",
                "</a>",
                f"`{label}`",
                f"**{label}**",
                f"*{label}*",
                "[Thought] ",
                f"[[{label}]]",
                "{{ site.baseurl }}",
            ]
        )
    )


@st.composite
def inline(draw: st.DrawFn) -> str:
    """A line of inline content."""
    return " ".join(_inline(draw) for _ in range(draw(st.integers(1, 4))))


@st.composite
def block_line(draw: st.DrawFn) -> str:
    """One line of a Markdown body: headings, list items, quotes, code, HTML, tables ..."""
    # Lists up to 11 deep: past 25 the ingest keeps deeper markers as text (fold_deep_lists),
    # which plain markdown-it would count as items; the hostile-files suite covers that.
    indent = "  " * draw(st.integers(0, 10))
    marker = draw(st.sampled_from(["*", "-", "+", "1.", "2)"]))
    content = draw(inline())
    url = draw(URL)
    attribute = html.escape(url)
    return draw(
        st.sampled_from(
            [
                f"{'#' * draw(st.integers(1, 7))} {content}",
                f"{indent}{marker} {content}",
                f"{indent}{marker}",
                f"{indent}{content}",
                f"> {content}",
                f"> {marker} {content}",
                "",
                "```",
                "    indented code",
                f"[{draw(REF)}]: {url}",
                f'<div><a href="{attribute}">{content}</a></div>',
                "<!-- comment -->",
                f"| {content} | b |",
                "|---|---|",
                "===",
                "***",
                f"**{content}**:",
                f"{indent}title:: {content}",
            ]
        )
    )


BODY = st.lists(block_line(), max_size=15).map("\n".join)
SCALAR = st.one_of(
    INLINE_TEXT,
    st.sampled_from(
        [
            "2024-02-30",
            "2023-12-24 00:00:00",
            "June 23, 2020",
            "2016-03-22 14:00 EDT",
            "'2024-01-01T23:30:00-08:00'",
            "[a, b]",
            "a, b c",
            "true",
            "no",
            ".inf",
            "-.inf",
            ".nan",
            "~",
            "0x1F",
            "1e400",
            "&a x",
            "*a",
            "&b [x, *b]",
            "!!binary aGVsbG8=",
            "!!set {a, b}",
            "!!python/name:os.system",
            "|\n  block\n  text",
            ">-\n  folded",
            '"\\0 \\x07 \\u2028"',
            "{unclosed",
        ]
    ),
)
KEY = st.one_of(
    st.sampled_from(["title", "Title", "date", "DATE", "tags", "categories", "category"]),
    st.sampled_from(["draft", "published", "status", "excerpt", "summary", "<<", "? x"]),
    st.text(alphabet="abc_-: ", min_size=1, max_size=6),
)


@st.composite
def yaml_ish(draw: st.DrawFn) -> str:
    """A `---` block of `key: value` lines, often valid YAML, sometimes not."""
    lines = [f"{draw(KEY)}: {draw(SCALAR)}" for _ in range(draw(st.integers(0, 6)))]
    return "---\n" + "\n".join(lines) + "\n---\n" + draw(BODY)


TOML_VALUE = st.one_of(
    INLINE_TEXT.map(json.dumps),
    st.sampled_from(
        [
            "2024-02-30",
            "2024-01-01T23:30:00-08:00",
            "2024-01-01",
            "23:30:00",
            '["a", "b"]',
            "[1, [2, [3]]]",
            "{ x = 1 }",
            "inf",
            "nan",
            "1_000",
            "'''multi'''",
            '"\\u0000"',
            '"unclosed',
            "",
        ]
    ),
)


@st.composite
def toml_ish(draw: st.DrawFn) -> str:
    """A `+++` block of `key = value` lines, often valid TOML, sometimes not."""
    lines = [
        f"{draw(st.sampled_from(['title', 'date', 'tags', 'x', 'a.b', '[t]']))} = "
        f"{draw(TOML_VALUE)}"
        for _ in range(draw(st.integers(0, 6)))
    ]
    return "+++\n" + "\n".join(lines) + "\n+++\n" + draw(BODY)


LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=10),
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(dt.UTC)),
)
VALUE = st.recursive(
    LEAF,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def dumped(draw: st.DrawFn) -> str:
    """A random mapping dumped by yaml.safe_dump, as front matter."""
    keys = st.one_of(KEY, st.text(max_size=8))
    mapping = draw(st.dictionaries(keys, VALUE, max_size=6))
    return "---\n" + yaml.safe_dump(mapping, allow_unicode=True) + "---\n" + draw(BODY)


@st.composite
def garbage(draw: st.DrawFn) -> str:
    """Random text inside delimiters, or header-block dialects with random values."""
    junk = draw(st.text(max_size=60))
    return draw(
        st.sampled_from(
            [
                f"---\n{junk}\n---\n",
                f"+++\n{junk}\n+++\n",
                f"---\n{junk}",
                f"---{junk}\n---\n",
                f"Title: {junk}\nDate: {junk}\n\n",
                f"title:: {junk}\ntags:: {junk}\n",
            ]
        )
    ) + draw(BODY)


DOCUMENT = st.one_of(BODY, yaml_ish(), toml_ish(), dumped())
ANY_TEXT = st.one_of(st.text(), DOCUMENT, garbage())


class _Anchors(HTMLParser):
    """The href of every `<a>` in rendered HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        if href is not None:
            self.hrefs.append(href.strip())


def rendered_web_links(body: str) -> set[str]:
    """The http(s) targets markdown-it renders as `<a href>` for `body`."""
    anchors = _Anchors()
    anchors.feed(MD.render(body))
    anchors.close()
    return {href for href in anchors.hrefs if re.match(r"(?i)https?:", href)}


# -- properties ------------------------------------------------------------------------------


@PROFILE
@given(st.text())
def test_arbitrary_text_gives_a_post_or_a_parse_error(text: str) -> None:
    check(outcome(text), text, read=False)


@PROFILE
@given(st.text())
def test_arbitrary_text_read_from_a_file_gives_a_post_or_a_parse_error(text: str) -> None:
    check(read_outcome(text), text)


@PROFILE
@given(yaml_ish())
def test_yaml_ish_front_matter_gives_a_post_or_a_parse_error(text: str) -> None:
    check(read_outcome(text), text)


@PROFILE
@given(toml_ish())
def test_toml_ish_front_matter_gives_a_post_or_a_parse_error(text: str) -> None:
    check(read_outcome(text), text)


@PROFILE
@given(dumped())
def test_dumped_mappings_give_a_post_or_a_parse_error(text: str) -> None:
    check(read_outcome(text), text)


@PROFILE
@given(garbage())
def test_garbage_front_matter_gives_a_post_or_a_parse_error(text: str) -> None:
    check(read_outcome(text), text)


def body_and_post(text: str) -> tuple[str, ParsedPost] | None:
    """The body markdown-it sees and the post, for text that reads and parses."""
    result = read_outcome(text)
    check(result, text)
    if isinstance(result, ParseError):
        return None
    read = normalise(text.encode("utf-8")).text
    return split_front_matter(read).body, result


@PROFILE
@given(DOCUMENT)
def test_every_rendered_web_link_is_stored(text: str) -> None:
    if parsed := body_and_post(text):
        body, post = parsed
        assert rendered_web_links(body) <= {link.url for link in post.links}


@PROFILE
@given(DOCUMENT)
def test_every_list_item_is_an_entry_or_folded(text: str) -> None:
    if parsed := body_and_post(text):
        body, post = parsed
        seen = sum(token.type == "list_item_open" for token in MD.parse(body))
        items = sum(entry.kind == "item" for entry in post.entries)
        assert items + post.folded == seen


@PROFILE
@given(ANY_TEXT, ANY_TEXT)
def test_parsing_is_deterministic(text: str, other: str) -> None:
    first = comparable(outcome(text))
    outcome(other)  # nothing carries over from one parse to the next
    assert comparable(outcome(text)) == first
