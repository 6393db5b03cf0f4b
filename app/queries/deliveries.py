"""Read-side SQL for the admin's view of webhook deliveries."""

from typing import Any

from sqlalchemy import Connection, select

from app.models import WEBHOOK_DELIVERIES, WEBHOOK_EVENTS


def list_deliveries(
    conn: Connection, *, limit: int, status: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Webhook deliveries, newest first, with the event each one carries."""
    d, e = WEBHOOK_DELIVERIES.c, WEBHOOK_EVENTS.c
    query = (
        select(
            d.id,
            d.url,
            d.status,
            d.attempts,
            d.created_at,
            d.next_attempt_at,
            d.last_attempt_at,
            d.last_status_code,
            d.last_error,
            d.delivered_at,
            e.message_id,
            e.reason,
            e.since_version,
            e.version,
        )
        .join(WEBHOOK_EVENTS, e.id == d.event_id)
        .order_by(d.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(d.status.in_(status))
    return [dict(row._mapping) for row in conn.execute(query)]
