"""Entry documents: each entry's stored answer, written by the ingest.

`entries.doc` holds, as a JSON fragment, what /entries would otherwise assemble from
five tables per page (section heading, kind, text, HTML, tags with the post's, links,
parent); `entries.domain_path` the heading slugs of its section path. Rows ingested
before this revision have an empty document until the next ingest re-parses them (the
parser version changed with it); pages holding such a row are assembled the old way.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 13:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both engines (SQLite >= 3.35 drops columns in place): a batch
# rebuild of `entries` on SQLite would drop the full-text triggers revision 0002 put on it.


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("entries", sa.Column("doc", sa.Text(), server_default="", nullable=False))
    op.add_column("entries", sa.Column("domain_path", sa.Text(), server_default="", nullable=False))
    # The new columns hold derived data that only parsing fills: stored posts (after a
    # downgrade and this upgrade, say) must be parsed again by the next ingest.
    op.execute("UPDATE posts SET parser_version = 0")


def downgrade() -> None:
    """Revert this revision."""
    op.execute("ALTER TABLE entries DROP COLUMN domain_path")
    op.execute("ALTER TABLE entries DROP COLUMN doc")
