"""Domains, tags, categories, hosts and links: the vocabularies of the logs."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.api.deps import (
    MAX_VALUES,
    Conditional,
    ConnectionDep,
    FiltersDep,
    IncludeDraftsDep,
    PagingDep,
    encode_cursor,
    next_url,
)
from app.api.memo import per_version
from app.api.responses import READ
from app.errors import InvalidParameter
from app.queries.link_health import host_health
from app.queries.taxonomy import (
    DomainKey,
    category_counts,
    domain_page,
    domain_tree,
    host_counts,
    list_links,
    tag_counts,
    term_names,
)
from app.schemas import (
    CountOut,
    CountPage,
    DomainOut,
    DomainPage,
    HostHealthOut,
    HostHealthPage,
    LinkDetail,
    LinkPage,
    TermCountOut,
    TermCountPage,
)
from app.vocabulary import LinkOrigin, LinkStatus

router = APIRouter(tags=["vocabularies"])

MinPosts = Annotated[
    int | None,
    Query(
        description="Keep domains that occur in at least this many posts. Default: 2 (1 in "
        "a log of at most 20 posts), with the domains the aliases file names always kept.",
        ge=1,
        le=1_000_000,
        examples=[2],
    ),
]
LinkStatuses = Annotated[
    list[LinkStatus],
    Query(
        description="Health of the link's address from `learnlog links check`: ok, "
        "redirected, broken (dead: 4xx), error (5xx), timeout, unreachable, or unchecked "
        "(no result yet); repeat for any of several.",
        examples=["broken"],
    ),
]

LinkOrigins = Annotated[
    list[LinkOrigin],
    Query(
        description="Where links were written: body (the Markdown) or front_matter (URLs "
        "given as front-matter values); repeat for both. Default: both.",
        examples=["front_matter"],
    ),
]


def _counts(pairs: list[tuple[str, int]]) -> CountPage:
    """A whole (unpaged) list of counts in the shared envelope."""
    items = [CountOut(name=name, count=count) for name, count in pairs]
    return CountPage(items=items, next=None, total=len(items))


def _term_counts(pairs: list[tuple[str, int]], names: dict[str, str]) -> TermCountPage:
    """Tags or categories with their counts and names, in the shared envelope."""
    items = [
        TermCountOut(name=slug, label=names.get(slug, slug), count=count) for slug, count in pairs
    ]
    return TermCountPage(items=items, next=None, total=len(items))


@router.get("/domains", operation_id="listDomains", dependencies=[Conditional], responses=READ)
async def domains(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    paging: PagingDep,
    include_drafts: IncludeDraftsDep,
    min_posts: MinPosts = None,
) -> DomainPage:
    """Top-level domains, most posts first, each with its sub-domains, counts and dates.

    A domain is kept when it occurs in at least `min_posts` posts (sub-domains included),
    at every level of the tree; a kept domain whose parent is not kept moves up to its
    nearest kept ancestor. Without `min_posts`: 2, or 1 in a log of at most 20 posts, and
    the domains the aliases file names are kept whatever their count. Pages hold
    top-level domains; `sort` is ignored here.
    """
    after = _domain_key(paging.cursor)
    roots = await per_version(
        request,
        ("domains", include_drafts, min_posts),
        lambda: domain_tree(conn, include_drafts=include_drafts, min_posts=min_posts),
    )
    page, last = domain_page(roots, limit=paging.limit, after=after)
    token = encode_cursor([last.post_count, last.slug], paging.scope) if last else None
    return DomainPage(
        items=[DomainOut.model_validate(node) for node in page],
        next=next_url(request, response, token),
        total=len(roots),
    )


def _domain_key(cursor: list[Any] | None) -> DomainKey | None:
    """The last domain of the previous page, from a cursor `/domains` issued."""
    if cursor is None:
        return None
    match cursor:
        case [int(post_count), str(slug)]:
            return DomainKey(post_count=post_count, slug=slug)
    raise InvalidParameter("cursor", "not a cursor this API issued")


@router.get("/tags", operation_id="listTags", dependencies=[Conditional], responses=READ)
async def tags(request: Request, conn: ConnectionDep, filters: FiltersDep) -> TermCountPage:
    """Tags with the number of matching entries carrying each, most used first.

    `name` is the slug filters take; `label` the tag as written (`日本語` for `ri-ben-yu`).
    """
    return await per_version(
        request,
        ("tags", filters),
        lambda: _term_counts(tag_counts(conn, filters=filters), term_names(conn, kind="tags")),
    )


@router.get(
    "/categories", operation_id="listCategories", dependencies=[Conditional], responses=READ
)
async def categories(conn: ConnectionDep, include_drafts: IncludeDraftsDep) -> TermCountPage:
    """Categories with their number of posts, most used first (`label`: as written)."""
    return _term_counts(
        category_counts(conn, include_drafts=include_drafts),
        term_names(conn, kind="categories"),
    )


@router.get("/hosts", operation_id="listHosts", dependencies=[Conditional], responses=READ)
async def hosts(request: Request, conn: ConnectionDep, filters: FiltersDep) -> CountPage:
    """Link hosts with the number of links to each, over the matching entries."""
    return await per_version(
        request, ("hosts", filters), lambda: _counts(host_counts(conn, filters=filters))
    )


@router.get(
    "/hosts/health", operation_id="listHostHealth", dependencies=[Conditional], responses=READ
)
async def hosts_health(
    request: Request, conn: ConnectionDep, filters: FiltersDep
) -> HostHealthPage:
    """Link health per host over the matching entries (from `learnlog links check`).

    For each host: its links, how many have a check result, and how many of them are
    ok, redirected, broken, error, timeout or unreachable. Most broken first.
    """

    def page() -> HostHealthPage:
        items = [HostHealthOut.model_validate(row) for row in host_health(conn, filters=filters)]
        return HostHealthPage(items=items, next=None, total=len(items))

    return await per_version(request, ("hosts/health", filters), page)


@router.get("/links", operation_id="listLinks", dependencies=[Conditional], responses=READ)
async def links(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: FiltersDep,
    paging: PagingDep,
    status: LinkStatuses = [],  # noqa: B006 - FastAPI copies defaults per request
    resolved: Annotated[
        bool | None,
        Query(
            description="Only internal links (wikilinks, embeds, block references, relative "
            "links to notes) that resolved (true) or did not (false)."
        ),
    ] = None,
    origin: LinkOrigins = [],  # noqa: B006 - FastAPI copies defaults per request
) -> LinkPage:
    """Links of the matching entries, and front-matter URLs of the matching posts, with
    their entry, post, date and latest check."""
    if len(status) > MAX_VALUES:
        raise InvalidParameter("status", f"at most {MAX_VALUES} values")
    after_id = None
    if paging.cursor is not None:
        try:
            (after_id,) = (int(value) for value in paging.cursor)
        except (TypeError, ValueError):
            raise InvalidParameter("cursor", "not a cursor this API issued") from None
    # A filter matching few links walks many (160 ms for one host at 300k entries).
    rows, has_more, total = await run_in_threadpool(
        list_links,
        conn,
        filters=filters,
        limit=paging.limit,
        after_id=after_id,
        status=tuple(dict.fromkeys(status)),
        resolved=resolved,
        origin=tuple(dict.fromkeys(origin)),
    )
    token = encode_cursor([rows[-1]["id"]], paging.scope) if has_more and rows else None
    return LinkPage(
        items=[LinkDetail.model_validate(row) for row in rows],
        next=next_url(request, response, token),
        total=total,
    )
