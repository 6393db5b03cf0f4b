"""The in-memory entry index and stored entry documents answer /entries exactly as SQL does.

Every page of many filter combinations (both sort orders, every cursor along the way) is
fetched twice: once through the index, once with the index switched off, and the JSON
compared byte for byte, on both engines.
"""

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api.routes import entries as entries_route
from app.api.routes import search as search_route
from app.main import create_app
from app.queries.entry_index import IndexHolder
from app.settings import Settings
from tests.api.conftest import PREVIEW_TOKEN, preview_for
from tests.conftest import SEED, Ingest

HOSTS = ["arxiv.org", "github.com", "example.com", "huggingface.co"]
TAGS = ["thought", "question", "idea"]
DOMAINS = ["GenAI", "Systems", "Databases", "LLMs"]


def write_corpus(folder: Path, posts: int = 40) -> None:
    """Posts sharing dates, undated posts, drafts, post tags, nested items and aliases."""
    rng = random.Random(7)
    (folder / "domains.yml").write_text("genai: [LLMs]\n")
    for number in range(posts):
        day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(60))
        name = f"{day.isoformat()}-post-{number}.md" if number % 9 else f"undated-{number}.md"
        front = ["---", f"title: Post {number}"]
        if number % 5 == 0:
            front.append(f"tags: [{rng.choice(TAGS)}]")
        if number % 7 == 0:
            front.append("categories: [notes]")
        if number % 11 == 0:
            front.append("draft: true")
        lines = [*front, "---", ""]
        for domain in rng.sample(DOMAINS, 2):
            lines.append(f"## {domain}")
            for item in range(rng.randrange(1, 5)):
                marker = f"[{rng.choice(TAGS).title()}] " if rng.random() < 0.3 else ""
                host = rng.choice(HOSTS)
                lines.append(f"* {marker}[item {item}](https://{host}/{number}/{item}) text")
                if rng.random() < 0.3:
                    lines.append(f"  * nested under {item}")
        (folder / name).write_text("\n".join(lines) + "\n")


def ingest_corpus(engine: Engine, ingest: Ingest, folder: Path) -> str:
    """Write the corpus and the seed post into `folder`, ingest it; the database URL."""
    folder.mkdir()
    write_corpus(folder)
    (folder / SEED.name).write_text(SEED.read_text())
    ingest(folder)
    return engine.url.render_as_string(hide_password=False)


def filter_sets() -> Iterator[dict[str, str | list[str]]]:
    yield {}
    yield {"include_drafts": "true"}
    yield {"domain": "genai"}
    yield {"domain": "llms"}
    yield {"domain": ["systems", "databases"]}
    yield {"tag": "thought"}
    yield {"tag": ["question", "idea"], "include_drafts": "true"}
    yield {"category": "notes"}
    yield {"host": "arxiv.org", "domain": "genai"}
    yield {"link_kind": "code", "tag": "idea"}
    yield {"from": "2023-01-20", "to": "2023-02-10"}
    yield {"to": "2023-01-31", "host": "github.com"}
    yield {"from": "2023-02-01", "link_kind": "paper"}
    yield {"post": "2023-01-05-post-3", "domain": "nothing-here"}
    yield {"host": "nowhere.example"}


@pytest.fixture
def clients(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, TestClient]]:
    url = ingest_corpus(engine, ingest, tmp_path / "logs")
    settings = Settings(database_url=url, preview_token=PREVIEW_TOKEN)
    indexed = TestClient(create_app(settings))
    plain_app = create_app(settings)
    plain = TestClient(plain_app)
    with indexed, plain:
        real_get = IndexHolder.get

        def get(holder: IndexHolder, *args: object) -> object:
            return None if holder is plain_app.state.entry_index else real_get(holder, *args)

        monkeypatch.setattr(IndexHolder, "get", get)
        yield indexed, plain


def _spliced_answers(monkeypatch: pytest.MonkeyPatch, route: ModuleType) -> list[bool]:
    """Record, per page `route` serves, whether it was spliced from stored documents."""
    served: list[bool] = []
    real_answers = route.entry_answers

    def answers(*args: Any) -> Any:
        found = real_answers(*args)
        served.append(found is not None)
        return found

    monkeypatch.setattr(route, "entry_answers", answers)
    if hasattr(route, "answered_on"):  # search's quick lane reads answers with the texts
        real_answered = route.answered_on

        def answered(*args: Any, **kwargs: Any) -> Any:
            found = real_answered(*args, **kwargs)
            if found is not None:
                served.append(True)
            return found

        monkeypatch.setattr(route, "answered_on", answered)
    return served


def _same_pages(
    clients: tuple[TestClient, TestClient], path: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every page of `path`, following `next`, equal from both apps; the pages' bodies."""
    indexed, plain = clients
    headers = preview_for(params)
    fast = indexed.get(path, params=params, headers=headers)
    slow = plain.get(path, params=params, headers=headers)
    bodies = []
    while True:
        assert fast.status_code == slow.status_code == 200, params
        assert fast.json() == slow.json(), (params, fast.json(), slow.json())
        assert fast.headers["etag"] == slow.headers["etag"]
        assert fast.headers.get("link") == slow.headers.get("link")
        bodies.append(fast.json())
        following = fast.json()["next"]
        if following is None:
            return bodies
        fast, slow = indexed.get(following, headers=headers), plain.get(following, headers=headers)


def test_index_pages_equal_sql_pages(
    clients: tuple[TestClient, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    served = _spliced_answers(monkeypatch, entries_route)
    pages = 0
    for filters, sort, limit in itertools.product(filter_sets(), ["-date", "date"], [13, 200]):
        params = {**filters, "sort": sort, "limit": str(limit)}
        pages += len(_same_pages(clients, "/entries", params))
    assert pages > 60
    assert len(served) == pages, "every indexed page came from the index and documents"
    assert all(served)


def test_search_pages_spliced_from_documents_equal_model_pages(
    clients: tuple[TestClient, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    served = _spliced_answers(monkeypatch, search_route)
    pages = hits = 0
    for filters, words in itertools.product(filter_sets(), ["text", "item -nested", "mixtral"]):
        bodies = _same_pages(clients, "/search", {**filters, "q": words, "limit": "7"})
        pages += len(bodies)
        hits += sum(len(body["items"]) for body in bodies)
    assert hits > 300
    assert len(served) == pages, "every indexed page came from the documents"
    assert all(served)


def test_counts_agree(clients: tuple[TestClient, TestClient]) -> None:
    indexed, plain = clients
    for filters in filter_sets():
        params = {**filters, "count": "true", "limit": "2"}
        assert (
            indexed.get("/entries", params=params, headers=preview_for(params)).json()["total"]
            == plain.get("/entries", params=params, headers=preview_for(params)).json()["total"]
        )


def test_the_index_follows_new_content(
    clients: tuple[TestClient, TestClient], ingest: Ingest, tmp_path: Path
) -> None:
    indexed, _ = clients
    before = indexed.get("/entries", params={"domain": "genai", "count": "true"}).json()
    (tmp_path / "logs" / "2024-12-01-new.md").write_text("## GenAI\n* brand new item\n")
    ingest(tmp_path / "logs")
    after = indexed.get("/entries", params={"domain": "genai", "count": "true"}).json()
    assert after["total"] == before["total"] + 1
    assert after["items"][0]["text"] == "brand new item"
