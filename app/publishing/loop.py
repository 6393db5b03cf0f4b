"""The publishing loop every server of the app runs (LEARNLOG_PUBLISHING, on by default).

Each round, under the database's publishing lock (tried, never waited for: replicas that
miss it skip the round), it makes due scheduled posts public, turns queued events into
deliveries and sends the due ones. Rounds run in a worker thread, every
publish_interval seconds, until the app stops; a round that fails (the database is
unreachable) is logged and the next one tries again.
"""

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

import httpx
from sqlalchemy import Engine

from app.publishing.lock import publishing_lock
from app.publishing.schedule import publish_due
from app.publishing.webhooks import fan_out, prune_events, send_due
from app.settings import Settings

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def utc_clock() -> dt.datetime:
    """Now, in UTC: the loop's clock unless a test gives it another."""
    return dt.datetime.now(dt.UTC)


def publishing_round(
    engine: Engine, settings: Settings, *, now: dt.datetime, client: httpx.Client
) -> bool:
    """One round at `now`; False when another process holds the lock (nothing done)."""
    with publishing_lock(engine) as held:
        if not held:
            return False
        version = publish_due(engine, now=now)
        if version is not None:
            logger.info("scheduled posts went live: content version %d", version)
        fan_out(engine, settings, now=now)
        send_due(engine, settings, now=now, client=client)
        prune_events(engine)
        return True


async def publishing_loop(
    engine: Engine, settings: Settings, *, clock: Clock, stop: asyncio.Event
) -> None:
    """Run rounds until `stop` is set (the app's shutdown)."""
    # Redirects are not followed: a receiver answers for itself, or the attempt fails.
    with httpx.Client(follow_redirects=False) as client:
        while not stop.is_set():
            try:
                await asyncio.to_thread(
                    publishing_round, engine, settings, now=clock(), client=client
                )
            except Exception:
                logger.exception("publishing round failed; the next round tries again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.publish_interval)
