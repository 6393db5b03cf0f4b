"""Search benchmark: `/search` beside uncached `/entries`, before and after, in one run.

Usage (from the project root, with the virtualenv active)::

    python -m bench.search --db /tmp/search10k.db [--before /tmp/search_before]
                           [--duration 20] [--connections 50]

Needs ``wrk``, ``taskset`` and two CPUs, and a SQLite database ingested from the
benchmark corpus (``python -m bench.generate DIR --posts 10000``, then ``learnlog ingest
DIR --database-url sqlite:///DB``: about 300,000 entries).

What it does, in order:

1. Draws search words from the stored entry texts (a seeded sample of 3,000 of them):
   common words (among the 200 most frequent in the sample) and rare ones (seen at most
   three times in it), and builds distinct ``/search`` URLs of one word (60%) or two
   (40%), each word common or rare with even odds, ``limit=50``. A third URL set adds a
   ``domain`` filter to such queries. The ``/entries`` URLs are bench/serve.py's: every
   request a different filter (one or two of domain / tag / host / link kind and a date
   window), 50 rows per page.
2. For each checkout (``--before``, if given, then this one): starts ``learnlog serve
   --no-migrate`` on the database with ``PYTHONPATH`` set to the checkout, pinned with
   ``taskset`` to the server CPU, checks that a few searches answer 200, sends untimed
   search requests for 15 s (one at a time), then runs ``wrk -t1 -c<connections>``
   pinned to the client CPU over: /search, /search with a domain filter, uncached
   /entries. Every URL set is the same for both checkouts; servers run one at a time.
3. Prints req/s, p50 and p99 for every run, then the ratios: after/before for /search,
   and /search against the same checkout's uncached /entries.

``--no-migrate`` leaves the database's schema as it is: when the before checkout's schema
is older, give it a copy of the database at its own revision with ``--before-db``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.serve import (
    HOST,
    LUA_FEED,
    PAGE,
    WARMUP_SECONDS,
    Server,
    WrkResult,
    connect_readonly,
    free_port,
    make_queries,
    pinned,
    read_vocabulary,
    run_wrk,
    wait_idle,
    warm_page_cache,
    warm_up_for,
    write_lines,
)

ROOT = Path(__file__).resolve().parent.parent
SEED = 7
SAMPLE_TEXTS = 3000
COMMON_WORDS = 200
RARE_COUNT = 3  # "rare": seen at most this often in the sample
WARMUP_REQUESTS = 200
TARGET_RPS_RATIO = 10.0
TARGET_P99_RATIO = 0.1


@dataclass(frozen=True, slots=True)
class Side:
    """One checkout to measure, and what its runs gave."""

    name: str
    root: Path
    db: Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.search",
        description="/search and uncached /entries with wrk, before and after, one run.",
        epilog="Example: python -m bench.search --db /tmp/search10k.db --before /tmp/search_before",
    )
    parser.add_argument("--db", type=Path, required=True, help="ingested SQLite database")
    parser.add_argument(
        "--before", type=Path, default=None, help="checkout to measure first (git worktree)"
    )
    parser.add_argument(
        "--before-db",
        type=Path,
        default=None,
        help="the same content at the before checkout's schema (default: --db)",
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--urls", type=int, default=30000, help="distinct URLs per run")
    parser.add_argument("--timeout", type=int, default=30, help="wrk --timeout in seconds")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the server is pinned to")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU wrk is pinned to")
    return parser.parse_args(argv)


def search_words(db: Path) -> tuple[list[str], list[str]]:
    """Common and rare words of the stored entry texts (a seeded sample of them)."""
    with contextlib.closing(connect_readonly(db)) as conn:
        rowids = [row[0] for row in conn.execute("SELECT rowid FROM entries WHERE is_draft = 0")]
        chosen = random.Random(SEED).sample(rowids, min(SAMPLE_TEXTS, len(rowids)))
        marks = ",".join("?" * len(chosen))
        texts = [
            r[0] for r in conn.execute(f"SELECT text FROM entries WHERE rowid IN ({marks})", chosen)
        ]
    counts = Counter(w.lower() for text in texts for w in re.findall(r"[A-Za-z]{4,}", text))
    ranked = [word for word, _ in counts.most_common()]
    common = sorted(ranked[:COMMON_WORDS])
    rare = sorted(word for word, n in counts.items() if n <= RARE_COUNT)
    if not common or not rare:
        sys.exit(f"error: {db} holds too few words to search for; ingest the benchmark corpus")
    return common, rare


def search_paths(
    common: list[str], rare: list[str], domains: list[str], count: int, *, filtered: bool
) -> list[str]:
    """`count` distinct /search URLs of one or two words (with a domain when `filtered`)."""
    rng = random.Random(SEED + filtered)
    seen: set[str] = set()
    attempts = 0
    while len(seen) < count and attempts < 20 * count:
        attempts += 1
        words = [rng.choice(common if rng.random() < 0.5 else rare)]
        if rng.random() < 0.4:
            words.append(rng.choice(common if rng.random() < 0.5 else rare))
        params = [("q", " ".join(words))]
        if filtered:
            params.append(("domain", rng.choice(domains)))
        seen.add("/search?" + urlencode([*params, ("limit", str(PAGE))]))
    paths = sorted(seen)
    rng.shuffle(paths)
    return paths


def server(side: Side, db: Path, port: int, cpu: int, log: Path) -> Server:
    """`learnlog serve` of one checkout on the database, pinned to one CPU."""
    env = dict(os.environ, PYTHONPATH=str(side.root))
    env.pop("LEARNLOG_DATABASE_URL", None)
    command = [
        # -P: the checkout on PYTHONPATH wins over the current directory.
        sys.executable, "-P", "-m", "app.cli", "serve", "--no-migrate",
        "--database-url", f"sqlite:///{db}", "--host", HOST, "--port", str(port),
    ]  # fmt: skip
    return Server(f"learnlog {side.name}", pinned(cpu, command), env, log)


def check_search(base: str, paths: list[str]) -> None:
    """Exit unless a few searches answer 200 with hits."""
    with httpx.Client(base_url=base, timeout=120.0) as client:
        for path in paths:
            response = client.get(path)
            if response.status_code != 200:
                sys.exit(f"error: {path} answered {response.status_code}: {response.text[:300]}")
            hits = len(response.json()["items"])
            print(f"  {path}: {hits} hits")


def measure(
    side: Side, db: Path, runs: dict[str, list[str]], args: argparse.Namespace, work: Path
) -> dict[str, WrkResult]:
    """Every URL set against one checkout's server, one wrk run each."""
    script = work / "feed.lua"
    script.write_text(LUA_FEED, encoding="utf-8")
    port = free_port()
    base = f"http://{HOST}:{port}"
    learnlog = server(side, db, port, args.server_cpu, work / f"{side.name}.log")
    print(f"\n== {side.name}: {side.root} on {base} (CPU {args.server_cpu})", flush=True)
    results: dict[str, WrkResult] = {}
    try:
        learnlog.start(f"{base}/healthz")
        check_search(base, runs["search"][:3])
        warm_up_for(base, runs["warm-up"], WARMUP_SECONDS)
        for label, paths in runs.items():
            if label == "warm-up":
                continue
            url_file = write_lines(work / f"{side.name}-{label}.txt", paths)
            results[label] = run_wrk(f"{side.name} {label}", base, script, url_file, args)
            print(f"  server drained its queue in {wait_idle(f'{base}/healthz'):.1f} s")
    finally:
        learnlog.stop()
    return results


def figures(result: WrkResult | None) -> str:
    """req/s, p50 and p99 of one run, or why there are none."""
    if result is None or not result.valid:
        return "FAILED"
    return f"{result.rps:9.1f} req/s  p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms"


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the table and the ratios."""
    args = parse_args(argv)
    db: Path = args.db.resolve()
    if not db.is_file():
        sys.exit(f"error: no database at {db}")
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"error: {tool} is needed (Debian: apt-get install -y {tool})")
    vocab = read_vocabulary(db)
    common, rare = search_words(db)
    domains = sorted(vocab.domains)
    searches = search_paths(common, rare, domains, args.urls + WARMUP_REQUESTS, filtered=False)
    runs = {
        "warm-up": searches[:WARMUP_REQUESTS],
        "search": searches[WARMUP_REQUESTS:],
        "search+domain": search_paths(common, rare, domains, args.urls, filtered=True),
        "entries": [query.path() for query in make_queries(vocab, args.urls, SEED)],
    }
    print(
        f"{vocab.entries:,} entries in {vocab.posts:,} posts; {len(common)} common and "
        f"{len(rare)} rare search words; {len(runs['search']):,} distinct /search URLs, e.g. "
        f"{runs['search'][0]}"
    )
    print(f"page cache: read {warm_page_cache(db) / 1e6:.0f} MB of {db.name}")
    before_db = (args.before_db or db).resolve()
    sides = [Side("before", args.before.resolve(), before_db)] if args.before else []
    sides.append(Side("after", ROOT, db))
    measured: dict[str, dict[str, WrkResult]] = {}
    with tempfile.TemporaryDirectory(prefix="learnlog-search-") as tmp:
        for side in sides:
            measured[side.name] = measure(side, side.db, runs, args, Path(tmp))

    print(
        f"\n/search at {vocab.entries:,} entries: {args.connections} connections, "
        f"{args.duration} s per run, server on CPU {args.server_cpu}, wrk on CPU "
        f"{args.client_cpu}"
    )
    for name, results in measured.items():
        for label in ("search", "search+domain", "entries"):
            print(f"  {name:<7} {label:<14} {figures(results.get(label))}")
    after = measured["after"]
    for label in ("search", "search+domain"):
        mine, entries = after.get(label), after.get("entries")
        if mine and entries and mine.valid and entries.valid:
            print(f"  after {label} / after entries req/s: {mine.rps / entries.rps:.2f}x")
        before = measured.get("before", {}).get(label)
        if before and mine and before.valid and mine.valid:
            rps = mine.rps / before.rps
            p99 = (mine.p99_ms or 0.0) / (before.p99_ms or 1.0)
            print(
                f"  {label} after/before: req/s {rps:.1f}x (target >= {TARGET_RPS_RATIO:.0f}x), "
                f"p99 {p99:.3f} (target <= {TARGET_P99_RATIO})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
