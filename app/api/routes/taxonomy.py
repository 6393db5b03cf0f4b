"""Domains, tags, categories, hosts and links: the vocabularies of the logs."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import Conditional, ConnectionDep, FiltersDep, PagingDep, encode_cursor, next_url
from app.api.responses import READ
from app.errors import InvalidParameter
from app.queries.taxonomy import category_counts, domain_tree, host_counts, list_links, tag_counts
from app.schemas import CountOut, DomainOut, LinkDetail, Page

router = APIRouter(tags=["vocabularies"])

IncludeDrafts = Annotated[bool, Query(description="Count draft posts too.")]


def _counts(pairs: list[tuple[str, int]]) -> Page[CountOut]:
    """A whole (unpaged) list of counts in the shared envelope."""
    items = [CountOut(name=name, count=count) for name, count in pairs]
    return Page[CountOut](items=items, next=None, total=len(items))


@router.get("/domains", operation_id="listDomains", dependencies=[Conditional], responses=READ)
async def domains(conn: ConnectionDep, include_drafts: IncludeDrafts = False) -> Page[DomainOut]:
    """The domain tree with entry counts (sub-domains included) and first and last dates."""
    tree = domain_tree(conn, include_drafts=include_drafts)
    return Page[DomainOut](
        items=[DomainOut.model_validate(node) for node in tree], next=None, total=len(tree)
    )


@router.get("/tags", operation_id="listTags", dependencies=[Conditional], responses=READ)
async def tags(conn: ConnectionDep, filters: FiltersDep) -> Page[CountOut]:
    """Tags with the number of matching entries carrying each, most used first."""
    return _counts(tag_counts(conn, filters=filters))


@router.get(
    "/categories", operation_id="listCategories", dependencies=[Conditional], responses=READ
)
async def categories(conn: ConnectionDep, include_drafts: IncludeDrafts = False) -> Page[CountOut]:
    """Categories with their number of posts, most used first."""
    return _counts(category_counts(conn, include_drafts=include_drafts))


@router.get("/hosts", operation_id="listHosts", dependencies=[Conditional], responses=READ)
async def hosts(conn: ConnectionDep, filters: FiltersDep) -> Page[CountOut]:
    """Link hosts with the number of links to each, over the matching entries."""
    return _counts(host_counts(conn, filters=filters))


@router.get("/links", operation_id="listLinks", dependencies=[Conditional], responses=READ)
async def links(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: FiltersDep,
    paging: PagingDep,
) -> Page[LinkDetail]:
    """Links of the matching entries, with their entry, post and date."""
    after_id = None
    if paging.cursor is not None:
        try:
            (after_id,) = (int(value) for value in paging.cursor)
        except (TypeError, ValueError):
            raise InvalidParameter("cursor", "not a cursor this API issued") from None
    rows, has_more, total = list_links(conn, filters=filters, limit=paging.limit, after_id=after_id)
    token = encode_cursor([rows[-1]["id"]], paging.scope) if has_more and rows else None
    return Page[LinkDetail](
        items=[LinkDetail.model_validate(row) for row in rows],
        next=next_url(request, response, token),
        total=total,
    )
