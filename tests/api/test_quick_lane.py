"""The quick lane of /entries answers exactly as the declared parameters do.

Every request goes twice to one app: once as it comes (the lane takes what it can read
plainly) and once with the lane told to step aside, so the framework reads the
parameters. Status, body and headers must be identical: for valid filters and every page
of them, for conditional requests, and for bad or unusual input, on both engines.
"""

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api.routes import entries as entries_route
from app.main import create_app
from app.settings import Settings
from tests.api.test_entry_index import filter_sets, ingest_corpus
from tests.conftest import Ingest

# Differs per request by design.
_UNCOMPARED = {"x-request-id"}


@pytest.fixture
def client(engine: Engine, ingest: Ingest, tmp_path: Path) -> Iterator[TestClient]:
    url = ingest_corpus(engine, ingest, tmp_path / "logs")
    with TestClient(create_app(Settings(database_url=url))) as test_client:
        yield test_client


class Lanes:
    """Fetches a URL both ways and records whether the quick lane answered."""

    def __init__(self, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = client
        self.monkeypatch = monkeypatch
        self.quick_answers = 0
        real_paging = entries_route.paging

        async def paging(*args: Any) -> Any:
            # Only the lane calls the module's `paging`; the framework calls its own copy.
            self.quick_answers += 1
            return await real_paging(*args)

        monkeypatch.setattr(entries_route, "paging", paging)

    def both(self, url: str, **headers: str) -> tuple[httpx.Response, httpx.Response]:
        quick = self.client.get(url, headers=headers)
        with self.monkeypatch.context() as patch:
            patch.setattr(entries_route, "read_query", lambda *args: None)
            usual = self.client.get(url, headers=headers)
        assert quick.status_code == usual.status_code, (url, quick.text, usual.text)
        assert quick.content == usual.content, url
        assert _headers(quick) == _headers(usual), url
        return quick, usual


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in _UNCOMPARED}


@pytest.fixture
def lanes(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Lanes:
    return Lanes(client, monkeypatch)


def test_every_page_of_every_filter_is_the_same_both_ways(lanes: Lanes) -> None:
    pages = 0
    for filters, sort, limit in itertools.product(filter_sets(), ["-date", "date"], [9]):
        if "include_drafts" in filters:
            continue  # drafts need the preview token, which the lane leaves to the framework
        query = httpx.QueryParams({**filters, "sort": sort, "limit": str(limit)})
        url: str | None = f"/entries?{query}"
        while url is not None:
            quick, _ = lanes.both(url)
            assert quick.status_code == 200, url
            pages += 1
            url = quick.json()["next"]
    assert pages > 40
    assert lanes.quick_answers == pages, "the lane answered every plain page"


def test_conditional_requests_are_the_same_both_ways(lanes: Lanes) -> None:
    url = "/entries?domain=genai&limit=3"
    first, _ = lanes.both(url)
    quick, _ = lanes.both(url, **{"If-None-Match": first.headers["etag"]})
    assert quick.status_code == 304
    assert lanes.both(url, **{"If-None-Match": 'W/"stale"'})[0].status_code == 200


# (query string, status): no case needs a database of its own, so one test walks them all.
UNUSUAL = [
    ("limit=0", 422),
    ("limit=201", 422),
    ("limit=ten", 422),
    ("limit=05", 200),
    ("limit=+5", 200),
    ("limit=5&limit=6", 422),
    ("sort=sideways", 422),
    ("sort=date&sort=-date", 422),
    ("from=2024-13-01", 422),
    ("from=2024-02-01&to=2024-01-01", 422),
    ("from=", 200),
    ("from=2023-01-10T08:00:00Z", 200),
    ("cursor=not-a-cursor", 422),
    ("cursor=" + "A" * 513, 422),
    ("include_drafts=TRUE", 401),
    ("include_drafts=yes", 401),
    ("include_drafts=false", 200),
    ("include_drafts=maybe", 422),
    ("count=true&limit=2", 200),
    ("count=perhaps", 422),
    ("tag=" + "&tag=".join(f"t{n}" for n in range(51)), 422),
    ("domain=%00", 422),
    ("domain=" + "d" * 201, 422),
    ("domain=&tag=", 200),
    ("q=model", 200),
    ("q=" + "a" * 201, 422),
    ("q=%22unclosed", 422),
    ("facets=host", 200),
    # Unknown parameters (names are case-sensitive) are refused, not ignored.
    ("unknown=1", 422),
    ("Domain=genai", 422),
]


def test_unusual_and_bad_input_is_the_same_both_ways(lanes: Lanes) -> None:
    for query, status in UNUSUAL:
        quick, _ = lanes.both(f"/entries?{query}")
        assert quick.status_code == status, (query, quick.text)


def test_a_cursor_of_another_query_is_refused_both_ways(lanes: Lanes) -> None:
    page, _ = lanes.both("/entries?domain=genai&limit=2")
    cursor = httpx.URL(page.json()["next"]).params["cursor"]
    quick, _ = lanes.both(f"/entries?domain=systems&limit=2&cursor={cursor}")
    assert quick.status_code == 422
    assert quick.json()["errors"][0]["param"] == "cursor"


def test_previews_and_drafts_take_the_framework_way(lanes: Lanes) -> None:
    """The lane answers neither a request with credentials nor one asking for drafts."""
    before = lanes.quick_answers
    assert lanes.both("/entries?include_drafts=true")[0].status_code == 401
    assert (
        lanes.both("/entries", Authorization="Bearer wrong-token-of-enough-length")[0].status_code
        == 403
    )
    assert lanes.quick_answers == before
