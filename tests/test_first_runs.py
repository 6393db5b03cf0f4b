"""Two first runs on one empty database at once: migrations never race (both engines)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import SCHEMA_HEAD, make_engine, schema_revision
from tests.conftest import REPO, create_database, postgres_url_or_skip

TRIES = 5
DEADLINE_SECONDS = 300


def _empty_database(engine_name: str, tmp_path: Path, attempt: int) -> str:
    if engine_name == "sqlite":
        return f"sqlite:///{tmp_path / f'first-{attempt}.db'}"
    return create_database(postgres_url_or_skip(), "learnlog_first_runs")


def _start(*args: str) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEARNLOG_")}
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _finish(processes: list[subprocess.Popen[bytes]]) -> list[tuple[int, str]]:
    """Wait for every process (killing all on the deadline); their status and output."""
    results = []
    try:
        for process in processes:
            output, _ = process.communicate(timeout=DEADLINE_SECONDS)
            results.append((process.returncode, output.decode(errors="replace")))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_two_first_ingests_at_once_never_race_on_migrations(
    tmp_path: Path, engine_name: str
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    for day in range(1, 21):
        (folder / f"2024-01-{day:02d}-log.md").write_text(f"## GenAI\n* item {day}\n")
    for attempt in range(TRIES):
        url = _empty_database(engine_name, tmp_path, attempt)
        results = _finish([_start("ingest", str(folder), "--database-url", url) for _ in range(2)])
        for status, output in results:
            assert "Traceback" not in output, output
            assert status == 0 or (status == 2 and "another ingest is running" in output), output
        assert any(status == 0 for status, _ in results)
        engine = make_engine(url)
        try:
            assert schema_revision(engine) == SCHEMA_HEAD
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM posts")).scalar_one() == 20
        finally:
            engine.dispose()


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_two_migrations_at_once_both_succeed(tmp_path: Path, engine_name: str) -> None:
    for attempt in range(TRIES):
        url = _empty_database(engine_name, tmp_path, attempt)
        results = _finish([_start("migrate", "--database-url", url) for _ in range(2)])
        for status, output in results:
            assert status == 0, output
            assert "database is at the latest revision" in output
        engine = make_engine(url)
        try:
            assert schema_revision(engine) == SCHEMA_HEAD
        finally:
            engine.dispose()
