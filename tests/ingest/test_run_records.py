"""Every run ends its record, leaves no unused term behind, and history stays bounded."""

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.ingest import pipeline
from app.ingest.lock import ingest_lock
from tests.conftest import Ingest


def _runs(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [
            (row[0], row[1])
            for row in conn.execute(text("SELECT id, status FROM ingest_runs ORDER BY id"))
        ]


def _folder(tmp_path: Path, posts: int = 3) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    for number in range(posts):
        (folder / f"2024-01-0{number + 1}-log.md").write_text(
            f"---\ntags: [t{number}]\ncategory: c{number}\n---\n## GenAI\n* item {number}\n"
        )
    return folder


@pytest.mark.parametrize("stop", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_a_run_stopped_by_an_error_or_a_signal_ends_its_record(
    tmp_path: Path,
    engine: Engine,
    ingest: Ingest,
    monkeypatch: pytest.MonkeyPatch,
    stop: BaseException,
) -> None:
    folder = _folder(tmp_path)

    def broken(*_args: object) -> object:
        raise stop

    monkeypatch.setattr(pipeline, "parse_all", broken)
    with pytest.raises(type(stop)):
        ingest(folder)
    expected = "interrupted" if isinstance(stop, KeyboardInterrupt) else "failed"
    assert _runs(engine) == [(1, expected)]
    if expected == "failed":
        with engine.connect() as conn:
            reason = conn.execute(text("SELECT reason FROM ingest_problems")).scalar_one()
        assert reason == "the run stopped: RuntimeError: disk on fire"
    with ingest_lock(engine):  # released: another run may start
        pass
    monkeypatch.undo()
    assert ingest(folder).added == 3


def test_unused_terms_left_by_a_cut_off_run_go_at_the_next_run(
    tmp_path: Path, engine: Engine, ingest: Ingest
) -> None:
    folder = _folder(tmp_path)
    ingest(folder)
    # What a run killed between its last post commit and its cleanup leaves behind.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM posts WHERE source_path = '2024-01-01-log.md'"))
    (folder / "2024-01-01-log.md").unlink()
    summary = ingest(folder)  # nothing left to change in the folder
    assert (summary.added, summary.updated, summary.deleted) == (0, 0, 0)
    with engine.connect() as conn:
        tags = conn.execute(text("SELECT slug FROM tags ORDER BY slug")).scalars().all()
        categories = conn.execute(text("SELECT slug FROM categories ORDER BY slug")).scalars().all()
    assert tags == ["t1", "t2"]
    assert categories == ["c1", "c2"]


def test_history_keeps_the_newest_runs_and_failed_ones_longer(
    tmp_path: Path, engine: Engine, ingest: Ingest
) -> None:
    folder = _folder(tmp_path)
    for run in range(6):
        bad = folder / "bad.md"
        if run in (1, 2):
            bad.write_text("---\ndate: [\n---\n")
        elif bad.exists():
            bad.unlink()
        ingest(folder, keep_runs=2, keep_failed_runs=3)
    assert _runs(engine) == [(2, "failed"), (3, "failed"), (5, "ok"), (6, "ok")]
    with engine.connect() as conn:
        problem_runs = (
            conn.execute(text("SELECT DISTINCT run_id FROM ingest_problems ORDER BY run_id"))
            .scalars()
            .all()
        )
    assert problem_runs == [2, 3]  # the problems of forgotten runs went with them


def test_large_runs_publish_in_fewer_larger_steps() -> None:
    small, large, huge = (pipeline._PublishSteps(n) for n in (300, 4_000, 100_000))
    assert small.posts == 50
    assert large.posts == 200
    assert huge.posts == 500  # 200 versions for 100,000 files, not 2,000
    assert small.seconds < large.seconds < huge.seconds <= 5.0
    assert huge.due(500, 0.1)
    assert not huge.due(499, 0.1)
    assert huge.due(1, 5.1)


def test_a_file_refused_by_discovery_keeps_what_was_stored_of_it(
    tmp_path: Path, engine: Engine, ingest: Ingest
) -> None:
    folder = _folder(tmp_path)
    ingest(folder)
    post = folder / "2024-01-01-log.md"
    post.unlink()
    os.mkfifo(post)  # what a bad restore or a tool's socket might leave under the same name
    summary = ingest(folder)
    assert summary.failed == 1
    assert summary.deleted == 0
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT count(*) FROM posts")).scalar_one()
    assert kept == 3
