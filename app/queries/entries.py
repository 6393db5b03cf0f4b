"""Read-side SQL for entries: the filters every list shares, keyset pages, and hydration."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    exists,
    false,
    func,
    or_,
    select,
    true,
)

from app.fields.query import DEFAULT_SORT, DataFilter, SortKey, field_conditions, sort_value
from app.models import (
    ALIASES,
    ENTRIES,
    ENTRY_TAGS,
    LINKS,
    POST_CATEGORIES,
    POST_TAGS,
    POSTS,
    SECTION_PATHS,
    SECTIONS,
)
from app.queries.search import Matches
from app.search_syntax import parse_search


@dataclass(frozen=True, slots=True)
class EntryFilters:
    """Filters shared by /entries and friends; repeated values mean any of them."""

    domain: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    date_from: dt.date | dt.datetime | None = None
    date_to: dt.date | dt.datetime | None = None
    q: str | None = None
    post: tuple[str, ...] = ()
    host: tuple[str, ...] = ()
    link_kind: tuple[str, ...] = ()
    include_drafts: bool = False
    # Conditions on declared front-matter fields (`data.NAME...`), of the entry's post.
    data: tuple[DataFilter, ...] = ()


@dataclass(frozen=True, slots=True)
class EntryKey:
    """Where a page stops: the sort key of its last entry."""

    date: dt.date | None
    post_id: int
    position: int


@dataclass(slots=True)
class EntryRows:
    """A page of entries with everything needed to render them."""

    rows: list[dict[str, Any]]
    has_more: bool
    total: int | None
    extras: dict[str, Any] = field(default_factory=dict)


def domain_aliases(conn: Connection) -> dict[str, str]:
    """{heading slug: domain slug} from the aliases file of the last ingest."""
    return {row.slug: row.domain for row in conn.execute(select(ALIASES.c.slug, ALIASES.c.domain))}


def heading_slugs_for(domains: Sequence[str], aliases: dict[str, str]) -> set[str]:
    """Every heading slug that means one of `domains` (an alias asked for means its domain)."""
    wanted = {aliases.get(domain, domain) for domain in domains}
    return wanted | {slug for slug, domain in aliases.items() if domain in wanted}


def entry_conditions(filters: EntryFilters, aliases: dict[str, str]) -> list[ColumnElement[bool]]:
    """WHERE clauses on `entries` for `filters`.

    Membership filters (domain, tag, host ...) are correlated EXISTS probes on composite
    indexes: the query walks the date index in sort order and stops after one page,
    instead of first collecting every match of a broad filter over all dates.
    """
    e = ENTRIES.c
    where: list[ColumnElement[bool]] = []
    if not filters.include_drafts:
        where.append(e.is_draft == false())
    if filters.domain:
        slugs = heading_slugs_for(filters.domain, aliases)
        where.append(
            exists().where(
                SECTION_PATHS.c.section_id == e.section_id, SECTION_PATHS.c.slug.in_(slugs)
            )
        )
    if filters.tag:
        where.append(
            or_(
                exists().where(ENTRY_TAGS.c.entry_id == e.id, ENTRY_TAGS.c.tag.in_(filters.tag)),
                exists().where(POST_TAGS.c.post_id == e.post_id, POST_TAGS.c.tag.in_(filters.tag)),
            )
        )
    if filters.category:
        where.append(
            exists().where(
                POST_CATEGORIES.c.post_id == e.post_id,
                POST_CATEGORIES.c.category.in_(filters.category),
            )
        )
    where.extend(_date_conditions(e.date, e.published_at, filters))
    if filters.q:
        where.append(Matches("entries", parse_search(filters.q)))
    if filters.post:
        where.append(exists().where(POSTS.c.id == e.post_id, POSTS.c.slug.in_(filters.post)))
    if filters.host:
        where.append(exists().where(LINKS.c.entry_id == e.id, LINKS.c.host.in_(filters.host)))
    if filters.link_kind:
        where.append(exists().where(LINKS.c.entry_id == e.id, LINKS.c.kind.in_(filters.link_kind)))
    where.extend(field_conditions(e.post_id, filters.data, correlated=True))
    return where


def _date_conditions(day: Any, moment: Any, filters: EntryFilters) -> list[ColumnElement[bool]]:
    """Inclusive bounds: a date compares with the calendar date, a datetime with the moment."""
    where: list[ColumnElement[bool]] = []
    for bound, is_lower in ((filters.date_from, True), (filters.date_to, False)):
        if bound is None:
            continue
        if isinstance(bound, dt.datetime):
            where.append(moment >= bound if is_lower else moment <= bound)
        else:
            where.append(day >= bound if is_lower else day <= bound)
    return where


def _after(key: EntryKey, newest_first: bool) -> ColumnElement[bool]:
    """Entries that sort after `key` (date, then post, then position in the post)."""
    e = ENTRIES.c
    same_post_later = and_(e.post_id == key.post_id, e.position > key.position)
    if newest_first:
        post_after = or_(e.post_id < key.post_id, same_post_later)
        if key.date is None:  # undated entries come last
            return and_(e.date.is_(None), post_after)
        return or_(e.date < key.date, e.date.is_(None), and_(e.date == key.date, post_after))
    post_after = or_(e.post_id > key.post_id, same_post_later)
    if key.date is None:  # undated entries come first, as NULLs do in ascending order
        return or_(e.date.is_not(None), and_(e.date.is_(None), post_after))
    return or_(e.date > key.date, and_(e.date == key.date, post_after))


def _ordered(query: Select[Any], newest_first: bool) -> Select[Any]:
    """The stable order of entries: date, then post, then position within the post."""
    e = ENTRIES.c
    if newest_first:
        return query.order_by(e.date.desc().nulls_last(), e.post_id.desc(), e.position)
    return query.order_by(e.date.asc().nulls_first(), e.post_id, e.position)


def list_entries(
    conn: Connection,
    *,
    filters: EntryFilters,
    limit: int,
    after: EntryKey | None,
    newest_first: bool,
    count: bool = False,
    sort: SortKey = DEFAULT_SORT,
    after_value: Any = None,
) -> EntryRows:
    """One page of entries matching `filters`, and the total when it is cheap or asked for.

    Sorted by date unless `sort` names the post's title or a declared field (then
    `after_value` is the cursor's value of it, and `after` its post and position).

    The page itself walks the date index and stops after `limit` matches; counting every
    match of a rare filter over a wide range means walking all of it, so that happens only
    on request (`count`). Without it, a result that fits on its first page is counted for
    free and any other total is None.
    """
    aliases = domain_aliases(conn)
    where = entry_conditions(filters, aliases)
    if sort.by == "date":
        page_where = [*where, _after(after, newest_first)] if after else where
        query = _ordered(select(*ENTRIES.c).where(and_(true(), *page_where)), newest_first)
    else:
        value = _post_sort_value(sort)
        page_where = [*where, _after_value(value, after, after_value, sort)] if after else where
        e = ENTRIES.c
        order = (
            (value.desc().nulls_last(), e.post_id.desc(), e.position)
            if sort.descending
            else (value.asc().nulls_last(), e.post_id, e.position)
        )
        query = (
            select(*ENTRIES.c)
            .add_columns(value.label("sort_value"))
            .where(and_(true(), *page_where))
            .order_by(*order)
        )
    rows = [dict(row._mapping) for row in conn.execute(query.limit(limit + 1))]
    has_more = len(rows) > limit
    rows = rows[:limit]
    if count:
        total = capped_count(conn, select(ENTRIES.c.id).where(and_(true(), *where)))
    else:
        total = len(rows) if after is None and not has_more else None
    return EntryRows(rows=hydrate(conn, rows, aliases), has_more=has_more, total=total)


def _post_sort_value(sort: SortKey) -> Any:
    """The value entries sort by: their post's title or value of a declared field."""
    if sort.by == "title":
        return select(POSTS.c.title).where(POSTS.c.id == ENTRIES.c.post_id).scalar_subquery()
    return sort_value(ENTRIES.c.post_id, sort)


def _after_value(value: Any, key: EntryKey, after_value: Any, sort: SortKey) -> Any:
    """Entries after (value, post, position) in `sort`'s order; NULL values come last."""
    e = ENTRIES.c
    same_post_later = and_(e.post_id == key.post_id, e.position > key.position)
    post_after = or_(
        e.post_id < key.post_id if sort.descending else e.post_id > key.post_id,
        same_post_later,
    )
    if after_value is None:
        return and_(value.is_(None), post_after)
    beyond = value < after_value if sort.descending else value > after_value
    return or_(beyond, value.is_(None), and_(value == after_value, post_after))


# Counting a broad filter means reading most of the table; past this many matches the
# envelope says `total: null` instead, so that no page costs more than a bounded scan.
COUNT_CAP = 10_000


def capped_count(conn: Connection, matching: Select[Any]) -> int | None:
    """How many rows `matching` selects, or None when that is more than COUNT_CAP."""
    limited = matching.limit(COUNT_CAP + 1).subquery()
    return capped(int(conn.execute(select(func.count()).select_from(limited)).scalar_one()))


def capped(found: int) -> int | None:
    """A total as the envelope gives it: None past COUNT_CAP."""
    return None if found > COUNT_CAP else found


def entries_by_id(
    conn: Connection, ids: Iterable[int], aliases: dict[str, str]
) -> dict[int, dict[str, Any]]:
    """Hydrated entries by id."""
    query = select(*ENTRIES.c).where(ENTRIES.c.id.in_(list(ids)))
    rows = [dict(row._mapping) for row in conn.execute(query)]
    return {row["id"]: row for row in hydrate(conn, rows, aliases)}


def get_entry(
    conn: Connection, entry_id: int, *, include_drafts: bool = False
) -> dict[str, Any] | None:
    """One entry by id, hydrated, or None (a draft's entry too, unless `include_drafts`)."""
    query = select(*ENTRIES.c).where(ENTRIES.c.id == entry_id)
    if not include_drafts:
        query = query.where(ENTRIES.c.is_draft == false())
    row = conn.execute(query).first()
    if row is None:
        return None
    return hydrate(conn, [dict(row._mapping)], domain_aliases(conn))[0]


def grouped(
    conn: Connection, key: ColumnElement[Any], value: ColumnElement[Any], keys: Iterable[int]
) -> dict[int, list[Any]]:
    """{key: [values]} for the rows of a join table whose key is one of `keys`."""
    found: dict[int, list[Any]] = defaultdict(list)
    for row_key, row_value in conn.execute(select(key, value).where(key.in_(list(keys)))):
        found[row_key].append(row_value)
    return found


def hydrate(
    conn: Connection, rows: list[dict[str, Any]], aliases: dict[str, str]
) -> list[dict[str, Any]]:
    """Add post, domains, section, tags, links and source to entry rows, in five queries."""
    if not rows:
        return rows
    entry_ids = [row["id"] for row in rows]
    post_ids = {row["post_id"] for row in rows}
    section_ids = {row["section_id"] for row in rows}

    posts = {
        row.id: row
        for row in conn.execute(
            select(POSTS.c.id, POSTS.c.slug, POSTS.c.title, POSTS.c.source_path).where(
                POSTS.c.id.in_(post_ids)
            )
        )
    }
    headings = {
        row.id: row.heading
        for row in conn.execute(
            select(SECTIONS.c.id, SECTIONS.c.heading).where(SECTIONS.c.id.in_(section_ids))
        )
    }
    paths: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for path_row in conn.execute(
        select(SECTION_PATHS.c.section_id, SECTION_PATHS.c.depth, SECTION_PATHS.c.slug).where(
            SECTION_PATHS.c.section_id.in_(section_ids)
        )
    ):
        paths[path_row.section_id].append(
            (path_row.depth, aliases.get(path_row.slug, path_row.slug))
        )
    tags = grouped(conn, ENTRY_TAGS.c.entry_id, ENTRY_TAGS.c.tag, entry_ids)
    post_tags = grouped(conn, POST_TAGS.c.post_id, POST_TAGS.c.tag, post_ids)
    links: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(
        select(LINKS.c.entry_id, LINKS.c.url, LINKS.c.text, LINKS.c.host, LINKS.c.kind)
        .where(LINKS.c.entry_id.in_(entry_ids))
        .order_by(LINKS.c.position)
    ):
        links[row.entry_id].append(
            {"url": row.url, "text": row.text, "host": row.host, "link_kind": row.kind}
        )

    for item in rows:
        post = posts[item["post_id"]]
        item["post"] = {"slug": post.slug, "title": post.title}
        ordered = [slug for _, slug in sorted(paths.get(item["section_id"], []), reverse=True)]
        item["domains"] = ordered
        item["section"] = headings.get(item["section_id"], "")
        own = sorted(tags.get(item["id"], []))
        item["tags"] = own + [t for t in sorted(post_tags.get(item["post_id"], [])) if t not in own]
        item["links"] = links.get(item["id"], [])
        item["entry_kind"] = item["kind"]
        item["source"] = {"path": post.source_path, "line": item["line"]}
    return rows
