"""Read-side SQL for /urls: links grouped by normalized address across all posts."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, distinct, func, select, true

from app.models import ENTRIES, LINKS, POSTS, SECTION_PATHS
from app.queries.entries import EntryFilters
from app.queries.taxonomy import link_conditions
from app.vocabulary import LinkOrigin


def list_urls(
    conn: Connection,
    *,
    filters: EntryFilters,
    aliases: dict[str, str],
    limit: int,
    offset: int,
    origin: Sequence[LinkOrigin] = (),
) -> list[dict[str, Any]]:
    """Addresses linked from entries matching `filters`, and given as front-matter values
    of posts matching them (see `link_conditions`), most often logged first.

    Each row: one spelling of the URL, its key, host and kind, how many times it was
    logged, in how many entries, its first and last date, and the domains it was filed in.
    """
    e, link = ENTRIES.c, LINKS.c
    where = link_conditions(filters, aliases, origin)
    times = func.count().label("times")
    day = func.coalesce(e.date, POSTS.c.date)
    last = func.max(day).label("last_date")
    query = (
        select(
            link.url_key,
            func.min(link.url).label("url"),
            func.min(link.host).label("host"),
            func.min(link.kind).label("link_kind"),
            times,
            func.count(distinct(link.entry_id)).label("entries"),
            func.min(day).label("first_date"),
            last,
        )
        .select_from(
            LINKS.outerjoin(ENTRIES, e.id == link.entry_id).join(POSTS, POSTS.c.id == link.post_id)
        )
        .where(and_(true(), *where))
        .group_by(link.url_key)
        .order_by(times.desc(), last.desc().nulls_last(), link.url_key)
        .limit(limit)
        .offset(offset)
    )
    rows = [dict(row._mapping) for row in conn.execute(query)]
    keys = [row["url_key"] for row in rows]
    domains: dict[str, set[str]] = defaultdict(set)
    if keys:
        filed = (
            select(link.url_key, SECTION_PATHS.c.slug)
            .select_from(
                LINKS.join(ENTRIES, e.id == link.entry_id).join(
                    SECTION_PATHS, SECTION_PATHS.c.section_id == e.section_id
                )
            )
            .where(link.url_key.in_(keys))
            .distinct()
        )
        for key, slug in conn.execute(filed):
            domains[key].add(aliases.get(slug, slug))
    for row in rows:
        row["domains"] = sorted(domains[row["url_key"]])
    return rows
