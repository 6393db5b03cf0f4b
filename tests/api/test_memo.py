"""The per-version memo keeps the answers worth keeping: a flood of junk keys cannot evict them."""

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from app.api.memo import PerVersion

JUNK = 1_000


def test_junk_filter_flood_does_not_evict_common_answers(seeded: TestClient) -> None:
    memo: PerVersion[object] = seeded.app.state.vocabularies  # type: ignore[attr-defined]
    for number in range(JUNK):  # fills the memo before anyone asks for the common answers
        junk = {"tag": f"junk-{number}"}
        assert seeded.get("/hosts" if number % 2 else "/tags", params=junk).status_code == 200
    computed = memo.computations
    domains = [seeded.get("/domains").json() for _ in range(5)]
    hosts = [seeded.get("/hosts").json() for _ in range(5)]
    assert memo.computations == computed + 2, "each common answer computed once"
    assert domains[0]["items"]
    assert hosts[0]["items"]
    assert all(answer == domains[0] for answer in domains)
    assert all(answer == hosts[0] for answer in hosts)

    for number in range(JUNK):  # another flood, now that the common answers are kept
        seeded.get("/hosts", params={"host": f"junk-{number}.example"})
    computed = memo.computations
    assert seeded.get("/domains").json() == domains[0]
    assert seeded.get("/hosts").json() == hosts[0]
    assert memo.computations == computed, "served from the memo after the flood"


class FakeClock:
    """A clock each computation advances by the cost it declares."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def costing(self, seconds: float, answer: str) -> Callable[[], str]:
        def compute() -> str:
            self.now += seconds
            return answer

        return compute


def test_expensive_asked_answer_outlives_cheap_junk_asked_twice() -> None:
    clock = FakeClock()
    memo: PerVersion[str] = PerVersion(max_keys=16, clock=clock)
    for _ in range(5):
        memo.get(1, "domains", clock.costing(0.3, "tree"))
    assert memo.computations == 1
    for number in range(500):  # junk asked twice is proven too, but cheap
        for _ in range(2):
            memo.get(1, ("junk", number), clock.costing(0.008, "nothing"))
    assert "domains" in memo.kept_keys()
    memo.get(1, "domains", clock.costing(0.3, "tree"))
    assert memo.computations == 501


def test_answer_nobody_asks_any_more_leaves_in_time() -> None:
    clock = FakeClock()
    memo: PerVersion[str] = PerVersion(max_keys=16, clock=clock)
    for _ in range(2):
        memo.get(1, "old", clock.costing(0.3, "old"))
    for number in range(5_000):
        for _ in range(2):
            memo.get(1, ("new", number), clock.costing(0.008, "new"))
    assert "old" not in memo.kept_keys(), "aging: worth is not kept forever"


def test_key_asked_again_after_its_trial_is_kept_at_once() -> None:
    clock = FakeClock()
    memo: PerVersion[str] = PerVersion(max_keys=8, clock=clock)
    memo.get(1, "common", clock.costing(0.1, "answer"))
    for number in range(20):  # fewer than the keys remembered after their answers leave
        memo.get(1, ("junk", number), clock.costing(0.001, "nothing"))
    assert "common" not in memo.kept_keys()
    memo.get(1, "common", clock.costing(0.1, "answer"))
    assert "common" in memo.kept_keys()
    for number in range(100, 200):
        memo.get(1, ("junk", number), clock.costing(0.001, "nothing"))
    computed = memo.computations
    assert memo.get(1, "common", clock.costing(0.1, "answer")) == "answer"
    assert memo.computations == computed


def test_versions_replace_answers_and_older_snapshots_are_not_kept() -> None:
    clock = FakeClock()
    memo: PerVersion[str] = PerVersion(clock=clock)
    assert memo.get(1, "k", clock.costing(0.1, "v1")) == "v1"
    assert memo.get(2, "k", clock.costing(0.1, "v2")) == "v2"
    assert memo.get(1, "k", clock.costing(0.1, "old")) == "old"
    assert memo.get(2, "k", clock.costing(0.1, "unused")) == "v2"
    assert memo.computations == 3


def test_clients_asking_at_once_share_one_computation() -> None:
    """A new version makes every client ask at once: the aggregate is computed once."""
    memo: PerVersion[str] = PerVersion()
    release = threading.Event()
    waiting = threading.Barrier(2)

    def slow() -> str:
        waiting.wait(timeout=60)  # the second client has asked by now...
        release.wait(timeout=60)  # ...and waits for this answer
        return "tree"

    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(memo.get, 7, "domains", slow)
        waiting.wait(timeout=60)
        others = [pool.submit(memo.get, 7, "domains", lambda: "recomputed") for _ in range(3)]
        deadline = time.monotonic() + 60
        while sum(f.running() for f in others) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        release.set()
        answers = [first.result(timeout=60), *(f.result(timeout=60) for f in others)]
    assert answers == ["tree"] * 4
    assert memo.computations == 1


def test_a_failed_computation_fails_its_waiters_and_is_tried_again() -> None:
    memo: PerVersion[str] = PerVersion()

    def broken() -> str:
        raise TimeoutError("too slow")

    with pytest.raises(TimeoutError):
        memo.get(1, "hosts", broken)
    assert memo.get(1, "hosts", lambda: "hosts") == "hosts"
