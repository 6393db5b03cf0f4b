"""Read-side SQL for the links between notes: backlinks and the link graph."""

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select, true

from app.models import ALIASES, ENTRIES, LINKS, NOTE_LINKS, POSTS, SECTIONS
from app.queries.entries import (
    EntryFilters,
    EntryKey,
    EntryRows,
    _after,
    _ordered,
    capped_count,
    domain_aliases,
    entry_conditions,
    hydrate,
)
from app.queries.posts import post_conditions


def visible_post_id(conn: Connection, slug: str, *, include_drafts: bool) -> int | None:
    """The id of the post with `slug`, if the caller may see it (the lists' draft filter)."""
    where = post_conditions(EntryFilters(include_drafts=include_drafts), {})
    query = select(POSTS.c.id).where(POSTS.c.slug == slug, *where)
    found = conn.execute(query).scalar_one_or_none()
    return int(found) if found is not None else None


def visible_entry(conn: Connection, entry_id: int, *, include_drafts: bool) -> bool:
    """Whether entry `entry_id` exists and the caller may see it."""
    where = entry_conditions(EntryFilters(include_drafts=include_drafts), {})
    query = select(ENTRIES.c.id).where(ENTRIES.c.id == entry_id, *where)
    return conn.execute(query).first() is not None


def list_backlinks(
    conn: Connection,
    *,
    post_id: int | None = None,
    entry_id: int | None = None,
    filters: EntryFilters,
    limit: int,
    after: EntryKey | None,
    newest_first: bool,
    count: bool = False,
) -> EntryRows:
    """A page of the entries citing post `post_id` (or entry `entry_id`), as /entries pages."""
    nl = NOTE_LINKS.c
    cited = nl.target_post_id == post_id if entry_id is None else nl.target_entry_id == entry_id
    citing = (
        select(LINKS.c.entry_id)
        .join(NOTE_LINKS, nl.link_id == LINKS.c.id)
        .where(cited, LINKS.c.entry_id.is_not(None))
    )
    aliases = domain_aliases(conn)
    where: list[ColumnElement[bool]] = [
        *entry_conditions(filters, aliases),
        ENTRIES.c.id.in_(citing),
    ]
    page_where = [*where, _after(after, newest_first)] if after else where
    query = _ordered(select(*ENTRIES.c).where(and_(true(), *page_where)), newest_first)
    rows = [dict(row._mapping) for row in conn.execute(query.limit(limit + 1))]
    has_more = len(rows) > limit
    rows = rows[:limit]
    if count:
        total = capped_count(conn, select(ENTRIES.c.id).where(and_(true(), *where)))
    else:
        total = len(rows) if after is None and not has_more else None
    return EntryRows(rows=hydrate(conn, rows, aliases), has_more=has_more, total=total)


def link_graph(conn: Connection, *, filters: EntryFilters) -> dict[str, Any]:
    """Nodes (posts matching `filters`) and edges (resolved links from entries between them)."""
    p = POSTS.c
    aliases = dict(conn.execute(select(ALIASES.c.slug, ALIASES.c.domain)).all())
    matching = select(p.id).where(and_(true(), *post_conditions(filters, aliases)))
    nodes = {
        row.id: {"slug": row.slug, "title": row.title, "date": row.date}
        for row in conn.execute(
            select(p.id, p.slug, p.title, p.date)
            .where(p.id.in_(matching))
            .order_by(p.date.desc().nulls_last(), p.id.desc())
        )
    }
    domains: dict[int, list[str]] = defaultdict(list)
    for post_id, slug in conn.execute(
        select(SECTIONS.c.post_id, SECTIONS.c.slug)
        .where(
            SECTIONS.c.post_id.in_(matching),
            SECTIONS.c.parent_id.is_(None),
            SECTIONS.c.slug.is_not(None),
        )
        .order_by(SECTIONS.c.post_id, SECTIONS.c.position)
    ):
        domain = aliases.get(slug, slug)
        if domain not in domains[post_id]:
            domains[post_id].append(domain)
    nl = NOTE_LINKS.c
    counted = conn.execute(
        select(nl.post_id, nl.target_post_id, func.count())
        .join(LINKS, LINKS.c.id == nl.link_id)
        .where(
            nl.target_post_id.is_not(None),
            LINKS.c.entry_id.is_not(None),
            nl.post_id.in_(matching),
            nl.target_post_id.in_(matching),
        )
        .group_by(nl.post_id, nl.target_post_id)
    ).all()
    links_out: dict[int, int] = defaultdict(int)
    links_in: dict[int, int] = defaultdict(int)
    edges = []
    for source, target, number in counted:
        if source not in nodes or target not in nodes:
            continue  # changed between the two reads of this answer's snapshot-less engine
        links_out[source] += number
        links_in[target] += number
        edges.append(
            {"source": nodes[source]["slug"], "target": nodes[target]["slug"], "count": number}
        )
    edges.sort(key=lambda edge: (edge["source"], edge["target"]))
    return {
        "nodes": [
            {
                **node,
                "domains": domains.get(post_id, []),
                "links_out": links_out[post_id],
                "links_in": links_in[post_id],
            }
            for post_id, node in nodes.items()
        ],
        "edges": edges,
    }
