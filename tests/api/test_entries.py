"""/entries and /entries/{id} through HTTP, on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.queries import entries as entries_queries
from tests.api.conftest import PREVIEW
from tests.conftest import Ingest


def test_genai_entries_of_the_seed(seeded: TestClient) -> None:
    response = seeded.get("/entries", params={"domain": "genai"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 6
    assert body["next"] is None
    items = body["items"]
    assert len(items) == 6
    top = [item for item in items if item["parent_id"] is None]
    nested = [item for item in items if item["parent_id"] is not None]
    assert (len(top), len(nested)) == (4, 2)
    apple = next(item for item in items if item["text"] == "Apple LLMs:")
    assert {item["parent_id"] for item in nested} == {apple["id"]}
    assert all(item["date"] == "2023-12-24" for item in items)
    assert all(item["domains"] == ["machine-learning", "genai"] for item in items)
    ferret = next(item for item in items if item["text"].startswith("Ferret"))
    assert ferret["links"] == [
        {
            "url": "https://arxiv.org/pdf/2310.07704.pdf",
            "text": "Ferret",
            "host": "arxiv.org",
            "link_kind": "paper",
        }
    ]
    assert ferret["post"] == {
        "slug": "2023-12-24-learning-logs",
        "title": "Learning Logs: 2023-12-24",
    }
    assert ferret["source"] == {
        "path": "2023-12-24-learning-logs.md",
        "line": 18,
        "edit_url": None,
    }
    assert ferret["section"] == "GenAI"
    assert ferret["entry_kind"] == "item"
    assert '<a href="https://arxiv.org/pdf/2310.07704.pdf"' in ferret["html"]


def test_combined_filters_find_the_thought(seeded: TestClient) -> None:
    response = seeded.get(
        "/entries",
        params={
            "domain": "machine-learning",
            "from": "2023-12-01",
            "to": "2023-12-31",
            "tag": "thought",
        },
    )
    items = response.json()["items"]
    assert [item["text"] for item in items] == [
        "[Thought] 2024 will be the year of smaller, more domain-focused LLMs?"
    ]
    assert items[0]["tags"] == ["thought"]


def test_unknown_domain_or_tag_is_an_empty_list(seeded: TestClient) -> None:
    for params in ({"domain": "astrology"}, {"tag": "nope"}):
        response = seeded.get("/entries", params=params)
        assert response.status_code == 200
        assert response.json() == {"items": [], "next": None, "total": 0}


def test_repeated_values_mean_any(seeded: TestClient) -> None:
    both = seeded.get("/entries", params=[("domain", "other-ml"), ("domain", "industry-business")])
    assert both.json()["total"] == 2
    hosts = seeded.get("/entries", params=[("host", "www.databricks.com"), ("link_kind", "paper")])
    assert hosts.json()["total"] == 0  # different parameters must all hold


def test_date_and_datetime_bounds_are_inclusive(seeded: TestClient) -> None:
    assert (
        seeded.get("/entries", params={"from": "2023-12-24", "to": "2023-12-24"}).json()["total"]
        == 9
    )
    assert seeded.get("/entries", params={"to": "2023-12-23"}).json()["total"] == 0
    moment = {"from": "2023-12-24T00:00:00Z", "to": "2023-12-24T00:00:00+00:00"}
    assert seeded.get("/entries", params=moment).json()["total"] == 9
    later = {"from": "2023-12-24T00:00:01Z"}
    assert seeded.get("/entries", params=later).json()["total"] == 0


def test_paging_visits_every_entry_once_even_when_posts_arrive(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    seen: list[int] = []
    response = seeded.get("/entries", params={"limit": 1})
    assert response.headers["Link"] == f'<{response.json()["next"]}>; rel="next"'
    pages = 0
    while True:
        body = response.json()
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        if pages == 3:  # a newer and an older post appear between two pages
            (seed_dir / "2024-02-01-newer.md").write_text("## GenAI\n* newer entry\n")
            (seed_dir / "2023-01-01-older.md").write_text("## GenAI\n* older entry\n")
            ingest(seed_dir)
        if body["next"] is None:
            break
        response = seeded.get(body["next"])
        assert response.status_code == 200
    assert len(seen) == len(set(seen))
    all_ids = {item["id"] for item in seeded.get("/entries", params={"limit": 200}).json()["items"]}
    newer = seeded.get("/entries", params={"post": "2024-02-01-newer"}).json()["items"][0]["id"]
    assert set(seen) == all_ids - {newer}  # the older one sorts after the cursor: visited


def test_sort_oldest_first(seeded: TestClient, ingest: Ingest, seed_dir: Path) -> None:
    (seed_dir / "2024-02-01-newer.md").write_text("## GenAI\n* newer entry\n")
    ingest(seed_dir)
    newest = seeded.get("/entries", params={"limit": 1}).json()["items"][0]
    oldest = seeded.get("/entries", params={"limit": 1, "sort": "date"}).json()["items"][0]
    assert newest["text"] == "newer entry"
    assert oldest["date"] == "2023-12-24"


def test_one_entry_by_id(seeded: TestClient) -> None:
    listed = seeded.get("/entries", params={"tag": "thought"}).json()["items"][0]
    response = seeded.get(f"/entries/{listed['id']}")
    assert response.status_code == 200
    assert response.json() == listed


def test_drafts_only_on_request(seeded: TestClient, ingest: Ingest, seed_dir: Path) -> None:
    (seed_dir / "_drafts").mkdir()
    (seed_dir / "_drafts" / "idea.md").write_text("## GenAI\n* a draft idea\n")
    ingest(seed_dir)
    assert seeded.get("/entries", params={"q": "draft idea"}).json()["total"] == 0
    drafts = {"q": "draft idea", "include_drafts": "true"}
    assert seeded.get("/entries", params=drafts).status_code == 401
    shown = seeded.get("/entries", params=drafts, headers=PREVIEW)
    assert shown.json()["total"] == 1


def test_q_is_a_case_insensitive_substring(seeded: TestClient) -> None:
    assert seeded.get("/entries", params={"q": "MIXTRAL"}).json()["total"] == 2
    assert seeded.get("/entries", params={"q": "100%_"}).json()["total"] == 0


def test_total_is_null_past_the_count_cap(
    seeded: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entries_queries, "COUNT_CAP", 5)
    counted = {"domain": "genai", "count": "true"}
    assert seeded.get("/entries", params=counted).json()["total"] is None
    assert (
        seeded.get("/entries", params={"domain": "other-ml", "count": "true"}).json()["total"] == 1
    )


def test_total_without_count_only_when_one_page_holds_everything(seeded: TestClient) -> None:
    assert seeded.get("/entries", params={"limit": 20}).json()["total"] == 9
    first = seeded.get("/entries", params={"limit": 4}).json()
    assert first["total"] is None
    assert seeded.get("/entries", params={"limit": 4, "count": "true"}).json()["total"] == 9
