"""Entry search: the in-memory top-k index when it can answer, FTS5 or tsvector SQL else."""

import sqlite3
from typing import Any

from sqlalchemy import Connection

from app.queries.entries import EntryFilters, domain_aliases, entry_conditions
from app.queries.entry_index import ROW_TEXT, EntryIndex, loop_page_rows
from app.queries.search import SNIPPET_MARKS, SNIPPET_TOKENS, Hit, highlighted, ranked
from app.search.index import SEARCH_INDEXES, Ranked, SearchIndex
from app.search.snippets import Marks, html_snippets, query_terms
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
    driver = conn.connection.driver_connection
    return _with_snippets(driver, search, query, found[offset:])


def answered_on(
    db: sqlite3.Connection,
    index: EntryIndex,
    query: SearchQuery,
    filters: EntryFilters,
    *,
    limit: int,
    offset: int,
    template: str | None,
) -> tuple[list[Hit], list[bytes]] | None:
    """A page of `limit` hits on a plain SQLite connection (a quick lane's own), with
    their entries as /entries answers them, or None.

    One more hit follows when more match; it only says so (its snippet is left empty).
    None until the search index of `index` is built (the pooled way builds it), when a
    word is not in memory, or an entry has no stored document.
    """
    search = SEARCH_INDEXES.ready(index)
    if search is None:
        return None
    found = search.page(None, query, filters, wanted=offset + limit + 1, read=False)
    if found is None:
        return None
    page = found[offset:]
    if not page:
        return [], []
    ids = [hit.id for hit in page]
    texts = {
        i: text for i, text in zip(ids, search.texts.lookup(ids), strict=True) if text is not None
    }
    unread = [i for i in ids if i not in texts]
    read: dict[int, str] | None = None

    def read_rows(missing: list[int]) -> list[tuple[Any, ...]]:
        # The texts not kept come with the rows of the answers not kept: one statement.
        nonlocal read
        rows = loop_page_rows(db, list(dict.fromkeys([*missing, *unread])))
        read = {row[0]: row[ROW_TEXT] for row in rows}
        return rows

    answers = index.answers(ids[:limit], template, read_rows)
    if answers is None:
        return None
    if read is None:
        read = _texts(db, search, [hit for hit in page if hit.id not in texts]) if unread else {}
    fresh = {i: read[i] for i in unread if i in read}
    search.texts.keep(fresh)
    texts.update(fresh)
    kept = [hit for hit in page if hit.id in texts]
    if len(kept) < len(page):
        # An entry without its text is left out, as `_with_snippets` does; never met
        # within one snapshot, whose search index lists that snapshot's entries.
        shown = [hit.id for hit in kept[:limit]]
        answers = index.answers(shown, template, lambda missing: loop_page_rows(db, missing))
        if answers is None:
            return None
    shown_hits = kept[:limit]
    found_snippets = _snippets(search, query, [texts[hit.id] for hit in shown_hits], shown_hits)
    hits = [
        Hit(hit.id, hit.score, snippet)
        for hit, snippet in zip(shown_hits, found_snippets, strict=True)
    ]
    hits.extend(Hit(hit.id, hit.score, "") for hit in kept[limit:])
    return hits, [answer[0] for answer in answers]


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
    found = from_memory(conn, query, filters, index=index, limit=limit, offset=offset, read=True)
    if found is not None:
        return found
    where = entry_conditions(filters, domain_aliases(conn))
    return ranked(conn, "entries", query, where, limit=limit, offset=offset)


_MARKS = Marks(*SNIPPET_MARKS, SNIPPET_TOKENS)
_TAGS = ("<mark>", "</mark>")  # what `highlighted` turns the marks into


def _texts(driver: Any, search: SearchIndex, hits: list[Ranked]) -> dict[int, str]:
    """The texts of `hits` by entry id, read by rowid (by id if one has none)."""
    marks = ",".join("?" * len(hits))
    rowids = search.rowid_of_rank[[hit.rank for hit in hits]].tolist()
    if min(rowids) < 0:
        sql = f"SELECT id, text FROM entries WHERE id IN ({marks})"
        return dict(driver.execute(sql, [hit.id for hit in hits]).fetchall())
    id_of = {rowid: hit.id for rowid, hit in zip(rowids, hits, strict=True)}
    sql = f"SELECT rowid, text FROM entries WHERE rowid IN ({marks})"
    return {id_of[rowid]: text for rowid, text in driver.execute(sql, rowids).fetchall()}


def _with_snippets(
    driver: Any, search: SearchIndex, query: SearchQuery, page: list[Ranked]
) -> list[Hit]:
    """The page's hits with FTS5 snippets made from the page's own texts (those not kept
    by the search index read on the SQLite driver connection, in the request's
    transaction)."""
    if not page:
        return []
    ids = [hit.id for hit in page]
    texts = {
        i: text for i, text in zip(ids, search.texts.lookup(ids), strict=True) if text is not None
    }
    missing = [hit for hit in page if hit.id not in texts]
    if missing:
        read = _texts(driver, search, missing)
        search.texts.keep(read)
        texts.update(read)
    kept = [hit for hit in page if hit.id in texts]
    found = _snippets(search, query, [texts[hit.id] for hit in kept], kept)
    return [Hit(hit.id, hit.score, snippet) for hit, snippet in zip(kept, found, strict=True)]


def _snippets(
    search: SearchIndex, query: SearchQuery, texts: list[str], hits: list[Ranked]
) -> list[str]:
    """The highlighted snippets of `texts`, those of `hits`."""
    # FTS5's counts of the page's tokens and terms, from the search index's own copy.
    terms = query_terms(search.tokenizer, query)
    counts = None
    if terms is not None:
        counts = search.counts([hit.rank for hit in hits], tuple(dict.fromkeys(terms)))
    return html_snippets(search.tokenizer, texts, query, _MARKS, counts, highlighted, _TAGS)
