"""Engine construction, SQLite pragmas, query time limits, and schema migration helpers."""

import contextlib
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and route them to psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# The API's pool: requests hold at most REQUEST_CONNECTIONS of its connections at once
# (`app.api.deps.connection` waits its turn without blocking the event loop); the rest
# are for the entry index build, health checks and admin jobs, which run in threads.
SERVING_POOL_SIZE = 16
SERVING_MAX_OVERFLOW = 8
REQUEST_CONNECTIONS = 20


def make_engine(url: str, *, serving: bool = False, **kwargs: Any) -> Engine:
    """Build an engine; SQLite connections get WAL, foreign keys and a busy timeout.

    `serving` (the API's engine): a pool sized for REQUEST_CONNECTIONS, and SQLite reads
    the file through a memory map. No read() per page, and mapped pages stay resident
    where the host reclaims idle page cache (DAMON reclaim on VMs): there, read() misses
    stalled the event loop for 100-600 ms. Not for the ingest, whose mapped pages would
    count as its memory.
    """
    url = normalize_url(url)
    target = make_url(url).database
    in_memory = url.startswith("sqlite") and (not target or target == ":memory:")
    if serving and not in_memory:  # one connection in all for an in-memory database
        kwargs.setdefault("pool_size", SERVING_POOL_SIZE)
        kwargs.setdefault("max_overflow", SERVING_MAX_OVERFLOW)
    if url.startswith("sqlite"):
        if target and not in_memory:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if serving:
            event.listen(engine, "connect", _sqlite_memory_map)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # JIT compiling costs 250-370 ms on tag-filtered pages whose plans look expensive but
    # run in under 100 ms; the API's queries are all short.
    kwargs.setdefault("connect_args", {"options": "-c jit=off"})
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite settings: readers never block the single writer."""
    # The driver would open transactions only before writes, so each SELECT of a request
    # would see its own snapshot; SQLAlchemy's BEGIN (below) makes one transaction of all.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # First: switching a new file to WAL needs its lock, and without a timeout a second
    # process arriving while the first migrates failed at once ("database is locked").
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # 8 MB of page cache (the default is 2 MB): ingest updates indexes all over the file.
    cursor.execute("PRAGMA cache_size=-8000")
    cursor.close()


def _sqlite_memory_map(dbapi_connection: Any, _record: Any) -> None:
    # Up to 2 GiB, or SQLite's compile-time maximum if that is lower.
    dbapi_connection.execute("PRAGMA mmap_size=2147483648")


def _sqlite_begin(conn: Any) -> None:
    """Start SQLAlchemy's transaction in SQLite too: one snapshot for every statement in it."""
    conn.exec_driver_sql("BEGIN")


# SQLite calls the progress handler every this many virtual machine steps (about a
# millisecond of work): often enough to stop on time, rarely enough to cost nothing.
_PROGRESS_STEPS = 10_000


@contextlib.contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only connection whose every statement sees the same committed state.

    PostgreSQL needs REPEATABLE READ for that (at READ COMMITTED each statement sees the
    commits made since the one before: a post, then its entries from a later ingest); on
    SQLite the engine's BEGIN (below) already makes one snapshot of a transaction.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield conn


@contextlib.contextmanager
def time_limit(conn: Connection, milliseconds: int) -> Iterator[None]:
    """Cancel what `conn` runs in this block once it has taken longer than `milliseconds`.

    PostgreSQL cancels each statement that runs past the limit (`statement_timeout` for
    this transaction only); SQLite interrupts any statement still running when the block
    has lasted that long. Either way the statement raises an error `is_timeout` knows.
    0 means no limit.
    """
    if milliseconds <= 0:
        yield
        return
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(milliseconds)}")
        yield
        return
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    deadline = time.monotonic() + milliseconds / 1000
    raw.set_progress_handler(lambda: time.monotonic() > deadline, _PROGRESS_STEPS)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


def is_timeout(error: BaseException) -> bool:
    """Whether a database error is a statement cut off by `time_limit`."""
    cause = getattr(error, "orig", error)
    psycopg = sys.modules.get("psycopg")  # loaded only when PostgreSQL is in use
    if psycopg is not None and isinstance(cause, psycopg.errors.QueryCanceled):
        return True
    return isinstance(cause, sqlite3.OperationalError) and str(cause) == "interrupted"


class DatabaseNotReady(Exception):
    """The database to read does not exist, cannot be read, or is not at the schema head."""


def open_current(url: str) -> Engine:
    """An engine on an existing learnlog database at the latest schema, for reading it.

    Raises DatabaseNotReady, saying what is wrong and what to run, instead of creating a
    missing SQLite file or reading an outdated schema.
    """
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise DatabaseNotReady("an in-memory database holds nothing to read")
        if not Path(parsed.database).is_file():
            raise DatabaseNotReady(
                f"{parsed.database}: no such database file; run `learnlog ingest` to create it"
            )
    engine = make_engine(url)
    try:
        revision = schema_revision(engine)
    except SQLAlchemyError as error:
        engine.dispose()
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise DatabaseNotReady(f"cannot read the database: {reason}") from None
    if revision != SCHEMA_HEAD:
        engine.dispose()
        if revision is None:
            raise DatabaseNotReady("the database has no learnlog tables; run `learnlog ingest`")
        raise DatabaseNotReady(
            f"the database is at revision {revision}, not the latest; run `learnlog migrate`"
        )
    return engine


def alembic_config(url: str) -> Any:
    """An Alembic Config pointing at the bundled migrations and at `url`."""
    from alembic.config import Config

    # Alembic's own default is the sys.stdout of the moment it was imported: a stream a
    # test runner may have closed since.
    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def schema_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


# The newest migration's revision id. Kept here so that checking a database is current
# does not load Alembic (a test holds it equal to the migrations' real head).
SCHEMA_HEAD = "0011"


def head_revision() -> str:
    """The newest revision the bundled migrations know, as Alembic computes it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def ensure_schema(engine: Engine) -> None:
    """Migrate a brand-new database; refuse one that is behind (that needs `learnlog migrate`)."""
    current = schema_revision(engine)
    url = engine.url.render_as_string(hide_password=False)
    if current is None:
        migrate(url)
    elif current != SCHEMA_HEAD:
        raise SchemaBehindError(current)


class SchemaBehindError(RuntimeError):
    """The database schema is older than this version of learnlog."""

    def __init__(self, current: str) -> None:
        super().__init__(
            f"database schema is at revision {current}, not the latest; run `learnlog migrate`"
        )
