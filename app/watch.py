"""Keep the database in step with the content folder while the API serves.

A background thread watches the folder (inotify and friends, through `watchfiles`) and,
once saves have gone quiet for a moment, runs the ordinary ingest: it re-parses only the
files whose bytes changed, so one saved post costs milliseconds even in a large folder.
"""

import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import watchfiles
from sqlalchemy import Engine

from app.db import make_engine
from app.ingest.discover import MARKDOWN_SUFFIXES
from app.ingest.lock import IngestBusy
from app.ingest.pipeline import RunSummary, run_ingest
from app.ingest.problems import escaped
from app.settings import Settings

# Saves go quiet for this long before an ingest starts: an editor's write, rename and
# backup steps land in one run instead of several.
QUIET_MS = 300
# A folder that never goes quiet (a sync client, a long checkout) is still ingested this often.
LONGEST_WAIT_MS = 2_000
# A folder that comes back (a re-clone) is ingested once every file in it, `.git`
# included, has been still this long, or after the longest wait whatever happens.
SETTLE_QUIET_MS = 1_000
SETTLE_LONGEST_S = 60.0


class ContentWatcher:
    """Re-ingest the content folder in a background thread whenever a post changes.

    Use it as a context manager (or call `start` and `stop`): leaving it stops watching
    and waits for an ingest in progress to finish, so no run is cut off halfway.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        on_run: Callable[[RunSummary], None],
        on_trouble: Callable[[str], None],
        quiet_ms: int = QUIET_MS,
        root: Path | None = None,
    ) -> None:
        self.settings = settings
        self.root = (root or settings.content_dir).resolve()
        self.on_run = on_run
        self.on_trouble = on_trouble
        self.quiet_ms = quiet_ms
        self._stop = threading.Event()
        self._waiting = False  # for the lock: said once, not at every retry
        self._thread = threading.Thread(target=self._watch, name="content-watcher", daemon=True)

    def __enter__(self) -> "ContentWatcher":
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Ingest once (to catch edits made while nobody watched), then follow changes."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and wait for the thread (and any ingest it is running) to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def is_watched(self, path: Path) -> bool:
        """True for a change that can alter the database: Markdown, folders, the aliases file.

        Hidden files and folders (editor swap files, `.#` locks, `.git`) and backup copies
        (`post.md~`, `#post.md#`) are not content, as the ingest itself skips them.
        """
        if path == self._aliases_file():
            return True
        try:
            relative = path.relative_to(self.root)
        except ValueError:
            return False
        if any(part.startswith(".") for part in relative.parts):
            return False
        if path.name.endswith("~") or path.name.startswith("#"):
            return False
        if path.suffix.lower() in MARKDOWN_SUFFIXES:
            return True
        # A folder moved in or out is reported for itself, not for the posts inside it; a
        # gone path without a suffix may have been such a folder.
        return path.is_dir() or (not path.suffix and not path.exists())

    def _aliases_file(self) -> Path:
        """The aliases file as the ingest will resolve it (domains.yml may appear later)."""
        if self.settings.aliases_file is not None:
            return self.settings.aliases_file.resolve()
        return self.root / "domains.yml"

    def _watch(self) -> None:
        """The thread: one ingest now, then one after each quiet spell following a change."""
        engine = make_engine(self.settings.database_url)
        try:
            self._follow(engine)
        except Exception as error:  # the API keeps serving what it has
            self.on_trouble(f"stopped watching: {type(error).__name__}: {error}")
        finally:
            engine.dispose()

    def _follow(self, engine: Engine) -> None:
        """Watch the folder until told to stop, re-arming whenever it is deleted or replaced.

        A folder deleted and created again (`rm -rf content && git clone ...`) is a new
        directory the old watch never sees, so each vanishing ends one watch and, once
        the folder is back, starts another with a fresh ingest.
        """
        identity = self._identity()
        while not self._stop.is_set():
            if identity is None:
                if not self._await_return():
                    return
                identity = self._identity()
            self._follow_one(engine, identity)
            identity = None

    def _follow_one(self, engine: Engine, identity: tuple[int, int] | None) -> None:
        """Ingest now, then after each quiet spell following a change, until told to stop.

        Returns when the folder vanishes or is replaced by another. The watcher yields an
        empty set whenever a quiet period passes without changes: that tick runs the first
        ingest (once watching has begun, so no edit falls between the two), retries one
        that found the ingest lock taken, and notices a folder replaced between two events.
        """
        watched = [self.root]
        aliases = self._aliases_file()
        if aliases.is_file() and not aliases.is_relative_to(self.root):
            watched.append(aliases)
        pending = True  # catch up on edits made while nobody watched
        for changes in watchfiles.watch(
            *watched,
            watch_filter=lambda _change, path: self.is_watched(Path(path)),
            step=self.quiet_ms,
            debounce=LONGEST_WAIT_MS,
            rust_timeout=self.quiet_ms,
            yield_on_timeout=True,
            stop_event=self._stop,
            ignore_permission_denied=True,
        ):
            if identity is None or self._identity() != identity:
                return  # gone or replaced: never ingest an absent folder as an empty one
            if pending or changes:
                pending = not self._ingest(engine)

    def _identity(self) -> tuple[int, int] | None:
        """(device, inode) of the content folder, or None while it is missing."""
        try:
            info = os.stat(self.root)
        except OSError:
            return None
        return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None

    def _await_return(self) -> bool:
        """Wait until the folder is back, holding posts, and writes have paused; False on stop.

        Meanwhile the API keeps serving the posts it has: a vanished folder is not an
        empty one, and a clone fills its folder (`.git` first) before the posts appear.
        """
        what = "is gone" if self._identity() is None else "was replaced"
        self.on_trouble(
            f"{escaped(str(self.root))} {what}: serving the posts ingested last "
            "until it holds posts again"
        )
        # Polled, not watched: the parent may be gone too, and a check costs one stat.
        while not self._stop.wait(self.quiet_ms / 1000):
            if self._identity() is not None and _holds_markdown(self.root):
                break
        else:
            return False
        self._settle()
        if self._stop.is_set():
            return False
        self.on_trouble(f"{escaped(str(self.root))} is back: ingesting it")
        return True

    def _settle(self) -> None:
        """Return once nothing in the folder changed for a quiet spell (or after a while)."""
        deadline = time.monotonic() + SETTLE_LONGEST_S
        while time.monotonic() < deadline and not self._stop.is_set():
            quiet = True
            try:
                for changes in watchfiles.watch(
                    self.root,
                    step=self.quiet_ms,
                    rust_timeout=SETTLE_QUIET_MS,
                    yield_on_timeout=True,
                    stop_event=self._stop,
                    ignore_permission_denied=True,
                ):
                    quiet = not changes
                    break
            except OSError:
                return  # gone again: the watch that follows notices
            if quiet:
                return

    def _ingest(self, engine: Engine) -> bool:
        """Run one ingest and report it; False when another process holds the ingest lock."""
        try:
            summary = run_ingest(
                engine,
                self.root,
                max_file_bytes=self.settings.max_file_bytes,
                aliases_file=self.settings.resolved_aliases_file(self.root),
                # Parse in this thread: forking parser processes from a server that runs
                # other threads can deadlock them; a save re-parses a file or two.
                workers=1,
            )
        except IngestBusy:
            if not self._waiting:
                self.on_trouble("another ingest is running: waiting for it to finish")
            self._waiting = True
            return False
        except Exception as error:  # a broken database must not end the watching
            if self._identity() is None:
                return True  # the folder went during the run: the wait for it says so
            self.on_trouble(f"ingest failed: {type(error).__name__}: {error}")
        else:
            self.on_run(summary)
        self._waiting = False
        return True


def _holds_markdown(root: Path) -> bool:
    """True when a Markdown file sits anywhere under `root` outside hidden folders."""
    for _folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        if any(os.path.splitext(name)[1].lower() in MARKDOWN_SUFFIXES for name in files):
            return True
    return False
