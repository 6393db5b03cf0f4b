"""The secret signing page cursors: one per database, shared by every API process on it.

Migration 0006 stores it in `content_state`; a database whose state row lost it (reset,
restored, seeded by hand) gets a new one on first need. Each process reads it once per
engine.
"""

import secrets
import threading
import weakref

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.models import STATE

SECRET_BYTES = 32

_secrets: "weakref.WeakKeyDictionary[Engine, bytes]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def cursor_secret(engine: Engine) -> bytes:
    """This database's cursor secret, created if it has none; read once per engine."""
    found = _secrets.get(engine)
    if found is None:
        found = _stored(engine) or _create(engine)
        with _lock:
            found = _secrets.setdefault(engine, found)
    return found


def cached_cursor_secret(engine: Engine) -> bytes | None:
    """The secret when this process has read it already (no database access), else None."""
    return _secrets.get(engine)


def _stored(engine: Engine) -> bytes | None:
    """The secret the database holds, or None."""
    with engine.connect() as conn:
        stored = conn.execute(select(STATE.c.cursor_secret).where(STATE.c.id == 1)).scalar()
    return bytes.fromhex(stored) if stored else None


def _create(engine: Engine) -> bytes:
    """Store a new secret unless another process stored one first; the one stored.

    Processes starting at once each try: the UPDATE only fills an empty column, so the
    first commit wins and every process then reads the winner's secret.
    """
    fresh = secrets.token_hex(SECRET_BYTES)
    with engine.begin() as conn:
        filled = conn.execute(
            update(STATE)
            .where(STATE.c.id == 1, STATE.c.cursor_secret.is_(None))
            .values(cursor_secret=fresh)
        ).rowcount
    if not filled:
        try:
            with engine.begin() as conn:  # no state row at all (a table emptied by hand)
                row = {"id": 1, "version": 0, "aliases_hash": "", "cursor_secret": fresh}
                conn.execute(insert(STATE).values(**row))
        except IntegrityError:
            pass  # another process inserted it first: read theirs
    stored = _stored(engine)
    if stored is None:
        raise RuntimeError("content_state holds no cursor secret after storing one")
    return stored
