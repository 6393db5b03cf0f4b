"""Search: entries or posts ranked by relevance, with highlighted snippets."""

import sqlite3
from contextlib import asynccontextmanager
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection

from app.api.deps import (
    MAX_CURSOR,
    MAX_LIMIT,
    PUBLIC,
    Conditional,
    ConnectionDep,
    Paging,
    PagingDep,
    ScopeFiltersDep,
    connection,
    encode_cursor,
    etag_for,
    next_url,
    not_modified,
    paging,
    public_response,
    text_value,
)
from app.api.quick import public_scope, read_query
from app.api.responses import READ
from app.api.spliced import entry_answers, json_answer, ready_index
from app.errors import InvalidParameter, NotModified
from app.queries.entries import EntryFilters, domain_aliases, entries_by_id
from app.queries.entry_index import (
    EntryIndex,
    IndexHolder,
    LoopReader,
    content_version,
    loop_version,
)
from app.queries.posts import post_conditions, posts_by_id
from app.queries.search import Hit, ranked
from app.schemas import EntryOut, PostSummary, SearchHit, SearchHitPage
from app.search.entries import answered_on, from_memory, ranked_entries
from app.search_syntax import SearchQuery, SearchSyntaxError, parse_search

router = APIRouter(tags=["search"])

# Relevance pages are numbered, not keyed: past this many hits, refine the query.
MAX_OFFSET = 10_000
MAX_QUERY = 200


@router.get(
    "/search",
    operation_id="search",
    dependencies=[Conditional],
    responses=READ,
    response_model=SearchHitPage,
)
async def search(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: ScopeFiltersDep,
    paging: PagingDep,
    q: Annotated[
        str,
        Query(
            description="What to look for: words (all must match; English stemming), "
            '"quoted phrases", prefixes `llm*`, exclusions `-word`. Anything else a '
            "search engine would read as syntax is refused with 422.",
            min_length=1,
            max_length=MAX_QUERY,
            examples=["mixtral"],
        ),
    ],
    type: Annotated[
        Literal["entry", "post"],
        Query(description="Search entries (default) or whole posts (title and text)."),
    ] = "entry",
) -> SearchHitPage | Response:
    """Entries (or posts) matching `q` and every filter given, best match first.

    Each hit carries its relevance score (higher is better; comparable within one answer
    only) and a snippet of the matching text with `<mark>` around the matched words; the
    snippet is escaped text plus those marks, safe for `innerHTML`.
    """
    try:
        query = parse_search(text_value("q", q))
    except SearchSyntaxError as error:
        raise InvalidParameter("q", str(error)) from None
    offset = paging.offset()
    page = {"limit": paging.limit + 1, "offset": offset}
    index = None
    if type == "entry":
        index = ready_index(request, conn)
        # Answered in memory it is short work; a word read for the first time in this
        # content version, or SQL's answer, takes milliseconds: the threadpool takes those.
        hits = from_memory(conn, query, filters, index=index, read=False, **page)
        if hits is None:
            hits = await run_in_threadpool(
                ranked_entries, conn, query, filters, index=index, **page
            )
    else:
        where = post_conditions(filters, domain_aliases(conn))
        hits = await run_in_threadpool(ranked, conn, "posts", query, where, **page)
    if type == "entry":
        return _entry_hits(request, response, conn, hits, paging, offset, index)
    has_more = len(hits) > paging.limit and offset + paging.limit < MAX_OFFSET
    hits = hits[: paging.limit]
    ids = [hit.id for hit in hits]
    token = encode_cursor([offset + paging.limit], paging.scope) if has_more else None
    link = next_url(request, response, token)
    posts = posts_by_id(conn, ids)
    post_hits = [
        SearchHit(
            score=hit.score,
            snippet=hit.snippet,
            post=PostSummary.model_validate(posts[hit.id]),
        )
        for hit in hits
        if hit.id in posts
    ]
    return SearchHitPage(items=post_hits, next=link, total=None)


def _entry_hits(
    request: Request,
    response: Response,
    conn: Connection,
    hits: list[Hit],
    paging: Paging,
    offset: int,
    index: EntryIndex | None,
) -> SearchHitPage | Response:
    """The page of entry hits (one more than the page asked for: whether more follow)."""
    has_more = len(hits) > paging.limit and offset + paging.limit < MAX_OFFSET
    hits = hits[: paging.limit]
    ids = [hit.id for hit in hits]
    token = encode_cursor([offset + paging.limit], paging.scope) if has_more else None
    link = next_url(request, response, token)
    answers = None if index is None else entry_answers(request, conn, index, ids)
    if answers is not None:
        body = _spliced_page(hits, [answer[0] for answer in answers], link)
        return json_answer(body, response)
    entries = entries_by_id(conn, ids, domain_aliases(conn))
    entry_hits = [
        SearchHit(
            score=hit.score, snippet=hit.snippet, entry=EntryOut.model_validate(entries[hit.id])
        )
        for hit in hits
        if hit.id in entries
    ]
    return SearchHitPage(items=entry_hits, next=link, total=None)


_connection = asynccontextmanager(connection)
_LIST_PARAMS = frozenset({"domain", "tag", "category", "post", "host", "link_kind"})
_SINGLE_PARAMS = frozenset({"q", "type", "from", "to", "include_drafts", "limit", "cursor"})


async def quick_search(request: Request) -> Response | None:
    """Entry hits from the search index, the parameters read by `app.api.quick`.

    The declared dependencies' own functions check every value; None (the framework's
    way) when a value is not plain or is refused, or the search index cannot answer at
    once (not built yet, a word not in memory yet, a query or filter it leaves to SQL).
    """
    # Previews (any credentials) and drafts take the framework's way, which checks them.
    if "authorization" in request.headers:
        return None
    query = read_query(request, _LIST_PARAMS, _SINGLE_PARAMS)
    if query is None:
        return None
    limit = query.number("limit", 20, 1, MAX_LIMIT)
    q = query.single.get("q")
    cursor = query.single.get("cursor")
    if limit is None or query.flag("include_drafts") is not False or q is None:
        return None
    if query.single.get("type", "entry") != "entry" or not 1 <= len(q) <= MAX_QUERY:
        return None
    if cursor is not None and len(cursor) > MAX_CURSOR:
        return None
    try:
        words = parse_search(text_value("q", q))
        filters = await public_scope(query)
        pages = await paging(request, limit, cursor)
        offset = pages.offset()
    except (InvalidParameter, SearchSyntaxError):
        return None
    if not EntryIndex.supports(filters):  # before taking a connection
        return None
    reader: LoopReader | None = request.app.state.loop_reader
    if reader is not None:
        answer = _from_loop_reader(request, reader, words, filters, pages, offset)
        if answer is not None:
            return answer
    async with _connection(request) as conn:
        # What `conditional` does for the public.
        version = request.state.content_version = content_version(conn)
        etag = etag_for(version, PUBLIC, request.url.path, request.url.query)
        if not_modified(etag, request.headers.get("if-none-match")):
            raise NotModified(etag)
        index = ready_index(request, conn)
        page = {"limit": limit + 1, "offset": offset}
        hits = from_memory(conn, words, filters, index=index, read=False, **page)
        if hits is None:
            return None
        spliced = _entry_hits(request, public_response(etag), conn, hits, pages, offset, index)
        # The search index answers in stored documents, so the page is always spliced.
        return spliced if isinstance(spliced, Response) else None


def _page_answer(
    request: Request,
    response: Response,
    hits: list[Hit],
    answers: list[bytes],
    paging: Paging,
    offset: int,
) -> Response:
    """The page of entry hits (one more than the page asked for: whether more follow)
    spliced around their entries' answers."""
    has_more = len(hits) > paging.limit and offset + paging.limit < MAX_OFFSET
    token = encode_cursor([offset + paging.limit], paging.scope) if has_more else None
    link = next_url(request, response, token)
    return json_answer(_spliced_page(hits[: paging.limit], answers, link), response)


def _from_loop_reader(
    request: Request,
    reader: LoopReader,
    words: SearchQuery,
    filters: EntryFilters,
    pages: Paging,
    offset: int,
) -> Response | None:
    """The hits (or their 304) read on the event loop's own SQLite connection.

    None when that connection cannot answer at once, an index is not ready for the
    version it reads, or a word is not in memory: the pooled way then answers.
    """
    holder: IndexHolder = request.app.state.entry_index
    try:
        with reader.snapshot() as db:
            version = loop_version(db)
            if version is None:
                return None
            etag = etag_for(version, PUBLIC, request.url.path, request.url.query)
            if not_modified(etag, request.headers.get("if-none-match")):
                raise NotModified(etag)
            index = holder.get(None, version)
            if index is None:
                return None
            template = request.app.state.settings.edit_url_template
            answered = answered_on(
                db, index, words, filters, limit=pages.limit, offset=offset, template=template
            )
            if answered is None:
                return None
            request.state.content_version = version
            hits, answers = answered
            return _page_answer(request, public_response(etag), hits, answers, pages, offset)
    except sqlite3.Error:
        reader.close()
        return None


def _spliced_page(hits: list[Hit], entries: list[bytes], link: str | None) -> bytes:
    """The page of entry hits as `SearchHitPage` serializes it, around stored documents."""
    items = b",".join(
        b'{"score":%s,"snippet":%s,"entry":%s,"post":null}'
        % (orjson.dumps(hit.score), orjson.dumps(hit.snippet), entry)
        for hit, entry in zip(hits, entries, strict=True)
    )
    return b'{"items":[%s],"next":%s,"total":null}' % (items, orjson.dumps(link))
