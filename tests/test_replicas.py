"""Many replicas, one truth: two API processes and one ingest process on one PostgreSQL."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.db import migrate
from tests.conftest import SEED, create_database, postgres_url_or_skip
from tests.servers import free_port


@pytest.fixture
def database() -> str:
    url = create_database(postgres_url_or_skip(), "learnlog_replicas_test")
    migrate(url)
    return url


@pytest.fixture
def replicas(database: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two uvicorn processes serving the same PostgreSQL database."""
    env = {**os.environ, "LEARNLOG_DATABASE_URL": database}
    servers: list[subprocess.Popen[bytes]] = []
    bases = []
    try:
        for _ in range(2):
            port = free_port()
            command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            servers.append(subprocess.Popen(command, env=env, cwd=tmp_path))
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{base} did not start"
                time.sleep(0.1)
        yield bases
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def test_replicas_agree_on_etags_before_and_after_an_ingest(
    replicas: list[str], database: str, tmp_path: Path
) -> None:
    path = "/entries?domain=genai"
    before = [httpx.get(base + path) for base in replicas]
    assert [r.json()["items"] for r in before] == [[], []]
    assert before[0].headers["etag"] == before[1].headers["etag"]

    content = tmp_path / "content"
    content.mkdir()
    (content / SEED.name).write_text(SEED.read_text())
    ingest = [sys.executable, "-m", "app.cli", "ingest", str(content)]
    done = subprocess.run(
        [*ingest, "--database-url", database], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr

    after = [httpx.get(base + path) for base in replicas]
    assert after[0].headers["etag"] == after[1].headers["etag"]
    assert after[0].headers["etag"] != before[0].headers["etag"]
    assert [len(r.json()["items"]) for r in after] == [6, 6]
    # The old ETag is stale on every replica: a revalidation gets the new answer.
    stale = {"If-None-Match": before[0].headers["etag"]}
    assert [httpx.get(base + path, headers=stale).status_code for base in replicas] == [200, 200]
