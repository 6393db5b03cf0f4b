"""Read-side SQL for the vocabularies: domains (a tree), tags, categories, hosts, links."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, and_, func, select, true

from app.linkcheck.outcome import LinkStatus
from app.models import (
    ENTRIES,
    ENTRY_TAGS,
    LINK_CHECKS,
    LINKS,
    POST_CATEGORIES,
    POST_TAGS,
    POSTS,
    SECTION_PATHS,
    SECTIONS,
)
from app.queries.entries import EntryFilters, capped_count, domain_aliases, entry_conditions
from app.queries.link_health import check_columns, check_joined, nest_check, status_condition


def domain_tree(conn: Connection, *, include_drafts: bool) -> list[dict[str, Any]]:
    """Every domain with entry counts (subdomains included), date range and children."""
    aliases = domain_aliases(conn)
    drafts = true() if include_drafts else ENTRIES.c.is_draft.is_(False)
    stats: dict[str, dict[str, Any]] = {}
    query = (
        select(
            SECTION_PATHS.c.slug,
            func.count(ENTRIES.c.id),
            func.min(ENTRIES.c.date),
            func.max(ENTRIES.c.date),
        )
        .join(ENTRIES, ENTRIES.c.section_id == SECTION_PATHS.c.section_id)
        .where(drafts)
        .group_by(SECTION_PATHS.c.slug)
    )
    for slug, count, first, last in conn.execute(query):
        domain = aliases.get(slug, slug)
        merged = stats.setdefault(domain, {"entry_count": 0, "first_date": None, "last_date": None})
        merged["entry_count"] += count
        if first is not None and (merged["first_date"] is None or first < merged["first_date"]):
            merged["first_date"] = first
        if last is not None and (merged["last_date"] is None or last > merged["last_date"]):
            merged["last_date"] = last
    # Parent links and spellings come from the sections themselves.
    parent = SECTIONS.alias("parent")
    headings: dict[str, set[str]] = defaultdict(set)
    parents: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for slug, heading, parent_slug in conn.execute(
        select(SECTIONS.c.slug, SECTIONS.c.heading, parent.c.slug)
        .outerjoin(parent, parent.c.id == SECTIONS.c.parent_id)
        .where(SECTIONS.c.slug.is_not(None))
        .distinct()
    ):
        domain = aliases.get(slug, slug)
        headings[domain].add(heading)
        parent_domain = aliases.get(parent_slug, parent_slug) if parent_slug else None
        if parent_domain and parent_domain != domain:
            parents[domain][parent_domain] += 1
    nodes = {
        slug: {"slug": slug, "headings": sorted(headings[slug]), "children": [], **facts}
        for slug, facts in stats.items()
    }
    roots = []
    for slug in sorted(nodes):
        # A domain nests under the parent it most often appears under.
        choices = parents.get(slug)
        home = max(sorted(choices), key=lambda name: choices[name]) if choices else None
        if home in nodes and home != slug:
            nodes[home]["children"].append(nodes[slug])
        else:
            roots.append(nodes[slug])
    return roots


def tag_counts(conn: Connection, *, filters: EntryFilters) -> list[tuple[str, int]]:
    """Tags with the number of entries carrying them (inline or inherited from the post)."""
    where = entry_conditions(filters, domain_aliases(conn))
    matching = select(ENTRIES.c.id, ENTRIES.c.post_id).where(and_(true(), *where)).subquery()
    inline = select(ENTRY_TAGS.c.tag, ENTRY_TAGS.c.entry_id).join(
        matching, matching.c.id == ENTRY_TAGS.c.entry_id
    )
    inherited = select(POST_TAGS.c.tag, matching.c.id).join(
        matching, matching.c.post_id == POST_TAGS.c.post_id
    )
    both = inline.union(inherited).subquery()
    query = (
        select(both.c.tag, func.count())
        .group_by(both.c.tag)
        .order_by(func.count().desc(), both.c.tag)
    )
    return [(tag, count) for tag, count in conn.execute(query)]


def category_counts(conn: Connection, *, include_drafts: bool) -> list[tuple[str, int]]:
    """Categories with the number of posts in each."""
    query = (
        select(POST_CATEGORIES.c.category, func.count())
        .join(POSTS, POSTS.c.id == POST_CATEGORIES.c.post_id)
        .where(true() if include_drafts else POSTS.c.is_draft.is_(False))
        .group_by(POST_CATEGORIES.c.category)
        .order_by(func.count().desc(), POST_CATEGORIES.c.category)
    )
    return [(name, count) for name, count in conn.execute(query)]


def host_counts(conn: Connection, *, filters: EntryFilters) -> list[tuple[str, int]]:
    """Hosts with the number of links to each, over entries matching `filters`.

    Host and kind select the links themselves, as on /links (and a probe on `links`
    would lose its FROM to this query's own `links`).
    """
    where = entry_conditions(replace(filters, host=(), link_kind=()), domain_aliases(conn))
    if filters.host:
        where.append(LINKS.c.host.in_(filters.host))
    if filters.link_kind:
        where.append(LINKS.c.kind.in_(filters.link_kind))
    query = (
        select(LINKS.c.host, func.count())
        .join(ENTRIES, ENTRIES.c.id == LINKS.c.entry_id)
        .where(LINKS.c.host.is_not(None), *where)
        .group_by(LINKS.c.host)
        .order_by(func.count().desc(), LINKS.c.host)
    )
    return [(host, count) for host, count in conn.execute(query)]


def list_links(
    conn: Connection,
    *,
    filters: EntryFilters,
    limit: int,
    after_id: int | None,
    status: Sequence[LinkStatus] = (),
) -> tuple[list[dict[str, Any]], bool, int | None]:
    """Links of entries matching `filters` (host and kind filter the links themselves).

    Each carries the latest check of its address; `status` keeps links whose address has
    any of those outcomes (`unchecked`: none yet).
    """
    entry_filters = replace(filters, host=(), link_kind=(), post=())
    where = [*entry_conditions(entry_filters, domain_aliases(conn))]
    if filters.post:
        # On the link's own post: the page query joins `posts`, which would swallow the
        # FROM of the correlated probe `entry_conditions` makes for it.
        in_posts = select(POSTS.c.id).where(POSTS.c.slug.in_(filters.post)).correlate(None)
        where.append(LINKS.c.post_id.in_(in_posts))
    if filters.host:
        where.append(LINKS.c.host.in_(filters.host))
    if filters.link_kind:
        where.append(LINKS.c.kind.in_(filters.link_kind))
    base = select(LINKS.c.id).join(ENTRIES, ENTRIES.c.id == LINKS.c.entry_id)
    if status:
        where.append(status_condition(status))
        base = base.outerjoin(LINK_CHECKS, check_joined())
    base = base.where(and_(true(), *where))
    total = capped_count(conn, base)
    page = where if after_id is None else [*where, LINKS.c.id > after_id]
    query = (
        select(
            LINKS.c.id,
            LINKS.c.entry_id,
            LINKS.c.url,
            LINKS.c.text,
            LINKS.c.host,
            LINKS.c.kind.label("link_kind"),
            POSTS.c.slug,
            POSTS.c.title,
            ENTRIES.c.date,
            *check_columns(),
        )
        .join(ENTRIES, ENTRIES.c.id == LINKS.c.entry_id)
        .join(POSTS, POSTS.c.id == LINKS.c.post_id)
        .outerjoin(LINK_CHECKS, check_joined())
        .where(and_(true(), *page))
        .order_by(LINKS.c.id)
        .limit(limit + 1)
    )
    rows = []
    for row in conn.execute(query):
        item = dict(row._mapping)
        item["post"] = {"slug": item.pop("slug"), "title": item.pop("title")}
        nest_check(item)
        rows.append(item)
    return rows[:limit], len(rows) > limit, total
