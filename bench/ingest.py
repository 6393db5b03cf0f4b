"""Ingest benchmark: the DESIGN.md "Targets" ingest-speed figures, measured in one run.

Usage (from the project root, with the virtualenv active)::

    python -m bench.ingest [--posts 10000] [--corpus DIR] [--workers N] [--database-url URL]

What it does, in order:

1. Generates the corpus with ``bench.generate`` (seed 1) into ``--corpus`` (default
   ``/tmp/learnlog-bench/corpus-<posts>``) unless that folder already holds exactly
   ``--posts`` ``.md`` files.
2. Reads every file once, untimed, so the page cache is warm for both measurements.
3. **parse floor**: in this one process, for every file, read the text, run
   ``frontmatter.loads`` and then ``MarkdownIt("commonmark").parse(post.content)``: the
   plain parse any Python loader pays (the anchors' ``parse_floor.py``).
   **parse alone**: the same with the parser from ``app.render.new_markdown()`` (the
   configuration the ingest uses: linkify, tables, note and site syntax).
4. **full ingest**: ``python -m app ingest CORPUS --database-url URL`` (what the
   ``learnlog`` command runs) as a subprocess into a fresh database, timed wall-clock
   around the subprocess (so CLI start-up, schema creation and worker start-up are
   included). A background thread samples the whole process tree (the CLI plus every
   descendant) every 200 ms and keeps the peak of the summed RSS and of the summed PSS.
   PSS (proportional set size) splits pages shared between processes (forked workers,
   shared libraries) across them, so the PSS sum is the honest "memory the ingest
   costs"; the RSS sum counts shared pages once per process and so over-states it.
5. **unchanged re-ingest**: the same command three more times against the now-filled
   database (nothing changed, so nothing should be parsed: the folder's manifest answers,
   docs/input-formats.md); best and median wall time.

Figures and targets (DESIGN.md):

* ratio full/floor = full-ingest seconds / parse-floor seconds; target <= 1.0 (the
  ingest parses on every core). ratio full/parse = full-ingest seconds / parse-alone
  seconds, the cost of everything but parsing.
* peak RSS sum / peak PSS sum in MB (10^6 bytes); target < 200 MB.
* unchanged re-ingest best / median seconds; target < 2 s and at most 1/30 of the full
  ingest.

The database is a fresh SQLite file (default ``sqlite:////tmp/learnlog-bench/bench.db``;
any SQLite file given is deleted first together with its -wal/-shm/-journal files). A
PostgreSQL URL must point at an empty database: dropping and recreating it is up to you.
``--workers N`` sets ``LEARNLOG_INGEST_WORKERS`` for the ingest runs (0 = one per core).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import psutil
from markdown_it import MarkdownIt
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.db import make_engine
from app.render import new_markdown
from bench.generate import generate

BENCH_ROOT = Path("/tmp/learnlog-bench")
DEFAULT_DATABASE_URL = f"sqlite:///{BENCH_ROOT}/bench.db"
SAMPLE_SECONDS = 0.2
REINGEST_RUNS = 3
MB = 1_000_000

RATIO_TARGET = 1.25
FLOOR_RATIO_TARGET = 1.0
REINGEST_SHARE_TARGET = 1 / 30
MEMORY_TARGET_MB = 200.0
REINGEST_TARGET_S = 2.0


@dataclass(slots=True)
class MemoryPeak:
    """Peak summed memory of a process tree, as seen by the sampler."""

    rss: int = 0
    pss: int = 0
    pss_available: bool = True
    samples: int = 0
    max_processes: int = 0
    sample_seconds: float = 0.0
    sample_cpu_seconds: float = 0.0


@dataclass(slots=True)
class RunResult:
    """One CLI run: wall time, exit status and captured output."""

    seconds: float
    returncode: int
    stdout: str
    stderr: str


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest",
        description="Measure learnlog ingest against parsing alone, peak memory of the "
        "whole ingest process tree, and unchanged re-ingest time (DESIGN.md Targets).",
        epilog="Example: python -m bench.ingest --posts 10000",
    )
    parser.add_argument("--posts", type=int, default=10_000, help="posts in the corpus")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help=f"corpus folder (default: {BENCH_ROOT}/corpus-<posts>); generated unless it "
        "already holds exactly --posts .md files",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="set LEARNLOG_INGEST_WORKERS for the ingest (default: the project's default, "
        "0 = one parser process per CPU core)",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"database to ingest into (default: {DEFAULT_DATABASE_URL}). A SQLite file is "
        "deleted first (with its -wal/-shm). A PostgreSQL database must be empty: "
        "dropping and recreating it is up to you.",
    )
    args = parser.parse_args(argv)
    if args.posts < 1:
        parser.error("--posts must be at least 1")
    if args.workers is not None and args.workers < 0:
        parser.error("--workers must be 0 or more")
    return args


def markdown_files(corpus: Path) -> list[Path]:
    """The .md files directly in the corpus folder, sorted."""
    if not corpus.is_dir():
        return []
    return sorted(path for path in corpus.glob("*.md") if path.is_file())


def prepare_corpus(corpus: Path, posts: int, is_default: bool) -> list[Path]:
    """Reuse the corpus if it holds exactly `posts` files, otherwise generate it."""
    files = markdown_files(corpus)
    if len(files) == posts:
        print(f"corpus: reusing {corpus} ({posts} posts)")
        return files
    if files:
        if not is_default:
            sys.exit(
                f"error: {corpus} holds {len(files)} .md files, not {posts}; "
                "give an empty or missing folder, or one holding exactly --posts files"
            )
        shutil.rmtree(corpus)
    print(f"corpus: generating {posts} posts into {corpus} ...", flush=True)
    start = time.perf_counter()
    counts = generate(corpus, posts, seed=1)
    print(
        f"corpus: {counts.files} files, {counts.bytes / MB:.1f} MB, "
        f"{counts.entries} entries, {counts.links} links "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return markdown_files(corpus)


def warm_cache(files: list[Path]) -> int:
    """Read every file once so both measurements start with a warm page cache."""
    return sum(len(path.read_bytes()) for path in files)


def parse_alone(files: list[Path], md: MarkdownIt | None = None) -> tuple[float, int]:
    """Seconds to read, split front matter and parse every file in this process, with the
    ingest's parser or the one given."""
    md = md or new_markdown()
    tokens = 0
    start = time.perf_counter()
    for path in files:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
        tokens += len(md.parse(post.content))
    return time.perf_counter() - start, tokens


def reset_database(url: str) -> None:
    """Delete a SQLite database file; refuse a non-empty non-SQLite database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = parsed.database
        if not target or target == ":memory:":
            sys.exit("error: the benchmark needs a SQLite file, not an in-memory database")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(target + suffix).unlink(missing_ok=True)
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        return
    engine = make_engine(url)
    try:
        if inspect(engine).has_table("posts"):
            with engine.connect() as conn:
                if conn.execute(text("select count(*) from posts")).scalar_one():
                    sys.exit(
                        "error: the database already holds posts; the full-ingest figure "
                        "needs an empty database (drop and recreate it first)"
                    )
    finally:
        engine.dispose()


def tree_memory(root: psutil.Process) -> tuple[int, int, int, bool]:
    """Summed RSS and PSS of `root` and all its descendants, the process count, PSS known."""
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0, 0, True
    rss = pss = counted = 0
    pss_known = True
    for process in processes:
        try:
            info = process.memory_full_info()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        except psutil.AccessDenied:
            try:
                info = process.memory_info()
            except psutil.Error:
                continue
        counted += 1
        rss += info.rss
        process_pss = getattr(info, "pss", None)
        if process_pss is None:
            pss_known = False
            process_pss = info.rss
        pss += process_pss
    return rss, pss, counted, pss_known


def sample_tree(pid: int, peak: MemoryPeak, done: threading.Event) -> None:
    """Every SAMPLE_SECONDS until `done`, record the peak summed memory of the tree."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not done.is_set():
        start = time.perf_counter()
        cpu_start = time.thread_time()
        rss, pss, count, pss_known = tree_memory(root)
        peak.sample_cpu_seconds += time.thread_time() - cpu_start
        peak.sample_seconds += time.perf_counter() - start
        peak.samples += 1
        peak.rss = max(peak.rss, rss)
        peak.pss = max(peak.pss, pss)
        peak.max_processes = max(peak.max_processes, count)
        peak.pss_available = peak.pss_available and pss_known
        done.wait(max(0.0, SAMPLE_SECONDS - (time.perf_counter() - start)))


def run_cli(command: list[str], env: dict[str, str], peak: MemoryPeak | None) -> RunResult:
    """Run the CLI once, wall-timed; sample its process tree into `peak` when given."""
    done = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = None
    if peak is not None:
        sampler = threading.Thread(target=sample_tree, args=(proc.pid, peak, done), daemon=True)
        sampler.start()
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    if sampler is not None:
        sampler.join()
    return RunResult(seconds, proc.returncode, stdout, stderr)


def check(result: RunResult, label: str) -> None:
    """Exit 1 with the tail of stderr when a CLI run failed."""
    if result.returncode == 0:
        return
    print(f"\n{label} FAILED: exit status {result.returncode}; stderr tail:")
    tail = (result.stderr or result.stdout).rstrip().splitlines()[-40:]
    print("\n".join(f"  {line}" for line in tail))
    sys.exit(1)


def database_counts(url: str) -> dict[str, int]:
    """Rows in posts, entries and links."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: conn.execute(text(f"select count(*) from {table}")).scalar_one()
                for table in ("posts", "entries", "links")
            }
    finally:
        engine.dispose()


def usable_cpus() -> int:
    """CPUs this process may run on (the affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def last_run_outcomes(url: str) -> dict[str, int] | None:
    """What the newest recorded ingest run did (added/updated/unchanged/...), if readable."""
    columns = ("added", "updated", "unchanged", "deleted", "failed")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(f"select {', '.join(columns)} from ingest_runs order by id desc limit 1")
            ).one_or_none()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return None if row is None else dict(zip(columns, row, strict=True))


def describe(outcomes: dict[str, int] | None) -> str:
    """Outcome counts as 'added 0, updated 3, ...', or a note that they are unknown."""
    if outcomes is None:
        return "outcomes unknown"
    return ", ".join(f"{name} {count}" for name, count in outcomes.items())


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    """Print rows as a plain-text table with aligned columns."""
    header = ("figure", "value", "target", "result")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    line = "  ".join("-" * width for width in widths)

    def fmt(row: tuple[str, str, str, str]) -> str:
        """One aligned line: text columns left, the value right."""
        cells = [
            row[0].ljust(widths[0]),
            row[1].rjust(widths[1]),
            row[2].ljust(widths[2]),
            row[3].ljust(widths[3]),
        ]
        return "  ".join(cells).rstrip()

    print(fmt(header))
    print(line)
    for row in rows:
        print(fmt(row))


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark and print the results table."""
    args = parse_args(argv)
    is_default = args.corpus is None
    corpus: Path = args.corpus or BENCH_ROOT / f"corpus-{args.posts}"
    corpus = corpus.resolve()
    url: str = args.database_url

    files = prepare_corpus(corpus, args.posts, is_default)
    size = warm_cache(files)
    print(f"page cache warmed: {len(files)} files, {size / MB:.1f} MB")

    print("parse floor (commonmark) ...", flush=True)
    floor_seconds, floor_tokens = parse_alone(files, MarkdownIt("commonmark"))
    print(f"parse floor: {floor_seconds:.2f} s ({floor_tokens} tokens)")
    print("parse alone (the ingest's parser) ...", flush=True)
    parse_seconds, tokens = parse_alone(files)
    print(f"parse alone: {parse_seconds:.2f} s ({tokens} tokens)")

    env = dict(os.environ)
    if args.workers is not None:
        env["LEARNLOG_INGEST_WORKERS"] = str(args.workers)
    command = [sys.executable, "-m", "app", "ingest", str(corpus), "--database-url", url]
    workers_text = env.get("LEARNLOG_INGEST_WORKERS", "default")

    reset_database(url)
    print(f"full ingest (workers: {workers_text}) ...", flush=True)
    peak = MemoryPeak()
    full = run_cli(command, env, peak)
    check(full, "full ingest")
    print(f"full ingest: {full.seconds:.2f} s")

    reingest: list[float] = []
    truly_unchanged = 0
    for run in range(1, REINGEST_RUNS + 1):
        result = run_cli(command, env, None)
        check(result, f"unchanged re-ingest run {run}")
        reingest.append(result.seconds)
        outcomes = last_run_outcomes(url)
        nothing_changed = outcomes is not None and outcomes["unchanged"] == len(files)
        truly_unchanged += nothing_changed
        note = "" if nothing_changed else "  <- not all unchanged: parser or code changed?"
        print(f"unchanged re-ingest run {run}: {result.seconds:.2f} s ({describe(outcomes)}){note}")
    last_summary = result.stderr.strip().splitlines()

    counts = database_counts(url)
    ratio = full.seconds / parse_seconds
    floor_ratio = full.seconds / floor_seconds
    rss_mb = peak.rss / MB
    pss_mb = peak.pss / MB
    best = min(reingest)
    median = statistics.median(reingest)
    pss_label = "peak PSS sum (MB)" if peak.pss_available else "peak PSS sum (MB, RSS fallback)"

    rows = [
        (
            "posts",
            str(counts["posts"]),
            f"= {len(files)} files",
            verdict(counts["posts"] == len(files)),
        ),
        ("entries", str(counts["entries"]), "", ""),
        ("links", str(counts["links"]), "", ""),
        ("parse floor, commonmark (s)", f"{floor_seconds:.2f}", "", ""),
        ("parse alone, ingest's parser (s)", f"{parse_seconds:.2f}", "", ""),
        ("full ingest (s)", f"{full.seconds:.2f}", "", ""),
        (
            "ratio full/floor",
            f"{floor_ratio:.2f}",
            f"<= {FLOOR_RATIO_TARGET}",
            verdict(floor_ratio <= FLOOR_RATIO_TARGET),
        ),
        ("ratio full/parse", f"{ratio:.2f}", f"<= {RATIO_TARGET}", verdict(ratio <= RATIO_TARGET)),
        (
            "peak RSS sum (MB)",
            f"{rss_mb:.1f}",
            f"< {MEMORY_TARGET_MB:.0f}",
            verdict(rss_mb < MEMORY_TARGET_MB),
        ),
        (
            pss_label,
            f"{pss_mb:.1f}",
            f"< {MEMORY_TARGET_MB:.0f}",
            verdict(pss_mb < MEMORY_TARGET_MB),
        ),
        (
            "re-ingests that skipped every file",
            f"{truly_unchanged}/{REINGEST_RUNS}",
            f"{REINGEST_RUNS}/{REINGEST_RUNS}",
            verdict(truly_unchanged == REINGEST_RUNS),
        ),
        (
            "unchanged re-ingest best (s)",
            f"{best:.2f}",
            f"< {REINGEST_TARGET_S:.0f}",
            verdict(best < REINGEST_TARGET_S),
        ),
        (
            "unchanged re-ingest best / full",
            f"1/{full.seconds / best:.0f}",
            f"<= 1/{1 / REINGEST_SHARE_TARGET:.0f}",
            verdict(best <= full.seconds * REINGEST_SHARE_TARGET),
        ),
        (
            "unchanged re-ingest median (s)",
            f"{median:.2f}",
            f"< {REINGEST_TARGET_S:.0f}",
            verdict(median < REINGEST_TARGET_S),
        ),
    ]

    print()
    print(f"learnlog ingest benchmark: {len(files)} posts in {corpus}")
    print(f"database: {url}; ingest workers: {workers_text}")
    print()
    print_table(rows)
    print()
    print(
        f"memory sampling: {peak.samples} samples every {SAMPLE_SECONDS * 1000:.0f} ms, "
        f"up to {peak.max_processes} processes in the tree, "
        f"{peak.sample_seconds / max(peak.samples, 1) * 1000:.1f} ms wall / "
        f"{peak.sample_cpu_seconds / max(peak.samples, 1) * 1000:.1f} ms CPU per sample"
    )
    print(f"re-ingest runs (s): {', '.join(f'{s:.2f}' for s in reingest)}")
    if last_summary:
        print("last re-ingest summary (CLI stderr):")
        print("\n".join(f"  {line}" for line in last_summary[-6:]))
    print(
        f"machine: {os.cpu_count()} CPUs ({usable_cpus()} usable), "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()}, "
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
