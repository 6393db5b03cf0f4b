"""What the search index keeps between requests: entry texts for snippets, walk helpers."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.search.index import TEXT_OVERHEAD, TextCache, _distinct


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
