"""Full-text search, change tracking and normalized link URLs.

Adds `posts.body_text` (what post search reads), `posts.created_version` and the
`deleted_posts` tombstones (what /changes reports), `links.url_key` (one key per
address however it was spelled), and the full-text indexes:

- SQLite: FTS5 tables `entries_fts` and `posts_fts` reading their text from `entries`
  and `posts` (external content keyed by the rows' own SQLite rowids, which grow in
  insertion order), kept in step by the ingest's writer (`app/ingest/fulltext.py`: one
  set-based statement per batch; row triggers would make FTS5 flush a segment per row,
  six times slower). After anything that may renumber rowids (VACUUM, a batch table
  rebuild in a later migration), run
  `INSERT INTO entries_fts(entries_fts) VALUES ('rebuild')` (and the same for posts).
- PostgreSQL: stored generated `tsvector` columns `entries.search` and `posts.search`
  with GIN indexes.

Neither is part of the models (they are engine-specific); `migrations/env.py` leaves
them out of Alembic's comparison. Rows ingested before this revision get their new
columns on the next ingest (the parser version changed with it).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:22:05.100064
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stemming English words and folding accents, the same on both engines as far as they go.
FTS5_TOKENIZER = "porter unicode61 remove_diacritics 2"

SQLITE_UP = [
    f"""CREATE VIRTUAL TABLE entries_fts USING fts5(
        text, content='entries', tokenize='{FTS5_TOKENIZER}')""",
    "INSERT INTO entries_fts(entries_fts) VALUES ('rebuild')",
    f"""CREATE VIRTUAL TABLE posts_fts USING fts5(
        title, body_text, content='posts', tokenize='{FTS5_TOKENIZER}')""",
    "INSERT INTO posts_fts(posts_fts) VALUES ('rebuild')",
]

SQLITE_DOWN = ["DROP TABLE posts_fts", "DROP TABLE entries_fts"]

POSTGRESQL_UP = [
    """ALTER TABLE entries ADD COLUMN search tsvector
        GENERATED ALWAYS AS (to_tsvector('english', text)) STORED""",
    "CREATE INDEX ix_entries_search ON entries USING gin (search)",
    """ALTER TABLE posts ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', body_text), 'B')) STORED""",
    "CREATE INDEX ix_posts_search ON posts USING gin (search)",
]

POSTGRESQL_DOWN = [
    "DROP INDEX ix_posts_search",
    "ALTER TABLE posts DROP COLUMN search",
    "DROP INDEX ix_entries_search",
    "ALTER TABLE entries DROP COLUMN search",
]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "deleted_posts",
        sa.Column("post_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("content_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_deleted_posts")),
    )
    with op.batch_alter_table("deleted_posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deleted_posts_content_version"), ["content_version"], unique=False
        )

    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url_key", sa.Text(), server_default="", nullable=False))
        batch_op.create_index(batch_op.f("ix_links_url_key"), ["url_key"], unique=False)

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_text", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("created_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_posts_created_version"), ["created_version"], unique=False
        )
    op.execute("UPDATE posts SET created_version = content_version")
    # The new columns hold derived data that only parsing fills: stored posts (after a
    # downgrade and this upgrade, say) must be parsed again by the next ingest.
    op.execute("UPDATE posts SET parser_version = 0")

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    """Revert this revision."""
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}.get(dialect, []):
        op.execute(statement)

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_created_version"))
        batch_op.drop_column("created_version")
        batch_op.drop_column("body_text")

    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_links_url_key"))
        batch_op.drop_column("url_key")

    with op.batch_alter_table("deleted_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deleted_posts_content_version"))

    op.drop_table("deleted_posts")
