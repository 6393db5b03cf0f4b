"""Revalidation: a current copy gets 304, and only a request that would get a 200 does.

A request with a bad parameter, without the credentials it needs or for something that
does not exist gets its 4xx even when it names a current ETag or `*`; previews are never
revalidated. Both the quick lane of /entries and the framework's routes.
"""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import PREVIEW
from tests.conftest import Ingest

ANY = {"If-None-Match": "*"}


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        ("/entries?limit=0", ANY, 422),
        ("/entries?sort=sideways", ANY, 422),
        ("/entries?from=2024-13-01", ANY, 422),
        ("/entries?cursor=not-a-cursor", ANY, 422),
        ("/entries?tgas=genai", ANY, 422),
        ("/entries?limit=5&limit=6", ANY, 422),
        ("/entries?include_drafts=true", ANY, 401),
        ("/entries", {**ANY, "Authorization": "Bearer not-the-preview-token-at-all"}, 403),
        ("/entries/999999", ANY, 404),
        ("/entries/0", ANY, 422),
        ("/posts?limit=0", ANY, 422),
        ("/posts/no-such-post", ANY, 404),
        ("/tags?limit=0", ANY, 422),
    ],
)
def test_a_bad_request_gets_its_error_not_a_304(
    seeded: TestClient, url: str, headers: dict[str, str], status: int
) -> None:
    response = seeded.get(url, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "etag" not in response.headers


def test_a_bad_request_naming_a_current_etag_gets_its_error(seeded: TestClient) -> None:
    good = seeded.get("/entries", params={"domain": "genai"})
    etag = good.headers["etag"]
    # The same ETag sent with an extra, unknown parameter: a 422, not "your copy is fine".
    bad = seeded.get(
        "/entries", params={"domain": "genai", "limits": "3"}, headers={"If-None-Match": etag}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["param"] == "limits"


@pytest.mark.parametrize(
    "url", ["/entries?domain=genai", "/entries?count=true", "/posts", "/tags", "/domains"]
)
def test_a_current_copy_gets_a_bare_304(seeded: TestClient, url: str) -> None:
    first = seeded.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    for given in (etag, f'W/"other", {etag}', "*"):
        again = seeded.get(url, headers={"If-None-Match": given})
        assert again.status_code == 304, (url, given)
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == first.headers["cache-control"]
        assert "content-type" not in again.headers
        assert again.headers["x-content-type-options"] == "nosniff"
    stale = seeded.get(url, headers={"If-None-Match": 'W/"stale"'})
    assert stale.status_code == 200
    assert stale.content == first.content


def test_head_revalidates_like_get(seeded: TestClient) -> None:
    etag = seeded.get("/entries").headers["etag"]
    head = seeded.head("/entries", headers={"If-None-Match": etag})
    assert head.status_code == 304
    assert head.content == b""


def test_previews_are_never_revalidated(seeded: TestClient) -> None:
    first = seeded.get("/entries", headers=PREVIEW)
    assert first.headers["cache-control"] == "private, no-store"
    for given in (first.headers["etag"], "*"):
        again = seeded.get("/entries", headers={**PREVIEW, "If-None-Match": given})
        assert again.status_code == 200
        assert again.content == first.content


def test_a_304_to_another_origin_keeps_its_cors_headers(seeded: TestClient) -> None:
    origin = {"Origin": "https://reader.example"}
    for url in ("/entries", "/tags"):
        etag = seeded.get(url, headers=origin).headers["etag"]
        again = seeded.get(url, headers={**origin, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.headers["access-control-allow-origin"] == "*"
        assert "Origin" in again.headers["vary"]


def test_an_ingest_makes_every_copy_stale(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    urls = ["/entries", "/entries?domain=genai", "/posts"]
    etags = {url: seeded.get(url).headers["etag"] for url in urls}
    (seed_dir / "2024-02-01-new.md").write_text("## GenAI\n* new\n")
    ingest(seed_dir)
    for url, etag in etags.items():
        after = seeded.get(url, headers={"If-None-Match": etag})
        assert after.status_code == 200, url
        assert after.headers["etag"] != etag
        assert seeded.get(url, headers={"If-None-Match": after.headers["etag"]}).status_code == 304
