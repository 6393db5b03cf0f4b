"""Read-side SQL for facets: value counts over every entry matching the filters of a list.

Each facet is one GROUP BY over a CTE of the matching entries (the filters of
`entry_conditions`, read from the covering sort index). The CTE is MATERIALIZED so that
both engines first narrow down to the matching entries and only then join the facet's
table: left to itself, SQLite prefers walking a facet's own index in value order (to skip
a sort) and probing every entry, which costs a full scan even for a one-day filter.
Domains and post-level facets first count matching entries per section or per post, so
that the join reads one row per section or post instead of one per entry.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Select,
    Subquery,
    and_,
    cast,
    distinct,
    exists,
    extract,
    func,
    literal,
    select,
    true,
    union_all,
)

from app.models import (
    ALIASES,
    ENTRIES,
    ENTRY_TAGS,
    LINKS,
    POST_CATEGORIES,
    POST_TAGS,
    SECTION_PATHS,
)
from app.queries.entries import EntryFilters, domain_aliases, entry_conditions
from app.vocabulary import FacetName

# A facet is for choosing the next filter; past this many values a list stops helping.
FACET_LIMIT = 50

FacetValue = str | int | None


def entry_facets(
    conn: Connection, *, filters: EntryFilters, names: Sequence[FacetName]
) -> dict[FacetName, list[tuple[FacetValue, int]]]:
    """For each facet in `names`, its most common values with how many matching entries have each.

    Counts cover every entry matching `filters` (never one page), one query per facet.
    """
    if not names:
        return {}
    where = entry_conditions(filters, domain_aliases(conn))
    matching = (
        select(ENTRIES.c.id, ENTRIES.c.post_id, ENTRIES.c.section_id, ENTRIES.c.date)
        .where(and_(true(), *where))
        .cte("matching")
        .prefix_with("MATERIALIZED")
    )
    return {
        name: [(value, count) for value, count in conn.execute(_FACETS[name](matching))]
        for name in names
    }


def _ranked(value: ColumnElement[Any], count: ColumnElement[Any]) -> Select[Any]:
    """`value` with its `count`, most common first, then by value; the top FACET_LIMIT."""
    return (
        select(value.label("value"), count.label("count"))
        .group_by(value)
        .order_by(count.desc(), value.asc().nulls_last())
        .limit(FACET_LIMIT)
    )


def _total(entries: ColumnElement[Any]) -> ColumnElement[Any]:
    """A sum of entry counts as an integer (PostgreSQL sums BIGINT into NUMERIC)."""
    return cast(func.sum(entries), BigInteger)


def _per(owner: ColumnElement[Any], name: str) -> Subquery:
    """Matching entries counted per section or post: (owner_id, entries)."""
    return (
        select(owner.label("owner_id"), func.count().label("entries"))
        .group_by(owner)
        .subquery(name)
    )


def _domains(matching: CTE) -> Select[Any]:
    """Every domain on an entry's section path (so parents count their sub-domains' entries)."""
    per_section = _per(matching.c.section_id, "per_section")
    # Aliases map heading slugs to domains as the domain filter resolves them; DISTINCT
    # counts a section once per domain even when two headings of its path mean the same.
    domains = (
        select(
            per_section.c.entries,
            per_section.c.owner_id,
            func.coalesce(ALIASES.c.domain, SECTION_PATHS.c.slug).label("domain"),
        )
        .join(SECTION_PATHS, SECTION_PATHS.c.section_id == per_section.c.owner_id)
        .outerjoin(ALIASES, ALIASES.c.slug == SECTION_PATHS.c.slug)
        .distinct()
        .subquery("section_domains")
    )
    return _ranked(domains.c.domain, _total(domains.c.entries))


def _tags(matching: CTE) -> Select[Any]:
    """Inline markers of the entry plus its post's tags, as the tag filter reads them."""
    per_post = _per(matching.c.post_id, "per_post")
    inherited = select(POST_TAGS.c.tag.label("value"), per_post.c.entries).join(
        per_post, per_post.c.owner_id == POST_TAGS.c.post_id
    )
    # An inline marker its post also carries is already counted with the post's tags.
    own_only = (
        select(ENTRY_TAGS.c.tag, literal(1))
        .join(matching, matching.c.id == ENTRY_TAGS.c.entry_id)
        .where(
            ~exists().where(
                POST_TAGS.c.post_id == matching.c.post_id, POST_TAGS.c.tag == ENTRY_TAGS.c.tag
            )
        )
    )
    both = union_all(inherited, own_only).subquery("tagged")
    return _ranked(both.c.value, _total(both.c.entries))


def _categories(matching: CTE) -> Select[Any]:
    """Categories of the entry's post."""
    per_post = _per(matching.c.post_id, "per_post")
    return _ranked(POST_CATEGORIES.c.category, _total(per_post.c.entries)).join_from(
        per_post, POST_CATEGORIES, POST_CATEGORIES.c.post_id == per_post.c.owner_id
    )


def _link_facet(column: ColumnElement[Any]) -> Callable[[CTE], Select[Any]]:
    """A facet over the entry's links: an entry with two links of one value counts once."""

    def build(matching: CTE) -> Select[Any]:
        return _ranked(column, func.count(distinct(LINKS.c.entry_id))).where(
            LINKS.c.entry_id.in_(select(matching.c.id)), column.is_not(None)
        )

    return build


def _years(matching: CTE) -> Select[Any]:
    """Year of the entry's date; undated entries count under null."""
    year = cast(extract("year", matching.c.date), Integer)
    return _ranked(year, func.count())


_FACETS: dict[FacetName, Callable[[CTE], Select[Any]]] = {
    "domain": _domains,
    "tag": _tags,
    "category": _categories,
    "host": _link_facet(LINKS.c.host),
    "link_kind": _link_facet(LINKS.c.kind),
    "year": _years,
}
