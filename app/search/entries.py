"""Entry search: the in-memory top-k index when it can answer, FTS5 or tsvector SQL else."""

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
) -> list[Hit] | None:
    """One page of hits from the search index of `index`'s content version, or None.

    None when the index is not ready, cannot answer this query or these filters, or (with
    `read` false) a word's postings are not in memory yet: each costs a read of FTS5.
    """
    if index is None or conn.dialect.name != "sqlite":
        return None
    search = SEARCH_INDEXES.get(conn, index)
    if search is None:
        return None
    found = search.page(conn, query, filters, wanted=offset + limit, read=read)
    if found is None:
        return None
    return _with_snippets(conn, search, query, found[offset:])


def ranked_entries(
    conn: Connection,
    query: SearchQuery,
    filters: EntryFilters,
    *,
    index: EntryIndex | None,
    limit: int,
    offset: int,
) -> list[Hit]:
    """One page of entries matching `query` and `filters`, best first.

    `index`: the entry index of the request's content version, if ready; its search
    index answers what it can, and SQL the rest, with the same hits in the same order.
    """
    options = {"limit": limit, "offset": offset}
    found = from_memory(conn, query, filters, index=index, read=True, **options)
    if found is not None:
        return found
    where = entry_conditions(filters, domain_aliases(conn))
    return ranked(conn, "entries", query, where, **options)


def _with_snippets(
    conn: Connection, search: SearchIndex, query: SearchQuery, page: list[Ranked]
) -> list[Hit]:
    """The page's hits with FTS5 snippets made from the page's own texts."""
    if not page:
        return []
    marks = ",".join("?" * len(page))
    rows = conn.exec_driver_sql(
        f"SELECT id, text FROM entries WHERE id IN ({marks})", tuple(hit.id for hit in page)
    )
    texts: dict[int, str] = {row[0]: row[1] for row in rows}
    kept = [hit for hit in page if hit.id in texts]
    raw = scratch(search.tokenizer).snippets(
        [texts[hit.id] for hit in kept], query.fts5(), SNIPPET_MARKS, SNIPPET_TOKENS
    )
    return [
        Hit(hit.id, hit.score, highlighted(snippet)) for hit, snippet in zip(kept, raw, strict=True)
    ]
