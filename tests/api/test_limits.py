"""Request limits: over-long or over-repeated input, over-large answers and slow queries."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api.limits import MAX_QUERY_BYTES
from app.main import create_app
from app.settings import Settings
from bench.generate import generate
from tests.conftest import Ingest


def _client(engine: Engine, **settings: int) -> TestClient:
    url = engine.url.render_as_string(hide_password=False)
    return TestClient(create_app(Settings(database_url=url, **settings)))  # type: ignore[arg-type]


@pytest.fixture
def corpus(ingest: Ingest, tmp_path: Path) -> None:
    """150 generated weekly posts: enough text that ranking a common word takes a while."""
    folder = tmp_path / "logs"
    generate(folder, posts=150, seed=11)
    ingest(folder)


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("q=" + "a" * 201, "q"),
        ("cursor=" + "A" * 513, "cursor"),
        ("&".join(f"tag=t{i}" for i in range(51)), "tag"),
        ("limit=201", "limit"),
    ],
)
def test_over_long_or_over_repeated_parameters_are_422_naming_them(
    seeded: TestClient, query: str, param: str
) -> None:
    response = seeded.get(f"/entries?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["param"] for error in response.json()["errors"]] == [param]


def test_an_over_long_query_string_is_414(seeded: TestClient) -> None:
    response = seeded.get("/entries?" + "&".join(["domain=" + "d" * 100] * 200))
    assert len(response.request.url.query) > MAX_QUERY_BYTES
    assert response.status_code == 414
    assert response.headers["content-type"].startswith("application/problem+json")
    assert f"at most {MAX_QUERY_BYTES}" in response.json()["detail"]


@pytest.fixture
def small_answers(engine: Engine, ingest: Ingest, seed_dir: Path) -> Iterator[TestClient]:
    """The seed post behind an API that sends at most 4 kB per answer."""
    ingest(seed_dir)
    with _client(engine, max_response_bytes=4000) as client:
        yield client


def test_an_answer_over_the_size_limit_is_refused_and_a_smaller_page_is_not(
    small_answers: TestClient,
) -> None:
    refused = small_answers.get("/entries?limit=50")
    assert refused.status_code == 422
    assert refused.json()["title"] == "Answer too large"
    assert "limit" in refused.json()["detail"]
    assert small_answers.get("/entries?limit=1").status_code == 200
    assert small_answers.get("/posts/2023-12-24-learning-logs").status_code == 422


def test_a_query_past_the_time_limit_is_cancelled_with_a_503(engine: Engine, corpus: None) -> None:
    path = "/search?q=model&limit=50"
    with _client(engine, query_timeout_ms=1) as hurried:
        response = hurried.get(path)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "5"
    assert response.json()["title"] == "Query took too long"
    assert "LEARNLOG_QUERY_TIMEOUT_MS" in response.json()["detail"]
    # The same request with the default limit is answered: the limit did the cancelling.
    with _client(engine) as patient:
        answered = patient.get(path)
        assert answered.status_code == 200
        assert answered.json()["items"]
        # A cancelled query leaves nothing behind on the pooled connections.
        assert patient.get("/entries?limit=5").status_code == 200
