"""Odd folder entries beside good posts: FIFOs, sockets, names that are not UTF-8 or hold
control characters, link loops, folders that cannot be listed. Each is one failed (or
escaped) file; the good posts are stored, the run ends, the lock is free afterwards.

Any of these could hang or crash an ingest, so every run here happens under a deadline:
in a thread a FIFO writer can release, or in a subprocess killed when it is over.
"""

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.ingest import pipeline
from app.ingest.discover import SourceFile, discover
from app.ingest.lock import ingest_lock
from app.ingest.pipeline import RunSummary
from tests.conftest import REPO, Ingest
from tests.ingest.test_hostile_files import (
    NORMAL,
    assert_normal_post_ingested,
    content,
    problems,
    recorded,
    rows,
)

DEADLINE_S = 120.0
FIFO_REASON = "not a regular file: a named pipe (FIFO); only regular files are read"
LOOP_REASON = "symbolic link loop: it leads back to itself, never to a file"
NOT_UTF8_FILE = "file name is not valid UTF-8: rename it to read it"
NOT_UTF8_FOLDER = "folder name is not valid UTF-8: rename it to read it"


def release_fifos(folder: Path) -> None:
    """Give every FIFO under `folder` a writer that leaves at once: a blocked reader gets EOF."""
    for path in folder.rglob("*"):
        if stat.S_ISFIFO(path.lstat().st_mode):
            # ENXIO when no reader has it open: then nothing waits on it.
            with contextlib.suppress(OSError):
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def within_deadline(folder: Path, work: Callable[[], RunSummary]) -> RunSummary:
    """Run `work` in a thread; fail (after unblocking it) if it does not end in time."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    if thread.is_alive():
        while thread.is_alive():  # a read stuck on a FIFO ends once a writer comes and goes
            release_fifos(folder)
            thread.join(0.5)
        pytest.fail(f"the ingest hung on a FIFO for {DEADLINE_S:.0f} s")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    summary: RunSummary = outcome[0]
    return summary


def assert_lock_free(engine: Engine) -> None:
    """Nothing holds the ingest lock once the run has ended."""
    with ingest_lock(engine):
        pass


def run_status(engine: Engine, summary: RunSummary) -> str:
    """The run row's status."""
    [(status,)] = rows(engine, "SELECT status FROM ingest_runs WHERE id = :r", r=summary.run_id)
    return str(status)


@pytest.fixture
def fifo_folder(tmp_path: Path) -> Iterator[Path]:
    """A content folder with the normal post and a FIFO named `x.md`; FIFOs released after."""
    folder = content(tmp_path, {})
    os.mkfifo(folder / "x.md")
    yield folder
    release_fifos(folder)


def test_fifo_beside_posts_is_reported_and_skipped(
    engine: Engine, ingest: Ingest, fifo_folder: Path
) -> None:
    summary = within_deadline(fifo_folder, lambda: ingest(fifo_folder))
    assert problems(summary, "x.md") == [("error", None, FIFO_REASON)]
    assert recorded(engine, summary, "x.md") == [("error", None, FIFO_REASON)]
    assert (summary.added, summary.failed) == (1, 1)
    assert run_status(engine, summary) == "failed"
    assert_normal_post_ingested(engine)
    assert_lock_free(engine)


@pytest.mark.parametrize("stored", [False, True], ids=["new", "stored"])
def test_a_fifo_swapped_in_after_discovery_is_refused_without_blocking(
    engine: Engine,
    ingest: Ingest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stored: bool,
) -> None:
    folder = content(tmp_path, {"2024-02-01-swapped.md": "* a post, for now\n"})
    if stored:
        ingest(folder)
    # The new file is read by the parse step, a stored one first by the change check.
    function = "read_bytes" if stored else "read_source"
    real = getattr(pipeline, function)

    def swap_then_read(source: SourceFile, max_bytes: int) -> Any:
        if source.path == "2024-02-01-swapped.md" and source.absolute.is_file():
            source.absolute.unlink()
            os.mkfifo(source.absolute)
        return real(source, max_bytes)

    monkeypatch.setattr(pipeline, function, swap_then_read)
    try:
        summary = within_deadline(folder, lambda: ingest(folder))
    finally:
        release_fifos(folder)
    assert problems(summary, "2024-02-01-swapped.md") == [("error", None, FIFO_REASON)]
    assert run_status(engine, summary) == "failed"
    assert_normal_post_ingested(engine)
    assert_lock_free(engine)


def test_sockets_and_devices_named_md_are_refused_by_discovery(tmp_path: Path) -> None:
    folder = content(tmp_path, {})
    os.mkfifo(folder / "pipe.md")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(folder / "socket.md"))
    expected = {
        "pipe.md": FIFO_REASON,
        "socket.md": "not a regular file: a socket; only regular files are read",
    }
    try:
        os.mknod(folder / "null.md", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        expected["null.md"] = "not a regular file: a character device; only regular files are read"
    except PermissionError:  # no CAP_MKNOD here: FIFOs and sockets still make the point
        pass
    os.symlink("pipe.md", folder / "to-pipe.md")  # a link inside to a FIFO: the same refusal
    expected["to-pipe.md"] = FIFO_REASON
    try:
        found, refused = discover(folder)
    finally:
        server.close()
    assert [source.path for source in found] == [NORMAL]
    assert dict(refused) == expected


def test_names_that_are_not_utf8_are_failed_files_beside_stored_posts(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    folder = content(tmp_path, {})
    raw = os.fsencode(folder)
    with open(raw + b"/caf\xe9.md", "wb") as post:
        post.write(b"* a post with a latin-1 name\n")
    os.mkdir(raw + b"/d\xe9j\xe0")
    with open(raw + b"/d\xe9j\xe0/2024-03-01-inside.md", "wb") as post:
        post.write(b"* inside a latin-1 folder\n")
    with open(raw + b"/notes-\xff.txt", "wb") as other:  # not Markdown: never looked at
        other.write(b"x")
    summary = ingest(folder)
    assert {p.path: p.reason for p in summary.failures} == {
        "caf\\xe9.md": NOT_UTF8_FILE,
        "d\\xe9j\\xe0": NOT_UTF8_FOLDER,
    }
    assert recorded(engine, summary, "caf\\xe9.md") == [("error", None, NOT_UTF8_FILE)]
    assert (summary.added, summary.failed) == (1, 2)
    assert run_status(engine, summary) == "failed"
    assert_normal_post_ingested(engine)
    assert_lock_free(engine)


def test_a_folder_that_cannot_be_listed_is_one_failed_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = content(tmp_path, {"locked/2024-03-01-hidden.md": "* x\n", "open/a.md": "* y\n"})
    locked = str((folder / "locked").resolve())
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if path == locked:  # what chmod 000 gives any process without CAP_DAC_READ_SEARCH
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found, refused = discover(folder)
    assert [source.path for source in found] == [NORMAL, "open/a.md"]
    assert refused == [("locked", "cannot read folder: Permission denied")]


def test_symlink_loops_are_reported_as_loops(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    folder = content(tmp_path, {})
    os.symlink("self.md", folder / "self.md")
    os.symlink("pong.md", folder / "ping.md")
    os.symlink("ping.md", folder / "pong.md")
    os.symlink("ring", folder / "ring")  # no suffix: it may stand for a folder of posts
    summary = ingest(folder)
    loops = ("ping.md", "pong.md", "ring", "self.md")
    assert {p.path: p.reason for p in summary.failures} == dict.fromkeys(loops, LOOP_REASON)
    assert_normal_post_ingested(engine)


def test_control_characters_in_names_are_escaped_wherever_reported(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    folder = content(
        tmp_path,
        {"new\nline.md": "* an undated post\n", "bell\x07\x1b[31mred.md": "* another\n"},
    )
    summary = ingest(folder)
    undated = "no date in the front matter or the file name: the post is undated"
    assert problems(summary, "new\\nline.md") == [("warning", None, undated)]
    assert recorded(engine, summary, "bell\\x07\\x1b[31mred.md") == [("warning", None, undated)]
    # The escaped path is the post's identity: the same file is the same post next time.
    assert sorted(rows(engine, "SELECT source_path FROM posts")) == [
        (NORMAL,),
        ("bell\\x07\\x1b[31mred.md",),
        ("new\\nline.md",),
    ]
    assert ingest(folder).unchanged == 3
    assert_normal_post_ingested(engine)


def _cli_ingest(
    engine: Engine, folder: Path, *, wrapper: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`learnlog ingest folder` in its own process, killed if it outlives the deadline."""
    url = engine.url.render_as_string(hide_password=False)
    command = [*wrapper, sys.executable, "-m", "app.cli", "ingest", str(folder)]
    environment = {**os.environ, "COLUMNS": "200", "LEARNLOG_INGEST_WORKERS": "1"}
    try:
        return subprocess.run(
            [*command, "--database-url", url],
            cwd=REPO,
            env=environment,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=DEADLINE_S,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:  # run() has killed it already
        pytest.fail(f"`learnlog ingest` hung for {DEADLINE_S:.0f} s: {expired.output!r}")


def test_cli_ingest_beside_a_fifo_and_a_bad_name_exits_1_with_the_lock_free(
    engine: Engine, fifo_folder: Path
) -> None:
    with open(os.fsencode(fifo_folder) + b"/caf\xe9.md", "wb") as post:
        post.write(b"* x\n")
    (fifo_folder / "new\nline.md").write_text("* y\n")
    try:
        done = _cli_ingest(engine, fifo_folder)
    finally:
        release_fifos(fifo_folder)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.splitlines()  # the CLI reports on stderr
    assert f"failed  x.md: {FIFO_REASON}" in lines
    assert f"failed  caf\\xe9.md: {NOT_UTF8_FILE}" in lines
    # One line for the warning, the name escaped: nothing spills onto the next line.
    assert [line for line in lines if "line.md" in line] == [
        "warning new\\nline.md: no date in the front matter or the file name: the post is undated"
    ]
    assert_normal_post_ingested(engine)
    assert_lock_free(engine)


def _capabilities_dropped() -> tuple[str, ...] | None:
    """A command prefix under which root cannot read a chmod 000 folder, if one works here.

    Root reads any folder through CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH; `setpriv`
    runs a command without them, so chmod 000 denies it as it denies any other user.
    """
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    dropped = "-dac_override,-dac_read_search"
    prefix = (setpriv, f"--bounding-set={dropped}", f"--inh-caps={dropped}")
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=30, check=False)
    return prefix if probe.returncode == 0 else None


def test_cli_ingest_beside_an_unreadable_folder_stores_the_rest_and_exits_1(
    engine: Engine, tmp_path: Path
) -> None:
    prefix = _capabilities_dropped()
    if prefix is None:
        pytest.skip("running as root without setpriv (or the right to drop capabilities)")
    folder = content(tmp_path, {"locked/2024-03-01-hidden.md": "* x\n"})
    (folder / "locked").chmod(0)
    try:
        done = _cli_ingest(engine, folder, wrapper=prefix)
    finally:
        (folder / "locked").chmod(0o755)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "failed  locked: cannot read folder: Permission denied" in done.stderr.splitlines()
    [(status,)] = rows(engine, "SELECT status FROM ingest_runs ORDER BY id DESC LIMIT 1")
    assert status == "failed"
    assert_normal_post_ingested(engine)
    assert_lock_free(engine)
