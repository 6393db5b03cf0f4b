"""`learnlog ingest` of an unchanged folder: answered from the manifest a clean run left,
and sent the full way whenever anything an ingest reads may have changed."""

import os
import sqlite3
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app import __main__ as entry
from app.cli import cli
from app.db import make_engine
from app.ingest import unchanged
from app.ingest.lock import ingest_lock

runner = CliRunner()

POST = "---\ntitle: {title}\ndate: 2024-01-0{day}\n---\n## Reading\n* [{title}](https://example.org/{day})\n"


@pytest.fixture(autouse=True)
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by a test count as settled at once (the real rule waits 2 s)."""
    monkeypatch.setattr(unchanged, "_SETTLE_NS", -(10**12))
    for name in list(os.environ):
        if name.upper().startswith("LEARNLOG_"):
            monkeypatch.delenv(name)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three dated posts; the working directory is an empty one (no `.env`)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    for day in (1, 2, 3):
        (logs / f"post-{day}.md").write_text(POST.format(title=f"Post {day}", day=day))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return logs


def url_of(folder: Path) -> str:
    return f"sqlite:///{folder.parent / 'learnlog.db'}"


def full(folder: Path, *extra: str) -> str:
    """`learnlog ingest` the full way (the command line itself); its output."""
    result = runner.invoke(cli, ["ingest", str(folder), "--database-url", url_of(folder), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def quick(folder: Path, *extra: str) -> int | None:
    return unchanged.quick_ingest(["ingest", str(folder), "--database-url", url_of(folder), *extra])


def runs(folder: Path) -> list[tuple[int, str, int, int, int]]:
    with sqlite3.connect(folder.parent / "learnlog.db") as db:
        return db.execute(
            "SELECT id, status, added, unchanged, content_version FROM ingest_runs ORDER BY id"
        ).fetchall()


def test_an_unchanged_folder_is_recorded_as_an_unchanged_run(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full(folder)
    [(first, _, added, _, version)] = runs(folder)
    assert added == 3
    capsys.readouterr()
    assert quick(folder) == 0
    said = capsys.readouterr().err
    assert f"ingest run {first + 1}: {folder}" in said
    assert "unchanged 3" in said
    assert f"content version {version}" in said
    assert "folder 'logs': 3 posts (front matter: 3 yaml)" in said
    assert runs(folder)[-1] == (first + 1, "ok", 0, 3, version)


def test_the_entry_point_answers_before_importing_the_command_line(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full(folder)
    monkeypatch.setattr(
        sys, "argv", ["learnlog", "ingest", str(folder), "--database-url", url_of(folder)]
    )
    monkeypatch.delitem(sys.modules, "app.cli")
    with pytest.raises(SystemExit) as exited:
        entry.main()
    assert exited.value.code == 0
    assert "app.cli" not in sys.modules
    assert runs(folder)[-1][1:4] == ("ok", 0, 3)


def test_a_rewritten_file_goes_the_full_way_even_with_its_old_times(folder: Path) -> None:
    full(folder)
    post = folder / "post-2.md"
    before = post.stat()
    post.write_text(POST.format(title="Renamed", day=2))
    os.utime(post, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` or rsync leave it
    assert quick(folder) is None
    assert "│       1 │" in full(folder)  # "updated"


@pytest.mark.parametrize("change", ["add", "remove", "subfolder", "config"])
def test_an_entry_added_or_removed_goes_the_full_way(folder: Path, change: str) -> None:
    full(folder)
    if change == "add":
        (folder / "post-4.md").write_text(POST.format(title="Post 4", day=4))
    elif change == "remove":
        (folder / "post-1.md").unlink()
    elif change == "subfolder":
        (folder / "more").mkdir()
    else:
        (folder / "learnlog.toml").write_text('name = "mine"\n')
    assert quick(folder) is None


def test_other_settings_or_options_go_the_full_way(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full(folder)
    assert quick(folder, "--no-drafts") is None  # recorded with drafts
    assert quick(folder, "--help") is None
    monkeypatch.setenv("LEARNLOG_MAX_FILE_BYTES", "10")
    assert quick(folder) is None
    monkeypatch.delenv("LEARNLOG_MAX_FILE_BYTES")
    (Path.cwd() / ".env").write_text("LEARNLOG_MAX_FILE_BYTES=10\n")
    assert quick(folder) is None
    (Path.cwd() / ".env").unlink()
    assert quick(folder) == 0


def test_another_writer_since_goes_the_full_way(folder: Path) -> None:
    full(folder)
    with sqlite3.connect(folder.parent / "learnlog.db") as db:
        db.execute("UPDATE content_state SET version = version + 1 WHERE id = 1")
    assert quick(folder) is None


def test_a_run_with_a_failure_leaves_no_manifest(folder: Path) -> None:
    full(folder)
    (folder / "bad.md").write_text("---\ntitle: [oops\n---\n* x\n")
    result = runner.invoke(cli, ["ingest", str(folder), "--database-url", url_of(folder)])
    assert result.exit_code == 1
    assert quick(folder) is None  # the failure is reported again, the full way


def test_a_folder_written_just_before_its_run_gets_no_manifest_until_it_settles(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unchanged, "_SETTLE_NS", 10**15)  # nothing is ever settled
    full(folder)
    assert quick(folder) is None


def test_an_ingest_holding_the_lock_sends_the_next_the_full_way(folder: Path) -> None:
    full(folder)
    engine = make_engine(url_of(folder))
    try:
        with ingest_lock(engine):
            assert quick(folder) is None  # the full way then says another ingest runs
    finally:
        engine.dispose()
    assert quick(folder) == 0


def test_the_folders_own_database_is_found_as_the_full_way_finds_it(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = runner.invoke(cli, ["ingest", str(folder)])
    assert result.exit_code == 0, result.output
    capsys.readouterr()
    assert unchanged.quick_ingest(["ingest", str(folder)]) == 0
    assert f"database: {folder / '.learnlog' / 'learnlog.db'}" in capsys.readouterr().err


def test_postgresql_and_other_urls_go_the_full_way(folder: Path) -> None:
    full(folder)
    argv = ["ingest", str(folder), "--database-url", "postgresql://postgres@127.0.0.1/test"]
    assert unchanged.quick_ingest(argv) is None
    assert unchanged.quick_ingest(["links", "check"]) is None
