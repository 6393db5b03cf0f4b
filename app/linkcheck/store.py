"""The link checker's reads and writes: which addresses are due, and their results in bulk."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, Insert, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.linkcheck.probe import ProbeResult, Target
from app.models import LINK_CHECKS, LINKS, STATE, current_version

# Only http(s) links are probed; their keys are all spelled https:// (app/ingest/links.py).
_PROBED_KEY = "https://%"


@dataclass(frozen=True, slots=True)
class DueAddresses:
    """The addresses a check run looks at: those to probe, and how many were fresh."""

    targets: list[Target]
    fresh: int


def due_addresses(
    engine: Engine, *, hosts: Sequence[str], max_age: dt.timedelta, force: bool, now: dt.datetime
) -> DueAddresses:
    """Every distinct http(s) address in the links (of `hosts`, if given) not checked recently.

    An address is fresh when its last check is younger than `max_age`; `force` probes
    those too. Each address is probed at one of its spellings (the first in sort order).
    """
    link, check = LINKS.c, LINK_CHECKS.c
    scope = [link.url_key.like(_PROBED_KEY), link.host.is_not(None)]
    if hosts:
        scope.append(link.host.in_(sorted(hosts)))
    query = (
        select(link.url_key, func.min(link.url), func.max(check.checked_at))
        .select_from(LINKS.outerjoin(LINK_CHECKS, check.url_key == link.url_key))
        .where(*scope)
        .group_by(link.url_key)
        .order_by(link.url_key)
    )
    cutoff = now - max_age
    targets: list[Target] = []
    fresh = 0
    with engine.connect() as conn:
        for key, url, checked_at in conn.execute(query):
            if not force and checked_at is not None and _aware(checked_at) > cutoff:
                fresh += 1
            else:
                targets.append(Target(url_key=key, url=url))
    return DueAddresses(targets=targets, fresh=fresh)


def save_results(engine: Engine, results: Sequence[ProbeResult]) -> None:
    """Store a batch of results in one statement, replacing earlier results of the same keys."""
    if not results:
        return
    rows = [
        {
            "url_key": r.url_key,
            "url": r.url,
            "outcome": r.outcome.value,
            "http_status": r.http_status,
            "final_url": r.final_url,
            "checked_at": r.checked_at,
            "elapsed_ms": r.elapsed_ms,
            "error": r.error,
        }
        for r in results
    ]
    # One run may probe a key only once, but a batch must never hold it twice (ON CONFLICT
    # cannot touch a row twice in one statement on PostgreSQL).
    unique = list({row["url_key"]: row for row in rows}.values())
    with engine.begin() as conn:
        conn.execute(_upsert(engine.dialect.name), unique)


def bump_content_version(engine: Engine) -> int:
    """Advance the content version, so ETags and caches see the new results; return it."""
    with engine.begin() as conn:
        conn.execute(
            update(STATE)
            .where(STATE.c.id == 1)
            .values(version=STATE.c.version + 1, updated_at=dt.datetime.now(dt.UTC))
        )
        return current_version(conn)


def _upsert(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT (url_key) DO UPDATE for this engine."""
    if dialect == "postgresql":
        pg = postgresql.insert(LINK_CHECKS)
        columns = {c.name: pg.excluded[c.name] for c in LINK_CHECKS.c if c.name != "url_key"}
        return pg.on_conflict_do_update(index_elements=[LINK_CHECKS.c.url_key], set_=columns)
    lite = sqlite.insert(LINK_CHECKS)
    columns = {c.name: lite.excluded[c.name] for c in LINK_CHECKS.c if c.name != "url_key"}
    return lite.on_conflict_do_update(index_elements=[LINK_CHECKS.c.url_key], set_=columns)


def _aware(moment: dt.datetime) -> dt.datetime:
    """A stored moment as an aware UTC datetime (SQLite hands back naive ones)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def host_filter(values: Sequence[str]) -> list[str]:
    """Host names as links store them: lowercased, without `www.`."""
    return sorted({v.strip().lower().removeprefix("www.") for v in values if v.strip()})
