"""Entry search: the in-memory top-k index when it can answer, FTS5 or tsvector SQL else."""

from sqlalchemy import ColumnElement, Connection, bindparam, select

from app.models import ENTRIES
from app.queries.entries import EntryFilters
from app.queries.entry_index import EntryIndex
from app.queries.search import SNIPPET_MARKS, SNIPPET_TOKENS, Hit, highlighted, ranked
from app.search.index import SEARCH_INDEXES, Ranked, SearchIndex
from app.search.scratch import scratch
from app.search_syntax import SearchQuery

_TEXTS = select(ENTRIES.c.id, ENTRIES.c.text).where(
    ENTRIES.c.id.in_(bindparam("ids", expanding=True))
)


def ranked_entries(
    conn: Connection,
    query: SearchQuery,
    filters: EntryFilters,
    where: list[ColumnElement[bool]],
    *,
    index: EntryIndex | None,
    limit: int,
    offset: int,
) -> list[Hit]:
    """One page of entries matching `query` and `filters` (`where` in SQL), best first.

    `index`: the entry index of the request's content version, if ready; its search
    index answers what it can, and SQL the rest, with the same hits in the same order.
    """
    if index is not None and conn.dialect.name == "sqlite":
        search = SEARCH_INDEXES.get(conn, index)
        found = None if search is None else search.page(conn, query, filters, wanted=offset + limit)
        if search is not None and found is not None:
            return _with_snippets(conn, search, query, found[offset:])
    return ranked(conn, "entries", query, where, limit=limit, offset=offset)


def _with_snippets(
    conn: Connection, search: SearchIndex, query: SearchQuery, page: list[Ranked]
) -> list[Hit]:
    """The page's hits with FTS5 snippets made from the page's own texts."""
    if not page:
        return []
    rows = conn.execute(_TEXTS, {"ids": [hit.id for hit in page]})
    texts: dict[int, str] = {row[0]: row[1] for row in rows}
    kept = [hit for hit in page if hit.id in texts]
    raw = scratch(search.tokenizer).snippets(
        [texts[hit.id] for hit in kept], query.fts5(), SNIPPET_MARKS, SNIPPET_TOKENS
    )
    return [
        Hit(hit.id, hit.score, highlighted(snippet)) for hit, snippet in zip(kept, raw, strict=True)
    ]
