"""Every error path answers problem+json with the same shape, never a 500."""

import pytest
from fastapi.testclient import TestClient

BAD_REQUESTS = [
    ("/entries?from=2024-13-01", 422, "from"),
    ("/entries?limit=1000", 422, "limit"),
    ("/entries?limit=0", 422, "limit"),
    ("/entries?limit=ten", 422, "limit"),
    ("/entries?sort=sideways", 422, "sort"),
    ("/entries?from=2024-02-01&to=2024-01-01", 422, "from"),
    ("/entries?cursor=abc", 422, "cursor"),
    ("/entries?include_drafts=maybe", 422, "include_drafts"),
    ("/posts?to=yesterday", 422, "to"),
    ("/links?cursor=%00%01", 422, "cursor"),
    ("/entries?count=perhaps", 422, "count"),
    ("/entries?facets=colour", 422, "facets"),
    ("/entries/1/related?limit=0", 422, "limit"),
    ("/search", 422, "q"),
    ("/search?q=llm&type=video", 422, "type"),
    ("/feeds/entries.atom?limit=-1", 422, "limit"),
    ("/feeds/posts.json?from=soon", 422, "from"),
    ("/domains?include_drafts=2", 422, "include_drafts"),
    ("/tags?to=2024-02-30", 422, "to"),
    ("/links?status=rotten", 422, "status"),
    ("/urls?sort=random", 422, "sort"),
    ("/timeline?interval=decade", 422, "interval"),
    ("/changes?since=ten", 422, "since"),
    ("/entries/1", 404, None),
    ("/entries/not-a-number", 422, "entry_id"),
    ("/posts/no-such-post", 404, None),
    ("/nowhere", 404, None),
]


@pytest.mark.parametrize(("url", "status", "param"), BAD_REQUESTS)
def test_problem_json(seeded: TestClient, url: str, status: int, param: str | None) -> None:
    response = seeded.get(url)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    if param is not None:
        assert param in [error["param"] for error in body["errors"]]


def test_tampered_cursor_is_refused(seeded: TestClient) -> None:
    token = seeded.get("/entries", params={"limit": 1}).json()["next"].split("cursor=")[1]
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    response = seeded.get("/entries", params={"limit": 1, "cursor": flipped})
    assert response.status_code == 422
    other_query = seeded.get("/entries", params={"limit": 2, "cursor": token})
    assert other_query.status_code == 422
    assert "different query" in other_query.json()["detail"]
