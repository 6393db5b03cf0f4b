"""Answers that depend on nothing but the content version, computed once per version.

`/domains`, `/tags`, `/hosts`, `/hosts/health` and `/timeline` aggregate every matching
entry (0.3 to 1.2 s each at 300,000 entries); their answers change only when an ingest
or a link check commits, so each process keeps the newest version's, for a bounded
number of filters.
"""

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

T = TypeVar("T")


class PerVersion(Generic[T]):
    """The newest content version's answers, by key; older versions are dropped."""

    def __init__(self, max_keys: int = 256) -> None:
        self._version = -1
        self._answers: dict[Hashable, T] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def get(self, version: int, key: Hashable, compute: Callable[[], T]) -> T:
        """The answer for `key` at `version`, computing it at most once per version.

        A request reading an older snapshot than the kept answers (an ingest committed
        meanwhile) gets a fresh computation that is not kept; so does a key beyond the
        first `max_keys` of a version (filters are the client's to vary without end).
        """
        with self._lock:
            if version == self._version and key in self._answers:
                return self._answers[key]
        answer = compute()
        with self._lock:
            if version > self._version:
                self._version, self._answers = version, {}
            if version == self._version and len(self._answers) < self._max_keys:
                self._answers[key] = answer
        return answer


async def per_version(request: Request, key: Hashable, compute: Callable[[], T]) -> T:
    """What `compute()` answers, worked out once per content version and key.

    In the threadpool: these aggregates read every matching entry (up to a second at
    300,000 entries), far too long to hold the event loop.
    """
    memo: PerVersion[T] = request.app.state.vocabularies
    return await run_in_threadpool(memo.get, request.state.content_version, key, compute)
