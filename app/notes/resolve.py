"""Resolution: point every internal link of a folder at its post, section or entry.

Runs at the end of an ingest run as a handful of set-based UPDATEs (one correlated
subquery per rule, no per-link round trips), so it follows the folder: a note added,
renamed or deleted re-resolves the links that name it in notes that did not change. The
UPDATEs only touch links whose answer changed and return their posts, which then count as
changed (content version, ETags, /changes) and get their HTML's internal hrefs rewritten.
"""

import html
import re
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import (
    ColumnElement,
    Connection,
    ScalarSelect,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    true,
    update,
)

from app.models import ENTRIES, ENTRY_BLOCKS, LINKS, NOTE_LINKS, NOTE_NAMES, POSTS, SECTIONS

# Where a resolved internal link leads in rendered HTML (the API's own post URL).
DEFAULT_URL_TEMPLATE = "/posts/{slug}"

_CHUNK = 500
_ANCHOR_TAG = re.compile(r'<a\b[^>]*?\bdata-link="(\d+)"[^>]*>')


def resolve_folder(conn: Connection, root: str) -> set[int]:
    """Re-resolve the internal links of folder `root`; return the ids of posts whose links'
    answers changed."""
    nl = NOTE_LINKS.c
    changed: set[int] = set()

    names = NOTE_NAMES.alias("candidate")
    named = POSTS.alias("named")
    citing = POSTS.alias("citing")
    # A public note never leads to a draft (its URL would show the draft's slug); a draft
    # may link to anything.
    citing_is_draft = (
        select(citing.c.is_draft)
        .where(citing.c.id == nl.post_id)
        .correlate(NOTE_LINKS)  # two levels down: SQLAlchemy would not correlate it itself
        .scalar_subquery()
    )

    def first_named(key: ColumnElement[str | None]) -> ScalarSelect[int]:
        # SQLite lets a correlated subquery name the updated row in WHERE, not in ORDER BY.
        return (
            select(names.c.post_id)
            .join(named, named.c.id == names.c.post_id)
            .where(
                names.c.root == nl.root,
                names.c.name == key,
                or_(named.c.is_draft == false(), citing_is_draft == true()),
            )
            .order_by(names.c.rank, names.c.path_len, names.c.path)
            .limit(1)
            .scalar_subquery()
        )

    best_post = func.coalesce(first_named(nl.near), first_named(nl.target))
    changed |= _update(conn, root, nl.target != "", nl.target_post_id, best_post)

    blocks = ENTRY_BLOCKS.alias("block")
    block_entry = (
        select(blocks.c.entry_id)
        .where(
            blocks.c.root == nl.root,
            blocks.c.block_id == func.substr(nl.anchor, 2),
            or_(nl.target == "", blocks.c.post_id == nl.target_post_id),
        )
        .order_by(blocks.c.entry_id)
        .limit(1)
        .scalar_subquery()
    )
    changed |= _update(conn, root, nl.anchor.like("^%"), nl.target_entry_id, block_entry)

    # A block reference's post is the post of the block it found.
    entry_post = (
        select(blocks.c.post_id).where(blocks.c.entry_id == nl.target_entry_id).scalar_subquery()
    )
    changed |= _update(conn, root, nl.target == "", nl.target_post_id, entry_post)

    sections = SECTIONS.alias("heading")
    section = (
        select(sections.c.id)
        .where(sections.c.post_id == nl.target_post_id, sections.c.slug == nl.anchor)
        .order_by(sections.c.position)
        .limit(1)
        .scalar_subquery()
    )
    in_heading = and_(nl.anchor.is_not(None), ~nl.anchor.like("^%"))
    changed |= _update(conn, root, in_heading, nl.target_section_id, section)
    return changed


def _update(conn: Connection, root: str, which: object, column: object, value: object) -> set[int]:
    """Set `column` to `value` on the links of `root` matching `which` where it differs."""
    statement = (
        update(NOTE_LINKS)
        .where(
            NOTE_LINKS.c.root == root,
            which,  # type: ignore[arg-type]
            column.is_distinct_from(value),  # type: ignore[attr-defined]
        )
        .values({column: value})
        .returning(NOTE_LINKS.c.post_id)
    )
    return {row[0] for row in conn.execute(statement)}


def citing_posts(conn: Connection, targets: Iterable[int]) -> set[int]:
    """Posts with internal links to any of `targets` (whose URLs hold the targets' slugs)."""
    found: set[int] = set()
    ids = list(targets)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = select(NOTE_LINKS.c.post_id).where(NOTE_LINKS.c.target_post_id.in_(chunk))
        found.update(row[0] for row in conn.execute(query.distinct()))
    return found


def rewrite_html(conn: Connection, post_ids: Iterable[int], url_template: str) -> None:
    """Give the internal links in the stored HTML of `post_ids` their current targets."""
    ids = sorted(post_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        hrefs = _hrefs(conn, chunk, url_template)
        entries = conn.execute(
            select(ENTRIES.c.id, ENTRIES.c.post_id, ENTRIES.c.html).where(
                ENTRIES.c.post_id.in_(chunk), ENTRIES.c.html.like("%data-link=%")
            )
        ).all()
        entry_rows = [
            {"entry": entry_id, "new_html": new}
            for entry_id, post_id, old in entries
            if (new := _rewritten(old, hrefs[post_id])) != old
        ]
        if entry_rows:
            conn.execute(
                update(ENTRIES)
                .where(ENTRIES.c.id == bindparam("entry"))
                .values(html=bindparam("new_html")),
                entry_rows,
            )
        posts = conn.execute(select(POSTS.c.id, POSTS.c.html).where(POSTS.c.id.in_(chunk))).all()
        post_rows = [
            {"post": post_id, "new_html": new}
            for post_id, old in posts
            if (new := _rewritten(old, hrefs[post_id])) != old
        ]
        if post_rows:
            conn.execute(
                update(POSTS)
                .where(POSTS.c.id == bindparam("post"))
                .values(html=bindparam("new_html")),
                post_rows,
            )


def _hrefs(
    conn: Connection, post_ids: list[int], url_template: str
) -> dict[int, dict[int, str | None]]:
    """{post id: {link position: URL of its target, or None when unresolved}}."""
    nl = NOTE_LINKS.c
    query = (
        select(nl.post_id, LINKS.c.position, POSTS.c.slug, SECTIONS.c.slug, nl.target_entry_id)
        .select_from(
            NOTE_LINKS.join(LINKS, LINKS.c.id == nl.link_id)
            .outerjoin(POSTS, POSTS.c.id == nl.target_post_id)
            .outerjoin(SECTIONS, SECTIONS.c.id == nl.target_section_id)
        )
        .where(nl.post_id.in_(post_ids))
    )
    found: dict[int, dict[int, str | None]] = defaultdict(dict)
    for post_id, position, slug, section, entry_id in conn.execute(query):
        url = None
        if slug is not None:
            url = url_template.format(slug=slug)
            if section:
                url += f"#{section}"
            elif entry_id:
                url += f"#entry-{entry_id}"
        found[post_id][position] = url
    return found


def _rewritten(text: str, hrefs: dict[int, str | None]) -> str:
    """`text` with each `<a ... data-link="N">` pointing where link N now resolves."""

    def tag(found: re.Match[str]) -> str:
        number = int(found.group(1))
        if number not in hrefs:
            return found.group(0)
        classes = "internal-link embed" if " embed" in found.group(0) else "internal-link"
        url = hrefs[number]
        if url is None:
            return f'<a class="{classes} unresolved" data-link="{number}">'
        return f'<a class="{classes}" data-link="{number}" href="{html.escape(url)}">'

    return _ANCHOR_TAG.sub(tag, text)
