"""Read-side SQL for /changes: posts added, updated and deleted after a content version."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, false, select, true

from app.models import DELETED_POSTS, POSTS
from app.models import current_version as current_version  # read by routes and the index


@dataclass(slots=True)
class Changes:
    """What changed after `since`, up to the current `version`."""

    version: int
    added: list[dict[str, Any]]
    updated: list[dict[str, Any]]
    deleted: list[dict[str, Any]]


def changes_since(
    conn: Connection, since: int, *, until: int | None = None, include_drafts: bool = False
) -> Changes:
    """Posts stored, re-stored or removed by transactions after content version `since`
    (up to `until`, else the current version); drafts only with `include_drafts`.

    A post that changed again after `until` is left out (a later change set has it).
    """
    p = POSTS.c
    columns = [p.id, p.slug, p.source_path, p.content_version, p.created_version]
    changed = conn.execute(
        select(*columns)
        .where(p.content_version > since, _up_to(p.content_version, until))
        .where(true() if include_drafts else p.is_draft == false())
        .order_by(p.content_version, p.id)
    ).all()
    d = DELETED_POSTS.c
    deleted = conn.execute(
        select(d.post_id.label("id"), d.slug, d.source_path, d.content_version)
        .where(d.content_version > since, _up_to(d.content_version, until))
        .where(true() if include_drafts else d.is_draft == false())
        .order_by(d.content_version, d.post_id)
    ).all()
    return Changes(
        version=current_version(conn) if until is None else until,
        added=[dict(row._mapping) for row in changed if row.created_version > since],
        updated=[dict(row._mapping) for row in changed if row.created_version <= since],
        deleted=[dict(row._mapping) for row in deleted],
    )


def _up_to(column: ColumnElement[int], until: int | None) -> ColumnElement[bool]:
    """`column` at most `until` (no bound for None)."""
    return true() if until is None else column <= until
