"""Link health: the latest probe of each address the logs cite.

`link_checks` holds one row per normalized address (`links.url_key`), written by
`learnlog links check`. It has no foreign key to `links`: an ingest replaces a changed
post's links, and the results of addresses it still cites must stay.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 15:27:57.112336
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "link_checks",
        sa.Column("url_key", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("url_key", name=op.f("pk_link_checks")),
    )
    op.create_index(
        "ix_link_checks_outcome_url_key", "link_checks", ["outcome", "url_key"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_link_checks_outcome_url_key", table_name="link_checks")
    op.drop_table("link_checks")
