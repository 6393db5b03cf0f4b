"""Webhooks: signed POSTs announcing content changes, queued in the database.

An event is queued in the transaction that made the change (the end of an ingest run
that changed posts, posts going live), so it survives the process that made it, and
costs the ingest one row. The publishing loop (one process per database at a time)
turns each event into a body once (the change set as the public `/changes` reports it
for the event's versions: never a draft), queues one delivery per configured URL, and
sends the due ones, signed as the Standard Webhooks specification says: `webhook-id`,
`webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`.

A delivery succeeds on any 2xx answer. Anything else (an error status, a refused
connection, no answer within webhook_timeout) is retried after webhook_retry_seconds,
twice as long after each further failure, until webhook_max_attempts; then it is
marked failed. Deliveries are at least once: a receiver may see an event again (the same
`webhook-id`) and, after retries, out of order (`data.version` tells which is newer).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from app import __version__
from app.models import RUNS, WEBHOOK_DELIVERIES, WEBHOOK_EVENTS
from app.queries.changes import changes_since
from app.settings import Settings

if TYPE_CHECKING:  # the ingest queues events without loading an HTTP client
    import httpx

logger = logging.getLogger(__name__)

EVENT_TYPE = "content.changed"
# Deliveries sent per round at most: a round never runs for long, whatever the backlog.
BATCH = 50
# Events kept (with their deliveries) for the admin to read; older ones are forgotten.
KEEP_EVENTS = 1000
MAX_DELAY = dt.timedelta(days=1)


def claim_write(conn: Connection) -> None:
    """Take SQLite's write lock first thing in a transaction (waiting for it as long as the
    busy timeout allows): a transaction that reads first and writes later fails at once
    when another writer committed in between. The loop writes only this way, and only
    when it has something to write, so it never makes an ingest's transaction fail."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("UPDATE webhook_events SET id = id WHERE id = -1")


def enqueue_event(
    conn: Connection, *, reason: str, since: int, version: int, now: dt.datetime
) -> None:
    """Queue the announcement of content versions (since, version], in the caller's transaction."""
    conn.execute(
        insert(WEBHOOK_EVENTS).values(
            reason=reason, since_version=since, version=version, created_at=now
        )
    )


def enqueue_ingest(conn: Connection, run_id: int, counts: dict[str, int], version: int) -> None:
    """Queue an event for an ingest run that added, updated or deleted posts.

    Its change set starts where the previous run ended: runs hold the ingest lock, so no
    change of this run is older (changes published between runs may be announced twice).
    """
    if not any(counts.get(name) for name in ("added", "updated", "deleted")):
        return
    previous = conn.execute(
        select(func.max(RUNS.c.content_version)).where(
            RUNS.c.id != run_id, RUNS.c.finished_at.is_not(None)
        )
    ).scalar()
    since = min(int(previous or 0), version)
    enqueue_event(conn, reason="ingest", since=since, version=version, now=_utcnow())


def _utcnow() -> dt.datetime:
    """Now, in UTC."""
    return dt.datetime.now(dt.UTC)


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header of a message, as Standard Webhooks defines it."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def retry_delay(settings: Settings, attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling, at most a day."""
    seconds = settings.webhook_retry_seconds * 2 ** min(attempts - 1, 30)
    return min(dt.timedelta(seconds=seconds), MAX_DELAY)


def fan_out(engine: Engine, settings: Settings, *, now: dt.datetime) -> int:
    """Give queued events their body and id, and a delivery per configured URL; how many."""
    e = WEBHOOK_EVENTS.c
    waiting = select(e.id, e.reason, e.since_version, e.version, e.created_at).where(
        e.message_id.is_(None)
    )
    with engine.connect() as conn:
        if conn.execute(waiting.limit(1)).first() is None:
            return 0
    with engine.begin() as conn:
        claim_write(conn)
        events = conn.execute(waiting.order_by(e.id)).all()
        for event in events:
            body = _body(conn, event.reason, event.since_version, event.version, event.created_at)
            message_id = f"msg_{secrets.token_urlsafe(18)}"
            conn.execute(
                update(WEBHOOK_EVENTS)
                .where(e.id == event.id)
                .values(message_id=message_id, body=body)
            )
            if settings.webhook_urls:
                conn.execute(
                    insert(WEBHOOK_DELIVERIES),
                    [
                        {
                            "event_id": event.id,
                            "url": url,
                            "status": "pending",
                            "attempts": 0,
                            "created_at": now,
                            "next_attempt_at": now,
                        }
                        for url in dict.fromkeys(settings.webhook_urls)
                    ],
                )
    return len(events)


def _body(conn: Connection, reason: str, since: int, version: int, created_at: dt.datetime) -> str:
    """The JSON an event sends: its type, when it happened, and the public change set."""
    from app.schemas import ChangesOut  # the API's shape of a change set

    found = changes_since(conn, since, until=version, include_drafts=False)
    changes = ChangesOut(
        since=since,
        version=version,
        added=found.added,
        updated=found.updated,
        deleted=found.deleted,
    )
    payload: dict[str, Any] = {
        "type": EVENT_TYPE,
        "timestamp": created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": {"reason": reason, **changes.model_dump(mode="json")},
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def send_due(engine: Engine, settings: Settings, *, now: dt.datetime, client: httpx.Client) -> int:
    """Attempt every delivery due at `now` (up to BATCH); return how many were attempted."""
    d, e = WEBHOOK_DELIVERIES.c, WEBHOOK_EVENTS.c
    with engine.connect() as conn:
        due = conn.execute(
            select(d.id, d.url, d.attempts, e.message_id, e.body)
            .join(WEBHOOK_EVENTS, e.id == d.event_id)
            .where(d.status == "pending", d.next_attempt_at <= now)
            .order_by(d.next_attempt_at, d.id)
            .limit(BATCH)
        ).all()
    configured = set(settings.webhook_urls)
    for delivery in due:
        if delivery.url not in configured or settings.webhook_secret is None:
            _record(engine, delivery.id, {"status": "failed", "last_error": _NOT_CONFIGURED})
            continue
        body = (delivery.body or "").encode()
        outcome = _attempt(settings, client, delivery.url, delivery.message_id, body, now)
        attempts = delivery.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "last_attempt_at": now, **outcome}
        if outcome["last_error"] is None:
            values.update(status="delivered", delivered_at=now, next_attempt_at=None)
        elif attempts >= settings.webhook_max_attempts:
            values.update(status="failed", next_attempt_at=None)
        else:
            values["next_attempt_at"] = now + retry_delay(settings, attempts)
        _record(engine, delivery.id, values)
    return len(due)


_NOT_CONFIGURED = "the URL is no longer in LEARNLOG_WEBHOOK_URLS (or no secret is set)"


def _attempt(
    settings: Settings,
    client: httpx.Client,
    url: str,
    message_id: str,
    body: bytes,
    now: dt.datetime,
) -> dict[str, Any]:
    """POST one signed message; the status code and the error (None on a 2xx answer)."""
    import httpx

    assert settings.webhook_secret is not None
    timestamp = int(now.timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": f"learnlog/{__version__}",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(
            settings.webhook_secret.get_secret_value(), message_id, timestamp, body
        ),
    }
    try:
        answer = client.post(url, content=body, headers=headers, timeout=settings.webhook_timeout)
    except httpx.HTTPError as error:
        # The reason, never the request (its headers carry the signature).
        reason = f"{type(error).__name__}: {error}"[:500]
        logger.warning("webhook delivery to %s failed: %s", url, reason)
        return {"last_status_code": None, "last_error": reason}
    if 200 <= answer.status_code < 300:
        return {"last_status_code": answer.status_code, "last_error": None}
    logger.warning("webhook delivery to %s answered %d", url, answer.status_code)
    return {"last_status_code": answer.status_code, "last_error": f"HTTP {answer.status_code}"}


def _record(engine: Engine, delivery_id: int, values: dict[str, Any]) -> None:
    """Store the outcome of an attempt."""
    with engine.begin() as conn:
        conn.execute(
            update(WEBHOOK_DELIVERIES)
            .where(WEBHOOK_DELIVERIES.c.id == delivery_id)
            .values(**values)
        )


def prune_events(engine: Engine, *, keep: int = KEEP_EVENTS) -> None:
    """Forget all but the newest `keep` events that are sent or given up (with deliveries)."""
    e = WEBHOOK_EVENTS.c
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(WEBHOOK_EVENTS)).scalar_one() <= keep:
            return
    with engine.begin() as conn:
        claim_write(conn)
        oldest_kept = select(e.id).order_by(e.id.desc()).limit(1).offset(keep).scalar_subquery()
        pending = select(WEBHOOK_DELIVERIES.c.event_id).where(
            WEBHOOK_DELIVERIES.c.status == "pending"
        )
        conn.execute(
            delete(WEBHOOK_EVENTS).where(
                e.id <= oldest_kept, e.message_id.is_not(None), e.id.not_in(pending)
            )
        )
