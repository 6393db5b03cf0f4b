"""One publishing loop at a time per database, across processes and replicas.

The same mechanisms as the ingest lock (app/ingest/lock.py), under another name, so a
long ingest never holds back a scheduled post: a PostgreSQL advisory lock with a key of
its own, or an exclusive `flock` on `<file>-publish-lock` beside a SQLite file. The lock
is tried once per round and never waited for: a replica that does not get it skips the
round, as another process is doing that work.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from app.ingest.lock import try_flock

# Another arbitrary constant: "learnpub", distinct from the ingest lock's "learnlog".
ADVISORY_KEY = 0x6C6561726E707562

_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()


@contextmanager
def publishing_lock(engine: Engine) -> Iterator[bool]:
    """Try the database's publishing lock for the block; yields whether it is held."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            held = bool(
                conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
                ).scalar_one()
            )
            try:
                yield held
            finally:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
        return
    database = engine.url.database
    if not database or database == ":memory:":
        # An in-memory database belongs to one process: a thread lock per URL suffices.
        with _memory_guard:
            lock = _memory_locks.setdefault(str(engine.url), threading.Lock())
        held = lock.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                lock.release()
        return
    path = Path(database).with_name(Path(database).name + "-publish-lock")
    with try_flock(path) as held:
        yield held
