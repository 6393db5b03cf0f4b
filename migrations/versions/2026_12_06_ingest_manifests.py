"""Ingest manifests: what a folder looked like when a clean ingest of it began.

One row per folder location (SQLite databases only): a digest of the stat of every
entry of every folder listed, the fingerprint of the code, settings and options of that run, and the
lines its summary ended with. `learnlog ingest` compares them first, and an unchanged
folder is recorded as an unchanged run without reading its files.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "ingest_manifests",
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("schema_revision", sa.String(length=32), nullable=False),
        sa.Column("content_version", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped_drafts", sa.Integer(), nullable=False),
        sa.Column("keep_runs", sa.Integer(), nullable=False),
        sa.Column("keep_failed_runs", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("location", name=op.f("pk_ingest_manifests")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("ingest_manifests")
