"""Turn a Markdown body's token stream into sections, entries and links.

Everything structural comes from markdown-it tokens: headings form the section tree by
relative level, list items and top-level blocks become entries, and links come from
link tokens (inline, reference, autolink, linkify) and from `<a href>` in raw HTML.
"""

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock, list_block
from markdown_it.token import Token

from app.ingest.html_blocks import HtmlPart, html_parts
from app.ingest.html_links import html_anchors, is_closing_anchor, opening_anchor_href
from app.ingest.identity import slug_of
from app.ingest.links import is_storable, link_facts
from app.ingest.problems import Problem
from app.notes.names import LinkKeys, path_link_keys, wikilink_keys
from app.render import MAX_NESTING, has_raw_html, render, render_pieces, sanitize

# List entries nested deeper than this fold into their deepest kept ancestor.
MAX_ENTRY_DEPTH = 8

# Past MAX_NESTING markdown-it drops the rest of the document, so lists stop nesting at
# half of it: a deeper list marker stays text in its item, which folds like any other.
_LIST_LEVEL_LIMIT = MAX_NESTING // 2

# `[Thought]`, `[Hot take]` at the very start of an entry: a bracketed word, not a link.
_MARKER = re.compile(r"\[([A-Za-z][\w\- ]{1,30})\]\s*")

_BLOCK_KINDS = {"paragraph_open": "paragraph", "table_open": "table", "html_block": "html"}
# Link kinds of wikilinks and embeds (`block`: a Logseq block reference).
_NOTE_LINK_KINDS = {"note": "internal", "block": "internal", "image": "image"}
_LEAF_BLOCKS = {"html_block", "fence", "code_block"}
_BREAKS = ("softbreak", "hardbreak")
# What is left around a footnote's URL once the URL is taken out (`Smith, 2021. <URL>`).
_FOOTNOTE_PUNCTUATION = " ,;:-\u2013\u2014("
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?)])")


@dataclass(slots=True)
class ParsedSection:
    """A heading (or the implicit preamble at position 0) and its place in the tree."""

    position: int
    parent: int | None
    level: int
    heading: str
    slug: str | None
    line: int


@dataclass(slots=True)
class ParsedEntry:
    """A list item or top-level block; `parent` indexes the post's entry list."""

    key: str
    section: int
    parent: int | None
    depth: int
    kind: str
    line: int
    text: str = ""
    html: str = ""
    tags: list[str] = field(default_factory=list)
    children: int = 0
    tokens: list[Token] = field(default_factory=list)
    block_id: str | None = None
    properties: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class NoteLink:
    """Where an internal link points, for the resolution step: names, then an anchor.

    `anchor` is a heading slug, or `^id` for a block; `target` is "" for a Logseq block
    reference (its block id alone names it, in any note of the folder).
    """

    target: str
    near: str | None
    anchor: str | None
    embed: bool


@dataclass(slots=True)
class ParsedLink:
    """A link target with its anchor text; `entry` indexes the post's entry list."""

    entry: int | None
    url: str
    text: str
    host: str | None
    kind: str
    line: int
    url_key: str = ""
    note: NoteLink | None = None
    embed: bool = False
    # `body` for links written in the text, `front_matter` for a URL given as a key's value.
    origin: str = "body"


@dataclass(slots=True)
class Body:
    """Everything the body yields."""

    sections: list[ParsedSection]
    entries: list[ParsedEntry]
    links: list[ParsedLink]
    html: str
    first_heading: str | None
    opening_title: str | None
    folded: int
    warnings: list[Problem]
    # Site-engine syntax removed from the text (`{% include %}`, `{{< tweet >}}`), once each.
    removed_syntax: list[str] = field(default_factory=list)


def fold_deep_lists(md: MarkdownIt) -> MarkdownIt:
    """Make `md` stop nesting lists well before its nesting limit, so no item is dropped."""

    def list_within_limit(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        if state.level >= _LIST_LEVEL_LIMIT:
            return False
        if state.sCount[start] - state.blkIndent < 4 or state.is_code_block(start):
            return list_block(state, start, end, silent)
        # Without indented code (Logseq outlines), a list may start indented: it is read
        # from its own indentation, so its later items stay siblings, not continuations.
        saved = state.blkIndent
        state.blkIndent = state.sCount[start]
        try:
            return list_block(state, start, end, silent)
        finally:
            state.blkIndent = saved

    md.block.ruler.at("list", list_within_limit, {"alt": ["paragraph", "reference", "blockquote"]})
    return md


def parse_body(
    md: MarkdownIt, body: str, first_line: int, path: str = "", dialect: str = "plain"
) -> Body:
    """Parse `body`, whose first line is line `first_line` of the file at `path`."""
    env: dict[str, object] = {}
    tokens = md.parse(body, env)
    walker = _Walker(md, env, first_line - 1, path, dialect)
    walker.walk(tokens)
    # The post is rendered once; an entry's HTML is its run of the post's pieces.
    pieces = render_pieces(md, tokens)
    positions = {id(token): index for index, token in enumerate(tokens)}
    for entry in walker.entries:
        if entry.tokens or not entry.html:  # a callout's title is rendered when it opens
            entry.html = _entry_html(md, entry.tokens, tokens, pieces, positions)
        entry.tokens = []
        entry.text = entry.text.strip()
    sections = sorted(walker.sections.values(), key=lambda s: s.position)
    html = "".join(pieces)
    return Body(
        sections=sections,
        entries=walker.entries,
        links=walker.links,
        html=sanitize(html) if has_raw_html(tokens) else html,
        first_heading=walker.first_heading,
        opening_title=walker.opening_title,
        folded=walker.folded,
        warnings=walker.warnings,
        removed_syntax=sorted(set(env.get("removed_syntax", ()))),  # type: ignore[call-overload]
    )


def _entry_html(
    md: MarkdownIt,
    run: list[Token],
    tokens: Sequence[Token],
    pieces: list[str],
    positions: dict[int, int],
) -> str:
    """An entry's HTML: its pieces of the post's when its tokens are one run of the post's
    that renders alone as in place (see render_pieces), else rendered on their own."""
    start = positions.get(id(run[0]), -1) if run else -1
    end = start + len(run)
    if (
        start < 0
        or end > len(tokens)
        or (start > 0 and tokens[start - 1].hidden)
        or run[-1].nesting == 1
        or any(tokens[start + offset] is not token for offset, token in enumerate(run))
    ):
        return render(md, run)
    html = "".join(pieces[start:end])
    return sanitize(html) if has_raw_html(run) else html


class _Walker:
    """One pass over the token stream, keeping the open sections and list items."""

    def __init__(
        self,
        md: MarkdownIt,
        env: dict[str, object],
        line_offset: int,
        path: str = "",
        dialect: str = "plain",
    ) -> None:
        # The parser and its environment (reference definitions) read Markdown found
        # inside HTML (kramdown's `markdown="1"`).
        self.md = md
        self.env = env
        self.markdown_depth = 0
        self.line_offset = line_offset
        self.path = path
        self.dialect = dialect
        self.opening_title: str | None = None
        self.sections: dict[int, ParsedSection] = {}
        self.section_stack: list[ParsedSection] = []
        self.heading_count = 0
        self.entries: list[ParsedEntry] = []
        self.links: list[ParsedLink] = []
        self.warnings: list[Problem] = []
        self.first_heading: str | None = None
        # Open list items and callouts: (entry index that owns their content, real depth,
        # whether blocks inside become child entries (callouts) or the entry's text (items)).
        self.items: list[tuple[int, int, bool]] = []
        self.child_counts: dict[int | None, int] = {}
        self.section_counts: dict[int, int] = {}
        self.folded = 0
        self.cut_off = False
        self.pseudo: set[int] = set()
        self.anchor: ParsedLink | None = None
        # Footnote number -> the entry that first cites it (None: a heading).
        self.citers: dict[int, int | None] = {}

    def line_of(self, token: Token) -> int:
        """The file line a block token starts on."""
        return self.line_offset + (token.map[0] + 1 if token.map else 1)

    # -- sections ---------------------------------------------------------------------

    def current_section(self) -> int:
        """Position of the section content belongs to, creating the preamble when needed."""
        if self.section_stack:
            return self.section_stack[-1].position
        if 0 not in self.sections:
            self.sections[0] = ParsedSection(0, None, 0, "", None, self.line_offset + 1)
        return 0

    def open_section(self, level: int, heading: str, line: int, *, pseudo: bool = False) -> None:
        """Start a section at `level`, nested under the nearest shallower open one; a real
        heading never nests under a bold-paragraph section (`pseudo`), it closes them."""
        while not pseudo and self.section_stack and self.section_stack[-1].position in self.pseudo:
            self.section_stack.pop()
        while self.section_stack and self.section_stack[-1].level >= level:
            self.section_stack.pop()
        self.heading_count += 1
        parent = self.section_stack[-1].position if self.section_stack else None
        slug = slug_of(heading) or None
        section = ParsedSection(self.heading_count, parent, level, heading, slug, line)
        self.sections[section.position] = section
        self.section_stack.append(section)
        if self.first_heading is None and heading:
            self.first_heading = heading

    # -- the walk ---------------------------------------------------------------------

    def walk(self, tokens: Sequence[Token]) -> None:
        """Visit every block token once."""
        index = 0
        count = len(tokens)
        while index < count:
            token = tokens[index]
            kind = token.type
            if kind == "heading_open" and self.items:
                # A heading inside a list item (Logseq's `- ## heading`) is the item's text.
                self.block(tokens[index : index + 3])
                index += 3
                continue
            if kind == "heading_open":
                heading = self.inline_text(tokens[index + 1], None)
                if token.tag == "h1" and not self.entries and self.heading_count == 0:
                    self.opening_title = heading.strip() or None
                self.open_section(int(token.tag[1:]), heading, self.line_of(token))
                index += 3
                continue
            if kind == "footnote_block_open":
                index = self.footnotes(tokens, index)
                continue
            if kind == "list_item_open":
                self.open_item(token)
            elif kind == "list_item_close" or kind == "callout_close":
                self.items.pop()
            elif kind == "callout_open":
                self.open_callout(token)
            elif kind in _BLOCK_KINDS or kind in _LEAF_BLOCKS:
                end = index + 1 if kind in _LEAF_BLOCKS else _closing(tokens, index)
                self.block(tokens[index:end])
                index = end
                continue
            if token.level >= MAX_NESTING - 1 and not self.cut_off:
                self.cut_off = True
                self.warnings.append(
                    Problem(
                        f"content nested deeper than {MAX_NESTING} levels was cut off",
                        self.line_of(token),
                    )
                )
            index += 1

    def open_item(self, token: Token) -> None:
        """Start a list entry, or fold it into its ancestor when nested too deep."""
        depth = len(self.items) + 1
        if depth > MAX_ENTRY_DEPTH:
            owner = self.items[-1][0]
            if self.folded == 0:
                self.warnings.append(
                    Problem(
                        f"list nested deeper than {MAX_ENTRY_DEPTH} levels: deeper items "
                        "were folded into their deepest kept ancestor",
                        self.line_of(token),
                    )
                )
            self.folded += 1
            self.items.append((owner, depth, False))
            return
        parent = self.items[-1][0] if self.items else None
        entry = self.new_entry("item", parent, depth, self.line_of(token))
        self.items.append((entry, depth, False))

    def open_callout(self, token: Token) -> None:
        """Start a callout entry (its title is its text); the blocks inside are its children."""
        depth = len(self.items) + 1
        if depth > MAX_ENTRY_DEPTH:
            self.items.append((self.items[-1][0], depth, False))
            return
        parent = self.items[-1][0] if self.items else None
        index = self.new_entry("callout", parent, depth, self.line_of(token))
        entry = self.entries[index]
        title = str(token.meta["title"])
        entry.text = title
        entry.html = (
            f'<p class="callout-title" data-callout="{escape(str(token.meta["callout"]))}">'
            f"{escape(title)}</p>\n"
        )
        self.items.append((index, depth, True))

    def new_entry(self, kind: str, parent: int | None, depth: int, line: int) -> int:
        """Append an entry and return its index; its key is its position in the tree."""
        section = self.current_section()
        if parent is None:
            ordinal = self.section_counts.get(section, 0) + 1
            self.section_counts[section] = ordinal
            key = f"{section}:{ordinal}"
        else:
            owner = self.entries[parent]
            owner.children += 1
            key = f"{owner.key}.{owner.children}"
        self.entries.append(ParsedEntry(key, section, parent, depth, kind, line))
        return len(self.entries) - 1

    def block(self, run: Sequence[Token]) -> None:
        """Attach a paragraph, table, HTML or code block to its entry."""
        first = run[0]
        if self.items and not self.items[-1][2]:
            owner = self.items[-1][0]
        elif first.type == "paragraph_open" and not run[1].content:
            self.attach_meta(run[1])  # only a block id or properties: they name the block before
            return
        elif self.items:
            kind = _BLOCK_KINDS.get(first.type, "paragraph")
            depth = len(self.items) + 1
            owner = self.new_entry(kind, self.items[-1][0], depth, self.line_of(first))
        elif first.type in _BLOCK_KINDS:
            if first.type == "paragraph_open" and self.pseudo_heading(run):
                return
            if first.type == "html_block":
                self.html_elements(first)
                return
            owner = self.new_entry(_BLOCK_KINDS[first.type], None, 0, self.line_of(first))
        else:
            return
        entry = self.entries[owner]
        entry.tokens.extend(run)
        parts: list[str] = []
        for token in run:
            if token.type == "inline":
                parts.append(self.inline_text(token, owner))
                if token.meta:
                    self.attach_meta(token, entry)
            elif token.type == "html_block":
                parts.append(self.html_block(token, owner))
            elif token.type in ("fence", "code_block"):
                parts.append(token.content.strip())
        text = " ".join(part for part in parts if part)
        if not entry.text:
            self.take_markers(entry, text)
        entry.text = f"{entry.text}\n{text}" if entry.text and text else entry.text or text

    def html_elements(self, token: Token) -> None:
        """Map a top-level HTML block element by element (app/ingest/html_blocks.py):
        headings open sections, list items become items, other blocks entries of their
        own; comments and empty wrappers become nothing."""
        first = self.line_of(token) - 1
        # The entry each part became (a folded item: its kept ancestor's), for nesting.
        owners: list[int | None] = []
        # Markdown content rendered, to show in the post's HTML instead of its source.
        rendered: list[tuple[tuple[int, int], str]] = []
        for part in html_parts(token.content):
            line = first + part.line
            owner: int | None = None
            if part.kind == "heading":
                if part.level == 1 and not self.entries and self.heading_count == 0:
                    self.opening_title = part.text or None
                self.open_section(part.level, part.text, line)
            elif part.kind == "markdown" and self.markdown_depth < MAX_ENTRY_DEPTH:
                rendered.append((part.span, self.markdown_inside(part.source, line)))
                owners.append(None)
                continue  # its links are the Markdown's
            elif part.kind == "item":
                owner = self.html_item(part, owners, line)
            else:
                kind = "html" if part.kind == "markdown" else part.kind
                owner = self.new_entry(kind, None, 0, line)
                self.fill_html_entry(self.entries[owner], part)
            owners.append(owner)
            for href, text, at in part.anchors:
                link = self.add_link(href, text, owner, first + at)
                if link is not None:
                    link.text = text
        if rendered:
            content = token.content
            for (start, end), html in reversed(rendered):
                content = f"{content[:start]}\n{html}{content[end:]}"
            token.content = content

    def html_item(self, part: HtmlPart, owners: list[int | None], line: int) -> int:
        """An HTML list item as an item entry, folded into its ancestor when too deep."""
        parent = owners[part.parent] if part.parent is not None else None
        if part.level <= MAX_ENTRY_DEPTH or parent is None:
            owner = self.new_entry("item", parent, min(part.level, MAX_ENTRY_DEPTH), line)
            self.fill_html_entry(self.entries[owner], part)
            return owner
        if self.folded == 0:
            self.warnings.append(
                Problem(
                    f"list nested deeper than {MAX_ENTRY_DEPTH} levels: deeper items "
                    "were folded into their deepest kept ancestor",
                    line,
                )
            )
        self.folded += 1
        entry = self.entries[parent]
        entry.text = (
            f"{entry.text}\n{part.text}" if entry.text and part.text else entry.text or part.text
        )
        return parent

    def fill_html_entry(self, entry: ParsedEntry, part: HtmlPart) -> None:
        """Give an entry made from an HTML element its text and (sanitized) HTML."""
        entry.html = sanitize(part.html)
        entry.text = part.text
        self.take_markers(entry, part.text)

    def markdown_inside(self, source: str, line: int) -> str:
        """Walk an HTML element's content as Markdown (kramdown's `markdown="1"`), whose
        first line is file line `line`, with the post's reference definitions; return it
        rendered (the post's HTML is sanitized as a whole)."""
        env = {key: value for key, value in self.env.items() if key != "footnotes"}
        tokens = self.md.parse(textwrap.dedent(source), env)
        for key, value in env.items():
            if key != "footnotes":
                self.env.setdefault(key, value)
        saved = self.line_offset
        self.line_offset = line - 1
        self.markdown_depth += 1
        try:
            self.walk(tokens)
        finally:
            self.line_offset = saved
            self.markdown_depth -= 1
        return str(self.md.renderer.render(tokens, self.md.options, {}))

    def footnotes(self, tokens: Sequence[Token], start: int) -> int:
        """Give each footnote definition to the entry that cites it: its links are that
        entry's, its text is shown in that entry's HTML; return the index past the block."""
        notes: dict[int, list[Token]] = {}
        owner: int | None = None
        index = start + 1
        while index < len(tokens) and tokens[index].type != "footnote_block_close":
            token = tokens[index]
            if token.type == "footnote_open":
                owner = self.citers.get(token.meta["id"])
            if owner is not None:
                notes.setdefault(owner, []).append(token)
            if token.type == "inline":
                self.footnote_text(token, owner)
            index += 1
        for entry, run in notes.items():
            if self.entries[entry].kind != "callout":  # a callout's HTML is its title
                self.entries[entry].tokens.extend([tokens[start], *run, tokens[index]])
        return index + 1

    def footnote_text(self, inline: Token, entry: int | None) -> None:
        """Record a footnote definition's links for `entry`: a bare URL's text is the rest
        of the definition (`Smith, 2021. https://...`), or the URL when there is none."""
        bare = {
            str(child.attrs.get("href", ""))
            for child in inline.children or []
            if child.type == "link_open" and child.markup in ("linkify", "autolink")
        }
        first = len(self.links)
        text = self.inline_text(inline, entry)
        found = self.links[first:]
        rest = text
        for link in found:
            if link.url in bare and link.text:
                rest = rest.replace(link.text, " ")
        rest = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(rest.split()))
        rest = rest.strip(_FOOTNOTE_PUNCTUATION)
        for link in found:
            if link.url in bare:
                link.text = rest or link.text

    def attach_meta(self, inline: Token, entry: ParsedEntry | None = None) -> None:
        """Give an entry the block id and properties its inline token carries."""
        if entry is None:
            if self.items:
                entry = self.entries[self.items[-1][0]]
            elif self.entries and not (inline.meta or {}).get("properties"):
                # Obsidian's `^id` line names the block before it; Logseq properties
                # outside any bullet belong to a heading, which is no entry.
                entry = self.entries[-1]
            else:
                return
        meta = inline.meta or {}
        if meta.get("block_id") and entry.block_id is None:
            entry.block_id = str(meta["block_id"])
        if meta.get("properties"):
            entry.properties = {**(entry.properties or {}), **meta["properties"]}

    def pseudo_heading(self, run: Sequence[Token]) -> bool:
        """A paragraph that is only bold text (`**Trust and Safety**:`) opens a subsection."""
        if run[0].level != 0 or len(run) != 3:
            return False
        children = [c for c in run[1].children or [] if c.type != "text" or c.content.strip()]
        if len(children) < 3 or children[0].type != "strong_open":
            return False
        tail = children[-1]
        closing = -1
        if tail.type == "text" and tail.content.strip() == ":":
            closing = -2
        if children[closing].type != "strong_close":
            return False
        inner = children[1:closing]
        if not inner or any(child.type not in ("text", "code_inline") for child in inner):
            return False
        heading = "".join(child.content for child in inner).strip()
        if not heading:
            return False
        real = [s for s in self.section_stack if s.position not in self.pseudo]
        level = (real[-1].level + 1) if real else 1
        self.open_section(level, heading, self.line_of(run[0]), pseudo=True)
        self.pseudo.add(self.heading_count)
        return True

    def take_markers(self, entry: ParsedEntry, text: str) -> None:
        """Record `[Thought]`-style markers at the start of an entry's text as tags."""
        position = 0
        while True:
            found = _MARKER.match(text, position)
            if not found:
                break
            slug = slug_of(found.group(1))
            if slug and slug not in entry.tags:
                entry.tags.append(slug)
            position = found.end()

    # -- inline content ---------------------------------------------------------------

    def inline_text(self, inline: Token, entry: int | None) -> str:
        """Plain text of an inline token; links found in it are recorded for `entry`, each
        with the line it is written on (line breaks counted from the token's first line)."""
        line = self.line_of(inline)
        parts: list[str] = []
        for child in inline.children or []:
            kind = child.type
            if kind == "text" or kind == "code_inline":
                parts.append(child.content)
                line += child.content.count("\n")
                if self.anchor is not None:
                    self.anchor.text += child.content
            elif kind == "softbreak" or kind == "hardbreak":
                line += 1
                parts.append(" ")
                if self.anchor is not None:
                    self.anchor.text += " "
            elif kind == "wikilink":
                parts.append(child.content)
                self.note_link(child, entry, line)
            elif kind == "note_tag":
                parts.append(child.content)
                if entry is not None:
                    slug = slug_of(str(child.meta["tag"]))
                    if slug and slug not in self.entries[entry].tags:
                        self.entries[entry].tags.append(slug)
            elif kind == "note_macro":
                name = "{{" + str(child.meta["name"]) + "}}"
                self.warnings.append(Problem(f"Logseq macro {name} removed from the text", line))
            elif kind == "link_open":
                self.anchor = self.add_link(str(child.attrs.get("href", "")), "", entry, line)
                if self.anchor is not None:
                    self.site_link(child, self.anchor)
            elif kind == "link_close":
                self.finish_anchor()
            elif kind == "image":
                parts.append(child.content)
                if self.anchor is not None:
                    self.anchor.text += child.content
                # Alt text may run over lines.
                line += sum(alt.type in _BREAKS for alt in child.children or ())
            elif kind == "footnote_ref":
                # The reference leaves the text, and so does the space before it.
                self.citers.setdefault(child.meta["id"], entry)
                if parts:
                    parts[-1] = parts[-1].rstrip(" ")
            elif kind == "html_inline":
                self.inline_html(child.content, entry, line)
                line += child.content.count("\n")
        self.finish_anchor()
        return "".join(parts)

    def inline_html(self, tag: str, entry: int | None, line: int) -> None:
        """Follow `<a href>` ... `</a>` written as inline HTML."""
        href = opening_anchor_href(tag)
        if href is not None:
            self.finish_anchor()
            self.anchor = self.add_link(href, "", entry, line)
        elif is_closing_anchor(tag):
            self.finish_anchor()

    def finish_anchor(self) -> None:
        """Close the link being read, tidying its text."""
        if self.anchor is not None:
            self.anchor.text = " ".join(self.anchor.text.split())
            self.anchor = None

    def html_block(self, token: Token, entry: int) -> str:
        """Record the links of a raw HTML block and return its visible text."""
        anchors, text = html_anchors(token.content)
        first = self.line_of(token) - 1
        for href, anchor_text, line in anchors:
            link = self.add_link(href, anchor_text, entry, first + line)
            if link is not None:
                link.text = anchor_text
        return text

    def note_link(self, token: Token, entry: int | None, line: int) -> None:
        """Record a wikilink, embed or block reference (its token learns its link number)."""
        meta = token.meta
        kind = _NOTE_LINK_KINDS.get(meta["kind"], meta["kind"])
        target, anchor = str(meta["target"]), str(meta["anchor"])
        url = f"{target}#{anchor}" if anchor else target
        if meta["kind"] == "block":
            url = f"(({anchor[1:]}))"
        link = ParsedLink(entry, url, token.content, None, kind, line, url, embed=meta["embed"])
        if kind == "internal":
            keys = LinkKeys("", None) if meta["kind"] == "block" else None
            keys = keys or wikilink_keys(target, self.path, self.dialect)
            link.note = NoteLink(keys.target, keys.near, _anchor_key(anchor), meta["embed"])
        meta["link"] = len(self.links)
        self.links.append(link)

    def site_link(self, token: Token, link: ParsedLink) -> None:
        """Apply what a site-engine rule said of its link (app/engines): a kind of its own
        (`video`, `code` ...), or the post it names (`meta["note"]`, resolved like a
        wikilink); otherwise a relative link to a note is internal."""
        meta = token.meta or {}
        if meta.get("kind"):
            link.kind = str(meta["kind"])
        if meta.get("note"):
            keys = wikilink_keys(str(meta["note"]), self.path, self.dialect)
            anchor = link.url.partition("#")[2]
            link.kind = "internal"
            link.note = NoteLink(keys.target, keys.near, _anchor_key(anchor), False)
            token.attrs["class"] = "internal-link"
            token.attrs["data-link"] = str(len(self.links) - 1)
        elif link.kind == "internal":
            self.mark_path_link(token, link)

    def mark_path_link(self, token: Token, link: ParsedLink) -> None:
        """A relative Markdown link to a note is an internal link: resolved like a wikilink."""
        keys = path_link_keys(link.url, self.path, self.dialect)
        if keys is None:
            return
        anchor = link.url.partition("#")[2]
        link.note = NoteLink(keys.target, keys.near, _anchor_key(anchor), False)
        token.attrs["class"] = "internal-link"
        token.attrs["data-link"] = str(len(self.links) - 1)

    def add_link(self, url: str, text: str, entry: int | None, line: int) -> ParsedLink | None:
        """Store a link when its target is one (http(s), mailto, relative), else ignore it."""
        if not is_storable(url):
            return None
        host, kind, key = link_facts(url)
        link = ParsedLink(entry, url, text, host, kind, line, key)
        self.links.append(link)
        return link


def _anchor_key(anchor: str) -> str | None:
    """A link anchor as resolution compares it: `^id` kept, a heading as its slug."""
    if not anchor:
        return None
    if anchor.startswith("^"):
        return anchor
    return slug_of(unquote(anchor.rpartition("#")[2])) or None


def _closing(tokens: Sequence[Token], start: int) -> int:
    """Index just past the token that closes the block opened at `start`."""
    opening = tokens[start]
    closing_type = opening.type.replace("_open", "_close")
    for index in range(start + 1, len(tokens)):
        token = tokens[index]
        if token.type == closing_type and token.level == opening.level:
            return index + 1
    return len(tokens)
