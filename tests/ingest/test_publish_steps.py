"""A publish step is one transaction that posts join group by group as they are parsed."""

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.ingest import pipeline, sync
from tests.conftest import Ingest


def _count(engine: Engine, sql: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def _folder(tmp_path: Path, posts: int) -> Path:
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(posts):
        (folder / f"2024-01-{number:03d}-post.md").write_text(f"## A\n* entry {number}\n")
    return folder


def test_a_step_of_several_groups_is_one_content_version(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "_GROUP", 4)
    monkeypatch.setattr(pipeline, "_WRITE_SECONDS", 3600.0)  # steps end by size alone
    folder = _folder(tmp_path, 30)
    before = _count(engine, "SELECT version FROM content_state")
    summary = ingest(folder)
    assert (summary.added, summary.failed) == (30, 0)
    assert _count(engine, "SELECT COUNT(*) FROM entries") == 30
    # 30 posts in steps of 50: one step, one version (the run's own record adds none).
    assert summary.content_version == before + 1  # type: ignore[operator]
    assert _count(engine, "SELECT COUNT(DISTINCT content_version) FROM posts") == 1


def test_a_refused_post_in_a_later_group_fails_alone(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "_GROUP", 4)
    folder = _folder(tmp_path, 30)
    refused = "2024-01-021-post.md"
    real_row = sync._post_row

    def row_with_bad_slug(
        root: str, post: sync.PostWrite, version: int, created: int
    ) -> dict[str, object]:
        row = real_row(root, post, version, created)
        if post.path == refused:
            row["slug"] = None  # NOT NULL: every engine refuses this row
        return row

    monkeypatch.setattr(sync, "_post_row", row_with_bad_slug)
    summary = ingest(folder)
    assert (summary.added, [p.path for p in summary.failures]) == (29, [refused])
    assert _count(engine, "SELECT COUNT(*) FROM posts") == 29
    # Nothing of the refused post was kept: its group's other posts are whole.
    assert _count(engine, "SELECT COUNT(*) FROM entries") == 29
    assert _count(engine, "SELECT COUNT(*) FROM entries WHERE text = 'entry 21'") == 0


def test_a_run_that_stops_mid_step_publishes_none_of_the_step(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "_GROUP", 4)
    monkeypatch.setattr(pipeline, "_WRITE_SECONDS", 3600.0)
    folder = _folder(tmp_path, 30)
    real_row = sync._post_row

    def row_then_stop(
        root: str, post: sync.PostWrite, version: int, created: int
    ) -> dict[str, object]:
        if post.path == "2024-01-021-post.md":
            raise KeyboardInterrupt
        return real_row(root, post, version, created)

    monkeypatch.setattr(sync, "_post_row", row_then_stop)
    with pytest.raises(KeyboardInterrupt):
        ingest(folder)
    # Five groups were written in the step's transaction; it was rolled back whole.
    assert _count(engine, "SELECT COUNT(*) FROM posts") == 0
    assert _count(engine, "SELECT status FROM ingest_runs") == "interrupted"


class _Result:
    """A parse result that arrives only after the writer has been told it waits."""

    def __init__(self, value: list[object], calls: list[str]) -> None:
        self.value, self.calls = value, calls

    def ready(self) -> bool:
        return "idle" in self.calls

    def wait(self, timeout: float) -> None:
        self.calls.append(f"wait {timeout}")

    def get(self) -> list[object]:
        return self.value


class _Pool:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def apply_async(self, _function: object, args: tuple[object, ...]) -> _Result:
        return _Result([args[0]], self.calls)


def test_a_writer_kept_waiting_for_parsed_posts_publishes_what_it_holds() -> None:
    calls: list[str] = []
    results = pipeline._windowed(
        _Pool(calls),  # type: ignore[arg-type]
        iter([["a"], ["b"]]),  # type: ignore[list-item]
        1,
        window=4,
        site=("plain", ""),
        idle=lambda: calls.append("idle"),
    )
    assert list(results) == [["a"], ["b"]]
    # The first result kept it waiting: it waited _IDLE_SECONDS, then published once; the
    # second was ready by then.
    assert calls == [f"wait {pipeline._IDLE_SECONDS}", "idle"]
