"""Reads during writes: 50 clients read while a 2,000-post ingest runs beside the server.

Readers never get a 5xx, the server never logs "database is locked", and no reader ever
sees half of a post: a post that is listed has all its entries, in its own page and in
/entries, and what a reader has seen never disappears again.
"""

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from app.db import migrate
from bench.generate import generate
from tests.conftest import SEED, create_database, postgres_url_or_skip
from tests.servers import learnlog_server

POSTS = 2_000
READERS = 50
PAUSE_SECONDS = 0.2
INGEST_DEADLINE_SECONDS = 600


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty migrated database on each engine."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'reads.db'}"
    else:
        url = create_database(postgres_url_or_skip(), "learnlog_reads_during_writes")
    migrate(url)
    return url


@dataclass
class Findings:
    """What the readers saw: request counts and every broken promise."""

    requests: int = 0
    posts_checked: int = 0
    problems: list[str] = field(default_factory=list)
    seen_totals: list[int] = field(default_factory=list)


def _entries_in(sections: list[dict[str, object]]) -> int:
    count = 0
    for section in sections:
        count += len(section["entries"])  # type: ignore[arg-type]
        count += _entries_in(section["sections"])  # type: ignore[arg-type]
    return count


async def _get(client: httpx.AsyncClient, url: str, findings: Findings) -> httpx.Response | None:
    findings.requests += 1
    response = await client.get(url)
    if response.status_code != 200:
        findings.problems.append(f"GET {url}: {response.status_code} {response.text[:300]}")
        return None
    return response


async def _read(client: httpx.AsyncClient, rng: random.Random, findings: Findings) -> int:
    """One round of a reader: list posts, open one, compare its entries with /entries.

    Returns the number of posts the listing said there were (-1 when it failed).
    """
    listed = await _get(client, "/posts?limit=10", findings)
    if listed is None:
        return -1
    page = listed.json()
    findings.seen_totals.append(page["total"])
    await _check_a_post(client, rng, page["items"], findings)
    domain = rng.choice(["systems", "databases", "machine-learning", "genai", "security"])
    await _get(client, f"/entries?domain={domain}&limit=50", findings)
    await _get(client, "/domains", findings)
    return int(page["total"])


async def _check_a_post(
    client: httpx.AsyncClient, rng: random.Random, items: list[dict[str, str]], findings: Findings
) -> None:
    """A listed post has all its entries, in its own page and in /entries."""
    if not items:
        return
    slug = rng.choice(items)["slug"]
    post = await _get(client, f"/posts/{slug}", findings)
    entries = await _get(client, f"/entries?post={slug}&limit=200", findings)
    if post is None or entries is None:
        return
    in_tree = _entries_in(post.json()["sections"])
    listed_entries = entries.json()["items"]
    findings.posts_checked += 1
    if in_tree == 0 or in_tree != len(listed_entries):
        findings.problems.append(
            f"{slug}: {in_tree} entries in its page, {len(listed_entries)} in /entries"
        )


async def _readers(base_url: str, writing: subprocess.Popen[str], findings: Findings) -> None:
    """Keep READERS clients reading until the ingest ends, then one more round each."""
    limits = httpx.Limits(max_connections=READERS)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=60, limits=limits, trust_env=False
    ) as client:

        async def reader(number: int) -> None:
            rng = random.Random(number)
            seen = 0
            while True:
                done = writing.poll() is not None
                total = await _read(client, rng, findings)
                if 0 <= total < seen:
                    findings.problems.append(f"reader {number}: {seen} posts, then {total}")
                seen = max(seen, total)
                if done:
                    return
                # A reader pauses between rounds, as people and frontends do: flat out, 50
                # clients would leave the ingest beside them no core to run on.
                await asyncio.sleep(PAUSE_SECONDS)

        await asyncio.gather(*(reader(n) for n in range(READERS)))


def test_readers_never_see_errors_or_half_written_posts(database_url: str, tmp_path: Path) -> None:
    seeded = tmp_path / "seeded"
    seeded.mkdir()
    shutil.copyfile(SEED, seeded / SEED.name)
    folder = tmp_path / "logs"
    generate(folder, posts=POSTS, seed=5)
    log = tmp_path / "server.log"
    findings = Findings()
    with learnlog_server(database_url, log, env={"LEARNLOG_CONTENT_DIR": str(seeded)}) as base:
        command = [sys.executable, "-m", "app.cli", "ingest", str(folder)]
        writing = subprocess.Popen(
            [*command, "--database-url", database_url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: its parser workers with it
        )
        try:
            asyncio.run(_readers(base, writing, findings))
            _, ingest_errors = writing.communicate(timeout=INGEST_DEADLINE_SECONDS)
        finally:
            if writing.poll() is None:  # the readers failed: stop the ingest and its workers
                os.killpg(writing.pid, signal.SIGKILL)
                writing.wait()
    assert writing.returncode == 0, ingest_errors
    server_log = log.read_text()
    assert "database is locked" not in server_log
    assert "Traceback" not in server_log, server_log[-3000:]
    assert findings.problems == [], findings.problems[:10]
    # The readers really overlapped the writes: they saw the post count grow.
    assert len(set(findings.seen_totals)) > 2, "the readers never saw the ingest in progress"
    assert findings.seen_totals[-1] == POSTS + 1
