"""Engine construction, SQLite pragmas, and schema migration helpers."""

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and route them to psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine; SQLite connections get WAL, foreign keys and a busy timeout."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        target = make_url(url).database
        if target and target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
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
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 8 MB of page cache (the default is 2 MB): ingest updates indexes all over the file.
    cursor.execute("PRAGMA cache_size=-8000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """Start SQLAlchemy's transaction in SQLite too: one snapshot for every statement in it."""
    conn.exec_driver_sql("BEGIN")


def alembic_config(url: str) -> Any:
    """An Alembic Config pointing at the bundled migrations and at `url`."""
    from alembic.config import Config

    config = Config()
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
SCHEMA_HEAD = "0003"


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
