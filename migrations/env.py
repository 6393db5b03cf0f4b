"""Alembic environment: runs migrations against the URL the caller configured."""

from alembic import context
from sqlalchemy import pool
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on the metadata)
from app.db import make_engine

config = context.config
target_metadata = SQLModel.metadata

# Full-text indexes are engine-specific and live only in the migrations (revision 0002).
_FULL_TEXT_TABLES = ("entries_fts", "posts_fts")
_FULL_TEXT_NAMES = {"search", "ix_entries_search", "ix_posts_search"}


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Leave the full-text tables, columns and indexes out of Alembic's comparison."""
    if type_ == "table" and name is not None and name.startswith(_FULL_TEXT_TABLES):
        return False
    return not (type_ in ("column", "index") and name in _FULL_TEXT_NAMES)


def run_migrations_offline() -> None:
    """Emit SQL for the configured URL without connecting."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Connect and migrate; an existing connection passed by the caller is reused."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    """Configure the context on `connection` and run the pending revisions."""
    if connection.dialect.name == "sqlite":  # type: ignore[attr-defined]
        # A batch migration rebuilds a table by dropping it: with foreign keys enforced,
        # dropping `posts` would delete every section, entry and link below it. (Only
        # possible outside a transaction, hence on the driver's connection.)
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[attr-defined]
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
