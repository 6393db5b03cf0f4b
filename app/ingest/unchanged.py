"""An unchanged folder, told in milliseconds, before the command imports anything heavy.

A clean `learnlog ingest` into a SQLite file ends by recording a manifest of its folder
(`ingest_manifests`), made of what `before_run` took as the run began:

- a digest of the stat of every entry of every folder discovery lists (type, size,
  modification and change times, inode), taken before the run reads anything;
- a fingerprint of everything else that decides what a run does: learnlog's own code,
  the `LEARNLOG_*` environment, the options, the database and whether it is the folder's
  own, and the tools' markers beside the folder that decide its dialect;

and what the run left: the schema revision, the content version, its counts, its
settings for keeping runs, and its summary's last lines.

The next `learnlog ingest` checks these first (`quick_ingest`). When all match, nothing
an ingest reads has been written since: writing a file or adding, removing or renaming
an entry moves a change time, which tools cannot set back on the file systems Linux and
macOS use (FAT and network mounts are the exception: see docs/input-formats.md). So every
file would be found unchanged, and the run is recorded as such (`_record_run`, the SQL of
Writer.start_run, record_folder, finish_run and prune_runs for a run that changed nothing)
without reading, hashing or parsing a file, and without importing the rest of learnlog.
The repairs a full run starts with (indexes or terms a cut-off run left) cannot be due:
a cut-off run that wrote anything moved the content version.

Whatever the check cannot vouch for takes the full way: another database engine or URL
form, a `.env` file, several folders, an aliases file set by path, an option it does not
know, another writer since (the content version moved), an entry changed less than
`_SETTLE_NS` before the snapshot (its times may not show a change made in the same
tick), or anything unexpected on the way (the full way then says what is wrong).
"""

import contextlib
import datetime as dt
import hashlib
import os
import sqlite3
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import app
from app.folders.names import DATABASE_FOLDER, DATABASE_NAME, MARKERS, PARENTS_LOOKED_AT
from app.ingest import PARSER_VERSION
from app.ingest.lock import lock_file, try_flock

_FORMAT = b"learnlog-manifest-2"
_ENV_PREFIX = "LEARNLOG_"
# With one of these set, the full way reads more than the folder (or other folders).
_FULL_WAY_SETTINGS = frozenset({"LEARNLOG_CONTENT_DIRS", "LEARNLOG_ALIASES_FILE"})
# An entry written this close before the snapshot may be written again in the same clock
# tick without its times changing: such a folder gets no manifest until it settles.
_SETTLE_NS = 2_000_000_000
_APP = Path(app.__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Before:
    """A folder and its run's circumstances as the run began."""

    snapshot: str  # digest of the folder's entries
    fingerprint: str  # digest of everything else that decides the run
    settled: bool  # every entry last changed well before the snapshot


def before_run(root: Path, database: str, *, own: bool, include_drafts: bool) -> Before:
    """Take the snapshot and the fingerprint of a run of `root` into `database` (the
    SQLite file as the URL names it) that is about to begin."""
    taken = time.time_ns()
    digest, newest = _snapshot(root)
    return Before(
        digest,
        fingerprint(root, database, own=own, include_drafts=include_drafts),
        newest < taken - _SETTLE_NS,
    )


def _snapshot(root: Path) -> tuple[str, int]:
    """A digest of the stat of every entry of every folder that discovery would list under
    `root`, and the newest time among them (ns). Hidden entries are skipped as discovery
    skips them; their coming and going still moves their folder's times."""
    digest = hashlib.blake2b(_FORMAT, digest_size=32)
    newest = 0
    pending = [("", str(root))]
    while pending:
        prefix, folder = pending.pop()
        info = os.stat(folder)
        newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
        digest.update(_line("D", prefix, _stat_text(info)))
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                info = os.stat(entry.path)  # through a link: what discovery would read
            except OSError as error:
                digest.update(_line("E", prefix + name, type(error).__name__))
                continue
            newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
            kind = "L" if entry.is_symlink() else "F"
            digest.update(_line(kind, prefix + name, _stat_text(info)))
            if entry.is_dir(follow_symlinks=False):
                pending.append((f"{prefix}{name}/", entry.path))
    return digest.hexdigest(), newest


def _line(kind: str, path: str, text: str) -> bytes:
    return f"{kind}{path}\0{text}\n".encode("utf-8", "surrogateescape")


def _stat_text(info: os.stat_result) -> str:
    """An entry's type, size, times and inode."""
    kind = stat.S_IFMT(info.st_mode)
    return f"{kind} {info.st_size} {info.st_mtime_ns} {info.st_ctime_ns} {info.st_ino}"


def fingerprint(root: Path, database: str, *, own: bool, include_drafts: bool) -> str:
    """A digest of what, beside the folder's entries, decides what an ingest of `root` does."""
    parts = [
        sys.version, app.__version__, f"parser {PARSER_VERSION}", str(root), database,
        f"own={own}", f"drafts={include_drafts}",
    ]  # fmt: skip
    parts += sorted(f"{name.upper()}={value}" for name, value in _settings_environment())
    for folder in [root, *list(root.parents)[:PARENTS_LOOKED_AT]]:
        parts += [f"{folder}/{marker}" for marker, _ in MARKERS if (folder / marker).exists()]
    digest = hashlib.blake2b(_FORMAT, digest_size=32)
    digest.update("\n".join(parts).encode("utf-8", "surrogateescape"))
    _code_stamp(digest)
    return digest.hexdigest()


def _settings_environment() -> Iterator[tuple[str, str]]:
    """The environment variables settings are read from (names are not case-sensitive)."""
    for name, value in os.environ.items():
        if name.upper().startswith(_ENV_PREFIX):
            yield name, value


def _code_stamp(digest: "hashlib.blake2b") -> None:
    """Add the name and contents of every file of learnlog's code and migrations."""
    for top in (_APP, _APP.parent / "migrations"):
        for folder, folders, files in os.walk(top):
            folders[:] = sorted(name for name in folders if name != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".ini", ".mako")):
                    path = os.path.join(folder, name)
                    with open(path, "rb") as code:
                        digest.update(f"\0{path}\0".encode("utf-8", "surrogateescape"))
                        digest.update(code.read())


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a clean run of a folder recorded (see the module's docstring)."""

    location: str
    folder: str
    before: Before
    schema_revision: str
    content_version: int
    unchanged: int
    skipped_drafts: int
    keep_runs: int
    keep_failed_runs: int
    report: str


def record(database: str, manifest: Manifest) -> None:
    """Store `manifest` for its folder in the SQLite file `database`, replacing the last."""
    with contextlib.closing(_connect(database)) as db, db:
        db.execute(
            "INSERT OR REPLACE INTO ingest_manifests (location, folder, fingerprint, "
            "snapshot, schema_revision, content_version, unchanged, skipped_drafts, "
            "keep_runs, keep_failed_runs, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                manifest.location, manifest.folder, manifest.before.fingerprint,
                manifest.before.snapshot, manifest.schema_revision, manifest.content_version,
                manifest.unchanged, manifest.skipped_drafts, manifest.keep_runs,
                manifest.keep_failed_runs, manifest.report,
            ),
        )  # fmt: skip


def forget(database: str, location: str) -> None:
    """Drop the manifest of a folder (its run was not clean: the next one goes the full way)."""
    with contextlib.closing(_connect(database)) as db, db:
        db.execute("DELETE FROM ingest_manifests WHERE location = ?", (location,))


def _connect(database: str) -> sqlite3.Connection:
    """The existing SQLite file `database` (a path, never read as a URI), for writing."""
    uri = Path(os.path.abspath(database)).as_uri() + "?mode=rw"
    return sqlite3.connect(uri, uri=True, timeout=30)


# -- the check ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Request:
    """A plain `learnlog ingest [FOLDER] [--database-url URL] [--drafts/--no-drafts]`."""

    folder: Path
    database: str  # as the URL names it, or the folder's own
    own: bool
    include_drafts: bool


def quick_ingest(argv: list[str]) -> int | None:
    """Run `learnlog ingest` for an unchanged folder and return its exit status; None
    when the command is anything else or the folder may have changed (the full way)."""
    started = time.perf_counter()
    try:
        request = _parse(argv)
        return None if request is None else _quick(request, started)
    except Exception:  # any doubt: the full way runs, and says what is wrong
        return None


def _parse(argv: list[str]) -> _Request | None:
    """The request, when `argv` is a plain ingest this check can answer."""
    if not argv or argv[0] != "ingest" or os.path.exists(".env"):
        return None
    environment = {name.upper(): value for name, value in _settings_environment()}
    if _FULL_WAY_SETTINGS & environment.keys():
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
    folder = folder if folder is not None else environment.get("LEARNLOG_CONTENT_DIR", "content")
    if not folder or not os.path.isdir(folder):
        return None  # an empty name is the working directory to the full way
    root = Path(folder).resolve()
    url = url or environment.get("LEARNLOG_DATABASE_URL") or ""
    if not url:
        inside = root / DATABASE_FOLDER
        if not os.access(inside, os.W_OK):
            return None  # the full way keeps this folder's database elsewhere
        database = str(inside / DATABASE_NAME)
    elif url.startswith("sqlite:///") and not url.startswith("sqlite:///file:") and "?" not in url:
        database = unquote(url.removeprefix("sqlite:///"))  # as SQLAlchemy reads it
    else:
        return None
    if database in ("", ":memory:") or not os.path.isfile(database):
        return None
    return _Request(root, database, not url, include_drafts)


def _quick(request: _Request, started: float) -> int | None:
    """The check and, when it holds, the run's record and summary."""
    location = str(request.folder)
    expected = fingerprint(
        request.folder, request.database, own=request.own, include_drafts=request.include_drafts
    )
    with try_flock(lock_file(request.database)) as held:
        if not held:
            return None  # another ingest runs: the full way says so
        with contextlib.closing(_connect(request.database)) as db:
            db.isolation_level = None
            db.execute("PRAGMA foreign_keys=ON")  # as app/db.py connects
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT m.folder, m.fingerprint, m.snapshot, m.schema_revision, "
                "m.content_version, m.unchanged, m.skipped_drafts, m.keep_runs, "
                "m.keep_failed_runs, m.report, a.version_num, s.version "
                "FROM ingest_manifests m, alembic_version a, content_state s "
                "WHERE m.location = ? AND s.id = 1",
                (location,),
            ).fetchone()
            if row is None:
                db.execute("ROLLBACK")
                return None
            (folder, stored, digest, revision, version, unchanged, skipped, keep, keep_failed,
             report, now_revision, now_version) = row  # fmt: skip
            same = stored == expected and revision == now_revision and version == now_version
            if not same or _snapshot(request.folder)[0] != digest:
                db.execute("ROLLBACK")
                return None
            run_id = _record_run(db, location, folder, (unchanged, skipped, version))
            _prune_runs(db, keep, keep_failed)
            db.execute("COMMIT")
    _print_summary(request, run_id, unchanged, skipped, version, report, started)
    return 0


def _record_run(
    db: sqlite3.Connection, location: str, folder: str, counts: tuple[int, int, int]
) -> int:
    """Record a run that changed nothing as Writer.start_run, record_folder and
    finish_run would: a run still marked running was cut off (the lock is held)."""
    unchanged, skipped, version = counts
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    db.execute(
        "UPDATE ingest_runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
        (now,),
    )
    db.execute(
        "UPDATE folders SET location = ?, updated_at = ? WHERE name = ?", (location, now, folder)
    )
    cursor = db.execute(
        "INSERT INTO ingest_runs (root, started_at, finished_at, status, added, updated, "
        "unchanged, deleted, skipped_drafts, failed, warnings, content_version) "
        "VALUES (?, ?, ?, 'ok', 0, 0, ?, 0, ?, 0, 0, ?)",
        (location, now, now, unchanged, skipped, version),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _prune_runs(db: sqlite3.Connection, keep: int, keep_failed: int) -> None:
    """Writer.prune_runs: all but the newest runs are forgotten, with their problems."""
    for statuses, kept in ((("failed",), keep_failed), (("ok", "interrupted"), keep)):
        marks = ", ".join("?" * len(statuses))
        db.execute(
            f"DELETE FROM ingest_runs WHERE status IN ({marks}) AND id <= ("
            f"SELECT id FROM ingest_runs WHERE status IN ({marks}) "
            "ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (*statuses, *statuses, kept),
        )


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
