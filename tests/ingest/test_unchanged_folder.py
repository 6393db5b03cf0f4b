"""`learnlog ingest` of an unchanged folder: answered from the manifest a clean run left,
and sent the full way whenever anything an ingest reads may have changed."""

import contextlib
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
    assert quick(folder, "--full-check") is None
    assert "│         3 │" in full(folder, "--full-check")  # every file read: "unchanged"
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


def dump(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, but for the run records and manifests and when a folder was
    last seen: what a run that changed nothing may leave differently."""
    skipped = {"ingest_runs", "ingest_problems", "ingest_manifests", "sqlite_sequence"}
    with contextlib.closing(sqlite3.connect(database)) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name not in skipped and not name.startswith("entries_fts")
        ]
        rows = {name: sorted(map(repr, db.execute(f'SELECT * FROM "{name}"'))) for name in tables}
        rows["folders"] = sorted(db.execute("SELECT name, location, dialect FROM folders"))
    return rows  # type: ignore[return-value]


def test_the_quick_answer_leaves_the_database_the_full_way_leaves(folder: Path) -> None:
    full(folder)
    database = folder.parent / "learnlog.db"
    copy = folder.parent / "copy.db"
    with (
        contextlib.closing(sqlite3.connect(database)) as source,
        contextlib.closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)
    with sqlite3.connect(database) as db:
        seen = db.execute("SELECT updated_at FROM folders").fetchone()
    assert quick(folder) == 0
    result = runner.invoke(cli, ["ingest", str(folder), "--database-url", f"sqlite:///{copy}"])
    assert result.exit_code == 0, result.output
    assert dump(database) == dump(copy)
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT updated_at FROM folders").fetchone() > seen


def test_an_empty_folder_name_is_the_working_directory_to_the_full_way(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folder.parent)
    full(Path("logs"))
    assert unchanged.quick_ingest(["ingest", "", "--database-url", url_of(folder)]) is None
    monkeypatch.setenv("LEARNLOG_CONTENT_DIR", "")
    assert unchanged.quick_ingest(["ingest", "--database-url", url_of(folder)]) is None
    monkeypatch.setenv("LEARNLOG_CONTENT_DIR", "logs")  # the environment is fingerprinted
    assert unchanged.quick_ingest(["ingest", "--database-url", url_of(folder)]) is None
    assert runner.invoke(cli, ["ingest", "--database-url", url_of(folder)]).exit_code == 0
    assert unchanged.quick_ingest(["ingest", "--database-url", url_of(folder)]) == 0


def test_the_folders_own_database_named_by_url_is_not_its_own(folder: Path) -> None:
    own = folder / ".learnlog" / "learnlog.db"
    assert runner.invoke(cli, ["ingest", str(folder)]).exit_code == 0
    full_named = runner.invoke(cli, ["ingest", str(folder), "--database-url", f"sqlite:///{own}"])
    assert full_named.exit_code == 0
    assert unchanged.quick_ingest(["ingest", str(folder)]) is None  # recorded as named
    assert runner.invoke(cli, ["ingest", str(folder)]).exit_code == 0
    assert unchanged.quick_ingest(["ingest", str(folder)]) == 0


def test_uri_urls_go_the_full_way_and_keep_no_manifest(folder: Path) -> None:
    url = f"sqlite:///file:{folder.parent / 'uri.db'}?uri=true"
    for _ in range(2):
        result = runner.invoke(cli, ["ingest", str(folder), "--database-url", url])
        assert result.exit_code == 0, result.output
    assert unchanged.quick_ingest(["ingest", str(folder), "--database-url", url]) is None


def test_the_lock_is_the_one_the_full_way_takes_through_a_linked_database(folder: Path) -> None:
    real = folder.parent / "data" / "real.db"
    real.parent.mkdir()
    link = folder.parent / "link.db"
    link.symlink_to(real)
    url = f"sqlite:///{link}"
    for _ in range(2):
        assert runner.invoke(cli, ["ingest", str(folder), "--database-url", url]).exit_code == 0
    engine = make_engine(url)
    try:
        with ingest_lock(engine):
            assert unchanged.quick_ingest(["ingest", str(folder), "--database-url", url]) is None
    finally:
        engine.dispose()
    assert unchanged.quick_ingest(["ingest", str(folder), "--database-url", url]) == 0


def test_odd_paths_are_files_not_uris_and_never_raise(tmp_path: Path) -> None:
    folder = tmp_path / "C#?%20"
    folder.mkdir()
    (folder / "post-1.md").write_text(POST.format(title="Post 1", day=1))
    assert runner.invoke(cli, ["ingest", str(folder)]).exit_code == 0
    assert unchanged.quick_ingest(["ingest", str(folder)]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["C#?%20"]
    loop = tmp_path / "loop.db"
    loop.symlink_to(loop)
    assert (
        unchanged.quick_ingest(["ingest", str(folder), "--database-url", f"sqlite:///{loop}"])
        is None
    )
