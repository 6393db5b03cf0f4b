"""Serving benchmark: the DESIGN.md "Targets" serving figures, measured in one run.

Usage (from the project root, with the virtualenv active)::

    python -m bench.serve [--db PATH] [--duration 20] [--connections 50] [--urls 2000]
                          [--distinct 60000] [--timeout 30] [--skip-datasette]
                          [--anchors DIR] [--before DIR]

Needs ``wrk`` (Debian: ``apt-get install -y wrk``), ``taskset`` (util-linux), at least
two CPUs, and a SQLite database ingested from the benchmark corpus (default
``/tmp/learnlog-bench/bench.db``)::

    python -m bench.generate /tmp/learnlog-bench/corpus-10000 --posts 10000
    learnlog ingest /tmp/learnlog-bench/corpus-10000 \\
        --database-url sqlite:////tmp/learnlog-bench/bench.db

Datasette comes with the ``bench`` extra (``pip install -e ".[bench]"``): when it is
missing the benchmark tries ``pip install datasette`` into the running interpreter's
environment and skips the Datasette run (and the ratios) with a message if that fails;
``--skip-datasette`` skips it outright.

Two Datasette comparisons, not to be confused:

* This benchmark's own ("Datasette, learnlog's tables"): Datasette serving learnlog's
  database (normalized tables) the SQL learnlog runs without its in-memory index, for
  the same URLs. It answers "what would the same SQL cost behind Datasette".
* The design target's ("Datasette, denormalized"): Datasette serving the layout a
  Datasette user builds (one denormalized, indexed `entries` table) beside a minimal
  FastAPI endpoint running the same SQL (`fa_async`), from `../shared/anchors/`. With
  ``--anchors DIR`` (a copy of that folder, set up with ``SKIP_MDDB=1 bash setup.sh``)
  this benchmark runs ``DIR/run_rotating.sh`` against its own learnlog server at the end
  (the database must then be ingested from ``/tmp/corpus_10k``, the anchors' corpus)::

      python -m bench.serve --db /tmp/l10k.db --skip-datasette --anchors /tmp/anchors

  which amounts to::

      DIR/.venv/bin/python DIR/make_urls.py --db /tmp/anchor_10k/corpus.db --n 1000 \
          --seed 1 --fa-endpoint /entries --fa-out PATHS
      ROUNDS=3 DURATION=15 bash DIR/run_rotating.sh --extra learnlog http://127.0.0.1:PORT PATHS

``--before DIR`` measures an earlier release beside this one in the same run: DIR is a
checkout of it (``git archive REV | tar -x -C DIR``); its server is started the same way
from DIR once this one has stopped, on the HTTP stack its own dependencies install
(h11 and asyncio when its ``pyproject.toml`` lists neither httptools nor
``uvicorn[standard]``), and runs the uncached and revalidated loads on the same URLs.
The targets table then gives both ratios; revalidations must reach 2x the earlier one's.

What it does, in order:

1. Reads the filter vocabulary from the database (domain slugs from ``section_paths``,
   tags from ``tags``, link hosts and kinds from ``links``, the date range) and how many
   entries each value matches, then builds ``--distinct`` distinct ``/entries`` URLs
   (seeded, so every run uses the same ones): one or two of domain / tag / host /
   link_kind plus a ``from``/``to`` window, always ``limit=50``. Window widths vary from a
   week to the whole range; each URL gets a width picked at random among those wide
   enough to expect about 100 matches, so most answers are full 50-row pages.
2. Reads the database file once so every server starts with a warm page cache.
3. Starts ``uvicorn --factory app.main:create_app`` (one worker, ``--no-access-log``)
   with ``LEARNLOG_DATABASE_URL=sqlite:///<db>``, pinned with ``taskset`` to the server
   CPU (default 0), on a free 127.0.0.1 port, and sanity-checks five URLs with httpx
   (four from the set plus the broad ``link_kind=paper``): status 200, an ETag, and
   ``len(items) == min(50, total)`` (50 when ``total`` is null, i.e. over 10,000). If
   Datasette runs, it is started too and the same five URLs' Datasette equivalents must
   give the same entry ids in the same order; Datasette is then stopped again.
4. Every load run is ``taskset -c <client CPU> wrk -t1 -c<connections> -d<duration>s
   --latency --timeout <timeout>s -s feed.lua``: the Lua script feeds paths round-robin
   from a file (one new path per request, optionally with an ``If-None-Match`` header)
   and reports how many requests it issued and every status code seen. Requests/s and
   p50/p99 are parsed from wrk's own ``--latency`` output; non-2xx/3xx responses and
   socket errors are printed for every run, and a run where half or more of the
   responses are errors counts as FAIL, never as a figure. The runs go one after the
   other, one server up at a time: learnlog uncached, uncached gzip, /search, revalidated,
   then Datasette.

Figures (req/s = completed responses per second; p50/p99 = wrk's latency percentiles,
measured from send to full response, so queueing inside the server is included):

* learnlog uncached: every request a different filter (the run must issue no more
  requests than there are distinct URLs, otherwise it is flagged; "issued" counts the
  requests still in flight when wrk stops), so each answer runs the real query path.
  Targets: >= 2x Datasette req/s and p99 < 150 ms.
* learnlog uncached gzip: right after it, the same load with ``Accept-Encoding: gzip,
  deflate, br`` as browsers send, on the pool's URLs the first run did not reach (no
  target; what a frontend in a browser gets).
* learnlog /search: right after the gzip run, searches one at a time for 15 s (the
  search index of a content version is built on its first search), then the same load on
  ``/search`` URLs (one or two words drawn from stored entry texts, a third with a domain
  filter, limit=50, every URL distinct): ranking, snippets and hydration per request.
* learnlog revalidated: the last ``--urls`` URLs are first fetched once with httpx to
  learn their ETags (that sequential pass is also reported as the unloaded latency of one
  request at a time), then wrk repeats them with ``If-None-Match``; the 304 share is
  reported and must be at least half. Target: >= 10x Datasette req/s.
* Datasette: ``datasette serve --immutable <db>`` pinned the same way, with
  ``sql_time_limit_ms=5000`` and ``max_returned_rows=1000``, answering for each learnlog
  URL (same order) the SQL learnlog runs for that page when its in-memory entry index is
  not ready (``SELECT entries.*`` walking the sort index with EXISTS probes), as a canned
  query ``/<db>.json?sql=...&_shape=array`` with the filter values as named parameters
  (``:domain``, ``:tag``, ``:date_from``, ``:date_to``, ``:host``, ``:link_kind``).
  Its rows include each entry's stored JSON document, so both answer with the entries'
  text, HTML, tags and links: the comparison is per answered URL.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import itertools
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

BENCH_ROOT = Path("/tmp/learnlog-bench")
DEFAULT_DB = BENCH_ROOT / "bench.db"
HOST = "127.0.0.1"
PAGE = 50
SEED = 1
MIN_EXPECTED_ROWS = 100
WIDTHS_DAYS = (7, 30, 91, 182, 365, 730, 1461, 3652, 7305)
MIN_DOMAIN_ENTRIES = 500
MIN_HOST_ENTRIES = 500
SAMPLES = 5
WARMUP_REQUESTS = 20
# Before the /search run: searches one at a time for this long (URLs not measured after).
SEARCH_WARMUP_URLS = 200
WARMUP_SECONDS = 15.0
READY_SECONDS = 60.0
MB = 1_000_000

UNCACHED_RATIO_TARGET = 2.0
P99_TARGET_MS = 150.0
CACHED_RATIO_TARGET = 10.0
BEFORE_CACHED_RATIO_TARGET = 2.0
ERROR_SHARE_LIMIT = 0.5
MIN_304_SHARE = 0.5
GZIP_ACCEPT = "gzip, deflate, br"  # what browsers ask for

# Order matters: it is the order learnlog's entry_conditions() adds its WHERE clauses.
PARAM_ORDER = ("domain", "tag", "from", "to", "host", "link_kind")
FILTER_KINDS = ("domain", "tag", "host", "link_kind")

LUA_FEED = r"""-- Written by bench/serve.py: feed wrk one path per request, round-robin from a file.
-- Each line is "path" or "path<TAB>etag"; with an etag the request sends If-None-Match.
-- done() prints "lua issued N" and one "lua status CODE COUNT" line per status seen.
paths = {}
etags = {}
statuses = {}
issued = 0
local count = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local path, etag = line:match("^([^\t]+)\t?(.*)$")
    if path then
      count = count + 1
      paths[count] = path
      if etag ~= "" then
        etags[count] = etag
      end
    end
  end
  if count == 0 then
    error("no paths in " .. args[1])
  end
end

function request()
  issued = issued + 1
  local index = (issued - 1) % count + 1
  local etag = etags[index]
  if etag then
    return wrk.format("GET", paths[index], { ["If-None-Match"] = etag })
  end
  return wrk.format("GET", paths[index])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total_issued = 0
  local totals = {}
  for _, thread in ipairs(threads) do
    total_issued = total_issued + thread:get("issued")
    for status, n in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + n
    end
  end
  io.write(string.format("lua issued %d\n", total_issued))
  for status, n in pairs(totals) do
    io.write(string.format("lua status %d %d\n", status, n))
  end
end
"""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Filter values found in the database, each with the share of entries it matches."""

    domains: dict[str, float]
    tags: dict[str, float]
    hosts: dict[str, float]
    link_kinds: dict[str, float]
    aliases: dict[str, str]
    first: dt.date
    last: dt.date
    entries: int
    posts: int
    content_version: int

    def values(self, kind: str) -> dict[str, float]:
        """The values (and their shares) of one filter kind."""
        return {
            "domain": self.domains,
            "tag": self.tags,
            "host": self.hosts,
            "link_kind": self.link_kinds,
        }[kind]


@dataclass(frozen=True, slots=True)
class Query:
    """One /entries filter: (parameter, value) pairs in PARAM_ORDER."""

    params: tuple[tuple[str, str], ...]

    def path(self) -> str:
        """The learnlog path for this filter, first page of 50."""
        return "/entries?" + urlencode([*self.params, ("limit", str(PAGE))])


@dataclass(slots=True)
class WrkResult:
    """What one wrk run reported."""

    label: str
    returncode: int
    output: str
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    non_2xx_3xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    issued: int = 0

    @property
    def errors(self) -> int:
        """Non-2xx/3xx responses plus socket errors of every kind."""
        return self.non_2xx_3xx + sum(self.socket_errors.values())

    @property
    def error_share(self) -> float:
        """Errors per attempted request (completed responses plus failed connects)."""
        attempts = self.requests + self.socket_errors.get("connect", 0)
        return 1.0 if attempts == 0 else min(1.0, self.errors / attempts)

    @property
    def valid(self) -> bool:
        """The run produced figures: wrk succeeded and fewer than half were errors."""
        return (
            self.returncode == 0
            and self.requests > 0
            and self.p50_ms is not None
            and self.p99_ms is not None
            and self.error_share < ERROR_SHARE_LIMIT
        )

    def share(self, status: int) -> float:
        """Share of responses (as seen by the Lua script) with this status code."""
        seen = sum(self.statuses.values())
        return self.statuses.get(status, 0) / seen if seen else 0.0

    def error_text(self) -> str:
        """Errors as 'none' or 'non-2xx/3xx N, timeout M, ...'."""
        parts = [f"non-2xx/3xx {self.non_2xx_3xx}"] if self.non_2xx_3xx else []
        parts += [f"{kind} {n}" for kind, n in self.socket_errors.items() if n]
        return ", ".join(parts) if parts else "none"


@dataclass(slots=True)
class Fetched:
    """One sequential httpx GET: status, ETag, entry ids, total and seconds taken."""

    path: str
    status: int
    etag: str | None
    ids: list[int]
    total: int | None
    seconds: float


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.serve",
        description="Measure learnlog /entries serving (uncached and revalidated) against "
        "Datasette on the same data with wrk, one pinned core each (DESIGN.md Targets).",
        epilog="Example: python -m bench.serve --db /tmp/learnlog-bench/bench.db",
    )
    parser.add_argument(
        "--db", type=Path, default=DEFAULT_DB, help=f"ingested SQLite file (default: {DEFAULT_DB})"
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument(
        "--urls",
        type=int,
        default=2000,
        help="URLs in the revalidation set (each fetched once for its ETag, then repeated)",
    )
    parser.add_argument(
        "--distinct",
        type=int,
        default=60_000,
        help="distinct filtered URLs for the uncached runs (must exceed the requests made)",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=30,
        help="wrk --timeout in seconds (slower responses count as timeouts, not latencies)",
    )
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the server is pinned to")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU wrk is pinned to")
    parser.add_argument("--skip-datasette", action="store_true", help="do not run Datasette")
    parser.add_argument(
        "--anchors",
        type=Path,
        default=None,
        help="a set-up copy of ../shared/anchors: also run its rotating comparison "
        "(Datasette on the denormalized layout, the minimal FastAPI endpoint) against this "
        "learnlog server; the database must come from /tmp/corpus_10k",
    )
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="a checkout of an earlier release (e.g. `git archive REV | tar -x -C DIR`): "
        "also measure its server, uncached and revalidated, on the same URLs",
    )
    args = parser.parse_args(argv)
    if args.before is not None and not (args.before / "app" / "main.py").is_file():
        parser.error(f"--before {args.before}: no app/main.py there")
    if args.duration < 1 or args.connections < 1 or args.timeout < 1:
        parser.error("--duration, --connections and --timeout must be at least 1")
    if args.urls < 1:
        parser.error("--urls must be at least 1")
    if args.distinct < args.urls + SAMPLES:
        parser.error("--distinct must exceed --urls by at least the sanity samples")
    if args.server_cpu == args.client_cpu:
        parser.error("--server-cpu and --client-cpu must differ")
    return args


def require_tools(args: argparse.Namespace) -> str:
    """Exit with a hint when wrk, taskset or the two CPUs are missing; return wrk's version."""
    for tool, hint in (
        ("wrk", "apt-get install -y wrk"),
        ("taskset", "apt-get install -y util-linux"),
    ):
        if shutil.which(tool) is None:
            sys.exit(f"error: {tool} not found; install it with `{hint}`")
    allowed = os.sched_getaffinity(0)
    for cpu in (args.server_cpu, args.client_cpu):
        if cpu not in allowed:
            sys.exit(f"error: CPU {cpu} is not available here (usable: {sorted(allowed)})")
    probe = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (probe.stdout or probe.stderr).strip().splitlines()[0].split(" Copyright")[0]


def connect_readonly(db: Path) -> sqlite3.Connection:
    """A read-only sqlite3 connection to the database file."""
    return sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)


def read_vocabulary(db: Path) -> Vocabulary:
    """Filter values and their entry shares, the date range and the content version."""
    conn = connect_readonly(db)
    try:
        entries = conn.execute("SELECT count(*) FROM entries WHERE is_draft = 0").fetchone()[0]
        posts = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        if not entries or not posts:
            sys.exit(f"error: {db} holds no entries; ingest the benchmark corpus first")
        first, last = conn.execute(
            "SELECT min(date), max(date) FROM entries WHERE date IS NOT NULL"
        ).fetchone()
        version = conn.execute("SELECT version FROM content_state WHERE id = 1").fetchone()
        aliases = dict(conn.execute("SELECT slug, domain FROM domain_aliases").fetchall())
        domains = {
            slug: n / entries
            for slug, n in conn.execute(
                "SELECT sp.slug, count(*) FROM section_paths AS sp "
                "JOIN entries AS e ON e.section_id = sp.section_id GROUP BY sp.slug"
            )
            if n >= MIN_DOMAIN_ENTRIES
        }
        per_post = entries / posts
        post_tags = dict(conn.execute("SELECT tag, count(*) FROM post_tags GROUP BY tag"))
        entry_tags = dict(conn.execute("SELECT tag, count(*) FROM entry_tags GROUP BY tag"))
        tags = {
            slug: min(1.0, (post_tags.get(slug, 0) * per_post + entry_tags.get(slug, 0)) / entries)
            for (slug,) in conn.execute("SELECT slug FROM tags ORDER BY slug")
        }
        hosts = {
            host: n / entries
            for host, n in conn.execute(
                "SELECT host, count(DISTINCT entry_id) FROM links "
                "WHERE host IS NOT NULL AND entry_id IS NOT NULL GROUP BY host"
            )
            if n >= MIN_HOST_ENTRIES
        }
        kinds = {
            kind: n / entries
            for kind, n in conn.execute(
                "SELECT kind, count(DISTINCT entry_id) FROM links "
                "WHERE entry_id IS NOT NULL GROUP BY kind"
            )
        }
    finally:
        conn.close()
    for name, found in (("domain", domains), ("tag", tags), ("host", hosts), ("kind", kinds)):
        if not any(share > 0 for share in found.values()):
            sys.exit(f"error: no usable {name} values in {db}; is it the benchmark corpus?")
    return Vocabulary(
        domains=domains,
        tags={slug: share for slug, share in tags.items() if share > 0},
        hosts=hosts,
        link_kinds=kinds,
        aliases=aliases,
        first=dt.date.fromisoformat(first),
        last=dt.date.fromisoformat(last),
        entries=entries,
        posts=posts,
        content_version=version[0] if version else 0,
    )


def make_queries(vocab: Vocabulary, count: int, seed: int) -> list[Query]:
    """`count` distinct filters: one or two filter kinds plus a date window wide enough."""
    rng = random.Random(seed)
    span = (vocab.last - vocab.first).days + 1
    per_day = vocab.entries / span
    choices = {kind: sorted(vocab.values(kind)) for kind in FILTER_KINDS}
    seen: set[tuple[tuple[str, str], ...]] = set()
    queries: list[Query] = []
    attempts = 0
    while len(queries) < count:
        attempts += 1
        if attempts > 50 * count:
            sys.exit(f"error: could not build {count} distinct filters from this database")
        kinds = rng.sample(FILTER_KINDS, 1 if rng.random() < 0.55 else 2)
        chosen: dict[str, str] = {}
        share = 1.0
        for kind in kinds:
            value = rng.choice(choices[kind])
            chosen[kind] = value
            share *= vocab.values(kind)[value]
        needed_days = MIN_EXPECTED_ROWS / (per_day * share)
        widths = [w for w in WIDTHS_DAYS if needed_days <= w < span] or [span]
        width = rng.choice(widths)
        start = vocab.first + dt.timedelta(days=rng.randrange(span - width + 1))
        chosen["from"] = start.isoformat()
        chosen["to"] = (start + dt.timedelta(days=width - 1)).isoformat()
        key = tuple((name, chosen[name]) for name in PARAM_ORDER if name in chosen)
        if key not in seen:
            seen.add(key)
            queries.append(Query(key))
    return queries


def search_paths(db: Path, vocab: Vocabulary, count: int, seed: int) -> list[str]:
    """`count` distinct /search URLs: words drawn from stored entry texts, one or two of
    them, a third of them with a domain filter, always limit=50."""
    rng = random.Random(seed)
    with contextlib.closing(connect_readonly(db)) as conn:
        texts = [row[0] for row in conn.execute(SAMPLE_TEXTS_SQL)]
    words = sorted({w.lower() for text in texts for w in re.findall(r"[A-Za-z]{4,}", text)})
    domains = sorted(vocab.domains)
    seen: set[str] = set()
    while len(seen) < count:
        params = [("q", " ".join(rng.sample(words, 1 if rng.random() < 0.7 else 2)))]
        if rng.random() < 0.33:
            params.append(("domain", rng.choice(domains)))
        seen.add("/search?" + urlencode([*params, ("limit", str(PAGE))]))
    paths = sorted(seen)
    rng.shuffle(paths)
    return paths


SAMPLE_TEXTS_SQL = "SELECT text FROM entries ORDER BY random() LIMIT 3000"


def warm_up_for(base: str, paths: list[str], seconds: float) -> None:
    """Untimed requests, one at a time, for `seconds`, so that first-request costs (and
    the indexes a server builds in the background) are paid before wrk measures."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=120.0) as client:
        for path in itertools.cycle(paths):
            client.get(path)
            if time.monotonic() > deadline:
                break


def heading_slugs(domain: str, aliases: dict[str, str]) -> list[str]:
    """The heading slugs a domain filter matches (as app.queries.entries.heading_slugs_for)."""
    wanted = aliases.get(domain, domain)
    return sorted({wanted} | {slug for slug, target in aliases.items() if target == wanted})


def datasette_sql(query: Query, aliases: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
    """The SQL learnlog runs for this filter's first page without its entry index (one
    walk of the sort index with EXISTS probes), with named parameters. `entries.*`
    includes each entry's stored JSON document, so Datasette's rows carry what learnlog's
    answers do (text, HTML, tags, links)."""
    where = ["entries.is_draft = 0"]
    args: list[tuple[str, str]] = []
    for name, raw in query.params:
        value = raw.strip().lower()
        if name == "domain":
            slugs = heading_slugs(value, aliases)
            names = ["domain"] + [f"domain_{i}" for i in range(1, len(slugs))]
            args += list(zip(names, [value, *[s for s in slugs if s != value]], strict=True))
            marks = ", ".join(f":{n}" for n in names)
            where.append(
                "EXISTS (SELECT 1 FROM section_paths WHERE section_paths.section_id = "
                f"entries.section_id AND section_paths.slug IN ({marks}))"
            )
        elif name == "tag":
            args.append(("tag", value))
            where.append(
                "(EXISTS (SELECT 1 FROM entry_tags WHERE entry_tags.entry_id = entries.id "
                "AND entry_tags.tag IN (:tag)) OR EXISTS (SELECT 1 FROM post_tags WHERE "
                "post_tags.post_id = entries.post_id AND post_tags.tag IN (:tag)))"
            )
        elif name == "from":
            args.append(("date_from", value))
            where.append("entries.date >= :date_from")
        elif name == "to":
            args.append(("date_to", value))
            where.append("entries.date <= :date_to")
        elif name == "host":
            args.append(("host", value.removeprefix("www.")))
            where.append(
                "EXISTS (SELECT 1 FROM links WHERE links.entry_id = entries.id "
                "AND links.host IN (:host))"
            )
        elif name == "link_kind":
            args.append(("link_kind", value))
            where.append(
                "EXISTS (SELECT 1 FROM links WHERE links.entry_id = entries.id "
                "AND links.kind IN (:link_kind))"
            )
    sql = (
        "SELECT entries.* FROM entries WHERE "
        + " AND ".join(where)
        + " ORDER BY entries.date DESC NULLS LAST, entries.post_id DESC, entries.position"
        + f" LIMIT {PAGE}"
    )
    return sql, args


def datasette_path(database: str, query: Query, aliases: dict[str, str]) -> str:
    """The Datasette JSON path answering the same rows as `query.path()`."""
    sql, args = datasette_sql(query, aliases)
    return f"/{quote(database)}.json?" + urlencode([("sql", sql), *args, ("_shape", "array")])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def warm_page_cache(db: Path) -> int:
    """Read the database file (and its WAL, if any) once; return the bytes read."""
    total = 0
    for path in (db, Path(f"{db}-wal")):
        if path.is_file():
            with path.open("rb") as handle:
                while chunk := handle.read(16 * 2**20):
                    total += len(chunk)
    return total


class Server:
    """A pinned server process with its log, started and stopped around a phase."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        """Remember how to start it; nothing runs yet."""
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_url: str) -> None:
        """Start the process and wait until `ready_url` answers 200."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_SECONDS
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    self.fail(f"exited with status {self.proc.returncode} while starting")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(ready_url).status_code == 200:
                        return
                time.sleep(0.2)
        self.fail(f"did not answer {ready_url} within {READY_SECONDS:.0f} s")

    def fail(self, reason: str) -> None:
        """Stop the server, print its log tail and exit."""
        self.stop()
        tail = self.log.read_text(errors="replace").rstrip().splitlines()[-30:]
        print(f"\n{self.name} {reason}; log tail:")
        print("\n".join(f"  {line}" for line in tail))
        sys.exit(1)

    def stop(self) -> None:
        """Terminate the process (kill it after 10 s) if it runs."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def pinned(cpu: int, command: Sequence[str]) -> list[str]:
    """`command` run under taskset on one CPU."""
    return ["taskset", "-c", str(cpu), *command]


def learnlog_server(
    db: Path, port: int, cpu: int, log: Path, checkout: Path | None = None
) -> Server:
    """uvicorn serving app.main:create_app on one pinned worker; from `checkout` (an
    earlier release's folder) on the HTTP stack its dependencies install, if given."""
    env = dict(os.environ, LEARNLOG_DATABASE_URL=f"sqlite:///{db}")
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
        "--host", HOST, "--port", str(port), "--workers", "1",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    if checkout is None:
        command += ["--loop", "asyncio"]  # as `learnlog serve` runs it
        return Server("learnlog (uvicorn)", pinned(cpu, command), env, log)
    if not installs_fast_http(checkout):
        command += ["--loop", "asyncio", "--http", "h11"]
    command += ["--app-dir", str(checkout.resolve())]  # ahead of this checkout on sys.path
    return Server(f"earlier learnlog ({checkout})", pinned(cpu, command), env, log)


def installs_fast_http(checkout: Path) -> bool:
    """Whether the release in `checkout` installs httptools (uvicorn then serves with it)."""
    project = (checkout / "pyproject.toml").read_text(encoding="utf-8")
    return '"httptools' in project or "uvicorn[standard]" in project


def datasette_executable() -> list[str] | None:
    """How to run datasette from this environment, installing it if needed; None if not."""
    local = Path(sys.executable).with_name("datasette")
    if local.is_file():
        return [str(local)]
    print("datasette (the bench extra) not installed: `pip install datasette` ...", flush=True)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "datasette"],
        capture_output=True,
        text=True,
        check=False,
    )
    if install.returncode == 0 and local.is_file():
        return [str(local)]
    reason = (install.stderr or install.stdout).strip().splitlines()[-1:] or ["unknown error"]
    print(f"datasette could not be installed ({reason[0]}); skipping the Datasette run")
    return None


def datasette_server(executable: list[str], db: Path, port: int, cpu: int, log: Path) -> Server:
    """Datasette serving the database read-only (immutable) on one pinned process."""
    command = [
        *executable, "serve", "--immutable", str(db), "--host", HOST, "--port", str(port),
        "--setting", "sql_time_limit_ms", "5000", "--setting", "max_returned_rows", "1000",
    ]  # fmt: skip
    return Server("datasette", pinned(cpu, command), dict(os.environ), log)


def datasette_database_name(base: str, db: Path) -> str:
    """The name Datasette gave the database file (from /-/databases.json)."""
    found = httpx.get(f"{base}/-/databases.json", timeout=10.0).json()
    for item in found:
        if item.get("path") and Path(item["path"]).resolve() == db.resolve():
            return str(item["name"])
    return str(found[0]["name"]) if len(found) == 1 else db.stem


def fetch(client: httpx.Client, path: str) -> Fetched:
    """GET a learnlog /entries path (or a Datasette array path) and keep what matters."""
    start = time.perf_counter()
    response = client.get(path)
    seconds = time.perf_counter() - start
    ids: list[int] = []
    total = None
    if response.status_code == 200:
        body: Any = response.json()
        if isinstance(body, dict):
            ids = [int(item["id"]) for item in body.get("items", [])]
            total = body.get("total")
        elif isinstance(body, list):
            ids = [int(row["id"]) for row in body]
    return Fetched(path, response.status_code, response.headers.get("etag"), ids, total, seconds)


def http_client(base: str) -> httpx.Client:
    """An httpx client that, like wrk, asks for uncompressed answers."""
    return httpx.Client(base_url=base, timeout=60.0, headers={"Accept-Encoding": "identity"})


def check_learnlog(base: str, samples: list[Query]) -> tuple[bool, dict[str, list[int]]]:
    """Every sample answers 200 with an ETag and min(50, total) items; ids per path."""
    ok = True
    ids: dict[str, list[int]] = {}
    with http_client(base) as client:
        for query in samples:
            got = fetch(client, query.path())
            # total is null past 10,000 matches: then the page must be full.
            expected = PAGE if got.total is None else min(PAGE, got.total)
            good = got.status == 200 and got.etag is not None and len(got.ids) == expected
            ok = ok and good
            ids[query.path()] = got.ids
            print(
                f"  {'ok  ' if good else 'BAD '} {got.status} {len(got.ids):>2} items "
                f"(total {got.total}) {got.seconds * 1000:6.1f} ms  {query.path()}"
            )
    return ok, ids


def check_datasette(
    base: str,
    database: str,
    samples: list[Query],
    aliases: dict[str, str],
    learnlog: dict[str, list[int]],
) -> bool:
    """Datasette's equivalent of each sample gives the same ids in the same order."""
    ok = True
    with http_client(base) as client:
        for query in samples:
            got = fetch(client, datasette_path(database, query, aliases))
            theirs = learnlog[query.path()]
            same = got.status == 200 and got.ids == theirs
            ok = ok and same
            detail = (
                f"same {len(theirs)} ids in the same order"
                if same
                else f"status {got.status}, {len(got.ids)} ids vs learnlog {len(theirs)}; "
                f"first differing index {first_difference(got.ids, theirs)}"
            )
            print(f"  {'ok  ' if same else 'BAD '} {got.seconds * 1000:6.1f} ms  {detail}")
    return ok


def first_difference(left: list[int], right: list[int]) -> int:
    """Index of the first position where two id lists differ."""
    for index, (a, b) in enumerate(zip(left, right, strict=False)):
        if a != b:
            return index
    return min(len(left), len(right))


def warm_up(base: str, paths: list[str]) -> None:
    """A few sequential requests so the server's first-request costs are paid untimed."""
    with http_client(base) as client:
        for path in paths:
            client.get(path)


def wait_idle(url: str, limit_seconds: float = 120.0) -> float:
    """Poll `url` until it answers within 50 ms (the server drained its queue); seconds."""
    start = time.perf_counter()
    with httpx.Client(timeout=limit_seconds) as client:
        while time.perf_counter() - start < limit_seconds:
            sent = time.perf_counter()
            with contextlib.suppress(httpx.HTTPError):
                client.get(url)
            if time.perf_counter() - sent < 0.05:
                break
    return time.perf_counter() - start


def describe_gzip(base: str, path: str) -> str:
    """What one answer weighs with and without gzip, as the gzip run will ask for it."""
    with http_client(base) as client:
        plain = client.get(path, headers={"Accept-Encoding": "identity"})
        packed = client.get(path, headers={"Accept-Encoding": GZIP_ACCEPT})
    encoding = packed.headers.get("content-encoding", "none")
    return (
        f"one answer: {plain.num_bytes_downloaded:,} bytes plain, "
        f"{packed.num_bytes_downloaded:,} bytes with content-encoding {encoding}"
    )


def fetch_etags(base: str, paths: list[str]) -> list[Fetched]:
    """Fetch every path once, one at a time, printing progress."""
    found: list[Fetched] = []
    start = time.perf_counter()
    step = max(1, len(paths) // 4)
    with http_client(base) as client:
        for index, path in enumerate(paths, 1):
            found.append(fetch(client, path))
            if index % step == 0 or index == len(paths):
                print(f"  {index}/{len(paths)} fetched ({time.perf_counter() - start:.1f} s)")
    return found


def write_lines(path: Path, lines: Iterator[str] | list[str]) -> Path:
    """Write one line per item and return the path."""
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
    return path


TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(number: str, unit: str) -> float:
    """A wrk duration (number and unit) in milliseconds."""
    return float(number) * TIME_UNITS[unit]


def parse_wrk(result: WrkResult) -> WrkResult:
    """Fill in the figures from wrk's --latency output and the Lua script's lines."""
    out = result.output
    if m := re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", out, re.M):
        result.requests = int(m.group(1))
        result.seconds = to_ms(m.group(2), m.group(3)) / 1000
    if m := re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M):
        result.rps = float(m.group(1))
    for pct, attr in (("50", "p50_ms"), ("99", "p99_ms")):
        if m := re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m|h)\s*$", out, re.M):
            setattr(result, attr, to_ms(m.group(1), m.group(2)))
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        result.non_2xx_3xx = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        result.socket_errors = dict(
            zip(("connect", "read", "write", "timeout"), map(int, m.groups()), strict=True)
        )
    if m := re.search(r"^lua issued (\d+)", out, re.M):
        result.issued = int(m.group(1))
    for status, count in re.findall(r"^lua status (\d+) (\d+)", out, re.M):
        result.statuses[int(status)] = int(count)
    return result


def run_wrk(
    label: str,
    base: str,
    script: Path,
    url_file: Path,
    args: argparse.Namespace,
    headers: Sequence[str] = (),
) -> WrkResult:
    """One pinned wrk run feeding `url_file`; print its output and the errors it saw."""
    extra = [option for header in headers for option in ("-H", header)]
    command = pinned(
        args.client_cpu,
        [
            "wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
            f"--timeout={args.timeout}s", *extra, "-s", str(script), base, "--", str(url_file),
        ],
    )  # fmt: skip
    print(f"\n{label}: {' '.join(command)}", flush=True)
    proc = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=args.duration + 120
    )
    result = parse_wrk(WrkResult(label, proc.returncode, proc.stdout + proc.stderr))
    print("\n".join(f"  | {line}" for line in result.output.rstrip().splitlines()))
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result.statuses.items())) or "none"
    print(f"  statuses {statuses}; errors: {result.error_text()}")
    if not result.valid:
        print(
            f"  -> {label} run FAILED: exit {result.returncode}, {result.requests} responses, "
            f"error share {result.error_share:.0%}; not used as a figure"
        )
    return result


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]], right: set[int]) -> None:
    """Print rows as a plain-text table; columns in `right` are right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def fmt(row: tuple[str, ...]) -> str:
        """One aligned line."""
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    print(fmt(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(fmt(row))


def ms(value: float | None) -> str:
    """Milliseconds with one decimal, or n/a."""
    return "n/a" if value is None else f"{value:.1f}"


def run_row(result: WrkResult | None, label: str, note: str = "") -> tuple[str, ...]:
    """One line of the runs table."""
    if result is None:
        return (label, "skipped", "", "", "", "", note)
    if not result.valid:
        return (
            label,
            "FAIL",
            ms(result.p50_ms),
            ms(result.p99_ms),
            str(result.requests),
            result.error_text(),
            note or "most responses were errors",
        )
    return (
        label,
        f"{result.rps:.1f}",
        ms(result.p50_ms),
        ms(result.p99_ms),
        str(result.requests),
        result.error_text(),
        note,
    )


def ratio_row(
    name: str, mine: WrkResult | None, theirs: WrkResult | None, target: float, extra_ok: bool
) -> tuple[str, str, str, str]:
    """A ratio line of the targets table; FAIL when either run has no figure."""
    goal = f">= {target:g}x"
    if theirs is None:
        return (name, "n/a", goal, "SKIP (no Datasette run)")
    if mine is None or not mine.valid or not theirs.valid or theirs.rps <= 0:
        return (name, "n/a", goal, "FAIL (a run has no figure)")
    value = mine.rps / theirs.rps
    return (name, f"{value:.2f}x", goal, verdict(value >= target and extra_ok))


def before_ratio(
    name: str, mine: WrkResult | None, theirs: WrkResult | None, target: float
) -> tuple[str, str, str, str]:
    """A ratio line against the earlier release's run; FAIL when either has no figure."""
    goal = f">= {target:g}x"
    if mine is None or theirs is None or not mine.valid or not theirs.valid or theirs.rps <= 0:
        return (name, "n/a", goal, "FAIL (a run has no figure)")
    value = mine.rps / theirs.rps
    return (name, f"{value:.2f}x", goal, verdict(value >= target))


def machine_facts(wrk_version: str, db: Path, vocab: Vocabulary, datasette: bool) -> str:
    """CPU, memory, OS, versions and the data, on a few lines."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.1f} GiB RAM"
    packages = ["fastapi", "starlette", "uvicorn", "sqlalchemy", "pydantic", "h11"]
    packages += ["uvloop", "httptools"] + (["datasette"] if datasette else [])
    versions = []
    for name in packages:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} -")
    return "\n".join(
        [
            f"machine: {model}, {os.cpu_count()} CPUs{memory}; "
            f"{platform.system()} {platform.release()}",
            f"software: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{wrk_version}",
            f"packages: {', '.join(versions)}",
            f"data: {db} ({db.stat().st_size / MB:.0f} MB), {vocab.posts} posts, "
            f"{vocab.entries} entries, {vocab.first} .. {vocab.last}, "
            f"content version {vocab.content_version}",
        ]
    )


def describe_fetches(found: list[Fetched]) -> str:
    """Status, page-size and latency summary of a sequential fetch pass."""
    ok = [f for f in found if f.status == 200]
    full = sum(len(f.ids) == PAGE for f in ok)
    empty = sum(not f.ids for f in ok)
    times = sorted(f.seconds * 1000 for f in found)
    p90 = times[int(0.9 * (len(times) - 1))]
    return (
        f"{len(ok)}/{len(found)} answered 200 ({sum(f.etag is not None for f in ok)} with "
        f"an ETag); {full / max(len(ok), 1):.0%} full {PAGE}-row pages, "
        f"{empty / max(len(ok), 1):.0%} empty; one at a time: median "
        f"{statistics.median(times):.1f} ms, p90 {p90:.1f} ms, max {times[-1]:.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark and print the results tables."""
    args = parse_args(argv)
    db: Path = args.db.resolve()
    if not db.is_file():
        sys.exit(
            f"error: no database at {db}; create it with `learnlog ingest "
            f"{BENCH_ROOT}/corpus-10000 --database-url sqlite:///{db}`"
        )
    wrk_version = require_tools(args)
    datasette_cmd = None if args.skip_datasette else datasette_executable()
    if args.skip_datasette:
        print("Datasette run skipped (--skip-datasette)")

    print(f"reading filter values from {db} ...", flush=True)
    vocab = read_vocabulary(db)
    queries = make_queries(vocab, args.distinct + SAMPLES + WARMUP_REQUESTS, SEED)
    samples = [*queries[: SAMPLES - 1], Query((("link_kind", "paper"),))]
    warmup = queries[SAMPLES : SAMPLES + WARMUP_REQUESTS]
    pool = queries[SAMPLES + WARMUP_REQUESTS :]
    revalidate = pool[-args.urls :]
    print(
        f"{len(pool)} distinct filtered URLs from {len(vocab.domains)} domains, "
        f"{len(vocab.tags)} tags, {len(vocab.hosts)} hosts, {len(vocab.link_kinds)} link kinds; "
        f"revalidation set: the last {len(revalidate)}"
    )
    print(f"page cache: read {warm_page_cache(db) / MB:.0f} MB of {db.name}")

    learnlog_result: WrkResult | None = None
    anchors_table = ""
    cached_result: WrkResult | None = None
    before_result: WrkResult | None = None
    before_cached: WrkResult | None = None
    search_result: WrkResult | None = None
    gzip_result: WrkResult | None = None
    datasette_result: WrkResult | None = None
    same_rows: bool | None = None
    fetch_summary = ""
    tagged: list[str] = []
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="learnlog-serve-") as tmp:
        work = Path(tmp)
        script = work / "feed.lua"
        script.write_text(LUA_FEED, encoding="utf-8")
        try:
            port = free_port()
            base = f"http://{HOST}:{port}"
            learnlog = learnlog_server(db, port, args.server_cpu, work / "learnlog.log")
            servers.append(learnlog)
            print(f"\nstarting learnlog on {base} (CPU {args.server_cpu}) ...", flush=True)
            learnlog.start(f"{base}/healthz")
            print("sanity check, learnlog:")
            learnlog_ok, sample_ids = check_learnlog(base, samples)

            if datasette_cmd is not None:
                ds_port = free_port()
                ds_base = f"http://{HOST}:{ds_port}"
                ds = datasette_server(datasette_cmd, db, ds_port, args.server_cpu, work / "ds.log")
                servers.append(ds)
                print(f"\nstarting Datasette on {ds_base} (CPU {args.server_cpu}) ...", flush=True)
                ds.start(f"{ds_base}/-/versions.json")
                database = datasette_database_name(ds_base, db)
                print(f"sanity check, Datasette /{database}.json equivalents:")
                same_rows = check_datasette(ds_base, database, samples, vocab.aliases, sample_ids)
                print(f"learnlog and Datasette {'agree' if same_rows else 'DISAGREE'}")
                ds.stop()
            if not learnlog_ok:
                print("learnlog sanity check FAILED (see BAD lines above); measuring anyway")

            warm_up(base, [q.path() for q in warmup])
            uncached_file = write_lines(work / "learnlog.txt", [q.path() for q in pool])
            learnlog_result = run_wrk("learnlog uncached", base, script, uncached_file, args)
            print(f"  server drained its queue in {wait_idle(f'{base}/healthz'):.1f} s")
            # What browsers get: the same kind of URLs (ones not asked yet), gzipped.
            fresh = pool[learnlog_result.issued :] or pool
            print(f"  {describe_gzip(base, fresh[-1].path())}")
            gzip_file = write_lines(work / "gzip.txt", [q.path() for q in fresh])
            gzip_headers = [f"Accept-Encoding: {GZIP_ACCEPT}"]
            gzip_result = run_wrk(
                "learnlog uncached gzip", base, script, gzip_file, args, gzip_headers
            )

            print(f"  server drained its queue in {wait_idle(f'{base}/healthz'):.1f} s")
            searches = search_paths(db, vocab, args.distinct + SEARCH_WARMUP_URLS, SEED)
            # The search index is built on a version's first search: built before wrk runs.
            warm_up_for(base, searches[:SEARCH_WARMUP_URLS], WARMUP_SECONDS)
            search_file = write_lines(work / "search.txt", searches[SEARCH_WARMUP_URLS:])
            search_result = run_wrk("learnlog search", base, script, search_file, args)
            print(f"  server drained its queue in {wait_idle(f'{base}/healthz'):.1f} s")
            print(f"\nfetching {len(revalidate)} URLs once for their ETags ...", flush=True)
            found = fetch_etags(base, [q.path() for q in revalidate])
            fetch_summary = describe_fetches(found)
            print(f"  {fetch_summary}")
            tagged = [f"{f.path}\t{f.etag}" for f in found if f.status == 200 and f.etag]
            if tagged:
                cached_file = write_lines(work / "revalidate.txt", tagged)
                cached_result = run_wrk("learnlog revalidated", base, script, cached_file, args)
            else:
                print("no URL answered 200 with an ETag: revalidation run skipped")
            if args.anchors is not None:
                print(f"  server drained its queue in {wait_idle(f'{base}/healthz'):.1f} s")
                anchors_table = run_anchors(args.anchors, base, args, work)
            learnlog.stop()

            if args.before is not None:
                before = learnlog_server(
                    db, port, args.server_cpu, work / "before.log", checkout=args.before
                )
                servers.append(before)
                print(f"\nstarting the earlier release: {' '.join(before.command)} ...")
                before.start(f"{base}/healthz")
                warm_up(base, [q.path() for q in warmup])
                before_result = run_wrk("earlier uncached", base, script, uncached_file, args)
                print(f"  server drained its queue in {wait_idle(f'{base}/healthz'):.1f} s")
                found_before = fetch_etags(base, [q.path() for q in revalidate])
                tagged_before = [f"{f.path}\t{f.etag}" for f in found_before if f.etag]
                if tagged_before:
                    before_file = write_lines(work / "before-revalidate.txt", tagged_before)
                    before_cached = run_wrk("earlier revalidated", base, script, before_file, args)
                before.stop()

            if datasette_cmd is not None:
                ds.start(f"{ds_base}/-/versions.json")
                warm_up(ds_base, [datasette_path(database, q, vocab.aliases) for q in warmup])
                ds_file = write_lines(
                    work / "datasette.txt",
                    (datasette_path(database, q, vocab.aliases) for q in pool),
                )
                datasette_result = run_wrk(
                    "Datasette, learnlog's tables", ds_base, script, ds_file, args
                )
                ds.stop()
        finally:
            for server in servers:
                server.stop()

    share_304 = cached_result.share(304) if cached_result else 0.0
    cached_ok = cached_result is not None and cached_result.valid and share_304 >= MIN_304_SHARE
    if cached_result is not None and cached_result.valid and not cached_ok:
        cached_result.p50_ms = cached_result.p99_ms = None  # not a revalidation figure
    repeated = learnlog_result is not None and learnlog_result.issued > len(pool)
    runs = [
        run_row(
            learnlog_result,
            "learnlog uncached",
            f"{learnlog_result.issued} issued / {len(pool)} distinct URLs"
            if learnlog_result
            else "",
        ),
        run_row(gzip_result, "learnlog uncached gzip", "Accept-Encoding: gzip, fresh URLs"),
        run_row(
            search_result,
            "learnlog /search",
            f"{search_result.issued} issued, distinct queries" if search_result else "",
        ),
        run_row(
            cached_result,
            "learnlog revalidated",
            f"{share_304:.1%} 304 over {len(tagged)} URLs" if cached_result else "",
        ),
        *(
            [
                run_row(before_result, "earlier release uncached", str(args.before)),
                run_row(before_cached, "earlier release revalidated", str(args.before)),
            ]
            if args.before is not None
            else []
        ),
        run_row(
            datasette_result,
            "Datasette, learnlog's tables",
            "learnlog's SQL, canned" if datasette_cmd else "--skip-datasette or not installed",
        ),
    ]
    p99 = learnlog_result.p99_ms if learnlog_result and learnlog_result.valid else None
    p99_ok = p99 is not None and p99 < P99_TARGET_MS
    targets = [
        (
            "learnlog URLs all distinct (issued <= distinct)",
            "no" if repeated else "yes",
            "yes",
            verdict(learnlog_result is not None and not repeated),
        ),
        ("learnlog uncached p99 (ms)", ms(p99), f"< {P99_TARGET_MS:g}", verdict(p99_ok)),
        ratio_row(
            "uncached / Datasette (learnlog's tables) req/s",
            learnlog_result,
            datasette_result,
            UNCACHED_RATIO_TARGET,
            not repeated,
        ),
        (
            "revalidated 304 share",
            f"{share_304:.1%}",
            f">= {MIN_304_SHARE:.0%}",
            verdict(cached_ok),
        ),
        ratio_row(
            "revalidated / Datasette (learnlog's tables) req/s",
            cached_result,
            datasette_result,
            CACHED_RATIO_TARGET,
            cached_ok,
        ),
    ]
    if args.before is not None:
        targets += [
            before_ratio("uncached / earlier release req/s", learnlog_result, before_result, 1.0),
            before_ratio(
                "revalidated / earlier release req/s",
                cached_result if cached_ok else None,
                before_cached,
                BEFORE_CACHED_RATIO_TARGET,
            ),
        ]
    if same_rows is not None:
        targets.append(
            (
                "Datasette rows = learnlog rows (5 samples)",
                "same" if same_rows else "differ",
                "same",
                verdict(same_rows),
            )
        )

    print()
    print(
        f"learnlog serving benchmark: /entries, limit={PAGE}, {args.connections} connections, "
        f"{args.duration} s per run; server on CPU {args.server_cpu}, wrk on CPU "
        f"{args.client_cpu}"
    )
    print()
    print_table(
        ("run", "req/s", "p50 ms", "p99 ms", "responses", "errors", "notes"), runs, {1, 2, 3, 4}
    )
    print()
    print_table(("figure", "value", "target", "result"), targets, {1})
    print()
    if fetch_summary:
        print(f"revalidation set, first fetch: {fetch_summary}")
    print(machine_facts(wrk_version, db, vocab, datasette_cmd is not None))
    if anchors_table:
        print()
        print("Design target comparison (../shared/anchors, Datasette on the denormalized layout,")
        print("fa_async = a minimal FastAPI endpoint running the same SQL), same run:")
        print(anchors_table)
    return 0


ANCHOR_DB = Path("/tmp/anchor_10k/corpus.db")


def run_anchors(anchors: Path, base: str, args: argparse.Namespace, work: Path) -> str:
    """The anchors' rotating comparison with this learnlog server as an extra; its table."""
    python = anchors / ".venv" / "bin" / "python"
    script = anchors / "run_rotating.sh"
    if not python.is_file() or not script.is_file() or not ANCHOR_DB.is_file():
        print(f"\n{anchors} is not set up (`SKIP_MDDB=1 bash setup.sh` there): anchors skipped")
        return ""
    paths = work / "anchor_paths.txt"
    made = subprocess.run(
        [
            str(python), str(anchors / "make_urls.py"), "--db", str(ANCHOR_DB), "--n", "1000",
            "--seed", "1", "--fa-endpoint", "/entries", "--fa-out", str(paths),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if made.returncode != 0 or not paths.is_file():
        print(f"\nmake_urls.py failed: {made.stderr.strip()[-300:]}; anchors skipped")
        return ""
    env = dict(
        os.environ,
        SERVER_CPU=str(args.server_cpu),
        WRK_CPU=str(args.client_cpu),
        CONNS=str(args.connections),
    )
    command = ["bash", str(script), "--extra", "learnlog", base, str(paths)]
    print(f"\nanchors: {' '.join(command)} (ROUNDS, DURATION from the environment)", flush=True)
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    lines = proc.stdout.splitlines()
    print("\n".join(f"  | {line}" for line in lines if line.startswith(("round", "check"))))
    table = [line for line in lines if line.startswith("|")]
    if proc.returncode != 0 or not table:
        print(f"  anchors run failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
        return ""
    return "\n".join(table)


if __name__ == "__main__":
    sys.exit(main())
