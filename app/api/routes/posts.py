"""Posts: whole files, with their section tree."""

import datetime as dt

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.api.deps import (
    Conditional,
    ConnectionDep,
    FiltersDep,
    PagingDep,
    ViewerDep,
    encode_cursor,
    next_url,
    text_value,
)
from app.api.responses import READ, not_found
from app.errors import InvalidParameter, NotFound
from app.queries.posts import PostKey, get_post, list_posts
from app.schemas import PostDetail, PostPage, PostSummary

router = APIRouter(tags=["posts"])


@router.get("/posts", operation_id="listPosts", dependencies=[Conditional], responses=READ)
async def posts(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: FiltersDep,
    paging: PagingDep,
) -> PostPage:
    """Posts matching the filters (entry filters select posts having such an entry)."""
    after = None
    if paging.cursor is not None:
        try:
            day, post_id = paging.cursor
            after = PostKey(None if day is None else dt.date.fromisoformat(day), int(post_id))
        except (TypeError, ValueError):
            raise InvalidParameter("cursor", "not a cursor this API issued") from None
    # A domain filter probes each post's entries (200 ms at 10,000 posts): threadpool.
    rows, has_more, total = await run_in_threadpool(
        list_posts,
        conn,
        filters=filters,
        limit=paging.limit,
        after=after,
        newest_first=paging.newest_first,
    )
    token = None
    if has_more and rows:
        last = rows[-1]
        day = last["date"].isoformat() if last["date"] else None
        token = encode_cursor([day, last["id"]], paging.scope)
    return PostPage(
        items=[PostSummary.model_validate(row) for row in rows],
        next=next_url(request, response, token),
        total=total,
    )


@router.get(
    "/posts/{slug}",
    operation_id="getPost",
    dependencies=[Conditional],
    responses={**READ, **not_found("No such post")},
)
async def post(
    conn: ConnectionDep,
    who: ViewerDep,
    slug: str = Path(
        description="Post slug.", max_length=300, examples=["2023-12-24-learning-logs"]
    ),
) -> PostDetail:
    """One post: front matter, rendered HTML, and its sections with their entries.

    A draft (or a scheduled post before its moment) answers 404 without the preview token.
    """
    row = get_post(conn, text_value("slug", slug), include_drafts=who.preview)
    if row is None:
        raise NotFound(f"no post with slug {slug!r}")
    return PostDetail.model_validate(row)
