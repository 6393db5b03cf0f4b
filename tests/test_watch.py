"""`learnlog serve --watch`: saved files reach the API within seconds; noise does not."""

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from app import watch
from app.db import make_engine
from app.ingest.lock import ingest_lock
from app.ingest.pipeline import RunSummary
from app.settings import Settings
from app.watch import ContentWatcher
from tests.conftest import SEED
from tests.servers import learnlog_server

# Waits end as soon as their condition holds: the deadline only bounds a failure, so it
# can be generous enough for a cold start on a loaded machine.
DEADLINE_S = 60.0

NEW_POST = """---
title: Watched
date: 2024-01-01
---
## Notes
* {text}
"""


def _wait_for(check: Callable[[], bool], what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def folder(seed_dir: Path) -> Path:
    """The watched content folder: the seed post alone."""
    return seed_dir


def _watcher(folder: Path, tmp_path: Path, **callbacks: Callable[..., None]) -> ContentWatcher:
    settings = Settings(content_dir=folder, database_url=f"sqlite:///{tmp_path / 'w.db'}")
    callbacks.setdefault("on_run", lambda _summary: None)
    callbacks.setdefault("on_trouble", lambda _message: None)
    return ContentWatcher(settings, quiet_ms=50, **callbacks)


@pytest.mark.parametrize(
    ("name", "watched"),
    [
        ("post.md", True),
        ("2024/week-1.markdown", True),
        ("POST.MD", True),
        ("domains.yml", True),
        ("notes.txt", False),
        ("sub/other.yml", False),
        (".post.md.swp", False),
        (".post.md.swx", False),
        ("post.md~", False),
        (".#post.md", False),
        ("#post.md#", False),
        (".hidden.md", False),
        (".git/index", False),
        (".obsidian/workspace.md", False),
    ],
)
def test_only_markdown_and_the_aliases_file_count(
    folder: Path, tmp_path: Path, name: str, watched: bool
) -> None:
    watcher = _watcher(folder, tmp_path)
    assert watcher.is_watched(folder.resolve() / name) is watched


def test_folders_count_as_they_may_hold_posts(folder: Path, tmp_path: Path) -> None:
    watcher = _watcher(folder, tmp_path)
    (folder / "archive").mkdir()
    assert watcher.is_watched(folder.resolve() / "archive")
    assert watcher.is_watched(folder.resolve() / "moved-away")  # gone: was it a folder?
    assert not watcher.is_watched(tmp_path.resolve() / "elsewhere.md")


def test_a_held_ingest_lock_is_waited_out(
    folder: Path, tmp_path: Path, sqlite_template: Path
) -> None:
    shutil.copyfile(sqlite_template, tmp_path / "w.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    runs: list[RunSummary] = []
    troubles: list[str] = []
    watcher = _watcher(folder, tmp_path, on_run=runs.append, on_trouble=troubles.append)
    try:
        with ingest_lock(engine):  # as another process's ingest would hold it
            watcher.start()
            _wait_for(lambda: bool(troubles), "the watcher to find the lock taken")
            time.sleep(0.3)  # a few more tries, each without a word
            assert troubles == ["another ingest is running: waiting for it to finish"]
            assert not runs
        _wait_for(lambda: bool(runs), "the run once the lock is free")
    finally:
        watcher.stop()
        engine.dispose()
    assert runs[0].added == 1


def test_a_failed_run_does_not_stop_the_watching(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    runs: list[RunSummary] = []
    troubles: list[str] = []

    def flaky_ingest(_engine: object, root: Path, **_options: object) -> RunSummary:
        calls.append(root)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return RunSummary(run_id=len(calls), root=str(root))

    monkeypatch.setattr(watch, "run_ingest", flaky_ingest)
    with _watcher(folder, tmp_path, on_run=runs.append, on_trouble=troubles.append):
        _wait_for(lambda: bool(troubles), "the failing run")
        assert troubles == ["ingest failed: RuntimeError: database went away"]
        (folder / "one.md").write_text("* one\n")
        _wait_for(lambda: bool(runs), "a run after the failure")
    assert len(calls) == 2


def test_swap_and_backup_files_trigger_nothing(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[Path] = []
    started = threading.Event()

    def fake_ingest(_engine: object, root: Path, **_options: object) -> RunSummary:
        runs.append(root)
        started.set()
        return RunSummary(run_id=len(runs), root=str(root))

    monkeypatch.setattr(watch, "run_ingest", fake_ingest)
    with _watcher(folder, tmp_path):
        assert started.wait(DEADLINE_S)
        time.sleep(0.2)  # let the watcher settle on the folder
        for name in (".post.md.swp", "post.md~", ".#post.md", "4913.txt", "notes.txt"):
            (folder / name).write_text("x")
        (folder / ".git").mkdir()
        (folder / ".git" / "HEAD.md").write_text("x")
        time.sleep(0.6)
    assert len(runs) == 1  # the initial catch-up only


@pytest.fixture
def server(folder: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`learnlog serve --watch` on a free port; yields its base URL and its log file.

    The shared helper waits for /healthz under a generous deadline without a proxy in
    the way, and stops the server's whole process group on every path.
    """
    log = tmp_path / "serve.log"
    env = {"LEARNLOG_CONTENT_DIR": str(folder), "LEARNLOG_INGEST_WORKERS": "1"}
    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with learnlog_server(database, log, "--watch", env=env, clean_exit=True) as base:
        yield base, log


def test_saved_files_reach_the_api(server: tuple[str, Path], folder: Path) -> None:
    base, log = server
    client = httpx.Client(base_url=base, timeout=5)

    def texts() -> set[str]:
        answer = client.get("/entries", params={"limit": 200})
        assert answer.status_code == 200
        return {entry["text"] for entry in answer.json()["items"]}

    try:
        assert "first watched entry" not in texts()
        post = folder / "watched.md"
        post.write_text(NEW_POST.format(text="first watched entry"), encoding="utf-8")
        _wait_for(lambda: "first watched entry" in texts(), "the new post's entry")

        post.write_text(NEW_POST.format(text="edited watched entry"), encoding="utf-8")
        _wait_for(lambda: "edited watched entry" in texts(), "the edited entry")
        assert "first watched entry" not in texts()

        post.unlink()
        _wait_for(lambda: "edited watched entry" not in texts(), "the deleted post to go")
    finally:
        client.close()
    # A run's summary is printed after its commit, which the API may show first.
    changes = ("watching", "1 added", "1 updated", "1 deleted")
    _wait_for(lambda: all(change in log.read_text() for change in changes), "the runs' summaries")


def _stored_paths(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(text("SELECT source_path FROM posts")).scalars())


@pytest.mark.parametrize("how", ["deleted", "moved-away"])
def test_a_content_folder_cloned_again_is_watched_again(
    engine: Engine, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(content_dir=folder, database_url=url)
    runs: list[RunSummary] = []
    troubles: list[str] = []
    looks: list[bool] = []  # each look for posts in the folder once it is back
    real_holds_markdown = watch._holds_markdown

    def holds_markdown(root: Path) -> bool:
        looks.append(real_holds_markdown(root))
        return looks[-1]

    monkeypatch.setattr(watch, "_holds_markdown", holds_markdown)
    watcher = ContentWatcher(settings, quiet_ms=50, on_run=runs.append, on_trouble=troubles.append)
    with watcher:
        _wait_for(lambda: bool(runs), "the first run")
        seed = _stored_paths(engine)
        assert runs[0].added == 1
        # `rm -rf content && git clone ...`: gone, then back with only `.git` for a while.
        if how == "deleted":
            shutil.rmtree(folder)
        else:
            folder.rename(tmp_path / "old-content")
        _wait_for(lambda: any(" is gone: " in t for t in troubles), "the folder to be missed")
        folder.mkdir()
        (folder / ".git").mkdir()
        (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        _wait_for(lambda: looks.count(False) >= 3, "a few looks at the folder without posts")
        assert _stored_paths(engine) == seed  # a missing or empty new folder deletes nothing
        assert len(runs) == 1
        shutil.copyfile(SEED, folder / SEED.name)
        (folder / "watched.md").write_text(NEW_POST.format(text="after the clone"))
        _wait_for(lambda: len(runs) >= 2, "the run once the folder is back")
        (folder / "later.md").write_text(NEW_POST.format(text="edited after the clone"))
        _wait_for(lambda: "later.md" in _stored_paths(engine), "a later save to be watched")
    gone = [t for t in troubles if " is gone: " in t]
    assert gone == [
        f"{folder.resolve()} is gone: serving the posts ingested last until it holds posts again"
    ]
    assert not [t for t in troubles if t.startswith("ingest failed")]
    assert (runs[1].added, runs[1].unchanged, runs[1].deleted) == (1, 1, 0)
    assert _stored_paths(engine) == sorted([*seed, "later.md", "watched.md"])


def test_a_folder_replaced_between_two_events_is_watched_again(
    engine: Engine, folder: Path, tmp_path: Path
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(content_dir=folder, database_url=url)
    runs: list[RunSummary] = []
    troubles: list[str] = []
    watcher = ContentWatcher(settings, quiet_ms=50, on_run=runs.append, on_trouble=troubles.append)
    with watcher:
        _wait_for(lambda: bool(runs), "the first run")
        # Swapped in one step: the old watch sees the old folder go, never the new one.
        staged = tmp_path / "staged"
        staged.mkdir()
        shutil.copyfile(SEED, staged / SEED.name)
        (staged / "watched.md").write_text(NEW_POST.format(text="swapped in"))
        old = tmp_path / "old"
        folder.rename(old)
        staged.rename(folder)
        _wait_for(lambda: len(runs) >= 2, "the run on the new folder")
        (folder / "later.md").write_text(NEW_POST.format(text="saved later"))
        _wait_for(lambda: "later.md" in _stored_paths(engine), "a later save to be watched")
    assert (runs[1].added, runs[1].unchanged) == (1, 1)
    assert _stored_paths(engine) == sorted([SEED.name, "later.md", "watched.md"])
