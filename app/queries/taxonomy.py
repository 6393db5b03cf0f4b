"""Read-side SQL for the vocabularies: domains (a tree), tags, categories, hosts, links."""

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    distinct,
    false,
    func,
    or_,
    select,
    true,
)

from app.models import (
    ALIASES,
    CATEGORIES,
    ENTRIES,
    ENTRY_TAGS,
    LINK_CHECKS,
    LINKS,
    NOTE_LINKS,
    POST_CATEGORIES,
    POST_TAGS,
    POSTS,
    SECTION_PATHS,
    SECTIONS,
    TAGS,
)
from app.queries.entries import EntryFilters, capped_count, domain_aliases, entry_conditions
from app.queries.link_health import check_columns, check_joined, nest_check, status_condition
from app.queries.posts import post_conditions
from app.vocabulary import LinkOrigin, LinkStatus

# A log of at most this many posts keeps every heading by default: there a heading found in
# one post is still a twentieth of the log, while a blog of hundreds of posts names
# a thousand headings once each (jekyll-18f: 1,724 of its 1,796 domains).
SMALL_LOG_POSTS = 20


@dataclass(frozen=True, slots=True)
class DomainKey:
    """Where a page of top-level domains ends: its last domain's post count and slug."""

    post_count: int
    slug: str


def domain_order(node: dict[str, Any]) -> tuple[int, str]:
    """The order of domains at every level: most posts first, then by slug."""
    return -node["post_count"], node["slug"]


def default_min_posts(posts: int) -> int:
    """Posts a domain needs by default: 2, or 1 in a log of at most SMALL_LOG_POSTS posts."""
    return 1 if posts <= SMALL_LOG_POSTS else 2


def domain_tree(
    conn: Connection, *, include_drafts: bool, min_posts: int | None = None
) -> list[dict[str, Any]]:
    """The kept domains as a tree, most posts first at each level, then by slug.

    A domain is kept when it occurs in at least `min_posts` posts. Without `min_posts`
    the default holds (see `default_min_posts`) and the domains the aliases file names
    are kept whatever their count. A kept domain whose parent is not kept nests under its
    nearest kept ancestor, or is top-level. Counts include sub-domains.
    """
    aliases = domain_aliases(conn)
    stats = _domain_stats(conn, include_drafts=include_drafts)
    if min_posts is None:
        counted = select(func.count()).select_from(POSTS)
        if not include_drafts:
            counted = counted.where(POSTS.c.is_draft.is_(False))
        threshold = default_min_posts(conn.execute(counted).scalar_one())
        named = set(aliases.values())
    else:
        threshold, named = min_posts, set()
    kept = {slug for slug, facts in stats.items() if facts["post_count"] >= threshold}
    kept |= named & stats.keys()
    headings, homes = _headings_and_homes(conn, aliases, stats.keys())
    nodes = {
        slug: {
            "slug": slug,
            "name": _most_used(headings[slug]) or slug,
            "headings": sorted(headings[slug]),
            "children": [],
            **stats[slug],
        }
        for slug in kept
    }
    ordered = sorted(nodes.values(), key=domain_order)
    nest: dict[str, str | None] = {}
    for node in ordered:
        home = _kept_ancestor(node["slug"], homes, kept)
        # Two headings nested each way round in different posts: the first one placed
        # keeps its parent, the other stays top-level, so that neither vanishes.
        above = home
        while above is not None and above != node["slug"]:
            above = nest.get(above)
        nest[node["slug"]] = home if above is None else None
    roots: list[dict[str, Any]] = []
    for node in ordered:
        parent = nest[node["slug"]]
        (nodes[parent]["children"] if parent else roots).append(node)
    return roots


def _domain_stats(conn: Connection, *, include_drafts: bool) -> dict[str, dict[str, Any]]:
    """Entry and post counts and first and last dates of every domain, sub-domains included."""
    # Aliases resolve in SQL so that a post counts once for a domain it names twice
    # (`LLMs` and `GenAI` in one post are one post of `genai`).
    domain = func.coalesce(ALIASES.c.domain, SECTION_PATHS.c.slug)
    query = (
        select(
            domain,
            func.count(ENTRIES.c.id),
            func.count(distinct(ENTRIES.c.post_id)),
            func.min(ENTRIES.c.date),
            func.max(ENTRIES.c.date),
        )
        .select_from(SECTION_PATHS)
        .join(ENTRIES, ENTRIES.c.section_id == SECTION_PATHS.c.section_id)
        .outerjoin(ALIASES, ALIASES.c.slug == SECTION_PATHS.c.slug)
        .where(true() if include_drafts else ENTRIES.c.is_draft.is_(False))
        .group_by(domain)
    )
    return {
        slug: {"entry_count": entries, "post_count": posts, "first_date": first, "last_date": last}
        for slug, entries, posts, first, last in conn.execute(query)
    }


def _most_used(spellings: dict[str, int]) -> str | None:
    """The spelling found in the most posts (the first by text on a tie)."""
    return min(spellings, key=lambda text: (-spellings[text], text), default=None)


def _headings_and_homes(
    conn: Connection, aliases: dict[str, str], domains: Collection[str]
) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """Each domain's heading spellings with the posts using each, and the parent domain it
    most often nests under.

    Parents are weighed by the posts they occur in, top-level counting as one choice: a
    heading top-level in twenty posts and nested in two stays top-level.
    """
    parent = SECTIONS.alias("parent")
    headings: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    parents: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for slug, heading, parent_slug, posts in conn.execute(
        select(
            SECTIONS.c.slug,
            SECTIONS.c.heading,
            parent.c.slug,
            func.count(distinct(SECTIONS.c.post_id)),
        )
        .outerjoin(parent, parent.c.id == SECTIONS.c.parent_id)
        .where(SECTIONS.c.slug.is_not(None))
        .group_by(SECTIONS.c.slug, SECTIONS.c.heading, parent.c.slug)
    ):
        domain = aliases.get(slug, slug)
        if domain not in domains:
            continue  # a heading with no entries under it is no domain
        headings[domain][heading] += posts
        parent_domain = aliases.get(parent_slug, parent_slug) if parent_slug else ""
        if parent_domain != domain:
            parents[domain][parent_domain] += posts
    homes: dict[str, str] = {}
    for domain, choices in parents.items():
        # A tie goes to a parent (the first by name), then to top-level (""): nesting
        # says more about a domain than its standing alone.
        home = max(sorted(choices, key=lambda name: (not name, name)), key=choices.__getitem__)
        if home:
            homes[domain] = home
    return headings, homes


def _kept_ancestor(slug: str, homes: dict[str, str], kept: set[str]) -> str | None:
    """The nearest kept domain up `slug`'s chain of homes (None: it is top-level)."""
    seen = {slug}
    home = homes.get(slug)
    while home is not None and home not in seen:
        if home in kept:
            return home
        seen.add(home)
        home = homes.get(home)
    return None


def domain_page(
    roots: list[dict[str, Any]], *, limit: int, after: DomainKey | None
) -> tuple[list[dict[str, Any]], DomainKey | None]:
    """One page of top-level domains after `after`, and the key to the next (None: last)."""
    start = 0
    if after is not None:
        edge = (-after.post_count, after.slug)
        start = next((i for i, node in enumerate(roots) if domain_order(node) > edge), len(roots))
    page = roots[start : start + limit]
    if start + limit >= len(roots) or not page:
        return page, None
    return page, DomainKey(post_count=page[-1]["post_count"], slug=page[-1]["slug"])


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


def term_names(conn: Connection, *, kind: Literal["tags", "categories"]) -> dict[str, str]:
    """{slug: name as first written} of the tags or categories that have a name."""
    table = TAGS if kind == "tags" else CATEGORIES
    query = select(table.c.slug, table.c.name).where(table.c.name.is_not(None))
    return {str(slug): str(name) for slug, name in conn.execute(query)}


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


def link_conditions(
    filters: EntryFilters, aliases: dict[str, str], origin: Sequence[LinkOrigin] = ()
) -> list[ColumnElement[bool]]:
    """WHERE clauses on `links` (joined to `entries` by an outer join) for `filters`.

    A body link matches through its entry. A front-matter link has no entry: it matches
    through its post (tags, categories, dates, drafts, declared fields), and never under
    a domain or a search, which select entries. Host and kind select the links
    themselves; links in headings are in no list.
    """
    entry_filters = replace(filters, host=(), link_kind=(), post=())
    in_entries = and_(LINKS.c.entry_id.is_not(None), *entry_conditions(entry_filters, aliases))
    wanted = set(origin) or {"body", "front_matter"}
    branches: list[ColumnElement[bool]] = []
    if "body" in wanted:
        branches.append(in_entries)
    if "front_matter" in wanted and not filters.domain and not filters.q:
        post_filters = replace(entry_filters, domain=(), q=None)
        in_posts = select(POSTS.c.id).where(and_(true(), *post_conditions(post_filters, aliases)))
        branches.append(
            and_(LINKS.c.origin == "front_matter", LINKS.c.post_id.in_(in_posts.correlate(None)))
        )
    where: list[ColumnElement[bool]] = [or_(*branches) if branches else false()]
    if origin:
        where.append(LINKS.c.origin.in_(wanted))
    if filters.post:
        # On the link's own post: the page query joins `posts`, which would swallow the
        # FROM of the correlated probe `entry_conditions` makes for it.
        in_posts = select(POSTS.c.id).where(POSTS.c.slug.in_(filters.post)).correlate(None)
        where.append(LINKS.c.post_id.in_(in_posts))
    if filters.host:
        where.append(LINKS.c.host.in_(filters.host))
    if filters.link_kind:
        where.append(LINKS.c.kind.in_(filters.link_kind))
    return where


def list_links(
    conn: Connection,
    *,
    filters: EntryFilters,
    limit: int,
    after_id: int | None,
    status: Sequence[LinkStatus] = (),
    resolved: bool | None = None,
    origin: Sequence[LinkOrigin] = (),
) -> tuple[list[dict[str, Any]], bool, int | None]:
    """Links of entries matching `filters` (host and kind filter the links themselves),
    and the front-matter links of posts matching them (see `link_conditions`).

    Each carries the latest check of its address; `status` keeps links whose address has
    any of those outcomes (`unchecked`: none yet). `resolved` keeps internal links that
    resolved (true) or did not (false); internal links say where they lead. `origin`
    keeps links written in the body or in the front matter.
    """
    where = link_conditions(filters, domain_aliases(conn), origin)
    base = select(LINKS.c.id).outerjoin(ENTRIES, ENTRIES.c.id == LINKS.c.entry_id)
    if resolved is not None:
        found = NOTE_LINKS.c.target_post_id.is_not(None)
        where.append(
            LINKS.c.id.in_(
                select(NOTE_LINKS.c.link_id).where(found if resolved else ~found).correlate(None)
            )
        )
    if status:
        where.append(status_condition(status))
        base = base.outerjoin(LINK_CHECKS, check_joined())
    base = base.where(and_(true(), *where))
    total = capped_count(conn, base)
    page = where if after_id is None else [*where, LINKS.c.id > after_id]
    columns, with_targets = target_columns(include_drafts=filters.include_drafts)
    query = (
        with_targets(
            select(
                LINKS.c.id,
                LINKS.c.entry_id,
                LINKS.c.url,
                LINKS.c.text,
                LINKS.c.host,
                LINKS.c.kind.label("link_kind"),
                LINKS.c.origin,
                POSTS.c.slug,
                POSTS.c.title,
                func.coalesce(ENTRIES.c.date, POSTS.c.date).label("date"),
                *check_columns(),
                *columns,
            )
            .outerjoin(ENTRIES, ENTRIES.c.id == LINKS.c.entry_id)
            .join(POSTS, POSTS.c.id == LINKS.c.post_id)
            .outerjoin(LINK_CHECKS, check_joined())
        )
        .where(and_(true(), *page))
        .order_by(LINKS.c.id)
        .limit(limit + 1)
    )
    rows = []
    for row in conn.execute(query):
        item = dict(row._mapping)
        item["post"] = {"slug": item.pop("slug"), "title": item.pop("title")}
        nest_check(item)
        nest_target(item)
        rows.append(item)
    return rows[:limit], len(rows) > limit, total


def target_columns(
    *, include_drafts: bool
) -> tuple[list[Any], Callable[[Select[Any]], Select[Any]]]:
    """The columns saying where an internal link leads, and the joins they need (for /links
    and the export alike); a draft target stays hidden unless `include_drafts`."""
    target = POSTS.alias("target")
    visible = [] if include_drafts else [target.c.is_draft == false()]
    columns = [
        NOTE_LINKS.c.link_id.label("internal_link"),
        NOTE_LINKS.c.embed.label("internal_embed"),
        NOTE_LINKS.c.target_post_id,
        NOTE_LINKS.c.target_entry_id,
        target.c.slug.label("target_slug"),
        target.c.title.label("target_title"),
        SECTIONS.c.slug.label("target_section"),
    ]

    def joined(query: Select[Any]) -> Select[Any]:
        return (
            query.outerjoin(NOTE_LINKS, NOTE_LINKS.c.link_id == LINKS.c.id)
            .outerjoin(target, and_(target.c.id == NOTE_LINKS.c.target_post_id, *visible))
            .outerjoin(SECTIONS, SECTIONS.c.id == NOTE_LINKS.c.target_section_id)
        )

    return columns, joined


def nest_target(item: dict[str, Any]) -> None:
    """Shape the internal-link columns of a /links row as `embed`, `resolved`, `target`."""
    internal = item.pop("internal_link") is not None
    # Images are links only as embeds (`![[pic.png]]`); other embeds are internal links.
    item["embed"] = bool(item.pop("internal_embed")) or item["link_kind"] == "image"
    target_post = item.pop("target_post_id")
    entry_id = item.pop("target_entry_id")
    slug, title, section = (item.pop(k) for k in ("target_slug", "target_title", "target_section"))
    item["resolved"] = (target_post is not None) if internal else None
    item["target"] = None
    if slug is not None:
        item["target"] = {"slug": slug, "title": title, "section": section, "entry_id": entry_id}
