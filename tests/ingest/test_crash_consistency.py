"""Crash consistency: an ingest killed at any moment leaves a database the next run repairs.

The ingest runs as a real `learnlog ingest` process (with its parser workers) and is
killed with SIGKILL, process group and all, at random moments after it has committed
at least one file: first while it loads a folder into an empty database, then again
after the folder has changed (files edited, deleted and added). A normal run then has to
leave exactly what a clean ingest of the final folder leaves, compared as a logical dump
of every content table keyed by the rows' public ids.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import SQLModel

from app.db import make_engine, migrate
from app.models import RUNS, STATE
from bench.generate import generate
from tests.conftest import SEED, create_database, postgres_url_or_skip

# Run bookkeeping, and the history a database keeps by design (tombstones for /changes,
# the version each row was written at), differ between a crashed history and a clean one.
_BOOKKEEPING_TABLES = {
    "ingest_runs",
    "ingest_problems",
    "ingest_manifests",
    "content_state",
    "deleted_posts",
    "webhook_events",  # one per run that changed content: killed runs make other ones
    "webhook_deliveries",
}
_BOOKKEEPING_COLUMNS = {"content_version", "created_version", "ingested_at", "updated_at"}
_SEARCH_WORDS = ("model", "latency", "attention", "kernels", "retrieval")

KILLS_WHILE_LOADING = 3
KILLS_AFTER_CHANGES = 2


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Two empty migrated databases on one engine: one to crash, one for the clean ingest."""
    if request.param == "sqlite":
        urls = [f"sqlite:///{tmp_path / name}.db" for name in ("crashed", "clean")]
    else:
        server = postgres_url_or_skip()
        urls = [create_database(server, f"learnlog_crash_{name}") for name in ("a", "b")]
    for url in urls:
        migrate(url)
    return urls[0], urls[1]


def _ingest_command(folder: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", "ingest", str(folder), "--database-url", url]


def _content_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(STATE.c.version)).scalar_one())


def _start(folder: Path, url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LEARNLOG_INGEST_WORKERS": "2"}
    return subprocess.Popen(
        _ingest_command(folder, url),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )


def _kill_after_a_commit(folder: Path, url: str, engine: Engine, rng: random.Random) -> bool:
    """Start an ingest, SIGKILL it at a random moment after its first commit.

    Returns False when the run finished before the chosen moment (nothing was killed).
    """
    before = _content_version(engine)
    process = _start(folder, url)
    deadline = time.monotonic() + 120
    while _content_version(engine) == before:
        if process.poll() is not None:
            stderr = process.communicate()[1].decode()
            if process.returncode == 2 and "another ingest" in stderr:
                # The killed run's PostgreSQL session can outlive it by a moment.
                time.sleep(0.2)
                process = _start(folder, url)
                continue
            pytest.fail(f"ingest ended before committing anything: {stderr}")
        assert time.monotonic() < deadline, "ingest committed nothing in 120 s"
        time.sleep(0.01)
    time.sleep(rng.uniform(0, 0.3))
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    return process.returncode == -signal.SIGKILL


def _ingest_to_the_end(folder: Path, url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        done = subprocess.run(_ingest_command(folder, url), capture_output=True, text=True)
        if done.returncode == 2 and "another ingest" in done.stderr:
            assert time.monotonic() < deadline, "the killed run's lock was never released"
            time.sleep(0.2)
            continue
        assert done.returncode == 0, done.stderr
        return


def _edit(folder: Path, rng: random.Random, count: int, note: str) -> list[Path]:
    """Change `count` random posts (so the next run has work to do); return the rest."""
    posts = sorted(folder.glob("*.md"))
    rng.shuffle(posts)
    for path in posts[:count]:
        path.write_text(path.read_text().replace("model", "network") + f"\n- {note}\n")
    return posts[count:]


def _change(folder: Path, rng: random.Random) -> None:
    """Edit, delete and add posts, the way an author's week of work does."""
    for path in _edit(folder, rng, 40, "A new note")[:15]:
        path.unlink()
    extra = folder.parent / "extra"
    generate(extra, posts=260, seed=7)
    for path in sorted(extra.glob("*.md"))[-20:]:
        shutil.move(path, folder / f"added-{path.name}")


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every content row, bookkeeping left out, in an order independent of history."""
    dump: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in _BOOKKEEPING_TABLES:
                continue
            columns = [c for c in table.columns if c.name not in _BOOKKEEPING_COLUMNS]
            rows = conn.execute(select(*columns)).all()
            dump[table.name] = sorted((tuple(row) for row in rows), key=repr)
        if engine.dialect.name == "sqlite":
            for word in _SEARCH_WORDS:
                for index, rows in (("entries_fts", "entries"), ("posts_fts", "posts")):
                    # The index points at SQLite rowids, which depend on history: the
                    # search answers are compared by the rows' public ids.
                    found = conn.execute(
                        text(
                            f"SELECT r.id FROM {index} JOIN {rows} r ON r.rowid = {index}.rowid"
                            f" WHERE {index} MATCH :word"
                        ),
                        {"word": word},
                    )
                    dump[f"{index}:{word}"] = sorted(tuple(row) for row in found)
    return dump


def _difference(
    table: str, got: list[tuple[Any, ...]], expected: list[tuple[Any, ...]], seed: int
) -> str:
    """Name the first differing row and the columns that differ in it."""
    for position, (mine, theirs) in enumerate(zip(got, expected, strict=False)):
        if mine != theirs:
            columns = [i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b]
            shown = {i: (mine[i], theirs[i]) for i in columns}
            return f"{table} row {position} differs in columns {shown} (seed {seed})"
    return f"{table}: {len(got)} rows after crashes, {len(expected)} clean (seed {seed})"


def test_killed_ingests_leave_what_a_clean_ingest_leaves(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    crashed_url, clean_url = databases
    folder = tmp_path / "content"
    generate(folder, posts=600, seed=3)
    shutil.copyfile(SEED, folder / SEED.name)
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    crashed = make_engine(crashed_url)
    try:
        kills = 0
        for attempt in range(KILLS_WHILE_LOADING):
            # A run that was killed early leaves most of the folder to do; edits make
            # sure a run that got far still leaves work for the next one.
            _edit(folder, rng, 60 * attempt, f"Edited before attempt {attempt}")
            kills += _kill_after_a_commit(folder, crashed_url, crashed, rng)
        _change(folder, rng)
        for attempt in range(KILLS_AFTER_CHANGES):
            _edit(folder, rng, 60 * attempt, f"Changed again before attempt {attempt}")
            kills += _kill_after_a_commit(folder, crashed_url, crashed, rng)
        assert kills >= 3, f"runs finished before they could be killed (seed {seed})"
        _ingest_to_the_end(folder, crashed_url)

        if crashed.dialect.name == "sqlite":
            with crashed.begin() as conn:
                for index in ("entries_fts", "posts_fts"):
                    conn.execute(text(f"INSERT INTO {index}({index}) VALUES('integrity-check')"))
        with crashed.connect() as conn:
            statuses = conn.execute(select(RUNS.c.status).order_by(RUNS.c.id)).scalars().all()
        # Every killed run is marked by the next one; none is left looking alive.
        assert statuses.count("interrupted") == kills, statuses
        assert statuses[-1] == "ok"

        _ingest_to_the_end(folder, clean_url)
        clean = make_engine(clean_url)
        try:
            expected = _dump(clean)
        finally:
            clean.dispose()
        got = _dump(crashed)
        assert expected["posts"], "the clean ingest stored nothing"
        for table, rows in expected.items():
            assert got[table] == rows, _difference(table, got[table], rows, seed)
        assert got.keys() == expected.keys()
    finally:
        crashed.dispose()
