"""`count=true` gives the full count matching the filters on every page, index or SQL."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import create_app
from app.queries.entry_index import IndexHolder
from app.settings import Settings
from tests.api.conftest import PREVIEW_TOKEN, preview_for
from tests.api.test_entry_index import filter_sets, ingest_corpus
from tests.conftest import Ingest


@pytest.fixture
def both_paths(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, TestClient]]:
    """A client answered by the entry index and one answered by SQL, on one database."""
    url = ingest_corpus(engine, ingest, tmp_path / "logs")
    indexed_app = create_app(Settings(database_url=url, preview_token=PREVIEW_TOKEN))
    plain_app = create_app(Settings(database_url=url, preview_token=PREVIEW_TOKEN))
    with TestClient(indexed_app) as indexed, TestClient(plain_app) as plain:
        real_get = IndexHolder.get

        def get(holder: IndexHolder, *args: Any) -> Any:
            return None if holder is plain_app.state.entry_index else real_get(holder, *args)

        monkeypatch.setattr(IndexHolder, "get", get)
        yield indexed, plain


def _totals(client: TestClient, params: dict[str, Any]) -> list[int | None]:
    """`total` of every page of /entries with `params`, following `next`."""
    headers = preview_for(params)
    response = client.get("/entries", params=params, headers=headers)
    totals = []
    while True:
        assert response.status_code == 200, response.text
        totals.append(response.json()["total"])
        following = response.json()["next"]
        if following is None:
            return totals
        response = client.get(following, headers=headers)


def test_count_total_is_the_full_count_on_later_pages(
    both_paths: tuple[TestClient, TestClient],
) -> None:
    indexed, plain = both_paths
    later_pages = 0
    for filters in filter_sets():
        for sort in ("-date", "date"):
            params = {**filters, "sort": sort, "count": "true", "limit": "3"}
            from_index, from_sql = _totals(indexed, params), _totals(plain, params)
            assert from_index == from_sql, params
            assert len(set(from_sql)) == 1, (params, from_sql)
            later_pages += len(from_sql) - 1
    assert later_pages > 50
