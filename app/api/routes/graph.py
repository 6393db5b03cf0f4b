"""Links between notes: backlinks of a post or an entry, and the link graph."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.api.deps import (
    MAX_BIGINT,
    MAX_INT,
    Conditional,
    ConnectionDep,
    FiltersDep,
    Paging,
    PagingDep,
    encode_cursor,
    next_url,
    text_value,
)
from app.api.responses import READ, not_found
from app.errors import InvalidParameter, NotFound
from app.queries.entries import EntryKey, EntryRows
from app.queries.graph import link_graph, list_backlinks, visible_entry, visible_post_id
from app.schemas import EntryOut, EntryPage, Graph

router = APIRouter(tags=["links"])

Count = Annotated[
    bool,
    Query(description="Count every match for `total` (up to 10,000), as on /entries."),
]


@router.get(
    "/posts/{slug}/backlinks",
    operation_id="listPostBacklinks",
    dependencies=[Conditional],
    responses={**READ, **not_found("No such post")},
)
async def post_backlinks(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: FiltersDep,
    paging: PagingDep,
    slug: str = Path(description="Post slug.", max_length=300, examples=["b"]),
    count: Count = False,
) -> EntryPage:
    """Entries citing the post (wikilinks, embeds, relative links), filtered as /entries."""
    # Drafts follow the lists' rule: seen only with `include_drafts` (and what it requires).
    post_id = visible_post_id(conn, text_value("slug", slug), include_drafts=filters.include_drafts)
    if post_id is None:
        raise NotFound(f"no post with slug {slug!r}")
    found = await run_in_threadpool(
        list_backlinks,
        conn,
        post_id=post_id,
        filters=filters,
        limit=paging.limit,
        after=_cursor_key(paging),
        newest_first=paging.newest_first,
        count=count,
    )
    return _page(request, response, found, paging)


@router.get(
    "/entries/{entry_id}/backlinks",
    operation_id="listEntryBacklinks",
    dependencies=[Conditional],
    responses={**READ, **not_found("No such entry")},
)
async def entry_backlinks(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: FiltersDep,
    paging: PagingDep,
    entry_id: int = Path(description="Entry id, as listed by /entries.", ge=1, le=2**53),
    count: Count = False,
) -> EntryPage:
    """Entries citing the entry (`[[Note#^block]]`, Logseq `((uuid))`), filtered as /entries."""
    if not visible_entry(conn, entry_id, include_drafts=filters.include_drafts):
        raise NotFound(f"no entry with id {entry_id}")
    found = await run_in_threadpool(
        list_backlinks,
        conn,
        entry_id=entry_id,
        filters=filters,
        limit=paging.limit,
        after=_cursor_key(paging),
        newest_first=paging.newest_first,
        count=count,
    )
    return _page(request, response, found, paging)


@router.get("/graph", operation_id="getGraph", dependencies=[Conditional], responses=READ)
async def graph(conn: ConnectionDep, filters: FiltersDep) -> Graph:
    """The link graph: matching posts as nodes, resolved internal links between them as
    edges (one per pair, with its count). Filtered as /posts; one object, not paged."""
    found = await run_in_threadpool(link_graph, conn, filters=filters)
    return Graph.model_validate(found)


def _page(request: Request, response: Response, found: EntryRows, paging: Paging) -> EntryPage:
    """The /entries envelope of a page of citing entries."""
    token = None
    if found.has_more and found.rows:
        last = found.rows[-1]
        day = last["date"].isoformat() if last["date"] else None
        token = encode_cursor([day, last["post_id"], last["position"]], paging.scope)
    return EntryPage(
        items=[EntryOut.model_validate(row) for row in found.rows],
        next=next_url(request, response, token),
        total=found.total,
    )


def _cursor_key(paging: Paging) -> EntryKey | None:
    """The sort key a cursor carries (an /entries key), checked against the column ranges."""
    if paging.cursor is None:
        return None
    try:
        day, post_id, position = paging.cursor
        key = EntryKey(
            date=None if day is None else dt.date.fromisoformat(day),
            post_id=int(post_id),
            position=int(position),
        )
    except (TypeError, ValueError):
        raise InvalidParameter("cursor", "not a cursor this API issued") from None
    if not (0 <= key.post_id <= MAX_BIGINT and 0 <= key.position <= MAX_INT):
        raise InvalidParameter("cursor", "not a cursor this API issued")
    return key
