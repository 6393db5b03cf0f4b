"""One ingest at a time per database, across processes, on both engines.

PostgreSQL: a session-level advisory lock held by a dedicated connection for the whole
run (released when it closes, even if the process dies). SQLite: an exclusive `flock` on
a file beside the database (`<file>.ingest-lock`), which the kernel releases when the
process dies. In-memory SQLite databases belong to one process: a thread lock suffices.
"""

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

# An arbitrary constant naming learnlog's ingest lock among a database's advisory locks.
ADVISORY_KEY = 0x6C6561726E6C6F67  # "learnlog"

_memory_lock = threading.Lock()


class IngestBusy(RuntimeError):
    """Another ingest holds this database's lock."""


@contextmanager
def ingest_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's ingest lock for the block, or raise IngestBusy at once."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine):
            yield
        return
    database = engine.url.database
    if not database or database == ":memory:":
        if not _memory_lock.acquire(blocking=False):
            raise IngestBusy("another ingest is running in this process")
        try:
            yield
        finally:
            _memory_lock.release()
        return
    with _file_lock(Path(database).with_name(Path(database).name + ".ingest-lock")):
        yield


@contextmanager
def _advisory(engine: Engine) -> Iterator[None]:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        held = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        if not held.scalar_one():
            raise IngestBusy("another ingest is running on this database")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestBusy("another ingest is running on this database") from None
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
