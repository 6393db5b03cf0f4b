"""Export the database for static hosting: NDJSON lines, or a SQLite file.

Both read one snapshot of the database, so an ingest running meanwhile shows up either
entirely or not at all. NDJSON is written in batches read through one streaming cursor
per row type, so memory stays flat whatever the size of the database; the lines use the
API's field names (`app.schemas`).
"""

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy import ColumnElement, Connection, Engine, delete, false, insert, select, true
from sqlmodel import SQLModel

from app.db import DatabaseNotReady, make_engine, migrate, open_current, snapshot
from app.entry_docs import Splicer
from app.models import ENTRIES, LINK_CHECKS, LINKS, POSTS, current_version
from app.queries.entries import domain_aliases, entries_by_id
from app.queries.link_health import check_columns, check_joined, nest_check
from app.queries.posts import posts_by_id
from app.queries.taxonomy import nest_target, target_columns
from app.schemas import EDIT_URL_TEMPLATE, EntryOut, PostSummary

SCHEMA_VERSION = 1
# Rows per read: large enough that per-batch queries cost little, small enough to keep
# memory flat (a batch of posts carries their HTML).
BATCH = 1000


class ExportError(Exception):
    """An export that cannot be made, with a message for the person who asked."""


@dataclass(slots=True)
class ExportCounts:
    """What an export wrote."""

    content_version: int
    posts: int = 0
    entries: int = 0
    links: int = 0


def source_engine(url: str) -> Engine:
    """An engine on the database to export; ExportError when there is nothing to export."""
    try:
        return open_current(url)
    except DatabaseNotReady as error:
        raise ExportError(str(error)) from None


def write_ndjson(
    engine: Engine, out: IO[bytes], *, include_drafts: bool, edit_url_template: str | None
) -> ExportCounts:
    """Write the header line, then every post, entry and link, one JSON object a line."""
    token = EDIT_URL_TEMPLATE.set(edit_url_template)
    try:
        with snapshot(engine) as conn:
            version = current_version(conn)
            counts = ExportCounts(content_version=version)
            header = {
                "type": "export",
                "schema": SCHEMA_VERSION,
                "content_version": version,
                "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "include_drafts": include_drafts,
            }
            out.write(_line(header))
            for lines in _post_lines(conn, include_drafts):
                out.write(b"".join(lines))
                counts.posts += len(lines)
            for lines in _entry_lines(conn, include_drafts, edit_url_template):
                out.write(b"".join(lines))
                counts.entries += len(lines)
            for lines in _link_lines(conn, include_drafts):
                out.write(b"".join(lines))
                counts.links += len(lines)
    finally:
        EDIT_URL_TEMPLATE.reset(token)
    return counts


def _line(item: dict[str, Any]) -> bytes:
    """One NDJSON line."""
    return orjson.dumps(item) + b"\n"


def _published(column: ColumnElement[bool], include_drafts: bool) -> ColumnElement[bool]:
    """No condition with drafts, else `column` (an is_draft flag) must be false."""
    return true() if include_drafts else column == false()


def _post_lines(conn: Connection, include_drafts: bool) -> Iterator[list[bytes]]:
    """Posts as PostSummary gives them, plus their front matter and HTML, oldest first."""
    p = POSTS.c
    query = (
        select(p.id, p.front_matter, p.html)
        .where(_published(p.is_draft, include_drafts))
        .order_by(p.date.asc().nulls_first(), p.id)
        .execution_options(yield_per=BATCH)
    )
    for part in conn.execute(query).partitions():
        summaries = posts_by_id(conn, [row.id for row in part])
        yield [
            _line(
                {
                    "type": "post",
                    **PostSummary.model_validate(summaries[row.id]).model_dump(mode="json"),
                    "front_matter": row.front_matter,
                    "html": row.html,
                }
            )
            for row in part
        ]


def _entry_lines(
    conn: Connection, include_drafts: bool, edit_url_template: str | None
) -> Iterator[list[bytes]]:
    """Entries as /entries answers them, in post order and then as written."""
    e, p = ENTRIES.c, POSTS.c
    aliases = domain_aliases(conn)
    query = (
        select(e.id, e.date, e.post_id, e.line, e.domain_path, e.doc, e.text, e.html)
        .where(_published(e.is_draft, include_drafts))
        .order_by(e.date.asc().nulls_first(), e.post_id, e.position)
        .execution_options(yield_per=BATCH)
    )
    for part in conn.execute(query).partitions():
        posts = {
            row.id: (row.slug, row.title, row.source_path)
            for row in conn.execute(
                select(p.id, p.slug, p.title, p.source_path).where(
                    p.id.in_({row.post_id for row in part})
                )
            )
        }
        # A splicer per batch: its caches then hold this batch's posts, not every post.
        splicer = Splicer(posts, aliases, edit_url_template)
        # Rows stored before entry documents existed are assembled the long way.
        undocumented = [row.id for row in part if not row.doc]
        assembled = entries_by_id(conn, undocumented, aliases) if undocumented else {}
        lines = []
        for entry_id, date, post_id, line, path, doc, text, html in part:
            if doc:
                answer = splicer.entry(entry_id, date, post_id, line, path, doc, text, html)
                lines.append(b'{"type":"entry",' + answer[1:] + b"\n")
            else:
                entry = EntryOut.model_validate(assembled[entry_id]).model_dump(mode="json")
                lines.append(_line({"type": "entry", **entry}))
        yield lines


def _link_lines(conn: Connection, include_drafts: bool) -> Iterator[list[bytes]]:
    """Every link (those in headings and front matter too, with a null entry_id) as /links
    gives it."""
    link, p = LINKS.c, POSTS.c
    columns, with_targets = target_columns(include_drafts=include_drafts)
    query = (
        with_targets(
            select(
                link.id,
                link.entry_id,
                link.url,
                link.text,
                link.host,
                link.kind.label("link_kind"),
                link.origin,
                p.slug,
                p.title,
                p.date,
                *check_columns(),
                *columns,
            )
            .join(POSTS, p.id == link.post_id)
            .outerjoin(LINK_CHECKS, check_joined())
        )
        .where(_published(p.is_draft, include_drafts))
        .order_by(link.id)
        .execution_options(yield_per=BATCH)
    )
    for part in conn.execute(query).partitions():
        lines = []
        for row in part:
            # Built by hand rather than through LinkDetail: five times faster, same members.
            item = dict(row._mapping)
            item["post"] = {"slug": item.pop("slug"), "title": item.pop("title")}
            date = item.pop("date")
            item["date"] = date.isoformat() if date else None
            nest_check(item)
            _checked_at_in_utc(item)
            nest_target(item)
            lines.append(_line({"type": "link", **item}))
        yield lines


def _checked_at_in_utc(item: dict[str, Any]) -> None:
    """Write a link's `check.checked_at` as /links does (ISO 8601, `Z`)."""
    check = item["check"]
    if check is not None and check["checked_at"] is not None:
        moment = check["checked_at"]
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        check["checked_at"] = moment.isoformat().replace("+00:00", "Z")


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A path beside `target` to write to, renamed over `target` when the block succeeds.

    Readers of `target` (a web server, a static host's sync) never see a half-written file.
    """
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        os.replace(partial, target)
    finally:
        for leftover in ("", "-wal", "-shm", "-journal"):
            Path(f"{partial}{leftover}").unlink(missing_ok=True)


def write_sqlite(engine: Engine, target: Path) -> int:
    """Write a snapshot of the database to the SQLite file `target`; return its content version.

    A SQLite database is copied by `VACUUM INTO` (compact, and consistent by
    construction); a PostgreSQL one is copied table by table into a freshly migrated file,
    whose full-text indexes are then built.
    """
    with replacing(target) as partial:
        if engine.dialect.name == "sqlite":
            _vacuum_into(engine, partial)
        else:
            _copy_into_sqlite(engine, partial)
        copy = sqlite3.connect(partial)
        try:
            # One self-contained file (no -wal beside it), as static hosts serve it.
            copy.execute("PRAGMA journal_mode=DELETE")
            (version,) = copy.execute("SELECT version FROM content_state WHERE id = 1").fetchone()
        finally:
            copy.close()
    return int(version)


def _vacuum_into(engine: Engine, path: Path) -> None:
    """`VACUUM INTO`, outside any transaction (SQLite refuses it inside one)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("VACUUM INTO ?", (str(path),))
        cursor.close()
    finally:
        raw.close()


def _copy_into_sqlite(engine: Engine, path: Path) -> None:
    """Copy every table from one snapshot of `engine` into a new SQLite file at `path`."""
    url = f"sqlite:///{path}"
    migrate(url)
    copy = make_engine(url)
    try:
        with snapshot(engine) as source, copy.begin() as out:
            # Parents before children, so that foreign keys hold at every insert.
            for table in SQLModel.metadata.sorted_tables:
                out.execute(delete(table))  # the rows migrations seed (content_state)
                rows = source.execute(select(*table.c).execution_options(yield_per=BATCH))
                for part in rows.partitions():
                    out.execute(insert(table), [dict(row._mapping) for row in part])
            # SQLite's full-text tables (migration 0002) index the copied rows in one pass.
            for index in ("entries_fts", "posts_fts"):
                out.exec_driver_sql(f"INSERT INTO {index}({index}) VALUES ('rebuild')")
            out.exec_driver_sql("ANALYZE")
    finally:
        copy.dispose()
