"""Folder identity: posts keyed by their folder's name, not its absolute path.

Adds `folders` (a content folder's name, where it was last ingested from, its dialect).
`posts.root` and `deleted_posts.root` held the folder's absolute path; they now hold its
name, so moving, renaming or mounting the folder elsewhere changes no id. Existing rows
keep their ids and slugs: each stored path becomes a folder named after its last path
component (a number added when two share one), recorded at that location, so the next
ingest of the folder, wherever it now lives, finds its posts. Link-check history is keyed
by address and is untouched.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 12:10:00
"""

import datetime as dt
import posixpath
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES_KEYED_BY_ROOT = ("posts", "deleted_posts")


def upgrade() -> None:
    """Apply this revision."""
    folders = op.create_table(
        "folders",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("dialect", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_folders")),
    )
    conn = op.get_bind()
    locations = sorted(
        {
            row[0]
            for table in _TABLES_KEYED_BY_ROOT
            for row in conn.execute(sa.text(f"SELECT DISTINCT root FROM {table}"))
        }
    )
    names: dict[str, str] = {}
    for location in locations:
        base = posixpath.basename(location.replace("\\", "/").rstrip("/")) or "content"
        name, number = base, 1
        while name in names.values():
            number += 1
            name = f"{base}-{number}"
        names[location] = name
    if not names:
        return
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(
        folders,
        [
            {"name": name, "location": location, "dialect": "plain", "updated_at": now}
            for location, name in names.items()
        ],
    )
    for table in _TABLES_KEYED_BY_ROOT:
        for location, name in names.items():
            conn.execute(
                sa.text(f"UPDATE {table} SET root = :name WHERE root = :location"),
                {"name": name, "location": location},
            )


def downgrade() -> None:
    """Revert this revision: rows go back to being keyed by the folder's location."""
    conn = op.get_bind()
    for name, location in conn.execute(sa.text("SELECT name, location FROM folders")).all():
        for table in _TABLES_KEYED_BY_ROOT:
            conn.execute(
                sa.text(f"UPDATE {table} SET root = :location WHERE root = :name"),
                {"name": name, "location": location},
            )
    op.drop_table("folders")
