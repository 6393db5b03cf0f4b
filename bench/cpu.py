"""CPU per request, in the process: `/search` beside uncached `/entries`, no sockets.

Usage (from the project root, with the virtualenv active)::

    python -m bench.cpu --db /tmp/search10k.db [--requests 3000] [--rounds 3]

``bench.search`` and ``bench.serve`` measure a server under wrk, whose figures move with
the machine by up to 3x from hour to hour. This one answers a narrower question more
steadily: how much of one core a request costs the app itself. It builds the app on the
database (as ``learnlog serve --no-migrate`` does), runs its startup, then calls it as
an ASGI application for each URL, one after another on one event loop, and divides the
process's CPU time by the number of requests. Request parsing, validation, the quick
lanes, the queries, JSON and the middleware are counted; uvicorn's HTTP parsing, the
socket and the access log are not.

The URL sets are ``bench.search``'s: distinct ``/search`` URLs of one or two words drawn
from the stored texts (``limit=50``), and ``bench.serve``'s uncached ``/entries`` URLs
(every request a different filter, 50 rows a page). Before measuring, it sends warm-up
searches and waits until the content version's search index is built, so that every
measured search is answered by it. Each round measures both sets with URLs not asked
before; the lowest CPU per request of the rounds is printed (the least disturbed by the
rest of the machine), with every round's figure.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.main import create_app
from app.search.index import SEARCH_INDEXES
from app.settings import Settings
from bench.search import SEED, search_paths, search_words
from bench.serve import make_queries, read_vocabulary

WARMUP_SEARCHES = 300
INDEX_SECONDS = 300.0  # the longest wait for the search index to be built


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.cpu",
        description="CPU per /search and uncached /entries request, in the process.",
        epilog="Example: python -m bench.cpu --db /tmp/search10k.db",
    )
    parser.add_argument("--db", type=Path, required=True, help="ingested SQLite database")
    parser.add_argument("--requests", type=int, default=3000, help="requests per set and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (fresh URLs each)")
    return parser.parse_args(argv)


async def call(app: Any, path: str) -> int:
    """GET `path` from the ASGI app; its status."""
    parts = urlsplit(path)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def cpu_per_request(app: Any, paths: list[str]) -> float:
    """Milliseconds of this process's CPU per request over `paths`; exits on a non-200."""
    gc.collect()
    start = time.process_time()
    statuses = [await call(app, path) for path in paths]
    spent = time.process_time() - start
    failed = [(path, status) for path, status in zip(paths, statuses, strict=True) if status != 200]
    if failed:
        sys.exit(f"error: {len(failed)} requests failed, e.g. {failed[0]}")
    return 1000 * spent / len(paths)


async def wait_for_search_index(app: Any, path: str) -> None:
    """Search until the content version's search index is built (or exit after a while)."""
    deadline = time.monotonic() + INDEX_SECONDS
    while True:
        await call(app, path)
        index = app.state.entry_index.current
        if index is not None and SEARCH_INDEXES.ready(index) is not None:
            return
        if time.monotonic() > deadline:
            sys.exit(f"error: no search index after {INDEX_SECONDS:.0f} s")
        await asyncio.sleep(0.5)


async def measure(
    db: Path, sets: dict[str, list[str]], warm: list[str], args: argparse.Namespace
) -> dict[str, list[float]]:
    """Every round of every URL set against one app on `db`."""
    app = create_app(Settings(database_url=f"sqlite:///{db}"))
    found: dict[str, list[float]] = {name: [] for name in sets}
    async with app.router.lifespan_context(app):
        for path in warm:
            await call(app, path)
        await wait_for_search_index(app, warm[0])
        for path in warm:
            await call(app, path)
        for round_number in range(args.rounds):
            for name, paths in sets.items():
                chunk = paths[round_number * args.requests : (round_number + 1) * args.requests]
                found[name].append(await cpu_per_request(app, chunk))
    return found


def main(argv: list[str] | None = None) -> int:
    """Build the URL sets, measure, print."""
    args = parse_args(argv)
    db: Path = args.db.resolve()
    if not db.is_file():
        sys.exit(f"error: no database at {db}")
    vocab = read_vocabulary(db)
    common, rare = search_words(db)
    count = args.requests * args.rounds
    searches = search_paths(
        common, rare, sorted(vocab.domains), count + WARMUP_SEARCHES, filtered=False
    )
    sets = {
        "search": searches[WARMUP_SEARCHES:],
        "entries": [query.path() for query in make_queries(vocab, count, SEED)],
    }
    rounds = f"{args.rounds} rounds of {args.requests:,} requests per set"
    print(f"{vocab.entries:,} entries in {vocab.posts:,} posts; {rounds}")
    found = asyncio.run(measure(db, sets, searches[:WARMUP_SEARCHES], args))
    for name, figures in found.items():
        rounds = ", ".join(f"{figure:.3f}" for figure in figures)
        print(f"  {name:<8} {min(figures):.3f} ms CPU per request (rounds: {rounds})")
    ratio = min(found["entries"]) / min(found["search"])
    print(f"  /search costs {1 / ratio:.2f}x an uncached /entries page: {ratio:.2f}x its rate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
