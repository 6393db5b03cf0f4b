"""Answers that depend on nothing but the content version, computed once per version.

`/domains` aggregates every entry (a few hundred milliseconds at 300,000 entries); its
answer changes only when an ingest commits, so each process keeps the newest version's.
"""

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerVersion(Generic[T]):
    """The newest content version's answers, by key; older versions are dropped."""

    def __init__(self) -> None:
        self._version = -1
        self._answers: dict[Hashable, T] = {}
        self._lock = threading.Lock()

    def get(self, version: int, key: Hashable, compute: Callable[[], T]) -> T:
        """The answer for `key` at `version`, computing it at most once per version.

        A request reading an older snapshot than the kept answers (an ingest committed
        meanwhile) gets a fresh computation that is not kept.
        """
        with self._lock:
            if version == self._version and key in self._answers:
                return self._answers[key]
        answer = compute()
        with self._lock:
            if version > self._version:
                self._version, self._answers = version, {}
            if version == self._version:
                self._answers[key] = answer
        return answer
