"""Read-side SQL for posts: filtered lists and one post with its section tree."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, false, func, or_, select, true

from app.fields.query import DEFAULT_SORT, SortKey, field_conditions, sort_value
from app.fields.store import post_data, schema_in_force
from app.models import ENTRIES, POST_CATEGORIES, POST_TAGS, POSTS
from app.queries.entries import (
    EntryFilters,
    _date_conditions,
    capped_count,
    domain_aliases,
    entry_conditions,
    grouped,
    hydrate,
)
from app.queries.search import Matches
from app.search_syntax import parse_search

# What a post summary shows (tags, categories and counts are added by _add_post_facts).
SUMMARY_COLUMNS = [
    POSTS.c.id,
    POSTS.c.slug,
    POSTS.c.title,
    POSTS.c.date,
    POSTS.c.published_at,
    POSTS.c.excerpt,
    POSTS.c.excerpt_html,
    POSTS.c.is_draft,
    POSTS.c.source_path,
    POSTS.c.line,
]


@dataclass(frozen=True, slots=True)
class PostKey:
    """Where a page of posts stops."""

    date: Any
    id: int


def post_conditions(filters: EntryFilters, aliases: dict[str, str]) -> list[ColumnElement[bool]]:
    """Posts matching `filters`: entry-level filters select posts having such an entry."""
    p = POSTS.c
    where: list[ColumnElement[bool]] = []
    if not filters.include_drafts:
        where.append(p.is_draft == false())
    if filters.tag:
        where.append(p.id.in_(select(POST_TAGS.c.post_id).where(POST_TAGS.c.tag.in_(filters.tag))))
    if filters.category:
        where.append(
            p.id.in_(
                select(POST_CATEGORIES.c.post_id).where(
                    POST_CATEGORIES.c.category.in_(filters.category)
                )
            )
        )
    where.extend(_date_conditions(p.date, p.published_at, filters))
    if filters.post:
        where.append(p.slug.in_(filters.post))
    if filters.q:
        where.append(Matches("posts", parse_search(filters.q)))
    entry_level = EntryFilters(
        domain=filters.domain,
        host=filters.host,
        link_kind=filters.link_kind,
        include_drafts=True,
    )
    inner = entry_conditions(entry_level, aliases)
    if inner:
        where.append(p.id.in_(select(ENTRIES.c.post_id).where(and_(*inner))))
    where.extend(field_conditions(p.id, filters.data))
    return where


def list_posts(
    conn: Connection,
    *,
    filters: EntryFilters,
    limit: int,
    after: PostKey | None,
    newest_first: bool,
    sort: SortKey = DEFAULT_SORT,
) -> tuple[list[dict[str, Any]], bool, int | None]:
    """A page of posts (with tags, categories and entry counts), more-flag and total.

    Sorted by date unless `sort` names the title or a declared field: then `after.date`
    holds the cursor's value of it, and posts without a value come last either way.
    """
    p = POSTS.c
    where = post_conditions(filters, domain_aliases(conn))
    total = capped_count(conn, select(POSTS.c.id).where(and_(true(), *where)))
    if sort.by != "date":
        rows, has_more = _sorted_page(conn, where, limit, after, sort)
        _add_post_facts(conn, rows)
        return rows, has_more, total
    if after is not None:
        if newest_first:
            after_clause = (
                and_(p.date.is_(None), p.id < after.id)
                if after.date is None
                else or_(
                    p.date < after.date,
                    p.date.is_(None),
                    and_(p.date == after.date, p.id < after.id),
                )
            )
        else:
            after_clause = (
                or_(p.date.is_not(None), and_(p.date.is_(None), p.id > after.id))
                if after.date is None
                else or_(p.date > after.date, and_(p.date == after.date, p.id > after.id))
            )
        where = [*where, after_clause]
    query = select(*SUMMARY_COLUMNS).where(and_(true(), *where))
    if newest_first:
        query = query.order_by(p.date.desc().nulls_last(), p.id.desc())
    else:
        query = query.order_by(p.date.asc().nulls_first(), p.id)
    rows = [dict(row._mapping) for row in conn.execute(query.limit(limit + 1))]
    has_more = len(rows) > limit
    rows = rows[:limit]
    _add_post_facts(conn, rows)
    return rows, has_more, total


def _sorted_page(
    conn: Connection,
    where: list[ColumnElement[bool]],
    limit: int,
    after: PostKey | None,
    sort: SortKey,
) -> tuple[list[dict[str, Any]], bool]:
    """A page of posts by title or a declared field, then id; no value sorts last."""
    p = POSTS.c
    value: Any = p.title if sort.by == "title" else sort_value(p.id, sort)
    if after is not None:
        id_after = p.id < after.id if sort.descending else p.id > after.id
        if after.date is None:
            where = [*where, value.is_(None), id_after]
        else:
            beyond = value < after.date if sort.descending else value > after.date
            where = [*where, or_(beyond, value.is_(None), and_(value == after.date, id_after))]
    query = select(*SUMMARY_COLUMNS, value.label("sort_value")).where(and_(true(), *where))
    if sort.descending:
        query = query.order_by(value.desc().nulls_last(), p.id.desc())
    else:
        query = query.order_by(value.asc().nulls_last(), p.id)
    rows = [dict(row._mapping) for row in conn.execute(query.limit(limit + 1))]
    return rows[:limit], len(rows) > limit


def posts_by_id(conn: Connection, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Post summaries (as list_posts gives them) by id."""
    query = select(*SUMMARY_COLUMNS).where(POSTS.c.id.in_(list(ids)))
    rows = [dict(row._mapping) for row in conn.execute(query)]
    _add_post_facts(conn, rows)
    return {row["id"]: row for row in rows}


def _add_post_facts(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Tags, categories, entry count and source of each post row."""
    ids = [row["id"] for row in rows]
    if not ids:
        return
    tags = grouped(conn, POST_TAGS.c.post_id, POST_TAGS.c.tag, ids)
    categories = grouped(conn, POST_CATEGORIES.c.post_id, POST_CATEGORIES.c.category, ids)
    counts: dict[int, int] = dict(
        conn.execute(
            select(ENTRIES.c.post_id, func.count())
            .where(ENTRIES.c.post_id.in_(ids))
            .group_by(ENTRIES.c.post_id)
        ).all()
    )
    data = post_data(conn, ids, schema_in_force(conn))
    for item in rows:
        item["data"] = data.get(item["id"], {})
        item["tags"] = sorted(tags.get(item["id"], []))
        item["categories"] = sorted(categories.get(item["id"], []))
        item["entry_count"] = counts.get(item["id"], 0)
        item["source"] = {"path": item["source_path"], "line": item["line"]}


def get_post(conn: Connection, slug: str, *, include_drafts: bool = False) -> dict[str, Any] | None:
    """A whole post by slug: fields, front matter, HTML and its section tree with entries.

    None for an unknown slug, and for a draft's unless `include_drafts`.
    """
    from app.models import SECTIONS  # local: only this query needs sections directly

    query = select(*POSTS.c).where(POSTS.c.slug == slug)
    if not include_drafts:
        query = query.where(POSTS.c.is_draft == false())
    row = conn.execute(query).first()
    if row is None:
        return None
    post = dict(row._mapping)
    _add_post_facts(conn, [post])
    aliases = domain_aliases(conn)
    entries = [
        dict(r._mapping)
        for r in conn.execute(
            select(*ENTRIES.c).where(ENTRIES.c.post_id == post["id"]).order_by(ENTRIES.c.position)
        )
    ]
    hydrate(conn, entries, aliases)
    by_section: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        by_section[entry["section_id"]].append(entry)
    sections = [
        dict(r._mapping)
        for r in conn.execute(
            select(SECTIONS).where(SECTIONS.c.post_id == post["id"]).order_by(SECTIONS.c.position)
        )
    ]
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for section in sections:
        node = {
            "heading": section["heading"],
            "domain": aliases.get(section["slug"], section["slug"]) if section["slug"] else None,
            "level": section["level"],
            "line": section["line"],
            "entries": by_section.get(section["id"], []),
            "sections": [],
        }
        nodes[section["id"]] = node
        parent = nodes.get(section["parent_id"]) if section["parent_id"] is not None else None
        (parent["sections"] if parent else roots).append(node)
    post["sections"] = roots
    return post


def post_feed_facts(
    conn: Connection, post_ids: Iterable[int], *, with_html: bool
) -> dict[int, dict[str, Any]]:
    """{post id: front matter, load time and (if asked) HTML} for one feed page, in one query.

    Feeds date items by more than the list rows carry: the front matter may name an update
    time, and an undated post has only the moment it was loaded.
    """
    ids = list(post_ids)
    if not ids:
        return {}
    p = POSTS.c
    columns = [p.id, p.front_matter, p.ingested_at, *([p.html] if with_html else [])]
    return {
        row.id: dict(row._mapping) for row in conn.execute(select(*columns).where(p.id.in_(ids)))
    }
