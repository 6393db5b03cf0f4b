"""`learnlog serve --watch`: saved files reach the API within seconds; noise does not."""

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app import watch
from app.db import make_engine
from app.ingest.lock import ingest_lock
from app.ingest.pipeline import RunSummary
from app.settings import Settings
from app.watch import ContentWatcher
from tests.conftest import REPO
from tests.servers import free_port

NEW_POST = """---
title: Watched
date: 2030-01-01
---
## Notes
* {text}
"""


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
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
            _wait_for(lambda: bool(troubles), "the watcher to find the lock taken", 5)
            time.sleep(0.3)  # a few more tries, each without a word
            assert troubles == ["another ingest is running: waiting for it to finish"]
            assert not runs
        _wait_for(lambda: bool(runs), "the run once the lock is free", 5)
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
        _wait_for(lambda: bool(troubles), "the failing run", 5)
        assert troubles == ["ingest failed: RuntimeError: database went away"]
        (folder / "one.md").write_text("* one\n")
        _wait_for(lambda: bool(runs), "a run after the failure", 5)
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
        assert started.wait(5)
        time.sleep(0.2)  # let the watcher settle on the folder
        for name in (".post.md.swp", "post.md~", ".#post.md", "4913.txt", "notes.txt"):
            (folder / name).write_text("x")
        (folder / ".git").mkdir()
        (folder / ".git" / "HEAD.md").write_text("x")
        time.sleep(0.6)
    assert len(runs) == 1  # the initial catch-up only


@pytest.fixture
def server(folder: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`learnlog serve --watch` on a free port; yields its base URL and its log file."""
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "LEARNLOG_CONTENT_DIR": str(folder), "LEARNLOG_INGEST_WORKERS": "1"}
    env.pop("LEARNLOG_DATABASE_URL", None)
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "serve",
        "--watch",
        "--port",
        str(port),
        "--database-url",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            if process.poll() is not None:
                pytest.fail(f"server exited early:\n{log.read_text()}")
            try:
                return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        _wait_for(healthy, "/healthz")
        yield base, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"server did not stop on SIGTERM:\n{log.read_text()}")
    assert process.returncode == 0, log.read_text()


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
    output = log.read_text()
    assert "watching" in output
    for change in ("1 added", "1 updated", "1 deleted"):
        assert change in output
