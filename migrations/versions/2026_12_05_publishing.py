"""Publishing: scheduled posts and the queue of webhook deliveries.

`posts.publish_at` holds the moment a scheduled post (a future date, or `publish_at` in
its front matter) goes live; until then it is stored as a draft, and the publishing loop
of `learnlog serve` makes it public when the moment comes. The upgrade holds back posts
already stored with a future moment, and marks posts naming `publish_at` for re-parse.
`deleted_posts.is_draft` keeps deleted drafts out of the public `/changes`.
`webhook_events` (one per change to announce) and `webhook_deliveries` (one per event and
receiver, with attempts, backoff and the last error) are the webhook queue.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 12:25:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("posts") as batch:
        batch.add_column(
            sa.Column("publish_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch.create_index(batch.f("ix_posts_publish_at"), ["publish_at"], unique=False)
    with op.batch_alter_table("deleted_posts") as batch:
        batch.add_column(
            sa.Column("is_draft", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("since_version", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
    )
    with op.batch_alter_table("webhook_events") as batch:
        batch.create_index(batch.f("ix_webhook_events_message_id"), ["message_id"], unique=False)
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["webhook_events.id"],
            name=op.f("fk_webhook_deliveries_event_id_webhook_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.create_index(batch.f("ix_webhook_deliveries_event_id"), ["event_id"], unique=False)
        batch.create_index(
            "ix_webhook_deliveries_status_next_attempt_at",
            ["status", "next_attempt_at"],
            unique=False,
        )
    _hold_future_posts()


def _hold_future_posts() -> None:
    """Posts stored with a moment still ahead become scheduled, as an ingest now stores them;
    posts naming `publish_at` in their front matter are parsed again by the next ingest."""
    now = dt.datetime.now(dt.UTC)
    posts = sa.table(
        "posts",
        sa.column("id", sa.BigInteger()),
        sa.column("is_draft", sa.Boolean()),
        sa.column("published_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("publish_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("front_matter", sa.JSON()),
        sa.column("parser_version", sa.Integer()),
    )
    entries = sa.table("entries", sa.column("post_id", sa.BigInteger()), sa.column("is_draft"))
    ahead = sa.and_(posts.c.is_draft == sa.false(), posts.c.published_at > now)
    held = sa.select(posts.c.id).where(ahead)
    op.execute(entries.update().where(entries.c.post_id.in_(held)).values(is_draft=True))
    op.execute(posts.update().where(ahead).values(is_draft=True, publish_at=posts.c.published_at))
    naming = sa.cast(posts.c.front_matter, sa.Text).like("%publish_at%")
    op.execute(posts.update().where(naming).values(parser_version=0))


def downgrade() -> None:
    """Revert this revision: scheduled posts become public (as before it, at ingest)."""
    posts = sa.table(
        "posts",
        sa.column("id", sa.BigInteger()),
        sa.column("is_draft", sa.Boolean()),
        sa.column("publish_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    entries = sa.table("entries", sa.column("post_id", sa.BigInteger()), sa.column("is_draft"))
    held = sa.select(posts.c.id).where(posts.c.publish_at.is_not(None), posts.c.is_draft)
    op.execute(entries.update().where(entries.c.post_id.in_(held)).values(is_draft=False))
    op.execute(posts.update().where(posts.c.id.in_(held)).values(is_draft=False))
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index("ix_webhook_deliveries_status_next_attempt_at")
        batch.drop_index(batch.f("ix_webhook_deliveries_event_id"))
    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("webhook_events") as batch:
        batch.drop_index(batch.f("ix_webhook_events_message_id"))
    op.drop_table("webhook_events")
    with op.batch_alter_table("deleted_posts") as batch:
        batch.drop_column("is_draft")
    with op.batch_alter_table("posts") as batch:
        batch.drop_index(batch.f("ix_posts_publish_at"))
        batch.drop_column("publish_at")
