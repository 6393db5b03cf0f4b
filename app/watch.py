"""Keep the database in step with the content folder while the API serves.

A background thread watches the folder (inotify and friends, through `watchfiles`) and,
once saves have gone quiet for a moment, runs the ordinary ingest: it re-parses only the
files whose bytes changed, so one saved post costs milliseconds even in a large folder.
"""

import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles
from sqlalchemy import Engine

from app.db import make_engine
from app.ingest.discover import MARKDOWN_SUFFIXES
from app.ingest.lock import IngestBusy
from app.ingest.pipeline import RunSummary, run_ingest
from app.settings import Settings

# Saves go quiet for this long before an ingest starts: an editor's write, rename and
# backup steps land in one run instead of several.
QUIET_MS = 300
# A folder that never goes quiet (a sync client, a long checkout) is still ingested this often.
LONGEST_WAIT_MS = 2_000


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
        """Ingest now, then after each quiet spell following a change, until told to stop.

        The watcher yields an empty set whenever a quiet period passes without changes:
        that tick runs the first ingest (once watching has begun, so no edit falls between
        the two) and retries one that found the ingest lock taken.
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
            if pending or changes:
                pending = not self._ingest(engine)

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
            self.on_trouble(f"ingest failed: {type(error).__name__}: {error}")
        else:
            self.on_run(summary)
        self._waiting = False
        return True
