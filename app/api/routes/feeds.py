"""Feeds: the newest entries or posts under the usual filters, as Atom 1.0 or JSON Feed 1.1.

Handlers are `async def` and query on the event loop like the list routes (see
app/api/deps.py). Writing the Atom XML is the slow part, measured at about 3 ms for 50
entries, 7 ms for 50 posts of 7 KB of HTML and 40 ms for 200 larger ones, so it runs in
the threadpool instead of stalling every other request; the JSON Feed of the same pages
serializes in 1 to 5 ms and stays on the loop.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from app.api.deps import MAX_LIMIT, Conditional, ConnectionDep, ListingFiltersDep
from app.api.responses import READ, Responses
from app.feeds import (
    ATOM_MEDIA_TYPE,
    JSON_FEED_MEDIA_TYPE,
    Feed,
    JsonFeed,
    atom_bytes,
    entry_feed,
    json_feed,
    post_feed,
)
from app.queries.entries import EntryFilters, list_entries
from app.queries.posts import list_posts, post_feed_facts

router = APIRouter(tags=["feeds"])

DEFAULT_FEED_LIMIT = 50


class AtomResponse(Response):
    """An Atom document."""

    media_type = ATOM_MEDIA_TYPE


class JsonFeedResponse(JSONResponse):
    """A JSON Feed document."""

    media_type = JSON_FEED_MEDIA_TYPE


ATOM_RESPONSES: Responses = {
    200: {
        "description": "An Atom 1.0 feed, newest first.",
        "content": {ATOM_MEDIA_TYPE: {"schema": {"type": "string"}}},
    },
    **READ,
}
JSON_FEED_RESPONSES: Responses = {
    200: {"description": "A JSON Feed 1.1 document, newest first."},
    **READ,
}


FeedLimit = Annotated[
    int, Query(description=f"Items in the feed, newest first (1-{MAX_LIMIT}).", ge=1, le=MAX_LIMIT)
]


def _entries(request: Request, conn: Connection, filters: EntryFilters, limit: int) -> Feed:
    """The newest entries matching `filters`, with their posts' dates, as a feed."""
    found = list_entries(conn, filters=filters, limit=limit, after=None, newest_first=True)
    facts = post_feed_facts(conn, {row["post_id"] for row in found.rows}, with_html=False)
    return entry_feed(
        found.rows,
        facts,
        filters=filters,
        base_url=str(request.base_url),
        self_url=str(request.url),
    )


def _posts(request: Request, conn: Connection, filters: EntryFilters, limit: int) -> Feed:
    """The newest posts matching `filters`, with their HTML, as a feed."""
    rows, _, _ = list_posts(conn, filters=filters, limit=limit, after=None, newest_first=True)
    facts = post_feed_facts(conn, [row["id"] for row in rows], with_html=True)
    return post_feed(
        rows, facts, filters=filters, base_url=str(request.base_url), self_url=str(request.url)
    )


@router.get(
    "/feeds/entries.atom",
    operation_id="entriesAtomFeed",
    dependencies=[Conditional],
    response_class=AtomResponse,
    responses=ATOM_RESPONSES,
)
async def entries_atom_feed(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: ListingFiltersDep,
    limit: FeedLimit = DEFAULT_FEED_LIMIT,
) -> Response:
    """The newest entries matching the filters of /entries, as an Atom 1.0 feed."""
    feed = _entries(request, conn, filters, limit)
    return AtomResponse(await run_in_threadpool(atom_bytes, feed), headers=response.headers)


@router.get(
    "/feeds/entries.json",
    operation_id="entriesJsonFeed",
    dependencies=[Conditional],
    response_class=JsonFeedResponse,
    response_model_exclude_none=True,
    responses=JSON_FEED_RESPONSES,
)
async def entries_json_feed(
    request: Request,
    conn: ConnectionDep,
    filters: ListingFiltersDep,
    limit: FeedLimit = DEFAULT_FEED_LIMIT,
) -> JsonFeed:
    """The newest entries matching the filters of /entries, as a JSON Feed 1.1."""
    return json_feed(_entries(request, conn, filters, limit))


@router.get(
    "/feeds/posts.atom",
    operation_id="postsAtomFeed",
    dependencies=[Conditional],
    response_class=AtomResponse,
    responses=ATOM_RESPONSES,
)
async def posts_atom_feed(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: ListingFiltersDep,
    limit: FeedLimit = DEFAULT_FEED_LIMIT,
) -> Response:
    """The newest posts matching the filters of /posts, as an Atom 1.0 feed."""
    feed = _posts(request, conn, filters, limit)
    return AtomResponse(await run_in_threadpool(atom_bytes, feed), headers=response.headers)


@router.get(
    "/feeds/posts.json",
    operation_id="postsJsonFeed",
    dependencies=[Conditional],
    response_class=JsonFeedResponse,
    response_model_exclude_none=True,
    responses=JSON_FEED_RESPONSES,
)
async def posts_json_feed(
    request: Request,
    conn: ConnectionDep,
    filters: ListingFiltersDep,
    limit: FeedLimit = DEFAULT_FEED_LIMIT,
) -> JsonFeed:
    """The newest posts matching the filters of /posts, as a JSON Feed 1.1."""
    return json_feed(_posts(request, conn, filters, limit))
