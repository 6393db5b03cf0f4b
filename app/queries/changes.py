"""Read-side SQL for /changes: posts added, updated and deleted after a content version."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from app.models import DELETED_POSTS, POSTS
from app.models import current_version as current_version  # read by routes and the index


@dataclass(slots=True)
class Changes:
    """What changed after `since`, up to the current `version`."""

    version: int
    added: list[dict[str, Any]]
    updated: list[dict[str, Any]]
    deleted: list[dict[str, Any]]


def changes_since(conn: Connection, since: int) -> Changes:
    """Posts stored, re-stored or removed by transactions after content version `since`."""
    p = POSTS.c
    columns = [p.id, p.slug, p.source_path, p.content_version, p.created_version]
    changed = conn.execute(
        select(*columns).where(p.content_version > since).order_by(p.content_version, p.id)
    ).all()
    d = DELETED_POSTS.c
    deleted = conn.execute(
        select(d.post_id.label("id"), d.slug, d.source_path, d.content_version)
        .where(d.content_version > since)
        .order_by(d.content_version, d.post_id)
    ).all()
    return Changes(
        version=current_version(conn),
        added=[dict(row._mapping) for row in changed if row.created_version > since],
        updated=[dict(row._mapping) for row in changed if row.created_version <= since],
        deleted=[dict(row._mapping) for row in deleted],
    )
