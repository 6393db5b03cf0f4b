"""A parsed post's rows, built in the process that parsed it, ready for the writer to insert.

The writing process is the ingest's critical path: each post it receives as dataclasses
cost it building rows, hashing ids, encoding entry documents and unpickling tens of
thousands of objects. A parser worker builds those rows instead, as tuples in the
column order of `COLUMNS`, with SQLite's values already in the form the driver binds
(dates and flags converted as SQLAlchemy's column types would convert them), so the
writer only inserts them. The rows are exactly those the writer used to build.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table
from sqlalchemy.dialects import sqlite

from app.entry_docs import build_doc, domain_path
from app.ingest.identity import post_id as hashed_id
from app.ingest.identity import stable_ids
from app.models import (
    ENTRIES,
    ENTRY_BLOCKS,
    ENTRY_TAGS,
    LINKS,
    NOTE_LINKS,
    NOTE_NAMES,
    POST_CATEGORIES,
    POST_TAGS,
    SECTION_PATHS,
    SECTIONS,
)

if TYPE_CHECKING:
    from app.ingest.parse import ParsedPost

Row = tuple[Any, ...]

# Post search indexes body_text whole, and a PostgreSQL tsvector holds at most 1 MB of
# distinct words (a URL or a hyphenated word yields about twice its length): past this
# many bytes, post search reads the beginning of a post (its entries stay searchable).
BODY_TEXT_BYTES = 256 * 1024

# The columns of each table's rows, in the order of a row's values.
COLUMNS: dict[str, tuple[str, ...]] = {
    "sections": ("id", "post_id", "parent_id", "position", "level", "heading", "slug", "line"),
    "section_paths": ("section_id", "depth", "slug"),
    "entries": (
        "id", "post_id", "section_id", "parent_id", "position", "depth", "kind", "text",
        "html", "doc", "domain_path", "line", "date", "published_at", "is_draft",
    ),
    "links": (
        "id", "post_id", "entry_id", "position", "url", "text", "host", "kind", "url_key",
        "origin", "line",
    ),
    "entry_tags": ("entry_id", "tag"),
    "post_tags": ("post_id", "tag"),
    "post_categories": ("post_id", "category"),
    "note_names": ("post_id", "name", "root", "rank", "path_len", "path"),
    "note_links": ("link_id", "post_id", "root", "target", "near", "anchor", "embed"),
    "entry_blocks": ("entry_id", "post_id", "root", "block_id", "properties"),
}  # fmt: skip

TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        SECTIONS, SECTION_PATHS, ENTRIES, LINKS, ENTRY_TAGS, POST_TAGS, POST_CATEGORIES,
        NOTE_NAMES, NOTE_LINKS, ENTRY_BLOCKS,
    )
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RowPlan:
    """What a worker needs to build a post's rows: the folder, the engine's dialect and
    the ids of the folder's stored posts (a post keeps its id; a new one gets its hash)."""

    root: str
    dialect: str
    stored_ids: dict[str, int] = field(default_factory=dict)
    # Whether the writer reads a file's text (a field schema's violations name key lines):
    # if not, only its hashes travel back.
    keep_text: bool = True


@dataclass(slots=True)
class PostRows:
    """A post's rows other than its `posts` row, by table (see COLUMNS)."""

    post_id: int
    body_text: str
    tables: dict[str, list[Row]]
    # (slug, name or None) of every term in the order the post writes them: the first
    # name written wins (entry tags arrive as slugs, named only by a front matter).
    tag_names: list[tuple[str, str | None]]
    category_names: list[tuple[str, str | None]]


def with_rows(plan: RowPlan, path: str, parsed: ParsedPost) -> ParsedPost:
    """A copy of `parsed` holding its rows (`rows`) instead of its sections, entries,
    links and names, which is what a worker sends the writer."""
    rows = build_rows(plan, path, parsed)
    return dataclasses.replace(parsed, sections=[], entries=[], links=[], names=[], rows=rows)


def build_rows(plan: RowPlan, path: str, parsed: ParsedPost) -> PostRows:
    """All of a post's rows but its `posts` row (and its typed fields)."""
    post_id = plan.stored_ids.get(path)
    if post_id is None:
        post_id = hashed_id(plan.root, path)
    rows = _Builder(post_id)
    rows.add(parsed)
    rows.add_notes(plan.root, path, parsed)
    bind = _binders(plan.dialect)
    tables = {name: bind(name, found) for name, found in rows.tables.items() if found}
    body_text = _body_text(parsed)
    return PostRows(post_id, body_text, tables, rows.tag_names, rows.category_names)


def _body_text(parsed: ParsedPost) -> str:
    """What post search reads of a post: its headings, then its entries' text."""
    body_text = "\n".join(
        [*(s.heading for s in parsed.sections), *(e.text for e in parsed.entries)]
    )
    if len(body_text) * 4 > BODY_TEXT_BYTES:  # cheap: a character is at most 4 bytes
        body_text = body_text.encode()[:BODY_TEXT_BYTES].decode("utf-8", "ignore")
    return body_text


class _Builder:
    """Gathers one post's rows, table by table, in the order they are inserted."""

    def __init__(self, post_id: int) -> None:
        self.post_id = post_id
        self.tables: dict[str, list[Row]] = {name: [] for name in COLUMNS}
        self.tag_names: list[tuple[str, str | None]] = []
        self.category_names: list[tuple[str, str | None]] = []
        self.entry_ids: list[int] = []
        self.link_ids: list[int] = []

    def add(self, parsed: ParsedPost) -> None:
        """The sections, entries, links, tags and categories of the post."""
        post_id, tables = self.post_id, self.tables
        positions = [s.position for s in parsed.sections]
        section_ids = dict(zip(positions, stable_ids("section", post_id, positions), strict=True))
        headings = self._sections(parsed, section_ids)
        entry_ids = self.entry_ids = stable_ids("entry", post_id, [e.key for e in parsed.entries])
        link_ids = self.link_ids = stable_ids("link", post_id, range(len(parsed.links)))
        entry_links: dict[int, list[dict[str, Any]]] = defaultdict(list)
        links = tables["links"]
        for index, link in enumerate(parsed.links):
            entry_id = None
            if link.entry is not None:
                entry_id = entry_ids[link.entry]
                entry_links[link.entry].append(
                    {"url": link.url, "text": link.text, "host": link.host, "link_kind": link.kind}
                )
            links.append(
                (
                    link_ids[index], post_id, entry_id, index, link.url, link.text, link.host,
                    link.kind, link.url_key, link.origin, link.line,
                )
            )  # fmt: skip
        headings_of = {s.position: s.heading for s in parsed.sections}
        entries, entry_tags = tables["entries"], tables["entry_tags"]
        no_links: list[dict[str, Any]] = []
        date, published_at, is_draft = parsed.date, parsed.published_at, parsed.is_draft
        for index, e in enumerate(parsed.entries):
            parent_id = entry_ids[e.parent] if e.parent is not None else None
            doc = build_doc(
                section=headings_of[e.section],
                kind=e.kind,
                tags=e.tags,
                post_tags=parsed.tags,
                links=entry_links.get(index, no_links),
                parent_id=parent_id,
            )
            entries.append(
                (
                    entry_ids[index], post_id, section_ids[e.section], parent_id, index,
                    e.depth, e.kind, e.text, e.html, doc,
                    domain_path(headings.get(e.section, [])), e.line, date, published_at,
                    is_draft,
                )
            )  # fmt: skip
            for tag in e.tags:
                entry_tags.append((entry_ids[index], tag))
                self.tag_names.append((tag, None))
        self.tag_names.extend(parsed.tag_names.items())
        tables["post_tags"].extend((post_id, tag) for tag in parsed.tags)
        self.category_names.extend(parsed.category_names.items())
        tables["post_categories"].extend((post_id, c) for c in parsed.categories)

    def _sections(self, parsed: ParsedPost, section_ids: dict[int, int]) -> dict[int, list[str]]:
        """The sections' rows and their heading-slug paths; {position: slugs, outermost
        first} for the entries' domain paths."""
        post_id = self.post_id
        sections, section_paths = self.tables["sections"], self.tables["section_paths"]
        by_position = {s.position: s for s in parsed.sections}
        headings: dict[int, list[str]] = {}
        for s in parsed.sections:
            section_id = section_ids[s.position]
            parent_id = section_ids.get(s.parent) if s.parent is not None else None
            sections.append(
                (section_id, post_id, parent_id, s.position, s.level, s.heading, s.slug, s.line)
            )
            path: list[str] = []
            depth, cursor = 0, s
            while True:
                if cursor.slug:
                    section_paths.append((section_id, depth, cursor.slug))
                    path.append(cursor.slug)
                    depth += 1
                if cursor.parent is None:
                    break
                cursor = by_position[cursor.parent]
            path.reverse()
            headings[s.position] = path
        return headings

    def add_notes(self, root: str, path: str, parsed: ParsedPost) -> None:
        """The names the post answers to, its internal links and its named blocks."""
        post_id, tables = self.post_id, self.tables
        tables["note_names"].extend(
            (post_id, name, root, rank, len(path), path) for name, rank in parsed.names
        )
        tables["note_links"].extend(
            (
                self.link_ids[index], post_id, root, link.note.target, link.note.near,
                link.note.anchor, link.note.embed,
            )
            for index, link in enumerate(parsed.links)
            if link.note is not None
        )  # fmt: skip
        tables["entry_blocks"].extend(
            (self.entry_ids[index], post_id, root, e.block_id, e.properties)
            for index, e in enumerate(parsed.entries)
            if e.block_id is not None or e.properties
        )


# Tables whose rows the writer inserts through SQLAlchemy (column defaults applied),
# not straight through the driver: their rows keep Python's values on every engine.
THROUGH_SQLALCHEMY = frozenset({"note_names", "note_links", "entry_blocks"})


def _binders(dialect: str) -> Callable[[str, list[Row]], list[Row]]:
    """How rows of a table are made ready for the engine `dialect`: on SQLite, each value
    as the column's type binds it; elsewhere (and for THROUGH_SQLALCHEMY), unchanged."""
    if dialect != "sqlite":
        return lambda _name, rows: rows
    return _bind_sqlite


_PROCESSORS: dict[str, list[tuple[int, Callable[[Any], Any]]]] = {}
_SQLITE = sqlite.dialect()


def _bind_sqlite(name: str, rows: list[Row]) -> list[Row]:
    """Rows of table `name` with every value converted as SQLAlchemy binds it on SQLite.

    A value seen before in the post is bound once (an entry's date, moment and draft flag
    are its post's): one conversion, and one object that pickling sends once.
    """
    if name in THROUGH_SQLALCHEMY:
        return rows
    processors = _PROCESSORS.get(name)
    if processors is None:
        columns = TABLES[name].c
        processors = _PROCESSORS[name] = [
            (position, bind)
            for position, column in enumerate(COLUMNS[name])
            if (bind := columns[column].type._cached_bind_processor(_SQLITE)) is not None
        ]
    if not processors:
        return rows
    seen: dict[tuple[int, Any], Any] = {}
    bound: list[Row] = []
    for row in rows:
        values = list(row)
        for position, process in processors:
            raw = values[position]
            key = (position, raw)
            if key in seen:
                values[position] = seen[key]
            else:
                values[position] = seen[key] = process(raw)
        bound.append(tuple(values))
    return bound


def merged_names(posts: Sequence[list[tuple[str, str | None]]]) -> dict[str, str | None]:
    """{slug: name} of a group's terms: the first name written wins, as rows upserted in
    order would (a term written without a name takes the first name that comes)."""
    names: dict[str, str | None] = {}
    for pairs in posts:
        for slug, name in pairs:
            if names.get(slug) is None:
                names[slug] = name
    return names
