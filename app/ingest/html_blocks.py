"""Raw HTML blocks read as elements, in one pass of the stdlib HTML parser.

A Markdown html_block may hold several elements (`<p>...</p><p>...</p><ul>...`): each
block-level element becomes a part of its own (a heading, a list item, a paragraph, a
table, another block), in document order, with its source HTML, visible text and links.
Inline content between block elements stays one part, as a whole block of it always was.
"""

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Literal, overload

from app.ingest.html_links import LenientHTMLParser


def _tags(names: str) -> frozenset[str]:
    """A set of tag names written as one string."""
    return frozenset(names.split())


# Elements that never have content (no end tag is expected).
_VOID = _tags("area base br col embed hr img input link meta param source track wbr")
# Block-level elements: they end an open `<p>` and separate entries.
_BLOCK = _tags(
    "address article aside blockquote center details dialog dd div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav "
    "ol p pre section summary table tbody td tfoot th thead tr ul"
)
_LISTS = frozenset({"ul", "ol", "menu"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# The inside of a table or definition list: blocks there make it a layout, read as blocks.
_CELLS = _tags("tbody thead tfoot tr td th caption dd dt")
# Blocks that hold other blocks: each inner block becomes a part; without any they are one.
_CONTAINERS = _CELLS | _tags(
    "article aside blockquote center details dialog div fieldset footer form header hgroup "
    "main nav section"
)
# Blocks kept whole even around headings or lists (text of a preformatted block, say).
_WHOLE = frozenset({"p", "pre"})
# Text no reader sees (an SVG icon's `<title>` and `<desc>` included).
_SKIPPED_TEXT = frozenset({"script", "style", "template", "title", "desc"})
# Containers and lists nested deeper than this stay whole (the parts are read iteratively
# below it): a hostile file cannot exhaust the stack.
_DEPTH_LIMIT = 32
_KINDS = {"p": "paragraph", "table": "table"}
# kramdown's `markdown` attribute values that make an element's content Markdown.
_MARKDOWN_ON = frozenset({"1", "block", "span"})


@dataclass(slots=True, eq=False)
class _Element:
    """An element with its source span: `start` at `<`, `inner` past the start tag,
    `inner_end` at the end tag (or where it was implied), `end` past the end tag."""

    tag: str
    attrs: dict[str, str | None]
    line: int
    start: int
    inner: int
    inner_end: int = -1
    end: int = -1
    content: list["_Element | str"] = field(default_factory=list)
    # Whether a block (outside table structure) lies inside, and a heading or list item.
    has_block: bool = False
    has_outline: bool = False


@dataclass(slots=True)
class HtmlPart:
    """What one piece of an HTML block becomes.

    `kind` is `heading` (`level` is its level), `item` (`level` is its list depth, from 1;
    `parent` indexes the enclosing item's part), `markdown` (`source` is an element's
    content to read as Markdown, kramdown's `markdown="1"`), or an entry kind
    (`paragraph`, `table`, `html`). Lines count from 1 at the block's first line.
    """

    kind: str
    line: int
    text: str = ""
    html: str = ""
    anchors: list[tuple[str, str, int]] = field(default_factory=list)
    level: int = 0
    parent: int | None = None
    source: str = ""
    # Where `source` lies in the block, to put its rendered Markdown in its place.
    span: tuple[int, int] = (0, 0)


class _TreeBuilder(LenientHTMLParser):
    """Builds the element tree of a fragment, closing what HTML closes implicitly."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0]
        self.line_starts.extend(found.end() for found in re.finditer("\n", source))
        self.root = _Element("", {}, 1, 0, 0, len(source), len(source))
        self.stack = [self.root]

    def position(self) -> int:
        """Offset in the source of the construct being reported."""
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an element (a void one is complete at once)."""
        self.add(tag, attrs, void=tag in _VOID)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """`<br/>`, `<div/>`: complete at once."""
        self.add(tag, attrs, void=True)

    def add(self, tag: str, attrs: list[tuple[str, str | None]], *, void: bool) -> None:
        """Append an element to the open one, after closing what its start closes."""
        start = self.position()
        if tag in _BLOCK:
            self.close_implied(tag, start)
        inner = start + len(self.get_starttag_text() or "")
        element = _Element(tag, dict(attrs), self.getpos()[0], start, inner)
        self.stack[-1].content.append(element)
        if tag in _BLOCK and tag not in _CELLS:
            self.mark(tag in _HEADINGS or tag == "li")
        if void:
            element.inner_end = element.end = inner
        else:
            self.stack.append(element)

    def mark(self, outline: bool) -> None:
        """Tell the open elements a block (a heading or item when `outline`) lies inside;
        an element already told has told its own ancestors."""
        for element in reversed(self.stack):
            if element.has_block and (element.has_outline or not outline):
                return
            element.has_block = True
            element.has_outline = element.has_outline or outline

    def close_implied(self, tag: str, at: int) -> None:
        """A block start ends an open `<p>`; `<li>` ends the open item of its list, as
        `<dt>`/`<dd>` end theirs."""
        stops: frozenset[str] = frozenset()
        targets: frozenset[str] = frozenset()
        if tag == "li":
            targets, stops = frozenset({"li"}), _LISTS
        elif tag in ("dt", "dd"):
            targets, stops = frozenset({"dt", "dd"}), frozenset({"dl"})
        for depth in range(len(self.stack) - 1, 0, -1):
            open_tag = self.stack[depth].tag
            if open_tag == "p" or open_tag in targets:
                self.close_from(depth, at, at)
                return
            if open_tag in stops or open_tag in _BLOCK:
                return

    def close_from(self, depth: int, inner_end: int, end: int) -> None:
        """Close the element at `depth` of the stack and every element inside it."""
        for element in self.stack[depth + 1 :]:
            element.inner_end = element.end = inner_end
        self.stack[depth].inner_end = inner_end
        self.stack[depth].end = end
        del self.stack[depth:]

    def handle_endtag(self, tag: str) -> None:
        """Close the nearest open element of that name; a stray end tag is ignored."""
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                at = self.position()
                close = self.source.find(">", at)
                self.close_from(depth, at, close + 1 if close >= 0 else len(self.source))
                return

    def handle_data(self, data: str) -> None:
        """Text belongs to the innermost open element."""
        self.stack[-1].content.append(data)

    def finish(self) -> _Element:
        """Close the parser and every element still open at the end of the fragment."""
        self.close()
        if len(self.stack) > 1:
            self.close_from(1, len(self.source), len(self.source))
        return self.root


def html_parts(source: str) -> list[HtmlPart]:
    """The parts of one HTML block, in document order (see the module docstring)."""
    builder = _TreeBuilder(source)
    builder.feed(source)
    root = builder.finish()
    mapper = _Mapper(source, builder.line_starts)
    mapper.children(root)
    return mapper.parts


class _Mapper:
    """Turns the element tree into parts."""

    def __init__(self, source: str, line_starts: list[int]) -> None:
        self.source = source
        self.line_starts = line_starts
        self.parts: list[HtmlPart] = []

    def line_at(self, offset: int) -> int:
        """The line (from 1) of a source offset."""
        return bisect_right(self.line_starts, offset)

    def children(self, parent: _Element, depth: int = 0) -> None:
        """Map the content of `parent`: block elements one by one, inline runs between them."""
        run: list[_Element | str] = []
        run_start = parent.inner
        for node in parent.content:
            if isinstance(node, str) or (node.tag not in _BLOCK and not node.has_block):
                run.append(node)
                continue
            self.inline_run(run, run_start, node.start)
            run = []
            run_start = node.end
            self.block(node, depth)
        self.inline_run(run, run_start, parent.inner_end)

    def inline_run(self, run: list[_Element | str], start: int, end: int) -> None:
        """Text and inline elements between blocks: one `html` part when they say anything."""
        if not run:
            return
        text = _text(run, ())
        anchors = self.anchors(run, ())
        if not text and not anchors:
            return
        html = self.source[start:end]
        stripped = len(html) - len(html.lstrip())
        self.parts.append(
            HtmlPart("html", self.line_at(start + stripped), text, html.strip(), anchors)
        )

    def block(self, element: _Element, depth: int) -> None:
        """Map one block element found `depth` containers deep."""
        tag = element.tag
        if (element.attrs.get("markdown") or "").lower() in _MARKDOWN_ON:
            # Its text and links too, for a reader that cannot go deeper.
            part = self.entry("html", element, (), keep=True)
            part.kind = "markdown"
            part.line = self.line_at(element.inner)
            part.source = self.source[element.inner : element.inner_end]
            part.span = (element.inner, element.inner_end)
        elif tag in _HEADINGS:
            text, anchors = _text([element], ()), self.anchors([element], ())
            self.parts.append(HtmlPart("heading", element.line, text, "", anchors, int(tag[1])))
        elif tag in _LISTS:
            self.items(element, 1, None)
        elif tag == "li":
            self.item(element, 1, None)
        elif depth < _DEPTH_LIMIT and (
            (element.has_block and (tag in _CONTAINERS or tag not in _BLOCK))
            or (element.has_outline and tag not in _WHOLE)
        ):
            self.wrapper(element, depth + 1)
        else:
            self.entry(_KINDS.get(tag, "html"), element, ())

    def wrapper(self, element: _Element, depth: int) -> None:
        """The blocks inside a container, a layout table or an inline element wrapped
        around blocks (`<a href><h5>...</h5></a>`: its link goes to the first part)."""
        first = len(self.parts)
        self.children(element, depth)
        href = element.attrs.get("href") if element.tag == "a" else None
        if href is None:
            return
        anchor = (href.strip(), _text([element], ()), element.line)
        if first < len(self.parts):
            self.parts[first].anchors.insert(0, anchor)
        else:
            self.parts.append(HtmlPart("html", element.line, anchor[1], "", [anchor]))

    @overload
    def entry(
        self, kind: str, element: _Element, cut: tuple[_Element, ...], *, keep: Literal[True]
    ) -> HtmlPart: ...

    @overload
    def entry(
        self, kind: str, element: _Element, cut: tuple[_Element, ...], *, keep: bool = False
    ) -> HtmlPart | None: ...

    def entry(
        self, kind: str, element: _Element, cut: tuple[_Element, ...], *, keep: bool = False
    ) -> HtmlPart | None:
        """One element as an entry part, leaving out the elements in `cut`; one with no
        text and no link is none, unless it must be kept."""
        text = _text([element], cut)
        anchors = self.anchors([element], cut)
        if not text and not anchors and not keep:
            return None
        pieces: list[str] = []
        position = element.start
        for inner in cut:
            pieces.append(self.source[position : inner.start])
            position = inner.end
        pieces.append(self.source[position : element.end])
        part = HtmlPart(kind, element.line, text, "".join(pieces).strip(), anchors)
        self.parts.append(part)
        return part

    def items(self, listing: _Element, depth: int, parent: int | None) -> None:
        """Each `<li>` of a list as an item at `depth`. A list written straight inside a
        list (`<ul><li>a</li><ul>...</ul></ul>`) nests under the item before it, as
        browsers show it; other wrappers inside a list are looked through."""
        pending = [node for node in reversed(listing.content) if not isinstance(node, str)]
        last: int | None = None
        while pending:
            node = pending.pop()
            if node.tag == "li":
                last = self.item(node, depth, parent)
            elif node.tag in _LISTS and last is not None and depth < _DEPTH_LIMIT:
                self.items(node, depth + 1, last)
            else:
                pending.extend(n for n in reversed(node.content) if not isinstance(n, str))

    def item(self, element: _Element, depth: int, parent: int | None) -> int:
        """An item without its nested lists, whose items become its children; returns the
        item's part index."""
        nested = tuple(_nested_lists(element)) if depth < _DEPTH_LIMIT else ()
        # An item is kept even when empty: its nested items need it.
        part = self.entry("item", element, nested, keep=True)
        part.level = depth
        part.parent = parent
        index = len(self.parts) - 1
        for listing in nested:
            self.items(listing, depth + 1, index)
        return index

    def anchors(
        self, nodes: list[_Element | str], cut: tuple[_Element, ...]
    ) -> list[tuple[str, str, int]]:
        """(href, text, line) of every `<a href>` among `nodes`, outside `cut`."""
        found: list[tuple[str, str, int]] = []
        pending = [node for node in reversed(nodes) if not isinstance(node, str)]
        while pending:
            element = pending.pop()
            if element in cut or element.tag in _SKIPPED_TEXT:
                continue
            href = element.attrs.get("href") if element.tag == "a" else None
            if href is not None:
                found.append((href.strip(), _text([element], ()), element.line))
            pending.extend(node for node in reversed(element.content) if not isinstance(node, str))
        return found


def _nested_lists(item: _Element) -> list[_Element]:
    """The lists inside an item (not those inside them)."""
    found: list[_Element] = []
    pending = [node for node in reversed(item.content) if not isinstance(node, str)]
    while pending:
        element = pending.pop()
        if element.tag in _LISTS:
            found.append(element)
        else:
            pending.extend(node for node in reversed(element.content) if not isinstance(node, str))
    return found


def _text(nodes: list[_Element | str], cut: tuple[_Element, ...]) -> str:
    """Visible text of `nodes` outside `cut`, whitespace collapsed; blocks and `<br>` part
    words."""
    pieces: list[str] = []
    pending: list[_Element | str] = list(reversed(nodes))
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            pieces.append(node)
        elif node in cut or node.tag in _SKIPPED_TEXT:
            continue
        elif node.tag in _BLOCK or node.tag == "br":
            pieces.append(" ")
            pending.append(" ")
            pending.extend(reversed(node.content))
        else:
            pending.extend(reversed(node.content))
    return " ".join("".join(pieces).split())
