"""One ingest run: discover -> skip unchanged -> parse (in parallel) -> sync -> record.

Parsing is the expensive step, so changed files go to worker processes in small batches
while this process writes the results in order; at most a few batches are in flight, so
memory stays flat whatever the size of the folder. Each post's rows are replaced
atomically, and a file that fails (to read, to parse, or to be stored) fails alone.
"""

import contextlib
import gc
import hashlib
import itertools
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import Engine

if TYPE_CHECKING:
    from app.ingest.parse import ParsedPost

from app.fields.schema import FieldSchema, stored_rows
from app.folders.config import FolderConfig, load_config
from app.folders.dialect import Dialect, detect
from app.ingest.discover import (
    SourceFile,
    SourceText,
    discover,
    fingerprinted,
    hash_bytes,
    normalise,
    read_bytes,
    read_regular_file,
    read_source,
)
from app.ingest.folder import resolve_folder
from app.ingest.front_matter import key_lines
from app.ingest.identity import assign_slugs, slug_of
from app.ingest.lock import ingest_lock
from app.ingest.problems import ParseError, Problem, SourceVanished
from app.ingest.rows import RowPlan, with_rows
from app.ingest.sync import (
    PostWrite,
    PublishStep,
    RecordedProblem,
    StoredPost,
    Writer,
    problems_from,
)

# Below this many files to parse, worker start-up costs more than it saves.
_PARALLEL_THRESHOLD = 64
# A first load of at least this many files into an empty database builds the indexes of
# the rows it writes once at its end (Writer.defer_indexes).
_FIRST_LOAD_FILES = 500
_BATCH = 8
# Parsed posts are written in groups: one commit per group instead of per file halves the
# cost of writing. A group that the database refuses is retried one post at a time.
_WRITE_BATCH = 50
_WRITE_SECONDS = 0.5
# Posts a step's transaction takes at a time: what the writing process holds of a step.
_GROUP = 50
_PUBLISH_STEPS = 20
# An aliases file is a short list of headings; anything far larger is a mistake.
_ALIASES_MAX_BYTES = 1024 * 1024
_MAX_WRITE_BATCH = 500
_MAX_WRITE_SECONDS = 5.0
_BATCHES_IN_FLIGHT_PER_WORKER = 4
# A writer left waiting this long for parsed posts commits its open step: an open step
# holds the database's write lock, and other writers (link checks) time out behind it.
_IDLE_SECONDS = 1.0
# A parse allocates hundreds of thousands of short-lived objects (tokens) that reference
# counting frees: at the collector's default first threshold (700) it still runs thousands
# of times per 1,000 posts and finds nothing, about 5% of a worker's time. The writing
# process, which unpickles those posts' rows, collects as rarely while workers parse (its
# peak memory at 10,000 posts did not move: 177 MB for the whole process tree).
_WORKER_GC_THRESHOLD = 10_000

_LOG = logging.getLogger(__name__)

Outcome = str  # "added" | "updated" | "unchanged" | "failed" | "skipped"

_CHANGED = "the file changed after it was found: re-read, its content as read is stored"


@dataclass(slots=True)
class RunSummary:
    """What a run did, for the CLI summary and the tests."""

    run_id: int
    root: str
    folder: str = ""  # the folder's name in post identities
    dialect: Dialect | None = None
    # What the folder holds once the run is over: posts per front-matter style, undated.
    front_matter_styles: dict[str, int] = field(default_factory=dict)
    undated: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped_drafts: int = 0
    failures: list[RecordedProblem] = field(default_factory=list)
    warnings: list[RecordedProblem] = field(default_factory=list)
    content_version: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        """Number of files that could not be ingested."""
        return len({problem.path for problem in self.failures})

    def counts(self) -> dict[str, int]:
        """The counters stored on the run row."""
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "skipped_drafts": self.skipped_drafts,
            "failed": self.failed,
            "warnings": len(self.warnings),
        }


_Result = tuple[str, "ParsedPost | ParseError", SourceText | None]


def run_ingest(
    engine: Engine,
    root: Path,
    *,
    max_file_bytes: int,
    aliases_file: Path | None = None,
    workers: int = 0,
    include_drafts: bool = True,
    on_start: Callable[[int], None] | None = None,
    on_file: Callable[[str, Outcome], None] | None = None,
    on_run: Callable[[int], None] | None = None,
    locked: bool = False,
    exclusive: bool = False,
    keep_runs: int = 100,
    keep_failed_runs: int = 1000,
) -> RunSummary:
    """Make the database match the Markdown files under `root`.

    One ingest at a time per database: raises IngestBusy at once when another process
    (or thread) holds the database's ingest lock, unless `locked` says the caller holds
    it. `on_run` receives the run's id as soon as the run is recorded. Raises
    FolderConfigError for an unusable learnlog.toml and, when `exclusive` (a folder's own
    database), OtherFolderError if the database holds another folder's posts.
    """
    config = load_config(root)
    with contextlib.nullcontext() if locked else ingest_lock(engine):
        return _ingest(
            engine, root, config, max_file_bytes, aliases_file, workers, include_drafts,
            on_start, on_file, on_run, exclusive, (keep_runs, keep_failed_runs),
        )  # fmt: skip


def _ingest(
    engine: Engine,
    root: Path,
    config: FolderConfig,
    max_file_bytes: int,
    aliases_file: Path | None,
    workers: int,
    include_drafts: bool,
    on_start: Callable[[int], None] | None,
    on_file: Callable[[str, Outcome], None] | None,
    on_run: Callable[[int], None] | None,
    exclusive: bool,
    keep: tuple[int, int],
) -> RunSummary:
    """run_ingest's work, with the lock held."""
    started = time.perf_counter()
    root = root.resolve()
    writer = Writer(engine)
    sources, refused = discover(root)
    root_key = resolve_folder(
        writer,
        root,
        configured_name=config.name,
        paths=[source.path for source in sources],
        exclusive=exclusive,
    )
    dialect = detect(root, config, [source.absolute for source in sources])
    writer.record_folder(root_key, str(root), dialect.name)
    summary = RunSummary(
        run_id=writer.start_run(str(root)), root=str(root), folder=root_key, dialect=dialect
    )
    try:
        if on_run is not None:
            on_run(summary.run_id)
        _load(
            writer, root, config, sources, refused, summary, max_file_bytes, aliases_file,
            workers, include_drafts, on_start, on_file,
        )  # fmt: skip
    except BaseException as error:
        # Whatever stops the run (an error, Ctrl-C, SIGTERM), its record says so.
        writer.abandon_run(summary.run_id, error)
        raise
    writer.prune_runs(keep=keep[0], keep_failed=keep[1])
    summary.seconds = time.perf_counter() - started
    return summary


def _load(
    writer: Writer,
    root: Path,
    config: FolderConfig,
    sources: list[SourceFile],
    refused: list[tuple[str, str]],
    summary: RunSummary,
    max_file_bytes: int,
    aliases_file: Path | None,
    workers: int,
    include_drafts: bool,
    on_start: Callable[[int], None] | None,
    on_file: Callable[[str, Outcome], None] | None,
) -> None:
    """The run itself: aliases, deletions, renames, parsing and writing, the record."""
    root_key = summary.folder
    writer.build_indexes()  # the indexes a cut-off first load left unbuilt
    _apply_aliases(writer, config, aliases_file, summary)
    for path, reason in refused:
        summary.failures.append(RecordedProblem("error", path, None, reason))
    if on_start is not None:
        on_start(len(sources))

    stored = writer.stored_posts(root_key)
    identities = [(root_key, source.path) for source in sources]
    others = writer.other_identities(root_key)
    slugs, collisions = assign_slugs([*identities, *others])
    for group in collisions:
        names = ", ".join(path for _, path in group)
        for identity in group:
            if identity[0] == root_key:
                summary.warnings.append(
                    RecordedProblem(
                        "warning",
                        identity[1],
                        None,
                        f"slug {slugs[identity]!r}: several files ask for the same slug ({names})",
                    )
                )

    found = {source.path for source in sources}
    # A refused file or folder keeps what was stored of it, as a file that fails to parse does.
    kept = tuple(path for path, _ in refused)
    gone = [
        post.id
        for path, post in stored.items()
        if path not in found and not any(path == r or path.startswith(r + "/") for r in kept)
    ]
    writer.delete_posts(gone)
    summary.deleted = len(gone)
    renamed = {
        stored[s.path].id: slugs[(root_key, s.path)]
        for s in sources
        if s.path in stored and stored[s.path].slug != slugs[(root_key, s.path)]
    }
    writer.rename_posts(renamed)

    schema = config.schema
    dialect = summary.dialect.name if summary.dialect else "plain"
    # A schema, dialect or site URL that changed since the last run re-reads every post.
    reading = _reading_digest(schema, dialect, config.site_url)
    revalidate = writer.schema_digest(root_key) != reading
    jobs = _jobs_to_parse(sources, stored, max_file_bytes, summary, on_file, revalidate)
    removed = _RemovedSyntax()
    statistics = _Statistics(writer, posts=len(stored) + len(others))
    publish = _PublishSteps(len(sources) - summary.unchanged)
    steps = _Steps(writer, root_key, publish, statistics, summary, on_file)
    # The workers build each post's rows (rows.py): the writer only inserts them.
    plan = RowPlan(
        root_key,
        writer.engine.dialect.name,
        {path: post.id for path, post in stored.items()},
        keep_text=bool(schema),
    )
    parsed = parse_all(jobs, max_file_bytes, workers, dialect, config.site_url, steps.publish, plan)
    first_load = not stored and not others and len(sources) >= _FIRST_LOAD_FILES
    deferred = first_load and writer.defer_indexes()
    with contextlib.ExitStack() as stack:
        if deferred:
            stack.callback(writer.build_indexes)
        stack.enter_context(steps)
        for path, result, source in parsed:
            if isinstance(result, ParseError):
                _unread(summary, on_file, path, result)
                continue
            removed.add(path, result.removed_syntax)
            previous = stored.get(path)
            if result.is_draft and not include_drafts:
                if previous:
                    steps.publish()  # the step's transaction holds the write lock
                    writer.delete_posts([previous.id])
                    summary.deleted += 1
                summary.skipped_drafts += 1
                _notify(on_file, path, "skipped")
                continue
            assert result.rows is not None  # parse_all built them (plan)
            the_id = result.rows.post_id  # previous.id for a stored post
            field_rows = _typed_fields(schema, result, source, the_id, path, summary, on_file)
            if field_rows is None:
                continue
            steps.add(
                PostWrite(
                    path=path,
                    post_id=the_id,
                    slug=slugs[(root_key, path)],
                    content_hash=source.content_hash if source else "",
                    source_hash=source.bytes_hash if source else "",
                    parsed=result,
                    rows=result.rows,
                    existed=previous is not None,
                    field_rows=field_rows,
                )
            )
    summary.warnings.extend(removed.warnings())
    if summary.added or summary.updated or summary.deleted or renamed:
        # Links into notes that appeared, moved or went away, from notes that did not change.
        writer.resolve_links(root_key, renamed)

    if revalidate:
        # A folder that declares no fields still keeps the digest of how it was read.
        declared = schema.as_dict() if schema else ({} if reading else None)
        writer.record_schema(root_key, declared, reading)
    # Every run, changed or not: a run cut off before this point left unused terms behind.
    writer.prune_terms()
    if summary.added or summary.updated or summary.deleted:
        writer.analyze()
    summary.content_version = writer.finish_run(
        summary.run_id, summary.counts(), [*summary.failures, *summary.warnings]
    )
    summary.front_matter_styles, summary.undated = writer.folder_profile(root_key)


class _RemovedSyntax:
    """Site-engine syntax removed from the text of the posts parsed in a run: one warning
    per kind of syntax, not one per post (a theme's include can sit in every post)."""

    def __init__(self) -> None:
        self.posts: dict[str, list[str]] = {}

    def add(self, path: str, names: list[str]) -> None:
        """Count the syntax removed from the post at `path`."""
        for name in names:
            self.posts.setdefault(name, []).append(path)

    def warnings(self) -> list[RecordedProblem]:
        """One warning per name, on the first post that held it (the warning's path)."""
        found = []
        for name, paths in sorted(self.posts.items()):
            count = f"{len(paths)} posts" if len(paths) > 1 else "1 post"
            reason = f"{_syntax_kind(name)} {name} removed from the text in {count}"
            found.append(RecordedProblem("warning", paths[0], None, reason))
        return found


def _syntax_kind(name: str) -> str:
    """What a removed piece of syntax is, for its warning."""
    if name.startswith("{{<"):
        return "Hugo shortcode"
    if name.startswith("{%"):
        return "Liquid tag"
    return "Liquid output"


class _PublishSteps:
    """When to commit what is parsed: each commit is a content version readers may see.

    A small run publishes every _WRITE_BATCH posts or _WRITE_SECONDS; a large one in about
    _PUBLISH_STEPS larger steps (at most _MAX_WRITE_BATCH posts, _MAX_WRITE_SECONDS), so a
    100,000-file load is not thousands of versions, each one costing every API process an
    index rebuild and every cached ETag.
    """

    def __init__(self, to_parse: int) -> None:
        self.posts = min(max(_WRITE_BATCH, to_parse // _PUBLISH_STEPS), _MAX_WRITE_BATCH)
        share = self.posts / _MAX_WRITE_BATCH
        self.seconds = _WRITE_SECONDS + share * (_MAX_WRITE_SECONDS - _WRITE_SECONDS)

    def due(self, batched: int, seconds: float) -> bool:
        """Whether a batch of `batched` posts gathered over `seconds` should be written now."""
        return batched >= self.posts or seconds > self.seconds


class _Statistics:
    """Refresh the planner's statistics whenever the posts stored have doubled.

    Loading into an empty database, the plans PostgreSQL caches for the writer's own
    statements (the foreign key checks among them) were made for empty tables: they scan
    whole tables, and each scan costs more as the tables grow, far more while readers
    hold snapshots (a 2,000-post load beside 50 readers took 125 s instead of 35 s).
    ANALYZE at each doubling invalidates those plans, a handful of times per load.
    """

    _FIRST = 64  # below this many posts any plan is fast

    def __init__(self, writer: Writer, *, posts: int) -> None:
        self.writer = writer
        self.posts = posts
        self.analyzed_at = max(posts, self._FIRST // 2)

    def grew(self, added: int) -> None:
        """Count posts added; analyze when there are twice as many as at the last time."""
        self.posts += added
        if self.posts >= 2 * self.analyzed_at:
            self.writer.analyze()
            self.analyzed_at = self.posts


class _Steps:
    """Writes parsed posts in publish steps (_PublishSteps says when one ends).

    A step is one transaction: posts join it _GROUP at a time as they are parsed, so the
    writing process holds one group, never a whole step, and each file's outcome is
    counted and reported once its step is committed.
    """

    def __init__(
        self,
        writer: Writer,
        root: str,
        publish: "_PublishSteps",
        statistics: "_Statistics",
        summary: RunSummary,
        on_file: Callable[[str, Outcome], None] | None,
    ) -> None:
        self.writer = writer
        self.root = root
        self.schedule = publish
        self.statistics = statistics
        self.summary = summary
        self.on_file = on_file
        self.group: list[PostWrite] = []
        self.step: contextlib.ExitStack | None = None
        self.writing: PublishStep | None = None
        self.started = 0.0
        # Posts of the open step: (path, existed, reason refused or "", warnings).
        self.written: list[tuple[str, bool, str, list[RecordedProblem]]] = []

    def __enter__(self) -> "_Steps":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.publish()
        elif self.step is not None:
            self.step.__exit__(kind, error, trace)  # rolled back: none of it is published

    def add(self, post: PostWrite) -> None:
        """Write `post` with its group; end the step when it is due."""
        if self.step is None and not self.group:
            self.started = time.perf_counter()
        self.group.append(post)
        if len(self.group) >= _GROUP:
            self._flush()
        if self.schedule.due(len(self.written) + len(self.group), self._age()):
            self.publish()

    def publish(self) -> None:
        """Write the group, commit the open step and count what happened to each post."""
        self._flush()
        if self.step is None:
            return
        step, self.step, self.writing = self.step, None, None
        step.close()
        written, self.written = self.written, []
        summary = self.summary
        for path, existed, reason, warnings in written:
            if reason:
                summary.failures.append(RecordedProblem("error", path, None, reason))
                _notify(self.on_file, path, "failed")
                continue
            summary.warnings.extend(warnings)
            if existed:
                summary.updated += 1
            else:
                summary.added += 1
            _notify(self.on_file, path, "updated" if existed else "added")
        self.statistics.grew(sum(not existed for _, existed, reason, _ in written if not reason))

    def _age(self) -> float:
        return time.perf_counter() - self.started

    def _flush(self) -> None:
        """Add the group to the open step (opening one first when none is)."""
        if not self.group:
            return
        if self.writing is None:
            self.step = contextlib.ExitStack()
            self.writing = self.step.enter_context(self.writer.publish_step(self.root))
        group, self.group = self.group, []
        refused = self.writing.add(group)
        for post in group:
            reason = refused.get(post.path, "")
            warnings = [] if reason else problems_from(post.path, "warning", post.parsed.warnings)
            self.written.append((post.path, post.existed, reason, warnings))


def _unread(
    summary: RunSummary,
    on_file: Callable[[str, Outcome], None] | None,
    path: str,
    error: ParseError,
) -> None:
    """Record a file that gave no post: failed, or skipped when it vanished meanwhile."""
    if isinstance(error, SourceVanished):
        summary.warnings.append(RecordedProblem("warning", path, None, error.reason))
        _notify(on_file, path, "skipped")
    else:
        summary.failures.append(RecordedProblem("error", path, error.line, error.reason))
        _notify(on_file, path, "failed")


def _notify(on_file: Callable[[str, Outcome], None] | None, path: str, outcome: Outcome) -> None:
    """Report one file's outcome to the caller, if it listens."""
    if on_file is not None:
        on_file(path, outcome)


def _jobs_to_parse(
    sources: list[SourceFile],
    stored: dict[str, StoredPost],
    max_file_bytes: int,
    summary: RunSummary,
    on_file: Callable[[str, Outcome], None] | None,
    revalidate: bool = False,
) -> Iterator[SourceFile]:
    """Files to parse: new ones, and stored ones whose text or parser changed (or all of
    them, to `revalidate` against a new field schema).

    A generator, so hashing the next files overlaps with parsing the first ones and no
    file's text is held here: the parser reads it again (from the page cache).
    """
    for source in sources:
        previous = stored.get(source.path)
        if previous is None or revalidate:
            yield fingerprinted(source)
            continue
        try:
            data = read_bytes(source, max_file_bytes)
            current = previous.is_current(source_hash=hash_bytes(data))
            # Bytes differ: the normalised text may not (line ends, a BOM, NBSP ...).
            current = current or previous.is_current(content_hash=normalise(data).content_hash)
        except ParseError as error:
            _unread(summary, on_file, source.path, error)
            continue
        if current:
            summary.unchanged += 1
            _notify(on_file, source.path, "unchanged")
            continue
        yield fingerprinted(source)


def _reading_digest(schema: FieldSchema, dialect: str, site_url: str) -> str:
    """What every post of a folder is read with beyond its own text: the field schema, the
    dialect and the site's URL ("" for plain Markdown with neither)."""
    if dialect == "plain" and not site_url:
        return schema.digest() if schema else ""
    reading = f"{schema.digest() if schema else ''}|{dialect}|{site_url}"
    return hashlib.sha256(reading.encode()).hexdigest()


def parse_all(
    jobs: Iterator[SourceFile],
    max_file_bytes: int,
    workers: int,
    dialect: str = "plain",
    site_url: str = "",
    idle: Callable[[], None] | None = None,
    plan: RowPlan | None = None,
) -> Iterator[_Result]:
    """Parse files of a folder in `dialect` (its template links made absolute with
    `site_url` when given) in order, in worker processes when there are enough of them.

    With a `plan`, the process that parses a post also builds its rows (`parsed.rows`).

    `idle` is called whenever the next result keeps the caller waiting for longer than
    _IDLE_SECONDS (the writer then commits its open step rather than hold the database's
    write lock while it waits)."""
    count = workers or os.cpu_count() or 1
    first = list(itertools.islice(jobs, _PARALLEL_THRESHOLD))
    if len(first) < _PARALLEL_THRESHOLD or count < 2:
        for job in itertools.chain(first, jobs):
            yield _parse_job(job, max_file_bytes, dialect, site_url, plan)
        return
    # Forked workers share this process's memory pages (the parser's modules included,
    # imported here first) until they write to them.
    import app.ingest.parse  # noqa: F401

    # Objects that exist now are never collected in the workers: freezing them keeps the
    # collector from touching (and so copying) every shared page.
    gc.freeze()
    thresholds = gc.get_threshold()
    context = multiprocessing.get_context("fork")
    # Workers live as long as the run: one forked later (to replace a recycled one) would
    # start from the writing process as it is then, and keep a private copy of every page
    # the writer changes afterwards (its page cache, its heap): +45 MB each at 10,000 posts.
    # The plan reaches the workers as they fork, never pickled (it holds every stored id).
    with context.Pool(count, initializer=_worker_start, initargs=(plan,)) as pool:
        window = count * _BATCHES_IN_FLIGHT_PER_WORKER
        try:
            batches = _batches(itertools.chain(first, jobs))
            site = (dialect, site_url)
            gc.set_threshold(_WORKER_GC_THRESHOLD, *thresholds[1:])
            yield from _windowed(pool, batches, max_file_bytes, window, site, idle)
        finally:
            gc.set_threshold(*thresholds)
            gc.unfreeze()


# The row plan of this process when it is a parsing worker (set as it starts).
_worker_plan: RowPlan | None = None


def _worker_start(plan: RowPlan | None = None) -> None:
    """Set up a parsing worker: its row plan, and a collector that runs less often
    (_WORKER_GC_THRESHOLD)."""
    global _worker_plan
    _worker_plan = plan
    _, second, third = gc.get_threshold()
    gc.set_threshold(_WORKER_GC_THRESHOLD, second, third)


def _batches(jobs: Iterator[SourceFile]) -> Iterator[list[SourceFile]]:
    """Group jobs into lists of `_BATCH`."""
    while batch := list(itertools.islice(jobs, _BATCH)):
        yield batch


def _windowed(
    pool: Pool,
    batches: Iterator[list[SourceFile]],
    max_file_bytes: int,
    window: int,
    site: tuple[str, str],
    idle: Callable[[], None] | None = None,
) -> Iterator[_Result]:
    """Keep at most `window` batches in flight and yield results in submission order,
    calling `idle` when the next one is long in coming."""
    pending: deque[AsyncResult[list[_Result]]] = deque()
    for batch in batches:
        pending.append(pool.apply_async(_parse_batch, (batch, max_file_bytes, *site)))
        if len(pending) >= window:
            break
    while pending:
        head = pending.popleft()
        if idle is not None and not head.ready():
            head.wait(_IDLE_SECONDS)
            if not head.ready():
                idle()
        yield from head.get()
        following = next(batches, None)
        if following is not None:
            pending.append(pool.apply_async(_parse_batch, (following, max_file_bytes, *site)))


def _typed_fields(
    schema: FieldSchema,
    parsed: "ParsedPost",
    source: SourceText | None,
    the_id: int,
    path: str,
    summary: RunSummary,
    on_file: Callable[[str, Outcome], None] | None,
) -> list[dict[str, Any]] | None:
    """The post's `post_fields` rows; None when a strict schema fails the file.

    A violation names the field, the reason and the key's line: a failure under `strict`
    (the previous version stays), else a warning and the field left out.
    """
    if not schema:
        return []
    lines = key_lines(source.text) if source is not None else {}
    checked = schema.check(parsed.front_matter, lines)
    problems = [
        Problem(f"field `{v.field}`: {v.reason}", v.line or parsed.body_line)
        for v in checked.violations
    ]
    if problems and schema.strict:
        first = problems[0]
        reason = "; ".join(p.reason for p in problems)
        _unread(summary, on_file, path, ParseError(reason, first.line))
        return None
    parsed.warnings.extend(problems)
    return stored_rows(the_id, checked.values, schema)


def _parse_batch(
    batch: list[SourceFile], max_file_bytes: int, dialect: str, site_url: str = ""
) -> list[_Result]:
    """Worker entry point: parse several files (dialect and site URL travel as strings)."""
    return [_parse_job(job, max_file_bytes, dialect, site_url, _worker_plan) for job in batch]


def _parse_job(
    job: SourceFile,
    max_file_bytes: int,
    dialect: str = "plain",
    site_url: str = "",
    plan: RowPlan | None = None,
) -> _Result:
    """Read and parse one file (and build its rows, given a `plan`); errors come back as
    values, never raised."""
    from app.ingest.parse import parse_post  # markdown-it loads only when a file changed

    try:
        loaded = read_source(job, max_file_bytes)
        parsed = parse_post(loaded.text, job.path, dialect, site_url)
        if job.changed_since_found():
            parsed.warnings.append(Problem(_CHANGED))
        if plan is not None:
            parsed = with_rows(plan, job.path, parsed)
            if not plan.keep_text:
                loaded = SourceText("", loaded.content_hash, loaded.bytes_hash)
        return job.path, parsed, loaded
    except ParseError as error:
        return job.path, error, None
    except RecursionError:
        return job.path, ParseError("structure nested too deeply to parse"), None
    except Exception as error:  # one file the parser cannot read fails alone, not the run
        _LOG.debug("parsing %s failed", job.path, exc_info=True)
        reason = f"the parser failed on this file ({type(error).__name__}: {error})"
        return job.path, ParseError(reason), None


def _apply_aliases(
    writer: Writer, config: FolderConfig, aliases_file: Path | None, summary: RunSummary
) -> None:
    """Load the aliases and store them when they changed; a bad file keeps the old aliases.

    learnlog.toml's `[domains]` table, when the folder has one, else `aliases_file` (the
    one named in the settings, or the folder's domains.yml).
    """
    if config.domains is not None:
        aliases = aliases_from(config.domains)
        digest = hashlib.blake2b(repr(sorted(aliases.items())).encode(), digest_size=16).hexdigest()
    elif aliases_file is None or not aliases_file.is_file():
        aliases, digest = {}, ""
    else:
        try:
            loaded = normalise(read_regular_file(aliases_file, _ALIASES_MAX_BYTES))
            aliases = parse_aliases(loaded.text)
        except ParseError as error:
            summary.failures.append(
                RecordedProblem("error", str(aliases_file), error.line, error.reason)
            )
            return
        except OSError as error:  # gone or unreadable since it was looked at
            reason = f"cannot read the aliases file: {error.strerror or error}"
            summary.failures.append(RecordedProblem("error", str(aliases_file), None, reason))
            return
        digest = hashlib.blake2b(repr(sorted(aliases.items())).encode(), digest_size=16).hexdigest()
    writer.apply_aliases(aliases, digest)


def parse_aliases(text: str) -> dict[str, str]:
    """`{domain: [heading, ...]}` YAML -> {heading slug: domain slug}."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ParseError(f"invalid YAML in aliases file: {exc.problem}", line) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"invalid YAML in aliases file: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParseError("aliases file must map a domain slug to a list of headings", 1)
    return aliases_from(data)


def aliases_from(data: dict[Any, Any]) -> dict[str, str]:
    """`{domain: [heading, ...]}` (from YAML or TOML) -> {heading slug: domain slug}."""
    aliases: dict[str, str] = {}
    for domain, headings in data.items():
        target = slug_of(str(domain))
        names = headings if isinstance(headings, list) else [headings]
        # `domain:` with nothing after it lists no spellings (YAML reads it as null).
        for name in (name for name in names if name is not None):
            slug = slug_of(str(name))
            if slug and target and slug != target:
                aliases[slug] = target
    return aliases
