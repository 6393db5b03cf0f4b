"""Entries: the unit a reader wants."""

import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection

from app.api.deps import (
    MAX_CURSOR,
    MAX_LIMIT,
    MAX_TEXT,
    PUBLIC,
    Conditional,
    ConnectionDep,
    ListingFiltersDep,
    Paging,
    SortedPagingDep,
    SparseFieldsDep,
    ViewerDep,
    check_fields,
    connection,
    encode_cursor,
    entry_filters,
    etag_for,
    next_url,
    not_modified,
    paging,
    public_response,
    url_path,
    url_query,
)
from app.api.quick import public_scope, read_query
from app.api.responses import READ, not_found
from app.api.routes.posts import sparse_answer
from app.api.spliced import entry_answers, json_answer, ready_index
from app.errors import InvalidParameter, NotFound, NotModified
from app.fields.query import (
    PREFIX,
    FieldQueryError,
    cursor_value,
    from_cursor,
    matching_posts,
    parse_filters,
)
from app.fields.store import schema_in_force
from app.queries.entries import (
    EntryFilters,
    EntryKey,
    capped,
    domain_aliases,
    get_entry,
    list_entries,
)
from app.queries.entry_index import (
    EntryIndex,
    IndexHolder,
    KeptAnswer,
    LoopReader,
    Ranks,
    answer_key,
    content_version,
    loop_version,
)
from app.queries.facets import FacetValue, entry_facets
from app.queries.related import related_entries
from app.schemas import (
    EntryOut,
    EntryPage,
    FacetCount,
    RelatedEntry,
    RelatedEntryPage,
    RelatedReason,
)
from app.vocabulary import FACET_NAMES, FacetName

router = APIRouter(tags=["entries"])


async def facet_names(
    facets: Annotated[
        list[str],
        Query(
            description="Facets to count over every entry matching the filters (not just this "
            f"page): any of {', '.join(FACET_NAMES)}, comma-separated or repeated. `year` "
            "counts undated entries under the value null.",
            examples=[["host,link_kind"]],
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults per request
) -> tuple[FacetName, ...]:
    """The facets asked for, in the order asked, each once."""
    wanted: dict[FacetName, None] = {}
    for name in (part.strip().lower() for value in facets for part in value.split(",")):
        if not name:
            continue
        if name not in FACET_NAMES:
            choices = ", ".join(FACET_NAMES)
            raise InvalidParameter("facets", f"unknown facet {name[:50]!r}; choose from {choices}")
        wanted[name] = None
    return tuple(wanted)


FacetsDep = Annotated[tuple[FacetName, ...], Depends(facet_names)]


async def entries(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: ListingFiltersDep,
    paging: SortedPagingDep,
    facets: FacetsDep,
    fields: SparseFieldsDep,
    count: Annotated[
        bool,
        Query(
            description="Count every match for `total` (up to 10,000). Without it, `total` "
            "is given only when all results fit on the first page."
        ),
    ] = False,
) -> EntryPage | Response:
    """Entries matching every filter given, newest first, one page at a time, with facets.

    Declared fields of the entry's post filter as `data.NAME=value` or
    `data.NAME.OP=value`; `fields=id,text` cuts each item to those members.
    """
    if fields:
        check_fields(fields, EntryOut.model_fields)
    after, after_value = _cursor_key(paging)
    by_date = paging.sort.by == "date"
    if not facets and not fields and by_date and EntryIndex.supports(filters):
        fast = _from_index(request, response, conn, filters, paging, after, count)
        if fast is not None:
            return fast
    found = list_entries(
        conn,
        filters=filters,
        limit=paging.limit,
        after=after,
        newest_first=paging.newest_first,
        count=count,
        sort=paging.sort,
        after_value=after_value,
    )
    token = None
    if found.has_more and found.rows:
        last = found.rows[-1]
        key = EntryKey(last["date"], last["post_id"], last["position"])
        if by_date:
            token = _cursor(key, paging)
        else:
            value = cursor_value(last["sort_value"])
            token = encode_cursor([value, key.post_id, key.position], paging.scope)
    counts: dict[FacetName, list[tuple[FacetValue, int]]] = {}
    if facets:
        # Facets read every matching entry (hundreds of ms for a broad filter on the design
        # corpus): the threadpool takes them so that the event loop keeps serving pages.
        counts = await run_in_threadpool(entry_facets, conn, filters=filters, names=facets)
    page = EntryPage(
        items=[EntryOut.model_validate(row) for row in found.rows],
        next=next_url(request, response, token),
        total=found.total,
        facets=_facet_counts(counts),
    )
    return sparse_answer(page, fields, response, listed=True) if fields else page


_connection = asynccontextmanager(connection)
_LIST_PARAMS = frozenset({"domain", "tag", "category", "post", "host", "link_kind"})
_SINGLE_PARAMS = frozenset(
    {"from", "to", "include_drafts", "q", "limit", "cursor", "sort", "count"}
)


async def quick_entries(request: Request) -> Response | None:
    """A page of `/entries` from the index, its parameters read by `app.api.quick`.

    The same functions as the declared dependencies check every value; None (the
    framework's way) when a value is not plain, is refused, or the index cannot answer.
    """
    # Previews (any credentials) and drafts take the framework's way, which checks them.
    if "authorization" in request.headers:
        return None
    query = read_query(request, _LIST_PARAMS, _SINGLE_PARAMS, PREFIX)
    if query is None:
        return None
    limit = query.number("limit", 20, 1, MAX_LIMIT)
    include_drafts = query.flag("include_drafts")
    count = query.flag("count")
    sort = query.single.get("sort", "-date")
    q = query.single.get("q")
    cursor = query.single.get("cursor")
    if limit is None or include_drafts is not False or count is None:
        return None
    if sort not in ("-date", "date"):
        return None
    if (q is not None and len(q) > MAX_TEXT) or (cursor is not None and len(cursor) > MAX_CURSOR):
        return None
    try:
        scope = await public_scope(query)
        filters = await entry_filters(scope, q)
        # A first page's cursor scope only signs the next page's cursor: it is worked out
        # after the 304 check. A cursor given is checked before it.
        pages = None
        if cursor is not None:
            pages = await paging(request, limit, cursor, sort)  # type: ignore[arg-type]
            _cursor_key(pages)
    except InvalidParameter:
        return None
    if not EntryIndex.supports(filters):  # before reading the schema: no connection held
        return None
    given = request.headers.get("if-none-match")
    reader: LoopReader | None = request.app.state.loop_reader
    if reader is not None and not query.prefixed:
        found = _loop_index(request, reader, given)
        if found is not None:
            index, etag = found
            pages = pages or await paging(request, limit, None, sort)  # type: ignore[arg-type]
            after, _ = _cursor_key(pages)
            answer = _index_page(
                request,
                public_response(etag),
                index,
                filters,
                pages,
                after,
                count,
                partial(_loop_answers, request, reader, index),
            )
            if answer is not None:
                return answer
    async with _connection(request) as conn:
        if query.prefixed:
            # Declared-field filters, checked as `data_filters` does (any error: the
            # framework's way answers it).
            try:
                data = parse_filters(query.prefixed, schema_in_force(conn))
            except FieldQueryError:
                return None
            filters = replace(filters, data=data)
        if not EntryIndex.supports(filters):
            return None
        # What `conditional` does for the public, with the version read on the driver.
        version = request.state.content_version = content_version(conn)
        etag = etag_for(version, PUBLIC, url_path(request), url_query(request))
        if not_modified(etag, given):
            raise NotModified(etag)
        pages = pages or await paging(request, limit, None, sort)  # type: ignore[arg-type]
        after, _ = _cursor_key(pages)
        return _from_index(request, public_response(etag), conn, filters, pages, after, count)


def _loop_index(
    request: Request, reader: LoopReader, if_none_match: str | None
) -> tuple[EntryIndex, str] | None:
    """The index of the newest content version and the answer's ETag (a 304 when current),
    read on the event loop's own SQLite connection.

    None when that connection cannot answer at once, or the index is not the one of the
    version it reads: the pooled way then answers, building the index if need be.
    """
    version = reader.version()
    if version is None:
        return None
    etag = etag_for(version, PUBLIC, url_path(request), url_query(request))
    if not_modified(etag, if_none_match):
        raise NotModified(etag)
    holder: IndexHolder = request.app.state.entry_index
    index = holder.get(None, version)
    if index is None:
        return None
    request.state.content_version = version
    return index, etag


def _loop_answers(
    request: Request, reader: LoopReader, index: EntryIndex, ids: list[int]
) -> list[KeptAnswer] | None:
    """The page's entries as JSON, read in one snapshot of the loop's connection of the
    index's content version (those the index keeps are not read again). None when the
    database moved on to another version or cannot answer at once: the pooled way then
    answers."""
    try:
        with reader.snapshot() as db:
            if loop_version(db) != index.version:
                return None
            return entry_answers(request, db, index, ids)
    except sqlite3.Error:
        reader.close()
        return None


router.add_api_route(
    "/entries",
    entries,
    methods=["GET"],
    operation_id="listEntries",
    dependencies=[Conditional],
    responses=READ,
    response_model=EntryPage,
)


def _cursor_key(paging: Paging) -> tuple[EntryKey | None, Any]:
    """The sort key a cursor carries (None on a first page), and its title or field value."""
    if paging.cursor is None:
        return None, None
    try:
        value, post_id, position = paging.cursor
        if paging.sort.by != "date":
            key = EntryKey(date=None, post_id=int(post_id), position=int(position))
            return key, from_cursor(value, paging.sort, paging.schema)
        day = None if value is None else dt.date.fromisoformat(value)
        return EntryKey(date=day, post_id=int(post_id), position=int(position)), None
    except (TypeError, ValueError, KeyError):
        raise InvalidParameter("cursor", "not a cursor this API issued") from None


def _cursor(key: EntryKey, paging: Paging) -> str:
    """The signed cursor of the page after the entry with sort key `key`."""
    day = key.date.isoformat() if key.date else None
    return encode_cursor([day, key.post_id, key.position], paging.scope)


def _from_index(
    request: Request,
    response: Response,
    conn: Connection,
    filters: EntryFilters,
    paging: Paging,
    after: EntryKey | None,
    count: bool,
) -> Response | None:
    """The page from the in-memory index and stored entry documents, as JSON bytes.

    None when the index for this content version is not ready (it is being built) or a
    row has no document yet; the caller then runs the SQL path, which answers the same.
    """
    index = ready_index(request, conn)
    if index is None:
        return None
    # Declared-field filters: the posts each selects (one indexed lookup), as posting
    # lists the index keeps for its content version.
    fields = [
        index.field_postings(condition, partial(matching_posts, conn, (condition,)))
        for condition in filters.data
    ]
    return _index_page(
        request,
        response,
        index,
        filters,
        paging,
        after,
        count,
        lambda ids: entry_answers(request, conn, index, ids),
        fields,
    )


def _index_page(
    request: Request,
    response: Response,
    index: EntryIndex,
    filters: EntryFilters,
    paging: Paging,
    after: EntryKey | None,
    count: bool,
    answers_of: Callable[[list[int]], list[KeptAnswer] | None],
    fields: Sequence[Ranks] = (),
) -> Response | None:
    """One page from `index`, its entries' JSON from `answers_of`, as the JSON answer."""
    page = index.page(
        filters, after=after, newest_first=paging.newest_first, limit=paging.limit, fields=fields
    )
    answers = answers_of(page.ids)
    if answers is None:
        return None
    token = _cursor(answer_key(answers[-1]), paging) if page.has_more and answers else None
    if count:
        total = capped(page.matches)
    else:
        total = page.matches if after is None and not page.has_more else None
    body = b'{"items":[%s],"next":%s,"total":%s}' % (
        b",".join([answer[0] for answer in answers]),
        orjson.dumps(next_url(request, response, token)),
        orjson.dumps(total),
    )
    return json_answer(body, response)


def _facet_counts(
    counts: dict[FacetName, list[tuple[FacetValue, int]]],
) -> dict[FacetName, list[FacetCount]]:
    """Facet query results as the schema shapes them."""
    return {
        name: [FacetCount(value=value, count=count) for value, count in pairs]
        for name, pairs in counts.items()
    }


@router.get(
    "/entries/{entry_id}",
    operation_id="getEntry",
    dependencies=[Conditional],
    responses={**READ, **not_found("No such entry")},
)
async def entry(
    conn: ConnectionDep,
    who: ViewerDep,
    entry_id: int = Path(description="Entry id, as listed by /entries.", ge=1, le=2**53),
) -> EntryOut:
    """One entry by id (a draft's: only with the preview token)."""
    row = get_entry(conn, entry_id, include_drafts=who.preview)
    if row is None:
        raise NotFound(f"no entry with id {entry_id}")
    return EntryOut.model_validate(row)


@router.get(
    "/entries/{entry_id}/related",
    operation_id="listRelatedEntries",
    dependencies=[Conditional],
    responses={**READ, **not_found("No such entry")},
)
async def related(
    conn: ConnectionDep,
    who: ViewerDep,
    entry_id: int = Path(description="Entry id, as listed by /entries.", ge=1, le=2**53),
    limit: Annotated[int, Query(description="How many related entries (1-50).", ge=1, le=50)] = 10,
) -> RelatedEntryPage:
    """Entries that cite the same URL, share an inline tag, or say similar things.

    Same URL ranks first, then a shared tag, then text similarity (a full-text match on
    the entry's most telling words); each item lists every reason it was picked. Drafts
    are left out. One page: `next` is always null.
    """
    row = get_entry(conn, entry_id, include_drafts=who.preview)
    if row is None:
        raise NotFound(f"no entry with id {entry_id}")
    # Three probes, one of them full-text (about 100 ms at 300k entries): threadpool.
    found = await run_in_threadpool(related_entries, conn, row, domain_aliases(conn), limit=limit)
    items = [
        RelatedEntry(
            entry=EntryOut.model_validate(other),
            reasons=[RelatedReason.model_validate(reason) for reason in reasons],
        )
        for other, reasons in found
    ]
    return RelatedEntryPage(items=items, next=None, total=len(items))
