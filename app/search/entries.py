"""Entry search: the in-memory top-k index when it can answer, FTS5 or tsvector SQL else."""

import datetime as dt
import sqlite3
from typing import Any

from sqlalchemy import Connection

from app.queries.entries import EntryFilters, domain_aliases, entry_conditions
from app.queries.entry_index import EntryIndex
from app.queries.search import SNIPPET_MARKS, SNIPPET_TOKENS, Hit, highlighted, ranked
from app.search.index import SEARCH_INDEXES, Ranked, SearchIndex
from app.search.scratch import scratch
from app.search_syntax import SearchQuery


def from_memory(
    conn: Connection,
    query: SearchQuery,
    filters: EntryFilters,
    *,
    index: EntryIndex | None,
    limit: int,
    offset: int,
    read: bool,
    edit_url_template: str | None = None,
) -> list[Hit] | None:
    """One page of hits from the search index of `index`'s content version, or None.

    None when the index is not ready, cannot answer this query or these filters, or (with
    `read` false) a word's postings are not in memory yet: each costs a read of FTS5.
    Each hit carries its entry's JSON document (`edit_url_template` as in settings).
    """
    if index is None or conn.dialect.name != "sqlite":
        return None
    search = SEARCH_INDEXES.get(conn, index)
    if search is None:
        return None
    found = search.page(conn, query, filters, wanted=offset + limit, read=read)
    if found is None:
        return None
    driver = conn.connection.driver_connection
    return _with_snippets(driver, search, query, found[offset:], edit_url_template)


def from_memory_on(
    db: sqlite3.Connection,
    index: EntryIndex,
    query: SearchQuery,
    filters: EntryFilters,
    *,
    limit: int,
    offset: int,
    edit_url_template: str | None,
) -> list[Hit] | None:
    """`from_memory` on a plain SQLite connection (a quick lane's own): words in memory
    only, and None until the search index of `index` is built (the pooled way builds it)."""
    search = SEARCH_INDEXES.ready(index)
    if search is None:
        return None
    found = search.page(None, query, filters, wanted=offset + limit, read=False)
    if found is None:
        return None
    return _with_snippets(db, search, query, found[offset:], edit_url_template)


def ranked_entries(
    conn: Connection,
    query: SearchQuery,
    filters: EntryFilters,
    *,
    index: EntryIndex | None,
    limit: int,
    offset: int,
    edit_url_template: str | None = None,
) -> list[Hit]:
    """One page of entries matching `query` and `filters`, best first.

    `index`: the entry index of the request's content version, if ready; its search
    index answers what it can, and SQL the rest, with the same hits in the same order.
    """
    found = from_memory(
        conn,
        query,
        filters,
        index=index,
        limit=limit,
        offset=offset,
        read=True,
        edit_url_template=edit_url_template,
    )
    if found is not None:
        return found
    where = entry_conditions(filters, domain_aliases(conn))
    return ranked(conn, "entries", query, where, limit=limit, offset=offset)


def _with_snippets(
    driver: Any,
    search: SearchIndex,
    query: SearchQuery,
    page: list[Ranked],
    edit_url_template: str | None,
) -> list[Hit]:
    """The page's hits with snippets made from the page's own texts, and their documents.

    One read of the page's rows gives both (on the SQLite driver connection, in the
    request's transaction): FTS5's snippets from the texts, the answers spliced around the
    stored documents as /entries splices them.
    """
    if not page:
        return []
    marks = ",".join("?" * len(page))
    rows = {
        row[0]: row
        for row in driver.execute(_ROWS.format(marks=marks), [hit.id for hit in page]).fetchall()
    }
    kept = [hit for hit in page if hit.id in rows]
    raw = scratch(search.tokenizer).snippets(
        [rows[hit.id][6] for hit in kept], query.fts5(), SNIPPET_MARKS, SNIPPET_TOKENS
    )
    splicer = search.entries.splicer(edit_url_template)
    hits: list[Hit] = []
    for hit, snippet in zip(kept, raw, strict=True):
        _, date, post_id, line, path, doc, text, html = rows[hit.id]
        document = None
        if doc:
            # SQLite hands dates back as the text it stores them as.
            day = dt.date.fromisoformat(date[:10]) if isinstance(date, str) else date
            document = splicer.entry(hit.id, day, post_id, line, path, doc, text, html)
        hits.append(Hit(hit.id, hit.score, highlighted(snippet), document))
    return hits


_ROWS = (
    "SELECT id, date, post_id, line, domain_path, doc, text, html FROM entries "
    "WHERE id IN ({marks})"
)
