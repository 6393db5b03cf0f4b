"""What the search index keeps between requests: entry texts for snippets, walk helpers."""

import gc
import time
import weakref

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.queries.entry_index import EntryIndex, IndexHolder, build_index
from app.search import index as search_index
from app.search.index import TEXT_OVERHEAD, SearchIndexes, TextCache, _distinct


def test_text_cache_keeps_texts_up_to_its_budget_first_kept_first_dropped() -> None:
    cache = TextCache(budget=3 * (10 + TEXT_OVERHEAD))
    cache.keep({1: "a" * 10, 2: "b" * 10})
    assert cache.lookup([2, 3, 1]) == ["b" * 10, None, "a" * 10]
    cache.keep({2: "changed", 3: "c" * 10})  # an id kept already keeps its text
    assert cache.lookup([2, 3]) == ["b" * 10, "c" * 10]
    cache.keep({4: "d" * 10})
    assert cache.lookup([1, 2, 3, 4]) == [None, "b" * 10, "c" * 10, "d" * 10]
    assert cache.size == 3 * (10 + TEXT_OVERHEAD)


@pytest.mark.parametrize("size", [0, 1, 2, 7, 1000])
def test_distinct_ranks_are_numpys_unique(size: int) -> None:
    rng = np.random.default_rng(size)
    ranks = rng.integers(0, max(size // 2, 1), size=size).astype(np.int32)
    found = _distinct(ranks)
    assert found.dtype == np.int32
    assert found.tolist() == np.unique(ranks).tolist()


def test_a_search_asked_again_answers_the_same_from_kept_texts(seeded: TestClient) -> None:
    params = {"q": "mixtral", "limit": "50"}
    first = seeded.get("/search", params=params)
    again = seeded.get("/search", params=params)
    assert first.status_code == again.status_code == 200
    assert first.json()["items"], "the seeded corpus mentions mixtral"
    assert again.content == first.content


def test_an_entry_index_replaced_frees_its_search_index(engine: Engine, seeded: TestClient) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the in-memory search index serves SQLite")
    indexes = SearchIndexes()
    with engine.connect() as conn:
        entries = build_index(conn)
        assert indexes.get(conn, entries) is not None
    gone = weakref.ref(entries)
    del entries
    gc.collect()
    assert gone() is None, "nothing but the search indexes holds the entry index"
    assert len(indexes._built) == 0


def test_kept_texts_count_the_bytes_of_non_ascii_text() -> None:
    cache = TextCache(budget=2 * (30 + TEXT_OVERHEAD))
    cache.keep({1: "日本語" * 10})  # 30 characters, 90 bytes in UTF-8
    assert cache.size == 90 + TEXT_OVERHEAD
    cache.keep({2: "a" * 30, 3: "b" * 30})
    assert cache.lookup([1, 2, 3]) == [None, "a" * 30, "b" * 30]


def _ready_soon(indexes: SearchIndexes, entries: EntryIndex) -> bool:
    """Whether the search index of `entries` is built within a generous deadline."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if indexes.ready(entries) is not None:
            return True
        time.sleep(0.05)
    return False


def test_once_searched_each_new_versions_search_index_is_built_with_its_entry_index(
    engine: Engine, seeded: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an ingest, the first search finds the new version's index ready, instead of
    ranking every match in SQL while it is built."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the in-memory search index serves SQLite")
    monkeypatch.setattr(search_index, "INLINE_BUILD_LIMIT", 0)  # built as for a big corpus
    indexes = SearchIndexes()
    holder = IndexHolder(engine)
    holder.when_installed(lambda built: indexes.prepare(engine, built))
    holder.warm()
    first = holder.current
    assert first is not None
    assert indexes.ready(first) is None, "a process that never searched builds nothing"
    with engine.connect() as conn:
        assert indexes.get(conn, first) is None  # the first search starts its build
    assert _ready_soon(indexes, first)

    with engine.begin() as conn:  # what an ingest's commit does to the content version
        conn.execute(text("UPDATE content_state SET version = version + 1"))
    holder.warm()
    second = holder.current
    assert second is not None
    assert second.version == first.version + 1
    assert _ready_soon(indexes, second), "built without a search asking for it"
