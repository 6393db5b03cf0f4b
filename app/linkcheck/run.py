"""One `learnlog links check` run: pick the due addresses, probe them, store results in batches."""

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from app.linkcheck.probe import ProbeOptions, Prober, ProbeResult, Target
from app.linkcheck.store import bump_content_version, due_addresses, save_results
from app.vocabulary import LinkOutcome

# Results per write: one statement each, so a long run keeps what it found if stopped.
BATCH = 200


@dataclass(slots=True)
class CheckSummary:
    """What a run did: addresses in scope, how many were fresh, and outcomes of the probes."""

    addresses: int
    fresh: int
    probed: int = 0
    outcomes: Counter[LinkOutcome] = field(default_factory=Counter)
    seconds: float = 0.0
    content_version: int | None = None

    @property
    def rate(self) -> float:
        """Addresses probed per second of the run."""
        return self.probed / self.seconds if self.seconds > 0 else 0.0


class _BatchWriter:
    """Collects results and writes them in batches from a thread, one batch at a time."""

    def __init__(self, engine: Engine, size: int) -> None:
        self.engine = engine
        self.size = size
        self.pending: list[ProbeResult] = []
        self.written = 0
        self._lock = asyncio.Lock()
        self._writes: list[asyncio.Task[None]] = []

    def add(self, result: ProbeResult) -> None:
        """Queue one result; a full batch starts its write."""
        self.pending.append(result)
        if len(self.pending) >= self.size:
            self._flush()

    def _flush(self) -> None:
        batch, self.pending = self.pending, []
        self._writes.append(asyncio.create_task(self._write(batch)))

    async def _write(self, batch: list[ProbeResult]) -> None:
        # The event loop keeps probing while a thread waits on the database.
        async with self._lock:
            await asyncio.to_thread(save_results, self.engine, batch)
            self.written += len(batch)

    async def close(self) -> None:
        """Write what is left and wait for every write to finish."""
        if self.pending:
            self._flush()
        await asyncio.gather(*self._writes)


def run_check(
    engine: Engine,
    *,
    options: ProbeOptions,
    hosts: Sequence[str] = (),
    max_age: dt.timedelta = dt.timedelta(hours=24),
    force: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> CheckSummary:
    """Probe every due address and store the results; advance the content version if any."""
    started = time.perf_counter()
    due = due_addresses(
        engine, hosts=hosts, max_age=max_age, force=force, now=dt.datetime.now(dt.UTC)
    )
    summary = CheckSummary(addresses=len(due.targets) + due.fresh, fresh=due.fresh)
    if on_start is not None:
        on_start(len(due.targets))

    def record(result: ProbeResult) -> None:
        summary.probed += 1
        summary.outcomes[result.outcome] += 1
        if on_result is not None:
            on_result(result)

    writer = _BatchWriter(engine, BATCH)
    try:
        asyncio.run(_probe(writer, due.targets, options, record))
    finally:
        # Interrupted or not, what was stored reaches the API's caches.
        if writer.written:
            summary.content_version = bump_content_version(engine)
    summary.seconds = time.perf_counter() - started
    return summary


async def _probe(
    writer: _BatchWriter,
    targets: list[Target],
    options: ProbeOptions,
    record: Callable[[ProbeResult], None],
) -> None:
    """Probe `targets`, handing each result to `record` and to the batch writer."""

    def collect(result: ProbeResult) -> None:
        record(result)
        writer.add(result)

    try:
        await Prober(options).run(targets, collect)
    finally:
        # Interrupted or not, what was found so far is written.
        await writer.close()
