"""Cursor secret: the key signing page cursors, one per database.

Cursors were signed with a constant kept in the source, so anyone could forge one. The
secret lives in `content_state`, so every API process on one database signs and accepts
the same cursors. The upgrade creates it (the API creates it on first need otherwise, for
a database whose state row was reset); cursors issued before it become invalid (422).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 13:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("content_state") as batch:
        batch.add_column(
            sa.Column("cursor_secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    state = sa.table("content_state", sa.column("cursor_secret", sa.String(64)))
    op.execute(state.update().values(cursor_secret=secrets.token_hex(32)))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("content_state") as batch:
        batch.drop_column("cursor_secret")
