"""One ingest at a time per database, across processes, on both engines.

PostgreSQL: a session-level advisory lock held by a dedicated connection for the whole
run (released when it closes, even if the process dies). SQLite: an exclusive `flock` on
a file beside the database (`<file>.ingest-lock`), which the kernel releases when the
process dies. In-memory SQLite databases belong to one process: a thread lock suffices.
"""

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: app/ingest/unchanged.py takes the file lock alone
    from sqlalchemy import Engine

# An arbitrary constant naming learnlog's ingest lock among a database's advisory locks.
ADVISORY_KEY = 0x6C6561726E6C6F67  # "learnlog"

_memory_lock = threading.Lock()

# How often a waiting caller tries the lock again.
_RETRY_SECONDS = 0.1


class IngestBusy(RuntimeError):
    """Another ingest holds this database's lock."""


@contextmanager
def ingest_lock(engine: "Engine", *, wait: float = 0) -> Iterator[None]:
    """Hold the database's ingest lock for the block; raise IngestBusy when another holder
    keeps it for longer than `wait` seconds (0: do not wait).

    Migrations take it too (waiting), so that two first runs never migrate at once.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            with _held(engine):
                yield
            return
        except _Taken as taken:
            if time.monotonic() >= deadline:
                raise IngestBusy(str(taken)) from None
        time.sleep(_RETRY_SECONDS)


class _Taken(Exception):
    """The lock is held elsewhere (raised before the block runs, never from inside it)."""


@contextmanager
def _held(engine: "Engine") -> Iterator[None]:
    """Hold the lock for the block, or raise _Taken at once."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine):
            yield
        return
    database = engine.url.database
    if not database or database == ":memory:":
        if not _memory_lock.acquire(blocking=False):
            raise _Taken("another ingest is running in this process")
        try:
            yield
        finally:
            _memory_lock.release()
        return
    with _file_lock(lock_file(database)):
        yield


@contextmanager
def _advisory(engine: "Engine") -> Iterator[None]:
    from sqlalchemy import text

    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        held = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        if not held.scalar_one():
            raise _Taken("another ingest is running on this database")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})


def lock_file(database: str) -> Path:
    """The file whose `flock` is the ingest lock of the SQLite file `database` (as named)."""
    return Path(database).with_name(Path(database).name + ".ingest-lock")


@contextmanager
def try_flock(path: Path) -> Iterator[bool]:
    """Hold an exclusive `flock` on `path` (created if missing) for the block if it is
    free; yields whether it is held. The kernel releases it if the process dies."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with try_flock(path) as held:
        if not held:
            raise _Taken("another ingest is running on this database")
        yield
