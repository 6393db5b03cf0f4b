"""Drafts are private: every GET operation of the OpenAPI document, over a corpus with drafts.

Without a token, `include_drafts=true` is a 401 wherever it is declared, a draft's slug or
entry id is a 404, and no answer (lists, search, feeds, facets, aggregates, `/changes`)
holds anything only a draft or a scheduled post has. With the preview token drafts
appear, and every answer is `Cache-Control: private, no-store` with an ETag of its own.
"""

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from app.main import create_app
from tests.api.conftest import PREVIEW, PREVIEW_TOKEN
from tests.conftest import Ingest

# Words, slugs, hosts, tags, categories and domains only the draft and the scheduled post
# carry: none of them may appear in an answer to a request without the token.
DRAFT = """---
title: Secret draft idea
tags: [draftonlytag]
categories: draftcat
---
## Draftdomain

* the zqxdraftword plan, see [notes](https://draft-only.example/plan)
"""
SCHEDULED = """---
title: Future plans
date: {date}
tags: [futureonlytag]
---
## Futuredomain

* the zqxfutureword launch, see [site](https://future-only.example/launch)
"""
MARKERS = [
    "zqxdraftword",
    "secret-draft-idea",
    "Secret draft idea",
    "draft-only.example",
    "draftonlytag",
    "draftcat",
    "draftdomain",
    "zqxfutureword",
    "future-plans",
    "futureonlytag",
    "future-only.example",
    "futuredomain",
]
PUBLIC_SLUG = "2023-12-24-learning-logs"


@pytest.fixture
def drafts(client: TestClient, ingest: Ingest, seed_dir: Path) -> TestClient:
    """The client over the seed post, a draft and a post scheduled for next year."""
    (seed_dir / "_drafts").mkdir()
    (seed_dir / "_drafts" / "secret-draft-idea.md").write_text(DRAFT)
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
    (seed_dir / "future-plans.md").write_text(SCHEDULED.format(date=ahead.date().isoformat()))
    summary = ingest(seed_dir)
    assert summary.failures == []
    return client


def _leaks(response: Response) -> list[str]:
    """The draft markers an answer holds (case-insensitive), but for the words it was asked
    to search (a feed's title repeats them); the draft's slug and host still show a hit."""
    text = response.text.lower()
    for word in response.request.url.params.get_list("q"):
        text = text.replace(word.lower(), "")
    return [marker for marker in MARKERS if marker.lower() in text]


def _draft_entry_id(client: TestClient) -> int:
    found = client.get(
        "/entries", params={"q": "zqxdraftword", "include_drafts": "true"}, headers=PREVIEW
    )
    assert found.status_code == 200, found.text
    entry_id: int = found.json()["items"][0]["id"]
    return entry_id


def _public_entry_id(client: TestClient) -> int:
    entry_id: int = client.get("/entries", params={"limit": 1}).json()["items"][0]["id"]
    return entry_id


def _get_operations(client: TestClient) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every GET operation of the app's OpenAPI document but the admin's."""
    for path, methods in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if "get" in methods and not path.startswith("/admin"):
            yield path, methods["get"]


def _query_names(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def _urls(path: str, operation: dict[str, Any], ids: dict[str, Any]) -> Iterator[str]:
    """Requests for one operation: its path filled in, with and without a search word."""
    url = re.sub(r"\{(\w+)\}", lambda found: str(ids[found.group(1)]), path)
    names = _query_names(operation)
    if "q" in names:
        yield f"{url}?q=zqxdraftword"
        yield f"{url}?q=zqxfutureword"
        if "type" in names:
            yield f"{url}?q=zqxdraftword&type=post"
    required = [p for p in operation.get("parameters", []) if p["in"] == "query" and p["required"]]
    if not required:
        yield url


def test_every_operation_declaring_include_drafts_refuses_it_without_the_token(
    drafts: TestClient,
) -> None:
    ids = {"slug": PUBLIC_SLUG, "entry_id": _public_entry_id(drafts)}
    asked = 0
    for path, operation in _get_operations(drafts):
        if "include_drafts" not in _query_names(operation):
            continue
        for url in _urls(path, operation, ids):
            joiner = "&" if "?" in url else "?"
            refused = drafts.get(f"{url}{joiner}include_drafts=true")
            assert refused.status_code == 401, (url, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.headers["www-authenticate"].startswith("Bearer")
            wrong = drafts.get(
                f"{url}{joiner}include_drafts=true",
                headers={"Authorization": "Bearer not-the-preview-token"},
            )
            assert wrong.status_code == 403, (url, wrong.text)
            assert "not-the-preview-token" not in wrong.text
            asked += 1
    # Lists, search, the four feeds and the aggregates.
    assert asked >= 15


def test_no_answer_without_the_token_holds_a_draft(drafts: TestClient) -> None:
    public = {"slug": PUBLIC_SLUG, "entry_id": _public_entry_id(drafts)}
    hidden = {"slug": "secret-draft-idea", "entry_id": _draft_entry_id(drafts)}
    walked = 0
    for path, operation in _get_operations(drafts):
        for url in _urls(path, operation, public):
            answer = drafts.get(url)
            assert answer.status_code == 200, (url, answer.text)
            assert _leaks(answer) == [], (url, _leaks(answer))
            walked += 1
        if "{" in path:
            for slug in ("secret-draft-idea", "future-plans"):
                for url in _urls(path, operation, {**hidden, "slug": slug}):
                    gone = drafts.get(url)
                    assert gone.status_code == 404, (url, gone.text)
                    # As for any unknown slug: it names what was asked, nothing more.
                    assert gone.json()["title"] == "Not found"
                    echoed = gone.text.replace(slug, "").replace(str(hidden["entry_id"]), "")
                    assert [m for m in MARKERS if m.lower() in echoed.lower()] == [], url
    assert walked >= 25
    # The change feed lists no draft, and the counts leave them out.
    assert _leaks(drafts.get("/changes", params={"since": 0})) == []
    assert drafts.get("/posts").json()["total"] == 1


def test_the_preview_token_shows_drafts_in_private_answers(drafts: TestClient) -> None:
    listed = drafts.get("/entries", params={"include_drafts": "true"}, headers=PREVIEW)
    assert listed.status_code == 200
    assert "zqxdraftword" in listed.text
    assert "zqxfutureword" in listed.text
    assert listed.headers["cache-control"] == "private, no-store"
    draft = drafts.get("/posts/secret-draft-idea", headers=PREVIEW)
    assert draft.status_code == 200
    assert draft.json()["is_draft"] is True
    assert draft.headers["cache-control"] == "private, no-store"
    assert '"slug":"secret-draft-idea"' in drafts.get("/changes", headers=PREVIEW).text
    # Same URL, another audience: another ETag, and the public answer stays shareable.
    public, preview = drafts.get("/posts"), drafts.get("/posts", headers=PREVIEW)
    assert public.headers["etag"] != preview.headers["etag"]
    assert public.headers["cache-control"].startswith("public")
    assert "Authorization" in public.headers["vary"]
    # A preview is never answered 304 from a shared ETag.
    again = drafts.get("/posts", headers={**PREVIEW, "If-None-Match": public.headers["etag"]})
    assert again.status_code == 200


def test_the_admin_token_previews_too(engine: Any, ingest: Ingest, seed_dir: Path) -> None:
    from app.settings import Settings

    (seed_dir / "_drafts").mkdir()
    (seed_dir / "_drafts" / "secret-draft-idea.md").write_text(DRAFT)
    ingest(seed_dir)
    admin = "admin-token-for-previews"
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, admin_token=admin, preview_token=PREVIEW_TOKEN)
    with TestClient(create_app(settings)) as client:
        answer = client.get(
            "/posts/secret-draft-idea", headers={"Authorization": f"Bearer {admin}"}
        )
        assert answer.status_code == 200
        # A proxy's own credentials are not a preview, and not an error either.
        basic = client.get("/posts", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert basic.status_code == 200
        assert _leaks(basic) == []
