"""Declared fields: typed front-matter values per post, and each folder's schema in force.

`post_fields` holds one row per value of a declared field (per item of a list field),
in the column of its type, each column indexed with the field's name for filters and
sorts. `field_schemas` holds the schema each folder's last ingest validated against, so
that every API replica serves the same one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("value_text", "value_number", "value_date", "value_moment", "value_bool")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "post_fields",
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("value_number", sa.Double(), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("value_moment", sa.DateTime(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_fields_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "name", "position", name=op.f("pk_post_fields")),
    )
    with op.batch_alter_table("post_fields") as batch:
        for column in _COLUMNS:
            batch.create_index(
                f"ix_post_fields_name_{column}_post_id", ["name", column, "post_id"], unique=False
            )
    op.create_table(
        "field_schemas",
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("declared", sa.JSON(), nullable=True),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("root", name=op.f("pk_field_schemas")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("field_schemas")
    with op.batch_alter_table("post_fields") as batch:
        for column in _COLUMNS:
            batch.drop_index(f"ix_post_fields_name_{column}_post_id")
    op.drop_table("post_fields")
