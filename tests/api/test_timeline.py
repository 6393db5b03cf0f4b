"""/timeline through HTTP, on SQLite and PostgreSQL."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Ingest


@pytest.fixture
def logged(seeded: TestClient, ingest: Ingest, seed_dir: Path) -> TestClient:
    """The seed (Sunday 2023-12-24: 9 entries, 6 links) and a few small posts around it."""
    # Wednesday of the seed's ISO week.
    (seed_dir / "2023-12-20-midweek.md").write_text(
        "## Other\n* two links [x](https://example.com/x) [y](https://example.com/y)\n"
    )
    # Monday: the next ISO week.
    (seed_dir / "2023-12-25-monday.md").write_text(
        "## GenAI\n* a [paper](https://arxiv.org/abs/2401.00001)\n* b\n"
    )
    (seed_dir / "2024-02-03-later.md").write_text("## GenAI\n* later, no links\n")
    (seed_dir / "notes.md").write_text("## GenAI\n* undated [z](https://example.com/z)\n")
    ingest(seed_dir)
    return seeded


def buckets(client: TestClient, **params: Any) -> list[tuple[str, int, int]]:
    """[(period_start, entries, links), ...] of a /timeline answer."""
    response = client.get("/timeline", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["interval"] == params.get("interval", "month")
    return [(b["period_start"], b["entries"], b["links"]) for b in body["buckets"]]


def test_days(logged: TestClient) -> None:
    assert buckets(logged, interval="day") == [
        ("2023-12-20", 1, 2),
        ("2023-12-24", 9, 6),
        ("2023-12-25", 2, 1),
        ("2024-02-03", 1, 0),
    ]


def test_iso_weeks_start_on_monday(logged: TestClient) -> None:
    assert buckets(logged, interval="week") == [
        ("2023-12-18", 10, 8),
        ("2023-12-25", 2, 1),
        ("2024-01-29", 1, 0),
    ]


def test_months_by_default(logged: TestClient) -> None:
    assert buckets(logged) == [("2023-12-01", 12, 9), ("2024-02-01", 1, 0)]


def test_years(logged: TestClient) -> None:
    assert buckets(logged, interval="year") == [("2023-01-01", 12, 9), ("2024-01-01", 1, 0)]


def test_undated_entries_are_left_out(logged: TestClient) -> None:
    everything = logged.get("/entries", params={"count": "true"}).json()["total"]
    assert everything == 14
    assert sum(entries for _, entries, _ in buckets(logged, interval="year")) == 13


def test_filters_apply(logged: TestClient) -> None:
    assert buckets(logged, interval="year", domain="genai") == [
        ("2023-01-01", 8, 5),
        ("2024-01-01", 1, 0),
    ]
    assert buckets(logged, interval="day", **{"from": "2023-12-24", "to": "2023-12-25"}) == [
        ("2023-12-24", 9, 6),
        ("2023-12-25", 2, 1),
    ]
    assert buckets(logged, interval="month", host="arxiv.org") == [("2023-12-01", 3, 3)]
    assert buckets(logged, interval="year", q="mixtral") == [("2023-01-01", 2, 2)]


def test_a_week_across_new_year_is_one_bucket(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    (seed_dir / "2024-12-31-tuesday.md").write_text("## GenAI\n* old year\n")
    (seed_dir / "2025-01-02-thursday.md").write_text("## GenAI\n* new year\n")
    ingest(seed_dir)
    assert buckets(seeded, interval="week", **{"from": "2024-06-01"}) == [("2024-12-30", 2, 0)]
    assert buckets(seeded, interval="year", **{"from": "2024-06-01"}) == [
        ("2024-01-01", 1, 0),
        ("2025-01-01", 1, 0),
    ]


def test_no_match_is_no_buckets(seeded: TestClient) -> None:
    assert buckets(seeded, domain="astrology") == []
    assert buckets(seeded, interval="week", tag="nope") == []


def test_empty_database_is_no_buckets(client: TestClient) -> None:
    assert buckets(client, interval="day") == []


def test_bad_interval_is_a_422_naming_it(seeded: TestClient) -> None:
    response = seeded.get("/timeline", params={"interval": "fortnight"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["param"] for error in response.json()["errors"]] == ["interval"]
    bad_filter = seeded.get("/timeline", params={"from": "yesterday"})
    assert bad_filter.status_code == 422
    assert [error["param"] for error in bad_filter.json()["errors"]] == ["from"]


def test_revalidation_answers_304(seeded: TestClient) -> None:
    first = seeded.get("/timeline", params={"interval": "week"})
    again = seeded.get(
        "/timeline", params={"interval": "week"}, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    other = seeded.get(
        "/timeline", params={"interval": "day"}, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert other.status_code == 200


def test_openapi_describes_the_timeline(seeded: TestClient) -> None:
    operation = seeded.get("/openapi.json").json()["paths"]["/timeline"]["get"]
    assert operation["operationId"] == "getTimeline"
    assert "undated" in operation["description"].lower()
    names = {p["name"] for p in operation["parameters"]}
    assert {"interval", "domain", "tag", "from", "to", "host"} <= names
    assert "422" in operation["responses"]
