"""Scheduled posts: stored as drafts until their moment, then made public all at once.

The time zone rule: a post's moment is its `publish_at` front matter (also spelled
`publishDate` or `publish_date`, Hugo's name), else its date. A value with a zone or an
offset names that instant; a time without one, a date alone (midnight) and the date in
a file name are read in UTC. A post whose moment is ahead when the ingest stores it is
held back (a draft with `publish_at` set); the publishing loop makes it public in the
first round at or after that moment, in one transaction that bumps the content version,
so every list, count, feed and ETag changes together. Posts marked as drafts stay drafts
whatever their date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, literal_column, select, true, update

from app.ingest.dates import parse_date_value
from app.models import DELETED_POSTS, ENTRIES, POSTS, STATE, current_version
from app.publishing.webhooks import enqueue_event

if TYPE_CHECKING:  # the ingest's types, without importing the parser here
    from app.ingest.parse import ParsedPost
    from app.ingest.sync import PostWrite

# Front matter keys naming the publishing moment, case-folded (the first one found wins).
PUBLISH_KEYS = ("publish_at", "publishdate", "publish_date")


def publish_moment(parsed: ParsedPost) -> dt.datetime | None:
    """The moment a post becomes public: `publish_at` (or a synonym), else its date."""
    meta: dict[str, Any] = {str(key).lower(): value for key, value in parsed.front_matter.items()}
    for key in PUBLISH_KEYS:
        value = meta.get(key)
        if value is None or value == "":
            continue
        try:
            return parse_date_value(value).moment
        except ValueError:
            break  # an unreadable value: the post's own date decides
    return parsed.published_at


def hold_scheduled(
    conn: Connection, posts: Sequence[PostWrite], *, now: dt.datetime, entries_after: int = -1
) -> None:
    """Store posts whose moment is ahead of `now` as drafts waiting for it.

    Runs in the transaction that wrote the posts, so no reader ever sees them early. On
    SQLite, `entries_after` is the largest entry rowid before the posts' entries went in:
    their entries are found past it, where a first load has no index by post yet.
    """
    held: dict[int, dt.datetime] = {}
    for post in posts:
        moment = None if post.parsed.is_draft else publish_moment(post.parsed)
        if moment is not None and moment > now:
            held[post.post_id] = moment
    for post_id, moment in held.items():
        conn.execute(
            update(POSTS).where(POSTS.c.id == post_id).values(is_draft=True, publish_at=moment)
        )
    if held:
        statement = update(ENTRIES).where(ENTRIES.c.post_id.in_(held))
        if entries_after >= 0:
            statement = statement.where(literal_column("rowid") > entries_after)
        conn.execute(statement.values(is_draft=True))


def publish_due(engine: Engine, *, now: dt.datetime) -> int | None:
    """Make public every held post whose moment has come; the new content version, or None.

    One transaction: the posts, their entries and the content version change together,
    and the change is queued for the webhooks. A post going live is reported by
    `/changes` as added at that version (it did not exist for the public before).
    """
    waiting = select(POSTS.c.id).where(POSTS.c.publish_at <= now, POSTS.c.is_draft == true())
    with engine.connect() as conn:
        if conn.execute(waiting.limit(1)).first() is None:
            return None
    with engine.begin() as conn:
        # Writing first: SQLite's write lock is taken before anything is read.
        bumped = {"version": STATE.c.version + 1, "updated_at": now}
        conn.execute(update(STATE).where(STATE.c.id == 1).values(**bumped))
        version = current_version(conn)
        due = list(conn.execute(waiting).scalars())
        conn.execute(
            update(POSTS)
            .where(POSTS.c.id.in_(due))
            .values(is_draft=False, content_version=version, created_version=version)
        )
        conn.execute(update(ENTRIES).where(ENTRIES.c.post_id.in_(due)).values(is_draft=False))
        enqueue_event(conn, reason="schedule", since=version - 1, version=version, now=now)
    return version


def note_deleted_drafts(conn: Connection, post_ids: Sequence[int]) -> None:
    """Mark the `deleted_posts` rows of drafts among `post_ids` (before they are deleted):
    the public `/changes` never names a post it never showed."""
    drafts = select(POSTS.c.id).where(POSTS.c.id.in_(post_ids), POSTS.c.is_draft == true())
    conn.execute(
        update(DELETED_POSTS).where(DELETED_POSTS.c.post_id.in_(drafts)).values(is_draft=True)
    )
