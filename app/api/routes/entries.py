"""Entries: the unit a reader wants."""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from app.api.deps import Conditional, ConnectionDep, FiltersDep, PagingDep, encode_cursor, next_url
from app.errors import InvalidParameter, NotFound
from app.queries.entries import EntryKey, get_entry, list_entries
from app.schemas import EntryOut, Page, Problem

router = APIRouter(tags=["entries"])

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {
        "model": Problem,
        "description": "Invalid parameter",
        "content": {"application/problem+json": {}},
    },
}


@router.get(
    "/entries",
    operation_id="listEntries",
    dependencies=[Conditional],
    responses=ERRORS,
)
async def entries(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: FiltersDep,
    paging: PagingDep,
    count: Annotated[
        bool,
        Query(
            description="Count every match for `total` (up to 10,000). Without it, `total` "
            "is given only when all results fit on the first page."
        ),
    ] = False,
) -> Page[EntryOut]:
    """Entries matching every filter given, newest first, one page at a time."""
    after = None
    if paging.cursor is not None:
        try:
            day, post_id, position = paging.cursor
            after = EntryKey(
                date=None if day is None else dt.date.fromisoformat(day),
                post_id=int(post_id),
                position=int(position),
            )
        except (TypeError, ValueError):
            raise InvalidParameter("cursor", "not a cursor this API issued") from None
    found = list_entries(
        conn,
        filters=filters,
        limit=paging.limit,
        after=after,
        newest_first=paging.newest_first,
        count=count,
    )
    token = None
    if found.has_more and found.rows:
        last = found.rows[-1]
        day = last["date"].isoformat() if last["date"] else None
        token = encode_cursor([day, last["post_id"], last["position"]], paging.scope)
    return Page[EntryOut](
        items=[EntryOut.model_validate(row) for row in found.rows],
        next=next_url(request, response, token),
        total=found.total,
    )


@router.get(
    "/entries/{entry_id}",
    operation_id="getEntry",
    dependencies=[Conditional],
    responses={404: {"model": Problem, "description": "No such entry"}, **ERRORS},
)
async def entry(
    conn: ConnectionDep,
    entry_id: int = Path(description="Entry id, as listed by /entries.", ge=1, le=2**53),
) -> EntryOut:
    """One entry by id."""
    row = get_entry(conn, entry_id)
    if row is None:
        raise NotFound(f"no entry with id {entry_id}")
    return EntryOut.model_validate(row)
