"""Entry answers kept by the entry index: the same bytes as spliced from the rows, each
entry read from the database once per content version, within a byte budget."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import create_app
from app.queries import entry_index
from app.queries.entries import EntryKey
from app.queries.entry_index import AnswerCache, EntryIndex, IndexHolder, page_answers
from app.settings import Settings
from tests.api.test_entry_index import ingest_corpus
from tests.conftest import Ingest


@pytest.fixture
def client(engine: Engine, ingest: Ingest, tmp_path: Path) -> Iterator[TestClient]:
    url = ingest_corpus(engine, ingest, tmp_path / "logs")
    with TestClient(create_app(Settings(database_url=url))) as client:
        yield client


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The entry ids whose rows are read from the database from now on."""
    read: list[int] = []
    real = entry_index._page_rows

    def page_rows(driver: Any, style: str, ids: list[int]) -> list[tuple[Any, ...]]:
        read.extend(ids)
        return real(driver, style, ids)

    monkeypatch.setattr(entry_index, "_page_rows", page_rows)
    return read


def _index(client: TestClient) -> EntryIndex:
    holder: IndexHolder = client.app.state.entry_index  # type: ignore[attr-defined]
    assert holder.current is not None
    return holder.current


def _ids(client: TestClient, limit: int) -> list[int]:
    answer = client.get("/entries", params={"limit": limit})
    return [item["id"] for item in answer.json()["items"]]


def test_kept_answers_are_the_ones_spliced_from_the_rows(
    client: TestClient, engine: Engine, reads: list[int]
) -> None:
    first = client.get("/entries", params={"limit": 30})
    ids = [item["id"] for item in first.json()["items"]]
    assert sorted(reads) == sorted(ids)
    reads.clear()
    assert client.get("/entries", params={"limit": 30}).content == first.content
    assert reads == []
    index = _index(client)
    with engine.connect() as conn:
        kept = page_answers(conn, index, ids, None)
        index._answers = AnswerCache(None, entry_index.ANSWER_BYTES)
        spliced = page_answers(conn, index, ids, None)
    assert reads == ids
    assert kept == spliced


def test_only_entries_not_kept_are_read(client: TestClient, reads: list[int]) -> None:
    page = _ids(client, 10)
    reads.clear()
    wider = _ids(client, 25)
    assert wider[:10] == page
    assert sorted(reads) == sorted(wider[10:])


def test_another_edit_url_template_splices_anew(
    client: TestClient, engine: Engine, reads: list[int]
) -> None:
    ids = _ids(client, 5)
    reads.clear()
    with engine.connect() as conn:
        edited = page_answers(conn, _index(client), ids, "https://example.com/{path}#L{line}")
    assert edited is not None
    assert sorted(reads) == sorted(ids)
    assert all(b"https://example.com/" in answer[0] for answer in edited)


def test_the_budget_drops_the_oldest_answers() -> None:
    key = EntryKey(None, 1, 1)
    cache = AnswerCache(None, 3 * (100 + entry_index._ANSWER_OVERHEAD))
    cache.keep([1, 2, 3], [(b"a" * 100, key), (b"b" * 100, key), (b"c" * 100, key)])
    assert [found is not None for found in cache.lookup([1, 2, 3])] == [True, True, True]
    cache.keep([4], [(b"d" * 100, key)])
    kept = [found is not None for found in cache.lookup([1, 2, 3, 4])]
    assert kept == [False, True, True, True]
    assert cache.size <= cache.budget
