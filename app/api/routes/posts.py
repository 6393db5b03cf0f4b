"""Posts: whole files, with their section tree."""

import datetime as dt
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Connection

from app.api.deps import (
    Conditional,
    ConnectionDep,
    ListingFiltersDep,
    SortedPagingDep,
    SparseFieldsDep,
    ViewerDep,
    check_fields,
    cut,
    encode_cursor,
    next_url,
    text_value,
)
from app.api.responses import READ, not_found
from app.api.spliced import json_answer
from app.errors import InvalidParameter, NotFound
from app.fields.query import PREFIX, cursor_value, from_cursor
from app.fields.schema import FieldSchema
from app.fields.store import schema_in_force
from app.queries.posts import PostKey, get_post, list_posts
from app.schemas import PostDetail, PostPage, PostSummary

router = APIRouter(tags=["posts"])


def sparse_schema(conn: Connection, fields: tuple[str, ...], known: FieldSchema) -> FieldSchema:
    """The declared fields `fields=data.NAME` is checked against (read only when named)."""
    if known or not any(name.startswith(PREFIX) for name in fields):
        return known
    return schema_in_force(conn)


def sparse_answer(
    answer: BaseModel, fields: tuple[str, ...], response: Response, *, listed: bool
) -> Response:
    """`answer` (a page, or one item) with each item cut to the members of `fields=`."""
    document: dict[str, Any] = answer.model_dump(mode="json")
    if listed:
        document["items"] = [cut(item, fields) for item in document["items"]]
    else:
        document = cut(document, fields)
    return json_answer(orjson.dumps(document), response)


@router.get(
    "/posts",
    operation_id="listPosts",
    dependencies=[Conditional],
    responses=READ,
    response_model=PostPage,
)
async def posts(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: ListingFiltersDep,
    paging: SortedPagingDep,
    fields: SparseFieldsDep,
    count: Annotated[
        bool,
        Query(description="Accepted as on /entries; `total` is always given here (up to 10,000)."),
    ] = False,
) -> PostPage | Response:
    """Posts matching the filters (entry filters select posts having such an entry).

    Declared fields filter as `data.NAME=value` or `data.NAME.OP=value` (OP: gt, gte, lt,
    lte, in, exists); `fields=slug,title,data.NAME` cuts each item to those members.
    """
    if fields:
        check_fields(fields, PostSummary.model_fields, sparse_schema(conn, fields, paging.schema))
    after = None
    if paging.cursor is not None:
        try:
            value, post_id = paging.cursor
            if paging.sort.by == "date":
                value = None if value is None else dt.date.fromisoformat(value)
            else:
                value = from_cursor(value, paging.sort, paging.schema)
            after = PostKey(value, int(post_id))
        except (TypeError, ValueError, KeyError):
            raise InvalidParameter("cursor", "not a cursor this API issued") from None
    # A domain filter probes each post's entries (200 ms at 10,000 posts): threadpool.
    rows, has_more, total = await run_in_threadpool(
        list_posts,
        conn,
        filters=filters,
        limit=paging.limit,
        after=after,
        newest_first=paging.newest_first,
        sort=paging.sort,
    )
    token = None
    if has_more and rows:
        last = rows[-1]
        if paging.sort.by == "date":
            key = last["date"].isoformat() if last["date"] else None
        else:
            key = cursor_value(last["sort_value"])
        token = encode_cursor([key, last["id"]], paging.scope)
    page = PostPage(
        items=[PostSummary.model_validate(row) for row in rows],
        next=next_url(request, response, token),
        total=total,
    )
    return sparse_answer(page, fields, response, listed=True) if fields else page


@router.get(
    "/posts/{slug}",
    operation_id="getPost",
    dependencies=[Conditional],
    responses={**READ, **not_found("No such post")},
    response_model=PostDetail,
)
async def post(
    response: Response,
    conn: ConnectionDep,
    who: ViewerDep,
    fields: SparseFieldsDep,
    slug: str = Path(
        description="Post slug.", max_length=300, examples=["2023-12-24-learning-logs"]
    ),
) -> PostDetail | Response:
    """One post: front matter, rendered HTML, and its sections with their entries.

    A draft (or a scheduled post before its moment) answers 404 without the preview token.
    """
    if fields:
        check_fields(fields, PostDetail.model_fields, sparse_schema(conn, fields, FieldSchema()))
    row = get_post(conn, text_value("slug", slug), include_drafts=who.preview)
    if row is None:
        raise NotFound(f"no post with slug {slug!r}")
    found = PostDetail.model_validate(row)
    return sparse_answer(found, fields, response, listed=False) if fields else found
