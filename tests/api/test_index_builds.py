"""Background index builds follow the content once it settles, not every publish step."""

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.db import snapshot
from app.models import current_version
from app.queries import entry_index
from app.queries.entry_index import IndexHolder
from tests.conftest import Ingest


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _ask(holder: IndexHolder, engine: Engine) -> int:
    """One request's look at the index; the content version it read."""
    with snapshot(engine) as conn:
        version = current_version(conn)
        holder.get(conn, version)
    return version


def _wait_for_build(holder: IndexHolder, builds: int) -> None:
    deadline = time.monotonic() + 60  # the real clock: the build runs in a thread
    while holder.builds < builds and time.monotonic() < deadline:
        time.sleep(0.01)
    assert holder.builds == builds


def test_builds_wait_until_the_content_settles(
    tmp_path: Path, engine: Engine, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(entry_index, "INLINE_BUILD_LIMIT", 0)  # every build in the background
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "0.md").write_text("* zero\n")
    ingest(folder)
    holder = IndexHolder(engine, clock=clock)
    holder.warm()
    assert holder.builds == 1

    # An ingest publishing a step every few seconds: no build while it goes on...
    for step in range(1, 6):
        (folder / f"{step}.md").write_text(f"* post {step}\n")
        ingest(folder)
        _ask(holder, engine)
        clock.now += entry_index.QUIET_SECONDS / 2
    assert holder.builds == 1
    # ...then, once nothing new came for QUIET_SECONDS, one build for the newest version.
    clock.now += entry_index.QUIET_SECONDS
    version = _ask(holder, engine)
    clock.now += 3600  # the build's own cooldown bookkeeping reads the same clock
    _wait_for_build(holder, 2)
    assert holder.current is not None
    assert holder.current.version == version


def test_a_long_ingest_still_gets_a_rebuild_now_and_then(
    tmp_path: Path, engine: Engine, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(entry_index, "INLINE_BUILD_LIMIT", 0)
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "0.md").write_text("* zero\n")
    ingest(folder)
    holder = IndexHolder(engine, clock=clock)
    holder.warm()
    step = 0
    while clock.now - 1000.0 < entry_index.BUSY_REBUILD_SECONDS:
        step += 1
        (folder / f"{step}.md").write_text(f"* post {step}\n")
        ingest(folder)
        _ask(holder, engine)
        clock.now += entry_index.QUIET_SECONDS / 2
    assert holder.builds == 1
    _ask(holder, engine)
    clock.now += 3600  # the build's own cooldown bookkeeping reads the same clock
    _wait_for_build(holder, 2)
