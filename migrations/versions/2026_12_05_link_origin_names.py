"""Link origins, rendered excerpts and the names of tags and categories.

`links.origin` says where a link was written: `body` (the Markdown) or `front_matter`
(a URL given as a front-matter value, such as `repo:` or Logseq's `url::`), indexed
with the id for the `origin` filter of /links. `posts.excerpt_html` holds the excerpt
rendered as entries are (`posts.excerpt` becomes its plain text). `tags.name` and
`categories.name` keep a term as its author spelled it, in its own script, beside the
ASCII slug. All are derived by parsing: stored posts are parsed again by the next ingest.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain ALTER TABLE on both engines (SQLite >= 3.35 drops columns in place): a batch
# rebuild of `posts` on SQLite would renumber the rowids its full-text table reads.


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "links", sa.Column("origin", sa.String(length=16), server_default="body", nullable=False)
    )
    op.create_index("ix_links_origin_id", "links", ["origin", "id"], unique=False)
    op.add_column("posts", sa.Column("excerpt_html", sa.Text(), nullable=True))
    op.add_column("tags", sa.Column("name", sa.Text(), nullable=True))
    op.add_column("categories", sa.Column("name", sa.Text(), nullable=True))
    # The new columns hold derived data that only parsing fills: stored posts (after a
    # downgrade and this upgrade, say) must be parsed again by the next ingest.
    op.execute("UPDATE posts SET parser_version = 0")


def downgrade() -> None:
    """Revert this revision."""
    op.execute("ALTER TABLE categories DROP COLUMN name")
    op.execute("ALTER TABLE tags DROP COLUMN name")
    op.execute("ALTER TABLE posts DROP COLUMN excerpt_html")
    op.drop_index("ix_links_origin_id", table_name="links")
    op.execute("ALTER TABLE links DROP COLUMN origin")
