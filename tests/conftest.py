"""Shared fixtures: a fresh migrated database per test, on SQLite and (if set up) PostgreSQL."""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from app.db import make_engine, migrate, normalize_url
from app.ingest.pipeline import RunSummary, run_ingest

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "content" / "2023-12-24-learning-logs.md"
CORPORA = REPO.parent / "shared" / "corpora"
POSTGRES_ENV = "LEARNLOG_TEST_POSTGRES_URL"

# Every table the ingest writes, children first, for resetting the shared PostgreSQL database.
_TABLES = (
    "ingest_problems, ingest_runs, entry_tags, post_tags, post_categories, links, entries, "
    "section_paths, sections, posts, tags, categories, domain_aliases, content_state, "
    "deleted_posts, link_checks, folders, webhook_deliveries, webhook_events, "
    "note_links, note_names, entry_blocks, post_fields, field_schemas"
)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps its caches in the session's tmp folder, never in the project."""
    set_hypothesis_home_dir(config._tmp_path_factory.getbasetemp() / "hypothesis")


# Helpers Python itself keeps for the life of the interpreter: not processes a test left.
_INTERPRETER_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """The suite ends with no process it started still running (servers, ingests, workers)."""
    yield
    children = [
        child
        for child in psutil.Process().children(recursive=True)
        if not any(helper in " ".join(_cmdline(child)) for helper in _INTERPRETER_HELPERS)
    ]
    # Processes told to stop a moment ago may still be on their way out.
    _, alive = psutil.wait_procs(children, timeout=15)
    for child in alive:
        child.kill()
    if alive:
        pytest.fail(
            "processes left running by the tests (now killed): "
            + "; ".join(" ".join(_cmdline(child))[:200] for child in alive)
        )


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def postgres_url_or_skip() -> str:
    """The PostgreSQL test URL; skip locally without one, fail in CI where it must exist."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{POSTGRES_ENV} is not set in CI")
    pytest.skip(f"{POSTGRES_ENV} not set: PostgreSQL variant skipped")


# The databases `create_database` made in this process, dropped as the session ends.
_CREATED: dict[str, str] = {}


def create_database(url: str, name: str) -> str:
    """Create (or recreate) a database named `name` plus this process's id next to `url`'s
    database and return its URL: test runs side by side on one server never share one."""
    name = f"{name}_{os.getpid()}"
    _drop_database(url, name, create=True)
    _CREATED[name] = url
    return make_url(normalize_url(url)).set(database=name).render_as_string(hide_password=False)


def _drop_database(url: str, name: str, *, create: bool = False) -> None:
    """Drop database `name` next to `url`'s database (and create it afresh if asked)."""
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if create:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _drop_created_databases() -> Iterator[None]:
    """Drop every database the session's tests created."""
    yield
    while _CREATED:
        name, url = _CREATED.popitem()
        _drop_database(url, name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test copies it (far faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> str:
    """A PostgreSQL database migrated once per session, dropped at the end."""
    url = postgres_url_or_skip()
    test_url = create_database(url, "learnlog_test")
    migrate(test_url)
    return test_url


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A freshly migrated, empty database on each engine."""
    if request.param == "sqlite":
        database = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), database)
        created = make_engine(f"sqlite:///{database}")
    else:
        created = make_engine(request.getfixturevalue("postgres_database"))
        with created.begin() as conn:
            conn.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
            conn.execute(
                text("INSERT INTO content_state (id, version, aliases_hash) VALUES (1, 0, '')")
            )
    yield created
    created.dispose()


Ingest = Callable[..., RunSummary]


@pytest.fixture
def ingest(engine: Engine) -> Ingest:
    """Run an ingest of a folder into the test database (sequential unless told otherwise)."""

    def run(root: Path, **options: object) -> RunSummary:
        options.setdefault("max_file_bytes", 5 * 1024 * 1024)
        options.setdefault("workers", 1)
        aliases = root / "domains.yml"
        options.setdefault("aliases_file", aliases if aliases.is_file() else None)
        return run_ingest(engine, root, **options)  # type: ignore[arg-type]

    return run


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A content folder holding only the seed post."""
    folder = tmp_path / "seed"
    folder.mkdir()
    shutil.copyfile(SEED, folder / SEED.name)
    return folder
