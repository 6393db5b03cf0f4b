"""Answers that depend on nothing but the content version, computed once per version.

`/domains`, `/tags`, `/hosts`, `/hosts/health` and `/timeline` aggregate every matching
entry (0.3 to 1.2 s each at 300,000 entries); their answers change only when an ingest
or a link check commits, so each process keeps the newest version's, for a bounded
number of filters.

Filters are the client's to vary without end, so which answers stay is decided by what
they are worth, not by who came first. A key asked once waits in a small trial area
(first in, first out); asked again, its answer joins the kept ones, which leave lowest
value first: the seconds the answer took times how often it was asked, plus an aging
term (GreedyDual-Size-Frequency), so answers nobody asks any more leave in time. A flood
of one-off junk keys only churns the trial area; junk asked twice over must cost as much
computing as the answers it pushes out.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

T = TypeVar("T")

# Keys remembered (as hashes, a few bytes each) after their answers were dropped, per kept
# answer: enough that a key asked again a while later is recognised as asked before.
_SEEN_PER_KEY = 4


@dataclass(slots=True)
class _Kept(Generic[T]):
    """A kept answer, what computing it cost (seconds), how often it was asked, its value."""

    answer: T
    cost: float
    asks: int
    value: float = 0.0


class PerVersion(Generic[T]):
    """The newest content version's answers by key, kept by cost and use; older ones dropped."""

    def __init__(
        self, max_keys: int = 256, *, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._version = -1
        self._trial_keys = max(1, max_keys // 4)
        self._proven_keys = max(1, max_keys - self._trial_keys)
        self._max_seen = _SEEN_PER_KEY * max_keys
        self._trial: OrderedDict[Hashable, _Kept[T]] = OrderedDict()
        self._proven: dict[Hashable, _Kept[T]] = {}
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._aging = 0.0
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, Hashable], Future[T]] = {}
        self.computations = 0

    def get(self, version: int, key: Hashable, compute: Callable[[], T]) -> T:
        """The answer for `key` at `version`, computing it when it is not kept.

        A request reading an older snapshot than the kept answers (an ingest committed
        meanwhile) gets a fresh computation that is not kept.
        """
        with self._lock:
            if version == self._version:
                found = self._kept(key)
                if found is not None:
                    return found.answer
            # One computation per version and key at a time: when a new version arrives,
            # every client asks at once, and N copies of a one-second aggregate beside an
            # ingest took each of them past the query time limit.
            pending = self._pending.get((version, key))
            if pending is None:
                pending = self._pending[(version, key)] = Future()
                computing = True
            else:
                computing = False
        if not computing:
            return pending.result()
        try:
            started = self._clock()
            answer = compute()
            cost = self._clock() - started
        except BaseException as error:
            pending.set_exception(error)
            raise
        finally:
            with self._lock:
                del self._pending[(version, key)]
        with self._lock:
            self.computations += 1
            if version > self._version:
                self._start(version)
            if version == self._version and key not in self._trial and key not in self._proven:
                self._keep(key, _Kept(answer, cost, asks=1))
        pending.set_result(answer)
        return answer

    def kept_keys(self) -> set[Hashable]:
        """The keys whose answers are kept now (for tests and diagnostics)."""
        with self._lock:
            return {*self._trial, *self._proven}

    def _kept(self, key: Hashable) -> _Kept[T] | None:
        """The kept answer for `key`, counting this ask (a second ask promotes a trial one)."""
        found = self._trial.pop(key, None)
        if found is not None:
            found.asks += 1
            self._prove(key, found)
            return found
        found = self._proven.get(key)
        if found is not None:
            found.asks += 1
            found.value = self._aging + found.cost * found.asks
        return found

    def _keep(self, key: Hashable, kept: _Kept[T]) -> None:
        """Keep a fresh answer: on trial, or proven at once when its key was asked before."""
        fingerprint = hash(key)
        if fingerprint in self._seen:
            del self._seen[fingerprint]
            kept.asks = 2
            self._prove(key, kept)
            return
        self._trial[key] = kept
        if len(self._trial) > self._trial_keys:
            dropped, _ = self._trial.popitem(last=False)
            self._remember(dropped)

    def _prove(self, key: Hashable, kept: _Kept[T]) -> None:
        """Move an answer asked more than once among the proven, dropping the least worth."""
        kept.value = self._aging + kept.cost * kept.asks
        self._proven[key] = kept
        if len(self._proven) > self._proven_keys:
            victim = min(self._proven, key=lambda k: self._proven[k].value)
            # Aging: what later answers must be worth rises to what the dropped one was.
            self._aging = self._proven.pop(victim).value
            self._remember(victim)

    def _remember(self, key: Hashable) -> None:
        """Note that `key` was asked, after its answer was dropped (bounded)."""
        self._seen[hash(key)] = None
        if len(self._seen) > self._max_seen:
            self._seen.popitem(last=False)

    def _start(self, version: int) -> None:
        """Drop the older version's answers; keys proven then are proven at their next ask."""
        for key in self._proven:
            self._remember(key)
        self._version = version
        self._trial.clear()
        self._proven.clear()
        self._aging = 0.0


async def per_version(request: Request, key: Hashable, compute: Callable[[], T]) -> T:
    """What `compute()` answers, worked out once per content version and key.

    In the threadpool: these aggregates read every matching entry (up to a second at
    300,000 entries), far too long to hold the event loop.
    """
    memo: PerVersion[T] = request.app.state.vocabularies
    return await run_in_threadpool(memo.get, request.state.content_version, key, compute)
