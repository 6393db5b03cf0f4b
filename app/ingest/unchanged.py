"""An unchanged folder, told in milliseconds, before the command imports anything heavy.

A clean `learnlog ingest` into a SQLite database ends by recording a manifest of its
folder (`ingest_manifests`):

- a digest of the stat of every entry of every folder discovery lists (type, size,
  modification and change times, inode), taken before the run reads anything;
- a fingerprint of everything else that decides what a run does: learnlog's own files,
  the `LEARNLOG_*` environment, the command's options, the database, and the tools'
  markers beside the folder that decide its dialect;
- the schema revision and the content version the run left, and its summary's last lines.

The next `learnlog ingest` checks these first (`quick_ingest`). When all match, nothing
an ingest reads has been written since: writing a file or adding, removing or renaming
an entry changes a change time, and no tool can set a change time back. So every file
would be found unchanged, and the run is recorded as such without reading, hashing or
parsing a file, and without importing the rest of learnlog.

Whatever the check cannot vouch for takes the full way: another database engine, a
`.env` file, several folders, an aliases file set by path, an option it does not know,
another writer since (the content version moved), or an entry changed less than
`_SETTLE_NS` before the snapshot (its times may not show a change made in the same tick).
"""

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import sqlite3
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.folders.markers import MARKERS, PARENTS_LOOKED_AT

_FORMAT = b"learnlog-manifest-1"
_ENV_PREFIX = "LEARNLOG_"
# With one of these set, the full way reads more than the folder (or other folders).
_FULL_WAY_SETTINGS = frozenset({"LEARNLOG_CONTENT_DIRS", "LEARNLOG_ALIASES_FILE"})
# An entry written this close before the snapshot may be written again in the same clock
# tick without its times changing: such a folder gets no manifest until it settles.
_SETTLE_NS = 2_000_000_000
_OWN_DATABASE = Path(".learnlog", "learnlog.db")
_KEEP_RUNS = 100  # Settings.keep_runs' default
_APP = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A digest of a folder's entries, and the newest time among them (ns)."""

    digest: str
    newest_ns: int
    taken_ns: int

    @property
    def settled(self) -> bool:
        """Whether every entry was last changed well before the snapshot was taken."""
        return self.newest_ns < self.taken_ns - _SETTLE_NS


def snapshot(root: Path) -> Snapshot:
    """Digest the stat of every entry of every folder that discovery would list under
    `root` (hidden entries are skipped as discovery skips them; their coming and going
    still changes their folder's times)."""
    taken = time.time_ns()
    digest = hashlib.blake2b(_FORMAT, digest_size=32)
    newest = 0
    pending = [("", str(root))]
    while pending:
        prefix, folder = pending.pop()
        info = os.stat(folder)
        newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
        digest.update(f"D{prefix}\0{_stat_text(info)}\n".encode("utf-8", "surrogateescape"))
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                info = os.stat(entry.path)  # through a link: what discovery would read
            except OSError as error:
                line = f"E{prefix}{name}\0{type(error).__name__}\n"
                digest.update(line.encode("utf-8", "surrogateescape"))
                continue
            newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
            line = f"F{prefix}{name}\0{_stat_text(info)}\n"
            digest.update(line.encode("utf-8", "surrogateescape"))
            if entry.is_dir(follow_symlinks=False):
                pending.append((f"{prefix}{name}/", entry.path))
    return Snapshot(digest.hexdigest(), newest, taken)


def _stat_text(info: os.stat_result) -> str:
    """An entry's type, size, times and inode."""
    kind = stat.S_IFMT(info.st_mode)
    return f"{kind} {info.st_size} {info.st_mtime_ns} {info.st_ctime_ns} {info.st_ino}"


def fingerprint(root: Path, database: Path, *, include_drafts: bool) -> str:
    """A digest of what, beside the folder's files, decides what an ingest of `root` does."""
    digest = hashlib.blake2b(_FORMAT, digest_size=32)
    parts = [sys.version, str(root), str(database), f"drafts={include_drafts}"]
    parts += sorted(f"{name.upper()}={value}" for name, value in _settings_environment())
    parts += _code_stamp()
    for folder in [root, *list(root.parents)[:PARENTS_LOOKED_AT]]:
        parts += [f"{folder}/{marker}" for marker, _ in MARKERS if (folder / marker).exists()]
    digest.update("\n".join(parts).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _settings_environment() -> Iterator[tuple[str, str]]:
    """The environment variables settings are read from (their names are not case-sensitive)."""
    for name, value in os.environ.items():
        if name.upper().startswith(_ENV_PREFIX):
            yield name, value


def _code_stamp() -> list[str]:
    """Size and modification time of every file of learnlog's code and migrations."""
    stamp = []
    for top in (_APP, _APP.parent / "migrations"):
        for folder, folders, files in os.walk(top):
            folders[:] = sorted(name for name in folders if name != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".ini", ".mako")):
                    info = os.stat(os.path.join(folder, name))
                    stamp.append(f"{folder}/{name} {info.st_size} {info.st_mtime_ns}")
    return stamp


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a clean run of a folder recorded (see the module's docstring)."""

    location: str
    fingerprint: str
    snapshot: str
    schema_revision: str
    content_version: int
    unchanged: int
    skipped_drafts: int
    report: str


def record(database: Path, manifest: Manifest) -> None:
    """Store `manifest` for its folder in the SQLite file `database`, replacing the last."""
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as db, db:
        db.execute(
            "INSERT OR REPLACE INTO ingest_manifests (location, fingerprint, snapshot, "
            "schema_revision, content_version, unchanged, skipped_drafts, report) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                manifest.location, manifest.fingerprint, manifest.snapshot,
                manifest.schema_revision, manifest.content_version, manifest.unchanged,
                manifest.skipped_drafts, manifest.report,
            ),
        )  # fmt: skip


def forget(database: Path, location: str) -> None:
    """Drop the manifest of a folder (its run was not clean: the next one goes the full way)."""
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as db, db:
        db.execute("DELETE FROM ingest_manifests WHERE location = ?", (location,))


# -- the check ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Request:
    """A plain `learnlog ingest [FOLDER] [--database-url URL] [--drafts/--no-drafts]`."""

    folder: Path
    database: Path
    own: bool
    include_drafts: bool


def quick_ingest(argv: list[str]) -> int | None:
    """Run `learnlog ingest` for an unchanged folder and return its exit status; None
    when the command is anything else or the folder may have changed (the full way)."""
    started = time.perf_counter()
    request = _parse(argv)
    if request is None:
        return None
    try:
        return _quick(request, started)
    except (OSError, sqlite3.Error, ValueError):
        return None  # the full way says what is wrong, if anything


def _parse(argv: list[str]) -> _Request | None:
    """The request, when `argv` is a plain ingest this check can answer."""
    if not argv or argv[0] != "ingest" or os.path.exists(".env"):
        return None
    if any(name.upper() in _FULL_WAY_SETTINGS for name, _ in _settings_environment()):
        return None
    folder: str | None = None
    url: str | None = None
    include_drafts = True
    args = iter(argv[1:])
    for arg in args:
        if arg in ("--drafts", "--no-drafts"):
            include_drafts = arg == "--drafts"
        elif arg == "--database-url":
            url = next(args, None)
            if url is None:
                return None
        elif arg.startswith("--database-url="):
            url = arg.removeprefix("--database-url=")
        elif arg.startswith("-") or folder is not None:
            return None  # --help, an unknown option, a second folder: the full way
        else:
            folder = arg
    environment = {name.upper(): value for name, value in _settings_environment()}
    root = Path(folder or environment.get("LEARNLOG_CONTENT_DIR") or "content")
    if not root.is_dir():
        return None
    root = root.resolve()
    url = url or environment.get("LEARNLOG_DATABASE_URL") or ""
    if not url:
        database = root / _OWN_DATABASE
    elif url.startswith("sqlite:///") and "?" not in url and url != "sqlite:///:memory:":
        database = Path(url.removeprefix("sqlite:///")).resolve()
    else:
        return None
    if not database.is_file():
        return None
    return _Request(root, database, not url, include_drafts)


def _quick(request: _Request, started: float) -> int | None:
    """The check and, when it holds, the run's record and summary."""
    location = str(request.folder)
    expected = fingerprint(request.folder, request.database, include_drafts=request.include_drafts)
    with _locked(request.database) as held:
        if not held:
            return None  # another ingest runs: the full way says so
        db = sqlite3.connect(
            f"file:{request.database}?mode=rw", uri=True, isolation_level=None, timeout=30
        )
        try:
            db.execute("PRAGMA foreign_keys=ON")  # as app/db.py connects
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT m.fingerprint, m.snapshot, m.schema_revision, m.content_version, "
                "m.unchanged, m.skipped_drafts, m.report, a.version_num, s.version "
                "FROM ingest_manifests m, alembic_version a, content_state s "
                "WHERE m.location = ? AND s.id = 1",
                (location,),
            ).fetchone()
            if row is None:
                db.execute("ROLLBACK")
                return None
            (stored, digest, revision, version, unchanged, skipped, report, now_revision,
             now_version) = row  # fmt: skip
            same = stored == expected and revision == now_revision and version == now_version
            if not same or snapshot(request.folder).digest != digest:
                db.execute("ROLLBACK")
                return None
            run_id = _record_run(db, location, unchanged, skipped, version)
            db.execute("COMMIT")
        finally:
            db.close()
    _print_summary(request, run_id, unchanged, skipped, version, report, started)
    return 0


@contextlib.contextmanager
def _locked(database: Path) -> Iterator[bool]:
    """Hold the database's ingest lock (the file app/ingest/lock.py locks) if it is free."""
    descriptor = os.open(f"{database}.ingest-lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _record_run(
    db: sqlite3.Connection, location: str, unchanged: int, skipped: int, version: int
) -> int:
    """Record an unchanged run as Writer.start_run/finish_run/prune_runs would."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    db.execute(
        "UPDATE ingest_runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
        (now,),
    )
    cursor = db.execute(
        "INSERT INTO ingest_runs (root, started_at, finished_at, status, added, updated, "
        "unchanged, deleted, skipped_drafts, failed, warnings, content_version) "
        "VALUES (?, ?, ?, 'ok', 0, 0, ?, 0, ?, 0, 0, ?)",
        (location, now, now, unchanged, skipped, version),
    )
    run_id = cursor.lastrowid
    assert run_id is not None
    environment = {name.upper(): value for name, value in _settings_environment()}
    keep = int(environment.get("LEARNLOG_KEEP_RUNS", _KEEP_RUNS))
    db.execute(
        "DELETE FROM ingest_runs WHERE status IN ('ok', 'interrupted') AND id <= ("
        "SELECT id FROM ingest_runs WHERE status IN ('ok', 'interrupted') "
        "ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (keep,),
    )
    return run_id


def _print_summary(
    request: _Request,
    run_id: int,
    unchanged: int,
    skipped: int,
    version: int,
    report: str,
    started: float,
) -> None:
    """What the full way prints for an unchanged run, as plain lines on stderr."""
    lines = []
    if request.own:
        lines.append(f"database: {request.database}")
    lines += [
        f"ingest run {run_id}: {request.folder}",
        f"added 0, updated 0, unchanged {unchanged}, deleted 0, skipped drafts {skipped}, "
        "failed 0, warnings 0 (no file changed since the last run)",
        f"content version {version}, {time.perf_counter() - started:.2f} s",
    ]
    if report:
        lines.append(report)
    sys.stderr.write("\n".join(lines) + "\n")
