"""An in-memory index of entries for /entries pages: posting lists in sort order.

SQL answers a page by walking the date index and probing every filter per row; when two
rare filters meet over a wide date range that walk reads tens of thousands of rows. This
index holds, for one content version, every entry's rank in the sort order and, for each
filter value (domain heading slug, tag, category, host, link kind, post), the sorted
ranks of the entries having it. A page is then a few binary searches and one
intersection of the rarest lists: microseconds instead of milliseconds.

Ranks follow (date, post id, -position): newest first is exactly the reverse, and a
date window is one contiguous range. Oldest first keeps positions ascending within a
post by reordering inside the post groups a page touches. About 10 bytes per entry
plus 4 per posting: 10-20 MB for 300,000 entries. Building it reads the tables once in
one snapshot (about 2 s at that size), off the request path for large databases.

Each index also keeps the entries' spliced answers it has served (`AnswerCache`, up to
ANSWER_BYTES): they cannot change within a content version, and a page of kept answers
needs no database read at all.
"""

import bisect
import contextlib
import datetime as dt
import sqlite3
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from app.db import snapshot
from app.entry_docs import Splicer
from app.models import (
    ENTRIES,
    ENTRY_TAGS,
    LINKS,
    POST_CATEGORIES,
    POST_TAGS,
    POSTS,
    SECTION_PATHS,
)
from app.queries.changes import current_version
from app.queries.entries import EntryFilters, EntryKey, domain_aliases, heading_slugs_for

Ranks = NDArray[np.int32]
V = TypeVar("V")

# Below this many entries the index is built inside the request that needs it (well under
# 100 ms); above it, in a background thread while requests use SQL.
INLINE_BUILD_LIMIT = 50_000
# After a build, the next waits this many times the last build's duration.
BUILD_COOLDOWN = 4
# Background builds follow the content once it has settled: a version that stayed the
# newest for QUIET_SECONDS (longer than an ingest's publish steps) is built at once; while
# versions keep coming, the index is rebuilt at most every BUSY_REBUILD_SECONDS. A
# 10,000-post load then costs a few builds, not one per step.
QUIET_SECONDS = 8.0
BUSY_REBUILD_SECONDS = 60.0
# Posting lists of declared-field filters kept per index (4 bytes per matching entry).
FIELD_POSTINGS = 128
# Entry answers (spliced JSON) kept per index: reading a page's rows from SQLite and
# splicing them cost two thirds of an uncached page. 64 MB holds about 80,000 entries of
# the benchmark corpus (all of them would take some 230 MB); the first kept go first.
ANSWER_BYTES = 64 * 2**20
# What keeping one answer costs beside its bytes (the bytes object, its sort key, a tuple
# and a dict slot), counted against ANSWER_BYTES.
_ANSWER_OVERHEAD = 250
# A kept answer: its JSON and the fields of its sort key (EntryKey's), a tuple of atoms
# only, which the cycle collector stops tracking. Kept as (bytes, EntryKey), 54,000
# answers made each full collection walk 108,000 objects: 27 ms at 300,000 entries, which
# every request in flight waited out, against 1.6 ms.
KeptAnswer = tuple[bytes, dt.date | None, int, int]
# SQLite calls a LoopReader's time check every this many virtual machine steps, as
# `app.db.time_limit` does the pooled connections'.
_PROGRESS_STEPS = 10_000
_UNDATED = -1  # date ordinal of undated entries: before every date, as NULLS FIRST


@dataclass(slots=True)
class Page:
    """Entry ids of one page in answer order, whether more follow, and the match count."""

    ids: list[int]
    has_more: bool
    matches: int


class EntryIndex:
    """Posting lists of one content version; immutable once built."""

    def __init__(
        self,
        version: int,
        ids: NDArray[np.int64],
        days: NDArray[np.int32],
        post_ids: NDArray[np.int64],
        positions: NDArray[np.int32],
        drafts: NDArray[np.bool_],
        postings: dict[tuple[str, str], Ranks],
        posts: dict[int, tuple[str, str, str]],
        aliases: dict[str, str],
    ) -> None:
        self.version = version
        self.aliases = aliases
        self.ids = ids
        self.days = days
        self.post_ids = post_ids
        self.positions = positions
        self.drafts = drafts
        self.postings = postings
        self.posts = posts
        self.any_drafts = bool(drafts.any())
        self._splicer: Splicer | None = None
        self._answers = AnswerCache(None, ANSWER_BYTES)
        self._posts_dense: tuple[NDArray[np.int64], NDArray[np.intp]] | None = None
        self._field_postings: dict[Hashable, Ranks] = {}

    def splicer(self, edit_url_template: str | None) -> Splicer:
        """The JSON splicer of this index's posts and aliases (its caches live as long)."""
        found = self._splicer
        if found is None or found.template != edit_url_template:
            found = self._splicer = Splicer(self.posts, self.aliases, edit_url_template)
        return found

    def answers(
        self,
        ids: list[int],
        edit_url_template: str | None,
        read_rows: Callable[[list[int]], list[tuple[Any, ...]]],
    ) -> list[KeptAnswer] | None:
        """Entries `ids` as /entries answers them (JSON, then their sort key's fields:
        `answer_key`), in order.

        Answers kept from earlier pages are reused (they cannot change within a content
        version); `read_rows` reads the stored pieces of the others. None when a row has
        no document yet.
        """
        kept = self._answers
        if kept.template != edit_url_template:
            kept = self._answers = AnswerCache(edit_url_template, ANSWER_BYTES)
        found = kept.lookup(ids)
        missing = [entry_id for entry_id, answer in zip(ids, found, strict=True) if answer is None]
        if not missing:
            return found  # type: ignore[return-value]
        fresh = _spliced(read_rows(missing), self.splicer(edit_url_template), missing)
        if fresh is None:
            return None
        kept.keep(missing, fresh)
        spliced = iter(fresh)
        return [answer if answer is not None else next(spliced) for answer in found]

    @staticmethod
    def supports(filters: EntryFilters) -> bool:
        """True when the index can answer these filters (full text, moments, fields need SQL)."""
        bounds = (filters.date_from, filters.date_to)
        # Declared-field filters come as the set of posts they select (SQL, one index
        # range each), except "has no value", a complement the caller would have to list.
        return (
            filters.q is None
            and not any(f.op == "exists" and not f.values[0] for f in filters.data)
            and not any(isinstance(b, dt.datetime) for b in bounds)
        )

    def page(
        self,
        filters: EntryFilters,
        *,
        after: EntryKey | None,
        newest_first: bool,
        limit: int,
        fields: Iterable[Ranks] = (),
    ) -> Page:
        """The entries of one page, exactly as the SQL query would order them.

        `fields`: posting lists of declared-field filters (`field_postings`), each of
        which must hold too.

        `matches` counts every entry matching the filters, the pages before the cursor
        included: the total SQL gives on any page of the same query.
        """
        low, high = self._window(filters)
        candidates = self._matching(filters, low, high, list(fields))
        if candidates is None:  # no membership filter: every rank in the range
            candidates = np.arange(low, max(low, high), dtype=np.int32)
        if not filters.include_drafts and self.any_drafts and len(candidates):
            candidates = candidates[~self.drafts[candidates]]
        matches = len(candidates)
        if after is not None:
            candidates = self._after(after, newest_first, candidates)
        if newest_first:
            chosen = candidates[::-1][: limit + 1]
        else:
            chosen = self._oldest(candidates, limit + 1)
        has_more = len(chosen) > limit
        return Page([int(i) for i in self.ids[chosen[:limit]]], has_more, matches)

    def field_postings(self, key: Hashable, posts: Callable[[], Iterable[int]]) -> Ranks:
        """The ranks of the entries of `posts()` (the posts a declared-field filter
        selects), kept for this content version under `key` as a tag's list is."""
        found = self._field_postings.get(key)
        if found is None:
            found = np.flatnonzero(self._of_posts(posts())).astype(np.int32)
            if len(self._field_postings) >= FIELD_POSTINGS:
                self._field_postings.clear()
            self._field_postings[key] = found
        return found

    def _of_posts(self, posts: Iterable[int]) -> NDArray[np.bool_]:
        """A mask over ranks: True for the entries of `posts`."""
        dense = self._posts_dense
        if dense is None:
            # Each rank's post as a dense number, worked out on first use (one tuple, so
            # that a concurrent request sees both arrays or neither).
            dense = self._posts_dense = np.unique(self.post_ids, return_inverse=True)
        keys, of_rank = dense
        wanted = np.fromiter(posts, dtype=np.int64)
        wanted = wanted[np.isin(wanted, keys)]
        chosen = np.zeros(len(keys), dtype=np.bool_)
        chosen[keys.searchsorted(wanted)] = True
        mask: NDArray[np.bool_] = chosen[of_rank]
        return mask

    def _window(self, filters: EntryFilters) -> tuple[int, int]:
        """The rank range [low, high) inside `from`/`to` (undated entries are outside)."""
        low, high = 0, len(self.ids)
        if isinstance(filters.date_from, dt.date):
            low = int(self.days.searchsorted(np.int32(filters.date_from.toordinal()), "left"))
        if isinstance(filters.date_to, dt.date):
            high = int(self.days.searchsorted(np.int32(filters.date_to.toordinal()), "right"))
        if filters.date_from is None and filters.date_to is not None:
            low = int(self.days.searchsorted(np.int32(_UNDATED), "right"))
        return low, high

    def _key(self, rank: int) -> tuple[int, int, int]:
        return int(self.days[rank]), int(self.post_ids[rank]), -int(self.positions[rank])

    def _after(self, after: EntryKey, newest_first: bool, candidates: Ranks) -> Ranks:
        """The candidates (sorted ranks) that come after the cursor in answer order.

        Newest first, that is every rank before the cursor's. Oldest first, it is the rest
        of the cursor's post (the ranks before the cursor's in its group: larger
        positions) and every later post, so the cursor's own and earlier positions in its
        group are left out.
        """
        day = after.date.toordinal() if after.date is not None else _UNDATED
        key = (day, after.post_id, -after.position)
        every = range(len(self.ids))
        cut = bisect.bisect_left(every, key, key=self._key)
        if newest_first:
            return candidates[: int(candidates.searchsorted(np.int32(cut), "left"))]
        group = key[:2]
        start = bisect.bisect_left(every, group, key=lambda rank: self._key(rank)[:2])
        end = bisect.bisect_right(every, group, key=lambda rank: self._key(rank)[:2])
        bounds = candidates.searchsorted(np.asarray((start, cut, end), dtype=np.int32), "left")
        first, hole_start, hole_end = (int(b) for b in bounds)
        return np.concatenate((candidates[first:hole_start], candidates[hole_end:]))

    def _matching(
        self, filters: EntryFilters, low: int, high: int, fields: list[Ranks]
    ) -> Ranks | None:
        """Ranks in [low, high) having every membership filter; None when there are none."""
        wanted: list[tuple[str, Iterable[str]]] = [
            ("domain", heading_slugs_for(filters.domain, self.aliases) if filters.domain else ()),
            ("tag", filters.tag),
            ("category", filters.category),
            ("post", filters.post),
            ("host", filters.host),
            ("link_kind", filters.link_kind),
        ]
        lists: list[Ranks] = [_slice(ranks, low, high) for ranks in fields]
        for kind, values in wanted:
            found = [self.postings.get((kind, value)) for value in values]
            if not values:
                continue
            parts = [_slice(ranks, low, high) for ranks in found if ranks is not None]
            if not parts:
                return np.empty(0, dtype=np.int32)
            lists.append(parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts)))
        if not lists:
            return None
        lists.sort(key=len)
        result = lists[0]
        for other in lists[1:]:
            if not len(result):
                break
            spots = np.searchsorted(other, result)
            spots[spots == len(other)] = 0
            result = result[other[spots] == result]
        return result

    def _oldest(self, candidates: Ranks, wanted: int) -> Ranks:
        """The first `wanted` candidates oldest first (positions ascending within a post)."""
        if not len(candidates):
            return candidates
        end = min(len(candidates), wanted)
        last = candidates[end - 1]
        while (
            end < len(candidates)
            and self.days[candidates[end]] == self.days[last]
            and self.post_ids[candidates[end]] == self.post_ids[last]
        ):
            end += 1
        head = candidates[:end]
        order = np.lexsort((self.positions[head], self.post_ids[head], self.days[head]))
        return head[order][:wanted]


class BudgetCache(Generic[V]):
    """Values by entry id up to a byte budget (`size_of` each, plus `overhead`), the first
    kept dropped first. Thread-safe: requests keep values from the event loop and from the
    threadpool."""

    def __init__(self, budget: int, size_of: Callable[[V], int], overhead: int) -> None:
        self.budget = budget
        self.size = 0
        self._size_of = size_of
        self._overhead = overhead
        # Ordered: the oldest go first in O(1) (a plain dict's first key is found by
        # skipping every slot emptied before it, which made full caches slow).
        self._kept: OrderedDict[int, V] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, ids: list[int]) -> list[V | None]:
        """The kept value of each of `ids`, None where there is none."""
        get = self._kept.get
        return [get(entry_id) for entry_id in ids]

    def keep_pairs(self, pairs: Iterable[tuple[int, V]]) -> None:
        """Keep (entry id, value) pairs not kept yet, dropping the oldest past the budget."""
        kept, size_of, overhead = self._kept, self._size_of, self._overhead
        with self._lock:
            for entry_id, value in pairs:
                if entry_id not in kept:
                    kept[entry_id] = value
                    self.size += size_of(value) + overhead
            while self.size > self.budget and kept:
                _, dropped = kept.popitem(last=False)
                self.size -= size_of(dropped) + overhead


def _answer_size(answer: KeptAnswer) -> int:
    return len(answer[0])


class AnswerCache(BudgetCache[KeptAnswer]):
    """Spliced entry answers of one index and edit URL template, up to a byte budget."""

    def __init__(self, template: str | None, budget: int) -> None:
        super().__init__(budget, _answer_size, _ANSWER_OVERHEAD)
        self.template = template

    def keep(self, ids: list[int], answers: list[KeptAnswer]) -> None:
        """Keep the answers of `ids`, dropping the oldest kept beyond the budget."""
        self.keep_pairs(zip(ids, answers, strict=True))


def _slice(ranks: Ranks, low: int, high: int) -> Ranks:
    """The part of a sorted rank list inside [low, high)."""
    # Scalars of the array's own type: a Python int would make numpy convert the array.
    start = int(ranks.searchsorted(np.int32(low), "left"))
    stop = int(ranks.searchsorted(np.int32(high), "left"))
    return ranks[start:stop]


def build_index(conn: Connection) -> EntryIndex:
    """Read one snapshot of the tables into an EntryIndex."""
    version = current_version(conn)
    e = ENTRIES.c
    rows = conn.execute(select(e.id, e.date, e.post_id, e.position, e.is_draft, e.section_id)).all()
    count = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=count)
    days = np.fromiter(
        (r[1].toordinal() if r[1] is not None else _UNDATED for r in rows),
        dtype=np.int32,
        count=count,
    )
    post_ids = np.fromiter((r[2] for r in rows), dtype=np.int64, count=count)
    positions = np.fromiter((r[3] for r in rows), dtype=np.int32, count=count)
    drafts = np.fromiter((bool(r[4]) for r in rows), dtype=np.bool_, count=count)
    order = np.lexsort((-positions.astype(np.int64), post_ids, days))
    rank_of: dict[int, int] = dict(zip(ids[order].tolist(), range(count), strict=True))

    lists: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_post: dict[int, list[int]] = defaultdict(list)
    by_section: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        rank = rank_of[row[0]]
        by_post[row[2]].append(rank)
        by_section[row[5]].append(rank)
    for section_id, slug in conn.execute(select(SECTION_PATHS.c.section_id, SECTION_PATHS.c.slug)):
        lists["domain", slug].extend(by_section.get(section_id, ()))
    for entry_id, tag in conn.execute(select(ENTRY_TAGS.c.entry_id, ENTRY_TAGS.c.tag)):
        lists["tag", tag].append(rank_of[entry_id])
    for post_id, tag in conn.execute(select(POST_TAGS.c.post_id, POST_TAGS.c.tag)):
        lists["tag", tag].extend(by_post.get(post_id, ()))
    for post_id, category in conn.execute(
        select(POST_CATEGORIES.c.post_id, POST_CATEGORIES.c.category)
    ):
        lists["category", category].extend(by_post.get(post_id, ()))
    linked = select(LINKS.c.entry_id, LINKS.c.host, LINKS.c.kind).where(
        LINKS.c.entry_id.is_not(None)
    )
    for entry_id, host, kind in conn.execute(linked):
        rank = rank_of[entry_id]
        if host is not None:
            lists["host", host].append(rank)
        lists["link_kind", kind].append(rank)
    posts: dict[int, tuple[str, str, str]] = {}
    for post_id, slug, title, path in conn.execute(
        select(POSTS.c.id, POSTS.c.slug, POSTS.c.title, POSTS.c.source_path)
    ):
        posts[post_id] = (slug, title, path)
        lists["post", slug].extend(by_post.get(post_id, ()))
    postings = {key: np.unique(np.asarray(ranks, dtype=np.int32)) for key, ranks in lists.items()}
    return EntryIndex(
        version,
        ids[order],
        days[order],
        post_ids[order],
        positions[order],
        drafts[order],
        postings,
        posts,
        domain_aliases(conn),
    )


class IndexHolder:
    """The index of the newest content version this process has seen, built on demand."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self._clock = clock
        self.current: EntryIndex | None = None
        self._building = False
        self._build_started = 0.0
        self._next_build_at = 0.0
        self._newest_seen = -1  # the newest content version a request has asked for
        self._newest_seen_at = 0.0  # when it was first seen
        self._stale_since: float | None = None  # when the index first fell behind
        self._lock = threading.Lock()
        self.builds = 0  # indexes built and installed (a metric: rebuilds during ingests)
        self._listeners: list[Callable[[EntryIndex], None]] = []

    def when_installed(self, listener: Callable[[EntryIndex], None]) -> None:
        """Call `listener` with each index that becomes the current one, in the thread
        that built it (it must return at once)."""
        self._listeners.append(listener)

    def get(self, conn: Connection | None, version: int) -> EntryIndex | None:
        """The index for `version`, or None while it is being built (then use SQL).

        Without a connection, only an index already built for `version` is given.
        """
        found = self.current
        if found is not None and found.version == version:
            return found
        if conn is None:
            return None
        if found is not None and found.version > version:
            return None  # this request's snapshot is older than the index: use SQL
        entries = len(found.ids) if found is not None else _entry_count(conn)
        if entries > INLINE_BUILD_LIMIT:
            if self._settled(version):
                self._start_background_build()
            return None
        # One build at a time: while an ingest commits version after version, concurrent
        # requests would otherwise each build an index that is stale a moment later.
        if not self._claim_build():
            return None
        try:
            built = self._build_now()
        finally:
            self._release_build()
        if built.version == version:
            self._install(built)
            return built
        return None

    def _settled(self, version: int) -> bool:
        """Whether a background build for `version` is worth starting now (see QUIET_SECONDS)."""
        now = self._clock()
        with self._lock:
            if version > self._newest_seen:
                self._newest_seen, self._newest_seen_at = version, now
            if self._stale_since is None:
                self._stale_since = now
            quiet = now - self._newest_seen_at >= QUIET_SECONDS
            return quiet or now - self._stale_since >= BUSY_REBUILD_SECONDS

    def warm(self) -> None:
        """Build the index now (at startup, so the first requests need no SQL fallback).

        A database that cannot be read yet (not migrated, unreachable) is left for the
        requests to find out about.
        """
        try:
            self._install(self._build_now())
        except SQLAlchemyError:
            return

    def _build_now(self) -> EntryIndex:
        """Build from one snapshot of the database, whatever commits meanwhile."""
        with snapshot(self.engine) as conn:
            return build_index(conn)

    def _install(self, built: EntryIndex) -> None:
        with self._lock:
            self.builds += 1
            current = self.current is None or built.version >= self.current.version
            if current:
                self.current = built
            if built.version >= self._newest_seen:
                self._stale_since = None
            else:  # still behind: the wait for the next busy rebuild starts now
                self._stale_since = self._clock()
        if current:
            for listener in self._listeners:
                listener(built)

    def _claim_build(self) -> bool:
        """Mark a build as running; False when one is, or the last one ended too recently."""
        now = self._clock()
        with self._lock:
            if self._building or now < self._next_build_at:
                return False
            self._building = True
            self._build_started = now
            return True

    def _release_build(self) -> None:
        # While an ingest commits batch after batch, builds would follow each other back
        # to back (2-3 s of CPU each at 300k entries) and starve the requests: after a
        # build, wait a few times as long as it took before the next one. SQL answers
        # meanwhile, the same pages.
        now = self._clock()
        with self._lock:
            self._building = False
            self._next_build_at = now + BUILD_COOLDOWN * (now - self._build_started)

    def _start_background_build(self) -> None:
        if self._claim_build():
            threading.Thread(target=self._build, name="entry-index", daemon=True).start()

    def _build(self) -> None:
        try:
            self._install(self._build_now())
        finally:
            self._release_build()


def _entry_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one())


# The hot statements of a page, run on the driver's own cursor: SQLAlchemy's execution
# (compiling the expanding IN, result processing) cost more than SQLite running them.
_VERSION_SQL = "SELECT version FROM content_state WHERE id = 1"
_PAGE_SQL = (
    "SELECT id, date, post_id, position, line, domain_path, doc, text, html FROM entries "
    "WHERE id IN ({marks})"
)
_MARK = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_page_sql: dict[tuple[str, int], str] = {}


class LoopReader:
    """Reads for the quick lanes on a read-only SQLite connection of their own.

    Used by the event loop's thread alone, each use synchronous from start to end (never
    across an await), so one connection serves every request of the process: no pool
    checkout, no SQLAlchemy transaction (about 80 us a request together), just the
    statements. It never waits on a lock: a busy database raises, and the caller takes
    the pooled way, which waits its turn.
    """

    def __init__(self, path: Path, time_limit_ms: int) -> None:
        self._uri = f"{path.resolve().as_uri()}?mode=ro"
        self._limit = time_limit_ms / 1000
        self._deadline = 0.0
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def of(cls, engine: Engine, time_limit_ms: int) -> "LoopReader | None":
        """A reader for a SQLite file; None for other engines and in-memory databases."""
        database = engine.url.database
        if engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return None
        if database.startswith("file:"):
            return None
        return cls(Path(database), time_limit_ms)

    def version(self) -> int | None:
        """The newest committed content version, or None when it cannot be read at once."""
        try:
            conn = self._connection()
            self._deadline = 0.0  # one row: no time limit
            row = conn.execute(_VERSION_SQL).fetchone()
        except sqlite3.Error:
            self.close()  # opened again at the next read
            return None
        return None if row is None else int(row[0])

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction (every statement sees the same commit), time-limited as
        `app.db.time_limit` limits the pooled ones; sqlite3.Error on any failure."""
        conn = self._connection()
        self._deadline = time.monotonic() + self._limit if self._limit > 0 else 0.0
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("ROLLBACK")

    def _connection(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            conn = sqlite3.connect(
                self._uri, uri=True, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout=0")
            # As the serving pool's connections: mapped pages, no read() per page.
            conn.execute("PRAGMA mmap_size=2147483648")
            conn.set_progress_handler(self._too_long, _PROGRESS_STEPS)
            self._conn = conn
        return conn

    def _too_long(self) -> bool:
        return self._deadline > 0 and time.monotonic() > self._deadline

    def close(self) -> None:
        """Close the connection, if open."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def content_version(conn: Connection) -> int | None:
    """The content version `conn`'s transaction reads (None before the first migration)."""
    row = conn.connection.driver_connection.execute(_VERSION_SQL).fetchone()  # type: ignore[union-attr]
    return None if row is None else int(row[0])


def _page_rows(driver: Any, style: str, ids: list[int]) -> list[tuple[Any, ...]]:
    """The stored pieces of entries `ids` (in no particular order), on a driver connection."""
    sql = _page_sql.get((style, len(ids)))
    if sql is None:
        sql = _page_sql[style, len(ids)] = _PAGE_SQL.format(
            marks=",".join([_MARK[style]] * len(ids))
        )
    rows: list[tuple[Any, ...]] = driver.execute(sql, ids).fetchall()
    return rows


# Where a page row holds the entry's text (searches read their snippets' texts with it).
ROW_TEXT = 7


def loop_page_rows(conn: sqlite3.Connection, ids: list[int]) -> list[tuple[Any, ...]]:
    """`_page_rows` on a plain SQLite connection (the entry's text at `ROW_TEXT`)."""
    return _page_rows(conn, "qmark", ids)


def answer_key(answer: KeptAnswer) -> EntryKey:
    """The sort key of a kept answer (where a page ending with it stops)."""
    return EntryKey(answer[1], answer[2], answer[3])


def page_answers(
    conn: Connection, index: EntryIndex, ids: list[int], edit_url_template: str | None
) -> list[KeptAnswer] | None:
    """The entries `ids` as /entries answers them (JSON, with their sort keys), in order.

    None when a row has no document yet (ingested before documents existed): the caller
    then assembles the page the old way.
    """
    if not ids:
        return []
    driver, style = conn.connection.driver_connection, conn.dialect.paramstyle
    return index.answers(ids, edit_url_template, lambda missing: _page_rows(driver, style, missing))


def loop_page_answers(
    conn: sqlite3.Connection, index: EntryIndex, ids: list[int], edit_url_template: str | None
) -> list[KeptAnswer] | None:
    """`page_answers` in a `LoopReader` snapshot."""
    if not ids:
        return []
    return index.answers(ids, edit_url_template, lambda missing: _page_rows(conn, "qmark", missing))


def loop_version(conn: sqlite3.Connection) -> int | None:
    """The content version a `LoopReader` snapshot reads."""
    row = conn.execute(_VERSION_SQL).fetchone()
    return None if row is None else int(row[0])


def _spliced(
    rows: list[tuple[Any, ...]], splicer: Splicer, ids: list[int]
) -> list[KeptAnswer] | None:
    """The rows as answers in the order of `ids`; None when one is missing or has no doc."""
    by_id = {row[0]: row for row in rows}
    answers: list[KeptAnswer] = []
    for entry_id in ids:
        row = by_id.get(entry_id)
        if row is None or not row[6]:
            return None
        _, date, post_id, position, line, path, doc, text, html = row
        # SQLite hands dates back as the text it stores them as.
        day = _day(date) if isinstance(date, str) else date
        answer = splicer.entry(entry_id, day, post_id, line, path, doc, text, html)
        answers.append((answer, day, post_id, position))
    return answers


_DAYS: dict[str, dt.date] = {}


def _day(text: str) -> dt.date:
    """A stored date; the few thousand distinct days of a corpus are parsed once each."""
    found = _DAYS.get(text)
    if found is None:
        found = dt.date.fromisoformat(text[:10])
        if len(_DAYS) < 100_000:
            _DAYS[text] = found
    return found
