"""One ingest run: discover -> skip unchanged -> parse (in parallel) -> sync -> record.

Parsing is the expensive step, so changed files go to worker processes in small batches
while this process writes the results in order; at most a few batches are in flight, so
memory stays flat whatever the size of the folder.
"""

import hashlib
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path

import yaml
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.ingest.body import slug_of
from app.ingest.discover import SourceFile, discover, normalise, read_source
from app.ingest.identity import assign_slugs, post_id
from app.ingest.parse import ParsedPost, parse_post
from app.ingest.problems import ParseError
from app.ingest.sync import RecordedProblem, StoredPost, Writer, problems_from

# Below this many files to parse, worker start-up costs more than it saves.
_PARALLEL_THRESHOLD = 64
_BATCH = 8
_BATCHES_IN_FLIGHT_PER_WORKER = 3

Outcome = str  # "added" | "updated" | "unchanged" | "failed" | "skipped"


@dataclass(slots=True)
class RunSummary:
    """What a run did, for the CLI summary and the tests."""

    run_id: int
    root: str
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


@dataclass(frozen=True, slots=True)
class _Job:
    """A file to parse; `text` is None when the worker should read it itself."""

    path: str
    absolute: Path
    text: str | None
    content_hash: str | None


_Result = tuple[str, ParsedPost | ParseError, str]


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
) -> RunSummary:
    """Make the database match the Markdown files under `root`."""
    started = time.perf_counter()
    root = root.resolve()
    root_key = str(root)
    writer = Writer(engine)
    summary = RunSummary(run_id=writer.start_run(root_key), root=root_key)

    _apply_aliases(writer, aliases_file, summary)
    sources, refused = discover(root)
    for path, reason in refused:
        summary.failures.append(RecordedProblem("error", path, None, reason))
    if on_start is not None:
        on_start(len(sources))

    stored = writer.stored_posts(root_key)
    identities = [(root_key, source.path) for source in sources]
    slugs, collisions = assign_slugs([*identities, *writer.other_identities(root_key)])
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

    gone = [post.id for path, post in stored.items() if path not in {s.path for s in sources}]
    writer.delete_posts(gone)
    summary.deleted = len(gone)
    renamed = {
        stored[s.path].id: slugs[(root_key, s.path)]
        for s in sources
        if s.path in stored and stored[s.path].slug != slugs[(root_key, s.path)]
    }
    writer.rename_posts(renamed)

    jobs = _jobs_to_parse(sources, stored, max_file_bytes, summary, on_file)
    for path, result, content_hash in _parse_all(jobs, max_file_bytes, workers):
        if isinstance(result, ParseError):
            summary.failures.append(RecordedProblem("error", path, result.line, result.reason))
            _notify(on_file, path, "failed")
            continue
        previous = stored.get(path)
        if result.is_draft and not include_drafts:
            if previous:
                writer.delete_posts([previous.id])
                summary.deleted += 1
            summary.skipped_drafts += 1
            _notify(on_file, path, "skipped")
            continue
        try:
            writer.replace_post(
                root=root_key,
                path=path,
                post_id=previous.id if previous else post_id(root_key, path),
                slug=slugs[(root_key, path)],
                content_hash=content_hash,
                parsed=result,
            )
        except SQLAlchemyError as error:
            # The transaction rolled back: the previous version of the post is intact.
            detail = getattr(error, "orig", None) or error
            reason = f"the database refused the post: {detail}".splitlines()[0]
            summary.failures.append(RecordedProblem("error", path, None, reason))
            _notify(on_file, path, "failed")
            continue
        summary.warnings.extend(problems_from(path, "warning", result.warnings))
        if previous:
            summary.updated += 1
        else:
            summary.added += 1
        _notify(on_file, path, "updated" if previous else "added")

    if summary.added or summary.updated or summary.deleted:
        writer.prune_terms()
    summary.content_version = writer.finish_run(
        summary.run_id, summary.counts(), [*summary.failures, *summary.warnings]
    )
    summary.seconds = time.perf_counter() - started
    return summary


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
) -> list[_Job]:
    """Hash files that were ingested before; keep only those whose text or parser changed."""
    jobs: list[_Job] = []
    for source in sources:
        previous = stored.get(source.path)
        if previous is None:
            jobs.append(_Job(source.path, source.absolute, None, None))
            continue
        try:
            loaded = read_source(source, max_file_bytes)
        except ParseError as error:
            summary.failures.append(RecordedProblem("error", source.path, error.line, error.reason))
            _notify(on_file, source.path, "failed")
            continue
        if previous.is_current(loaded.content_hash):
            summary.unchanged += 1
            _notify(on_file, source.path, "unchanged")
            continue
        jobs.append(_Job(source.path, source.absolute, loaded.text, loaded.content_hash))
    return jobs


def _parse_all(jobs: list[_Job], max_file_bytes: int, workers: int) -> Iterator[_Result]:
    """Parse jobs in order, in worker processes when there are enough of them."""
    count = workers or os.cpu_count() or 1
    if len(jobs) < _PARALLEL_THRESHOLD or count < 2:
        for job in jobs:
            yield _parse_job(job, max_file_bytes)
        return
    batches = [jobs[start : start + _BATCH] for start in range(0, len(jobs), _BATCH)]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["app.ingest.parse"])
    with context.Pool(count) as pool:
        yield from _windowed(pool, batches, max_file_bytes, count * _BATCHES_IN_FLIGHT_PER_WORKER)


def _windowed(
    pool: Pool, batches: list[list[_Job]], max_file_bytes: int, window: int
) -> Iterator[_Result]:
    """Keep at most `window` batches in flight and yield results in submission order."""
    pending: deque[AsyncResult[list[_Result]]] = deque()
    queued = iter(batches)
    for batch in queued:
        pending.append(pool.apply_async(_parse_batch, (batch, max_file_bytes)))
        if len(pending) >= window:
            break
    while pending:
        yield from pending.popleft().get()
        batch_next = next(queued, None)
        if batch_next is not None:
            pending.append(pool.apply_async(_parse_batch, (batch_next, max_file_bytes)))


def _parse_batch(batch: list[_Job], max_file_bytes: int) -> list[_Result]:
    """Worker entry point: parse several files."""
    return [_parse_job(job, max_file_bytes) for job in batch]


def _parse_job(job: _Job, max_file_bytes: int) -> _Result:
    """Read (if needed) and parse one file; errors come back as values, never raised."""
    try:
        if job.text is None or job.content_hash is None:
            loaded = read_source(SourceFile(job.path, job.absolute), max_file_bytes)
            text, content_hash = loaded.text, loaded.content_hash
        else:
            text, content_hash = job.text, job.content_hash
        return job.path, parse_post(text, job.path), content_hash
    except ParseError as error:
        return job.path, error, ""
    except RecursionError:
        return job.path, ParseError("structure nested too deeply to parse"), ""


def _apply_aliases(writer: Writer, aliases_file: Path | None, summary: RunSummary) -> None:
    """Load the aliases file and store it when it changed; a bad file keeps the old aliases."""
    if aliases_file is None or not aliases_file.is_file():
        aliases, digest = {}, ""
    else:
        try:
            loaded = normalise(aliases_file.read_bytes())
            aliases = parse_aliases(loaded.text)
        except ParseError as error:
            summary.failures.append(
                RecordedProblem("error", str(aliases_file), error.line, error.reason)
            )
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
    aliases: dict[str, str] = {}
    for domain, headings in data.items():
        target = slug_of(str(domain))
        names = headings if isinstance(headings, list) else [headings]
        for name in names:
            slug = slug_of(str(name))
            if slug and target and slug != target:
                aliases[slug] = target
    return aliases
