"""The quick lane of /search answers exactly as the declared parameters do.

Each URL goes twice to one app that has the lane: once as it comes, once with the lane
told to step aside. Status, body and headers must be identical, whichever way answered.
"""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import Request, Response
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api.routes import search as search_route
from app.asgi.edge import Edge
from app.main import create_app
from app.settings import Settings
from tests.api.test_search import _write_kernel_corpus
from tests.conftest import Ingest

_UNCOMPARED = {"x-request-id"}


class Lanes:
    """A client whose app has the lane; fetches a URL both ways, counts the lane's answers."""

    client: TestClient
    sqlite: bool

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.quick_answers = 0

    async def lane(self, request: Request) -> Response | None:
        answer = await search_route.quick_search(request)
        self.quick_answers += answer is not None
        return answer

    def both(self, url: str, **headers: str) -> httpx.Response:
        quick = self.client.get(url, headers=headers)
        with self.monkeypatch.context() as patch:
            patch.setattr(search_route, "read_query", lambda *args: None)
            usual = self.client.get(url, headers=headers)
        assert quick.status_code == usual.status_code, (url, quick.text, usual.text)
        assert quick.content == usual.content, url
        assert _headers(quick) == _headers(usual), url
        return quick


@pytest.fixture
def lanes(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Lanes]:
    _write_kernel_corpus(tmp_path)
    ingest(tmp_path)
    app = create_app(Settings(database_url=engine.url.render_as_string(hide_password=False)))
    found = Lanes(monkeypatch)
    found.sqlite = engine.dialect.name == "sqlite"
    for layer in app.user_middleware:  # before the app builds its stack
        if layer.cls is Edge:
            layer.kwargs["lanes"]["/search"] = found.lane
    with TestClient(app) as found.client:
        yield found


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in _UNCOMPARED}


def test_the_lane_answers_as_the_framework_does(lanes: Lanes) -> None:
    urls = [
        "/search?q=kernel",
        "/search?q=kernel&limit=50",
        "/search?q=note+cache&limit=7&domain=systems-4",
        "/search?q=cache+-memory&limit=30",
        "/search?q=Kernels&from=2024-01-03&to=2024-01-06",
        "/search?q=kernel&tag=nothing",
        "/search?q=zebra",
    ]
    for url in urls:
        lanes.both(url)
    # Every page of one query, following `next`.
    url: str | None = "/search?q=kernel&limit=40"
    pages = 0
    while url:
        body = lanes.both(url).json()
        url = body["next"]
        pages += 1
    assert pages > 3
    if lanes.sqlite:
        assert lanes.quick_answers >= len(urls)
    else:  # the search index reads FTS5's postings: on PostgreSQL the framework answers
        assert lanes.quick_answers == 0


def test_the_lane_steps_aside_for_what_it_does_not_read(lanes: Lanes) -> None:
    for url in [
        "/search?q=kern*",  # a prefix: SQL's
        '/search?q="kernel note"',  # a phrase: SQL's
        "/search?q=kernel&type=post",
        "/search?q=kernel&from=2024-01-01T00:00:00Z",
        "/search?q=kernel&limit=0",  # 422 from the framework
        "/search?q=NEAR(",  # 422
        "/search?q=kernel&q=note",  # 422: given twice
        "/search?q=kernel&unknown=1",  # 422
        "/search?q=kernel&cursor=forged",  # 422
        "/search?q=kernel&include_drafts=true",  # 401 without the preview token
    ]:
        lanes.both(url)
    assert lanes.quick_answers == 0


def test_a_current_etag_gets_a_304_either_way(lanes: Lanes) -> None:
    first = lanes.both("/search?q=kernel")
    etag = first.headers["etag"]
    again = lanes.both("/search?q=kernel", **{"If-None-Match": etag})
    assert again.status_code == 304
    bad = lanes.both("/search?q=kernel&limit=0", **{"If-None-Match": etag})
    assert bad.status_code == 422
