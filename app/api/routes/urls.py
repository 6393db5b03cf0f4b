"""URLs: every address the logs cite, grouped however it was spelled."""

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.api.deps import Conditional, ConnectionDep, FiltersDep, PagingDep, encode_cursor, next_url
from app.api.responses import READ
from app.api.routes.taxonomy import LinkOrigins
from app.queries.entries import domain_aliases
from app.queries.urls import list_urls
from app.schemas import UrlOut, UrlPage

router = APIRouter(tags=["links"])


@router.get("/urls", operation_id="listUrls", dependencies=[Conditional], responses=READ)
async def urls(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: FiltersDep,
    paging: PagingDep,
    origin: LinkOrigins = [],  # noqa: B006 - FastAPI copies defaults per request
) -> UrlPage:
    """Addresses cited by entries matching the filters (and given as front-matter values
    of matching posts), most often logged first.

    Spellings of one address share a key: http/https, `www.`, a trailing slash, the
    fragment and tracking parameters do not count, and an arXiv paper's abstract, PDF and
    versions are one paper. `sort` is ignored here.
    """
    offset = paging.offset()
    # Grouping every cited address of the matching entries takes up to a second at 300k
    # entries: the threadpool takes it so that the event loop keeps serving.
    rows = await run_in_threadpool(
        list_urls,
        conn,
        filters=filters,
        aliases=domain_aliases(conn),
        limit=paging.limit + 1,
        offset=offset,
        origin=tuple(dict.fromkeys(origin)),
    )
    token = None
    if len(rows) > paging.limit:
        token = encode_cursor([offset + paging.limit], paging.scope)
    return UrlPage(
        items=[UrlOut.model_validate(row) for row in rows[: paging.limit]],
        next=next_url(request, response, token),
        total=None,
    )
