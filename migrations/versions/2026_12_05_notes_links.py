"""Internal links between notes: the names notes answer to, and where each link resolves.

Adds `note_names` (the names a post is found by: its path, file name or page name, and
its aliases, with a rank), `note_links` (one row per internal link of `links`: the name
key and anchor it looks up, and the post, section or entry it resolved to) and
`entry_blocks` (block ids and block properties of the entries that have them). Stored
posts fill them when they re-parse: the parser version that writes them is newer than
any stored post's.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 12:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "note_names",
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("path_len", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_note_names_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "name", name=op.f("pk_note_names")),
    )
    op.create_index("ix_note_names_root_name", "note_names", ["root", "name"], unique=False)
    op.create_table(
        "note_links",
        sa.Column("link_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("near", sa.Text(), nullable=True),
        sa.Column("anchor", sa.Text(), nullable=True),
        sa.Column("embed", sa.Boolean(), nullable=False),
        sa.Column("target_post_id", sa.BigInteger(), nullable=True),
        sa.Column("target_section_id", sa.BigInteger(), nullable=True),
        sa.Column("target_entry_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["link_id"], ["links.id"], name=op.f("fk_note_links_link_id_links"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_note_links_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("link_id", name=op.f("pk_note_links")),
    )
    op.create_index(op.f("ix_note_links_post_id"), "note_links", ["post_id"], unique=False)
    op.create_index("ix_note_links_root_target", "note_links", ["root", "target"], unique=False)
    op.create_index(
        op.f("ix_note_links_target_post_id"), "note_links", ["target_post_id"], unique=False
    )
    op.create_index(
        op.f("ix_note_links_target_entry_id"), "note_links", ["target_entry_id"], unique=False
    )
    op.create_table(
        "entry_blocks",
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("block_id", sa.Text(), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name=op.f("fk_entry_blocks_entry_id_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_entry_blocks_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_entry_blocks")),
    )
    op.create_index(op.f("ix_entry_blocks_post_id"), "entry_blocks", ["post_id"], unique=False)
    op.create_index(
        "ix_entry_blocks_root_block_id", "entry_blocks", ["root", "block_id"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("entry_blocks")
    op.drop_table("note_links")
    op.drop_table("note_names")
