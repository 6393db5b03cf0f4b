"""Many slow requests at once: none of them ever makes the event loop wait for the database.

Facets and search hold their request's connection while their work runs in the
threadpool. If a request waited for a pooled connection on the event loop itself, the
loop could never resume the requests holding them: past the pool's size, the server
would stall until the pool's timeout and answer 503.
"""

import asyncio
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from app import main
from app.db import SERVING_MAX_OVERFLOW, SERVING_POOL_SIZE, make_engine
from app.main import create_app
from app.settings import Settings
from tests.api.test_entry_index import ingest_corpus
from tests.conftest import Ingest

# More requests in flight than the pool has connections.
IN_FLIGHT = 3 * (SERVING_POOL_SIZE + SERVING_MAX_OVERFLOW)


async def _fetch_all(url: str, paths: list[str]) -> list[httpx.Response]:
    app = create_app(Settings(database_url=url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(client.get(path) for path in paths))


def test_requests_beyond_the_pool_size_all_succeed(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = ingest_corpus(engine, ingest, tmp_path / "logs")
    # A stalled loop would wait out the pool's timeout once per request beyond the pool
    # (30 s each): a short one makes such a failure quick (503s) instead of endless.
    monkeypatch.setattr(main, "make_engine", partial(make_engine, pool_timeout=1))
    paths = [
        "/entries?facets=host,tag,domain&limit=5",
        "/search?q=text&limit=5",
        "/entries?domain=genai&limit=5",
        "/search?q=item&type=post",
    ]
    wanted = [paths[number % len(paths)] for number in range(IN_FLIGHT)]
    responses = asyncio.run(_fetch_all(url, wanted))
    statuses = [response.status_code for response in responses]
    assert statuses == [200] * IN_FLIGHT, [r.text for r in responses if r.status_code != 200][:2]
    facets = responses[0].json()["facets"]
    assert facets["host"], "facets were counted, not skipped"
    assert facets["tag"]
    assert responses[1].json()["items"], "the search found entries"
