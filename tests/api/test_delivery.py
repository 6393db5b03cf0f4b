"""ETags, 304, caching headers, gzip, CORS and the other resources."""

from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from tests.conftest import Ingest


def test_etag_revalidation_and_change(seeded: TestClient, ingest: Ingest, seed_dir: Path) -> None:
    first = seeded.get("/entries", params={"domain": "genai"})
    etag = first.headers["ETag"]
    assert "must-revalidate" in first.headers["Cache-Control"]
    again = seeded.get("/entries", params={"domain": "genai"}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = seeded.get("/entries", params={"domain": "other-ml"})
    assert other.headers["ETag"] != etag
    (seed_dir / "2024-02-01-new.md").write_text("## GenAI\n* new\n")
    ingest(seed_dir)
    after = seeded.get("/entries", params={"domain": "genai"}, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag


def test_gzip_and_cors(seeded: TestClient) -> None:
    response = seeded.get(
        "/entries", headers={"Accept-Encoding": "gzip", "Origin": "https://reader.example"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]


def test_post_with_its_tree(seeded: TestClient) -> None:
    body = seeded.get("/posts/2023-12-24-learning-logs").json()
    assert body["title"] == "Learning Logs: 2023-12-24"
    assert body["front_matter"]["layout"] == "post"
    assert "<h2>Machine Learning</h2>" in body["html"]
    headings = [(s["heading"], [c["heading"] for c in s["sections"]]) for s in body["sections"]]
    assert headings == [
        ("", []),
        ("Machine Learning", ["GenAI"]),
        ("Other ML", []),
        ("Industry / Business", []),
    ]
    genai = body["sections"][1]["sections"][0]
    assert len(genai["entries"]) == 6
    assert body["entry_count"] == 9


def test_posts_list_and_filters(seeded: TestClient) -> None:
    listed = seeded.get("/posts").json()
    assert [post["slug"] for post in listed["items"]] == ["2023-12-24-learning-logs"]
    assert listed["items"][0]["categories"] == ["learning"]
    assert seeded.get("/posts", params={"domain": "genai"}).json()["total"] == 1
    assert seeded.get("/posts", params={"domain": "astrology"}).json()["total"] == 0


def test_domains_tree(seeded: TestClient) -> None:
    items = seeded.get("/domains").json()["items"]
    by_slug = {item["slug"]: item for item in items}
    assert set(by_slug) == {"machine-learning", "other-ml", "industry-business"}
    ml = by_slug["machine-learning"]
    assert ml["entry_count"] == 6
    assert [child["slug"] for child in ml["children"]] == ["genai"]
    assert ml["children"][0]["first_date"] == ml["children"][0]["last_date"] == "2023-12-24"


def test_tags_categories_hosts_links(seeded: TestClient) -> None:
    assert seeded.get("/tags").json()["items"] == [
        {"name": "thought", "count": 1, "label": "thought"}
    ]
    assert seeded.get("/categories").json()["items"] == [
        {"name": "learning", "count": 1, "label": "learning"}
    ]
    hosts = {item["name"]: item["count"] for item in seeded.get("/hosts").json()["items"]}
    assert hosts["arxiv.org"] == 2
    links = seeded.get("/links", params={"link_kind": "paper"}).json()
    assert links["total"] == 3
    assert all(link["post"]["slug"] == "2023-12-24-learning-logs" for link in links["items"])
    paged = seeded.get("/links", params={"limit": 4})
    assert len(paged.json()["items"]) == 4
    rest = seeded.get(paged.json()["next"]).json()
    assert len(rest["items"]) == 2


def _counts(answer: httpx.Response) -> dict[str, int]:
    assert answer.status_code == 200, answer.text
    return {item["name"]: item["count"] for item in answer.json()["items"]}


def test_vocabularies_follow_each_ingest(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    # Each answer is kept for the content version it was computed at: ask, change, ask.
    before = _counts(seeded.get("/tags", params={"domain": "genai"}))
    assert "zebra.example" not in _counts(seeded.get("/hosts"))
    domains = {item["slug"] for item in seeded.get("/domains").json()["items"]}
    (seed_dir / "2024-02-02-new.md").write_text(
        "## Zoology\n* [Question] a [zebra](https://zebra.example/z) in [GenAI]\n"
        "## GenAI\n* [Thought] another\n"
    )
    ingest(seed_dir)
    tags = _counts(seeded.get("/tags", params={"domain": "genai"}))
    assert tags == {**before, "thought": before.get("thought", 0) + 1}
    assert _counts(seeded.get("/hosts"))["zebra.example"] == 1
    after = {item["slug"] for item in seeded.get("/domains").json()["items"]}
    assert after == domains | {"zoology"}


def test_health_and_readiness(seeded: TestClient) -> None:
    assert seeded.get("/healthz").json()["status"] == "ok"
    ready = seeded.get("/readyz").json()
    assert ready["status"] == "ok"
    assert ready["content_version"] >= 1


def test_openapi_is_typed_and_docs_are_offline(seeded: TestClient) -> None:
    spec = seeded.get("/openapi.json").json()
    operations = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {
        "listEntries",
        "getEntry",
        "listPosts",
        "getPost",
        "listDomains",
        "listTags",
    } <= operations
    entries = spec["paths"]["/entries"]["get"]
    assert all(param.get("description") for param in entries["parameters"])
    docs = seeded.get("/docs").text
    assert "cdn" not in docs.lower()
    assert seeded.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
