"""The one Markdown configuration learnlog parses and renders with, and the HTML sanitizer."""

import re
from collections.abc import Callable, Sequence
from typing import Any

import nh3
from linkify_it.main import Match
from markdown_it import MarkdownIt
from markdown_it.common.normalize_url import normalizeLink
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_core import linkify as core_linkify
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.footnote.index import footnote_ref, footnote_tail

from app.engines import site_block_first_chars, site_inline_first_chars, use_site_syntax
from app.notes.syntax import NOTE_BLOCK_FIRST_CHARS, note_inline_first_chars, use_note_syntax

# Deep enough for real outlines; the ingest folds entries far shallower than this, and
# markdown-it drops whatever lies past it, so the parser reports posts that reach it.
MAX_NESTING = 100

_URL_SCHEMES = {"http", "https", "mailto"}

# What the note syntax renders (internal links, callouts, tags, highlights) survives the
# sanitizer: classes and data attributes a frontend styles and follows, nothing that runs.
_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
for _tag, _names in {
    "a": {"class", "data-link"},
    "div": {"class", "data-callout", "data-fold"},
    "p": {"class", "data-callout"},
    "span": {"class"},
}.items():
    _ATTRIBUTES[_tag] = _ATTRIBUTES.get(_tag, set()) | _names

# Schemes whose links run script or open a document of the link's own making.
_UNSAFE_SCHEME = re.compile(r"(javascript|vbscript|file|data):", re.IGNORECASE)
# What a browser's URL parser ignores before it reads a scheme (WHATWG URL): ASCII tabs
# and newlines anywhere, C0 controls and spaces around the URL.
_DROPPED_BY_BROWSERS = re.compile(r"[\t\n\r]")
_TRIMMED_BY_BROWSERS = "".join(chr(code) for code in range(0x21))


# Characters mdurl.encode keeps as they are, and percent escapes it keeps.
_KEPT = r"(?:[A-Za-z0-9;/?:@&=+$,\-_.!~*'()#]|%[0-9A-Fa-f]{2})*"
# Targets normalizeLink returns unchanged: an http(s) URL whose host is plain ASCII
# labels (at most 255 characters, no user, an optional port), or a relative reference
# (no scheme, not `//`), made only of kept characters. Anything else takes the full path.
_UNCHANGED_BY_NORMALIZING = re.compile(
    r"https?://(?=[A-Za-z0-9.-]{1,255}(?:[:/?#]|$))[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{0,63})*"
    rf"(?::[0-9]+)?(?:[/?#]{_KEPT})?"
    rf"|(?![A-Za-z0-9.+-]+:)(?!//){_KEPT}"
)


def _normalize_link(url: str) -> str:
    """Percent-encode link targets as CommonMark does, but keep template syntax verbatim."""
    if "{{" in url or "{%" in url:
        return url
    if _UNCHANGED_BY_NORMALIZING.fullmatch(url):
        return url  # what normalizeLink would return, at a fraction of its cost
    return normalizeLink(url)


def _validate_link(url: str) -> bool:
    """Refuse javascript:, vbscript:, file: and data: targets, read as a browser reads them.

    markdown-it's own check misses `java&#9;script:` in a template URL, which is kept
    verbatim (not percent-encoded), and lets data: images through.
    """
    seen = _DROPPED_BY_BROWSERS.sub("", url).strip(_TRIMMED_BY_BROWSERS)
    return _UNSAFE_SCHEME.match(seen) is None


def new_markdown(dialect: str = "plain", site_url: str = "") -> MarkdownIt:
    """A MarkdownIt parser: CommonMark, tables, strikethrough, footnotes, bare URLs, raw
    HTML kept as tokens, the note syntax of `dialect` (app/notes/syntax.py) and its site engine's
    (app/engines; `site_url` makes a template's links absolute).

    Raw HTML is parsed (so links inside it are found) but everything rendered from it
    passes through `sanitize` before it is stored.
    """

    md = MarkdownIt(
        "commonmark",
        {"html": True, "linkify": True, "typographer": False, "maxNesting": MAX_NESTING},
    )
    md.enable(["linkify", "table", "strikethrough"])
    # `[^1]` references and `[^1]: ...` definitions (GFM, kramdown, Obsidian); pandoc's
    # inline `^[...]` notes are not GFM and stay text.
    md.use(footnote_plugin, inline=False)
    md.inline.ruler.at("footnote_ref", _footnote_ref)
    md.core.ruler.at("footnote_tail", _footnote_tail)
    # Bare URLs need a scheme or `www.`: fuzzy matching turns `Node.js` into a link.
    assert md.linkify is not None  # linkify-it-py is a dependency
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
    www = _WwwLinks(md.linkify.re)
    md.linkify.add("www.", {"validate": www.validate, "normalize": www.normalize})
    md.normalizeLink = _normalize_link  # type: ignore[method-assign]
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md = use_site_syntax(use_note_syntax(md, dialect), dialect, site_url)
    _linkify_where_schemas_are_named(md)
    _inline_rules_by_first_char(
        md, {**_FIRST_CHARS, **note_inline_first_chars(dialect), **site_inline_first_chars(dialect)}
    )
    _pairs_only_with_delimiters(md)
    return md


# The characters at which each of markdown-it's inline rules (and the footnote reference
# rule above) can match: each looks at the character under the cursor before anything else.
_FIRST_CHARS = {
    "linkify": ":",
    "newline": "\n",
    "escape": "\\",
    "backticks": "`",
    "strikethrough": "~",
    "emphasis": "_*",
    "link": "[",
    "image": "!",
    "autolink": "<",
    "html_inline": "<",
    "entity": "&",
    "footnote_ref": "[",
}
# The link label's end: the label scan (parseLinkLabel) stops only where the text rule does.
_LABEL_END = "]"


# The characters at which each of markdown-it's block rules (and the footnote definition
# rule) can match: each reads the first character of the line after its indentation before
# anything else. Rules not named here (table, code, lheading, paragraph ...) are always tried.
_BLOCK_FIRST_CHARS = {
    "fence": "`~",
    "blockquote": ">",
    "hr": "*-_",
    "list": "*-+0123456789",
    "footnote_def": "[",
    "reference": "[",
    "html_block": "<",
    "heading": "#",
}

BlockRule = Callable[[StateBlock, int, int, bool], bool]


def block_rules_by_first_char(md: MarkdownIt, dialect: str = "plain") -> MarkdownIt:
    """Make every chain of `md`'s block rules (the main one and the terminator chains a
    paragraph, list, blockquote or reference tries on each following line) try, on a line,
    only the rules that can match at its first character, in their order.

    markdown-it tries each rule in turn on every line, and a bullet item's line goes
    through fence, blockquote, hr, footnote and heading rules that each read its first
    character and fail. The tokens are the same: a rule not tried would have failed.
    Call it last: the chains are read from `md` as they are now.
    """
    ruler = md.block.ruler
    rules_of = ruler.getRules
    first_chars = {
        **_BLOCK_FIRST_CHARS,
        **NOTE_BLOCK_FIRST_CHARS,
        **site_block_first_chars(dialect),
    }
    # Every rule of a terminator chain is in the main chain, whose names are known.
    names = dict(zip(map(id, rules_of("")), ruler.get_active_rules(), strict=True))
    chains: dict[str, list[BlockRule]] = {}

    def chain(name: str = "") -> list[BlockRule]:
        found = chains.get(name)
        if found is None:
            rules = rules_of(name)
            known = [first_chars.get(names.get(id(rule), "")) for rule in rules]
            found = chains[name] = [_by_first_char(rules, known)] if rules else []
        return found

    ruler.getRules = chain  # type: ignore[method-assign,assignment]
    return md


def _by_first_char(rules: Sequence[BlockRule], known: Sequence[str | None]) -> BlockRule:
    """One block rule trying, of `rules`, those whose `known` characters hold the line's
    first one, and those with none known (every rule on a blank line)."""
    every = tuple(rules)
    anywhere = tuple(rule for rule, chars in zip(rules, known, strict=True) if chars is None)
    by_char = {
        char: tuple(
            rule for rule, chars in zip(rules, known, strict=True) if chars is None or char in chars
        )
        for char in set("".join(chars for chars in known if chars))
    }

    def first_char_block(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        start = state.bMarks[line] + state.tShift[line]
        found = by_char.get(state.src[start], anywhere) if start < state.eMarks[line] else every
        for rule in found:  # noqa: SIM110 (a loop: no generator made for each line)
            if rule(state, line, end, silent):
                return True
        return False

    return first_char_block


# The delimiter runs the pairing steps after inline parsing work on: only the emphasis
# and strikethrough rules add delimiters, each at its first characters.
_PAIRED = {
    "balance_pairs": _FIRST_CHARS["emphasis"] + _FIRST_CHARS["strikethrough"],
    "emphasis": _FIRST_CHARS["emphasis"],
    "strikethrough": _FIRST_CHARS["strikethrough"],
}


def _pairs_only_with_delimiters(md: MarkdownIt) -> None:
    """Run the steps that pair `*`, `_` and `~` delimiters only on inline text holding one:
    each walks all of a paragraph's tokens, and without delimiters finds nothing to do."""
    ruler = md.inline.ruler2
    for name, rule in zip(ruler.get_active_rules(), ruler.getRules(""), strict=True):
        if name in _PAIRED:
            ruler.at(name, _only_with(_PAIRED[name], rule))


def _only_with(chars: str, rule: Callable[[StateInline], None]) -> Callable[[StateInline], None]:
    """`rule`, run only on a source holding one of `chars`."""

    def where_delimited(state: StateInline) -> None:
        src = state.src
        for char in chars:
            if char in src:
                rule(state)
                return

    return where_delimited


def _inline_rules_by_first_char(md: MarkdownIt, first_chars: dict[str, str]) -> None:
    """Try, at each position, only the inline rules that can match at its character (in
    their order), and let the text rule run on over characters no rule starts at.

    markdown-it tries every rule at every character that stops the text rule, such as
    `-` and `:`, where almost all of them fail at once. The tokens are the same: a rule
    not tried would have failed, and text read in one piece or in several is one pending
    text. Left as it is when a rule's characters are not known.
    """
    ruler = md.inline.ruler
    names = ruler.get_active_rules()
    rules = ruler.getRules("")
    if names[:1] != ["text"] or any(name not in first_chars for name in names[1:]):
        return
    table: dict[str, list[Callable[[StateInline, bool], bool]]] = {}
    for name, rule in zip(names[1:], rules[1:], strict=True):
        for char in first_chars[name]:
            table.setdefault(char, []).append(rule)
    by_char = {char: tuple(found) for char, found in table.items()}

    def first_char_rules(state: StateInline, silent: bool) -> bool:
        found = by_char.get(state.src[state.pos])
        if found is not None:
            for rule in found:
                if rule(state, silent):
                    return True
        return False

    ruler.disable(names[1:])
    ruler.after("text", "first_char_rules", first_char_rules)
    stops = "".join(sorted(set(by_char) | set(_LABEL_END)))
    md.inline.terminator_re = re.compile(f"[{re.escape(stops)}]")


def _linkify_where_schemas_are_named(md: MarkdownIt) -> None:
    """Run linkify's core rule only on inline tokens where a text names one of its schemas
    (`http:`, `//`, `www.` ...): without fuzzy links no other text can hold a bare link,
    and linkify-it's tests (Unicode-wide expressions) cost far more than finding the names.

    An inline token qualifies when its source and one of its text children name a schema;
    the rule tests only those children, so the links it finds are the same.
    """
    linkify: Any = md.linkify
    if linkify._opts.get("fuzzy_link") or linkify._opts.get("fuzzy_email"):
        return
    names = "|".join(re.escape(name.lower()) for name in linkify._compiled if name)
    schemas = re.compile(names, re.IGNORECASE)
    lowered_schemas = re.compile(names)

    def names_schema(text: str) -> bool:
        # ASCII folds case as the expression does: lowered, the names match as written.
        if text.isascii():
            return lowered_schemas.search(text.lower()) is not None
        return schemas.search(text) is not None

    test = linkify.test

    def quick_test(text: str) -> bool:
        return names_schema(text) and bool(test(text))

    linkify.test = quick_test

    def may_hold_link(inline: Token) -> bool:
        if not names_schema(inline.content):
            return False
        for child in inline.children or ():
            if child.type == "text" and names_schema(child.content):
                return True
        return False

    def linkify_where_named(state: StateCore) -> None:
        named = [token for token in state.tokens if token.type == "inline" and may_hold_link(token)]
        if not named:
            return
        tokens = state.tokens
        state.tokens = named
        try:
            core_linkify(state)
        finally:
            state.tokens = tokens

    md.core.ruler.at("linkify", linkify_where_named)


# Where GFM lets a `www.` link start besides whitespace and the start of the text.
_BEFORE_WWW = "*_~("


def _footnote_ref(state: StateInline, silent: bool) -> bool:
    """The plugin's `[^label]` rule, tried only where `[^` starts (it is asked at every
    other delimiter too, and does its bookkeeping first)."""
    if state.src[state.pos : state.pos + 2] != "[^":
        return False
    return footnote_ref(state, silent)


def _footnote_tail(state: StateCore) -> None:
    """The plugin's step that moves definitions to the end, skipped when there are none."""
    footnotes = state.env.get("footnotes")
    if footnotes and footnotes.get("refs"):
        footnote_tail(state)


class _WwwLinks:
    """GFM's extended www autolink as a linkify-it schema: `www.` at the start of a word
    then a domain with a dot, linked over https (`www.example.com/a` ->
    `https://www.example.com/a`)."""

    def __init__(self, sources: dict[str, str]) -> None:
        domain = sources["src_domain"]
        self.tail = re.compile(
            f"(?:(?:{domain})\\.)+(?:{domain}){sources['src_port']}"
            f"{sources['src_host_terminator']}{sources['src_path']}",
            re.IGNORECASE,
        )

    def validate(self, text: str, position: int) -> int:
        """Length of the link's rest after `www.` at `position`, 0 when it is none."""
        before = text[position - 5 : position - 4] if position >= 5 else ""
        if before and not before.isspace() and before not in _BEFORE_WWW:
            return 0
        found = self.tail.match(text, position)
        return len(found.group(0)) if found else 0

    def normalize(self, match: Match) -> None:
        """Link the text over https."""
        match.url = "https://" + match.url


def sanitize(html: str) -> str:
    """Strip scripts, event handlers and non-http(s)/mailto URLs from rendered HTML."""
    return nh3.clean(
        html, url_schemes=_URL_SCHEMES, link_rel="noopener noreferrer", attributes=_ATTRIBUTES
    )


def render(md: MarkdownIt, tokens: Sequence[Token]) -> str:
    """Render a token run to safe HTML.

    markdown-it escapes text and refuses `javascript:`/`data:` link targets itself, so
    only output that carries raw HTML from the source needs the sanitizer.
    """
    html = md.renderer.render(tokens, md.options, {})
    return sanitize(html) if has_raw_html(tokens) else html


def render_pieces(md: MarkdownIt, tokens: Sequence[Token]) -> list[str]:
    """Each token of a stream rendered in place, unsanitized: joined, the pieces are what
    `md.renderer.render` gives, and a run of them is what the run alone renders to as long
    as it neither follows a hidden token nor ends on an opening one (only the default
    rule looks at a token's neighbours, to place line breaks)."""
    renderer = md.renderer
    assert isinstance(renderer, RendererHTML)  # the renderer new_markdown's parsers have
    rules = renderer.rules
    options = md.options
    env: dict[str, object] = {}
    pieces: list[str] = []
    for index, token in enumerate(tokens):
        if token.type == "inline":
            children = token.children
            pieces.append(renderer.renderInline(children, options, env) if children else "")
        elif token.type in rules:
            pieces.append(rules[token.type](tokens, index, options, env))
        else:
            pieces.append(renderer.renderToken(tokens, index, options, env))
    return pieces


def has_raw_html(tokens: Sequence[Token]) -> bool:
    """True when a token run contains raw HTML blocks or inline tags."""
    for token in tokens:
        if token.type == "html_block":
            return True
        if token.children and any(child.type == "html_inline" for child in token.children):
            return True
    return False
