"""The edge layer: what every answer carries, once, whichever way it was answered.

The quick lane of /entries answers before routing; the framework answers the rest. Both
kinds of answer, and the edge's own (414, preflights), carry one request id, the
security headers and `Vary: Origin`; compression, HEAD, CORS and the size limit apply to
both alike.
"""

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from app.main import create_app
from app.settings import Settings
from tests.conftest import Ingest

# One of each way an answer is made: the quick lane (200, 304), the framework (200, 404,
# 422 from a dependency), the edge itself (414).
ANSWERS = [
    ("/entries?domain=genai", 200),
    ("/entries?limit=0", 422),
    ("/posts/2023-12-24-learning-logs", 200),
    ("/entries/999999", 404),
    ("/posts", 200),
    ("/nowhere", 404),
    ("/entries?q=" + "x" * 17_000, 414),
]


def _all(response: httpx.Response, name: str) -> list[str]:
    return response.headers.get_list(name)


@pytest.mark.parametrize(("url", "status"), ANSWERS)
def test_every_answer_carries_the_edge_headers_once(
    seeded: TestClient, url: str, status: int
) -> None:
    response = seeded.get(url)
    assert response.status_code == status
    for name in ("x-request-id", "x-content-type-options", "content-security-policy"):
        assert len(_all(response, name)) == 1, (url, name)
    assert response.headers["referrer-policy"] == "no-referrer"
    assert len(_all(response, "vary")) == 1
    assert "Origin" in response.headers["vary"]


def test_quick_lane_answers_match_the_framework_shape(seeded: TestClient) -> None:
    page = seeded.get(
        "/entries",
        params={"domain": "genai"},
        headers={"X-Request-ID": "abc-1", "Accept-Encoding": "identity"},
    )
    assert page.headers["x-request-id"] == "abc-1"
    assert page.headers["content-type"] == "application/json"
    assert int(page.headers["content-length"]) == len(page.content)
    assert page.headers["vary"] == "Authorization, Accept-Encoding, Origin"
    assert page.json()["items"]


def test_compression_of_quick_lane_answers(seeded: TestClient) -> None:
    plain = seeded.get("/entries", headers={"Accept-Encoding": "identity"})
    packed = seeded.get("/entries", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content
    assert int(packed.headers["content-length"]) < len(plain.content)
    small = seeded.get("/entries?limit=1&domain=nothing", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


def test_head_on_the_quick_lane(seeded: TestClient) -> None:
    got = seeded.get("/entries", headers={"Accept-Encoding": "identity"})
    head = seeded.head("/entries", headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["etag"] == got.headers["etag"]


def test_cors_for_lanes_framework_and_preflights(seeded: TestClient) -> None:
    origin = {"Origin": "https://reader.example"}
    for url in ("/entries", "/posts", "/nowhere"):
        response = seeded.get(url, headers=origin)
        assert response.headers["access-control-allow-origin"] == "*", url
        assert "ETag" in response.headers["access-control-expose-headers"]
    preflight = seeded.options(
        "/entries",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match, Authorization",
        },
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["x-content-type-options"] == "nosniff"
    # No page of another origin may call the admin endpoints.
    admin = seeded.options(
        "/admin/runs", headers={**origin, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in admin.headers
    assert "Origin" not in admin.headers.get("vary", "")


def test_metrics_count_quick_lane_answers_under_their_route(seeded: TestClient) -> None:
    etag = seeded.get("/entries").headers["etag"]
    seeded.get("/entries", headers={"If-None-Match": etag})
    seeded.head("/entries")
    seeded.get("/entries?limit=0")
    text = seeded.get("/metrics").text
    counts = {
        (sample.labels["route"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "learnlog_http_requests_total"
    }
    assert counts[("/entries", "200")] == 2
    assert counts[("/entries", "304")] == 1
    assert counts[("/entries", "422")] == 1


def test_the_size_limit_holds_for_quick_lane_answers(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    ingest(seed_dir)
    url = engine.url.render_as_string(hide_password=False)
    with TestClient(create_app(Settings(database_url=url, max_response_bytes=2000))) as client:
        large = client.get("/entries", params={"limit": 50}, headers={"Accept-Encoding": "gzip"})
        assert large.status_code == 422
        assert large.json()["title"] == "Answer too large"
        assert client.get("/entries", params={"limit": 1}).status_code == 200
