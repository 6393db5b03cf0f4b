"""Ask servers whether addresses still answer: concurrently overall, politely per host.

Each address gets a HEAD request (a GET when the server refuses HEAD), and redirects are
followed one hop at a time so that every hop, whatever its host, passes that host's gate:
at most `per_host` requests in flight to one host, and `per_host_delay` seconds between
the starts of two requests to it. A global limit bounds the requests in flight overall.
Bodies are never downloaded: only the status line and headers are read.
"""

import asyncio
import datetime as dt
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import httpx

from app import __version__
from app.vocabulary import LinkOutcome

# Answers to HEAD that often mean "this server does not do HEAD", not "this page is gone":
# the address is asked again with GET before a verdict.
HEAD_REFUSED = frozenset({400, 403, 405, 406, 501})


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    """How hard and how long to try."""

    concurrency: int = 16
    per_host: int = 2
    per_host_delay: float = 0.5
    timeout: float = 5.0
    max_redirects: int = 10
    user_agent: str = f"learnlog/{__version__} link check"


@dataclass(frozen=True, slots=True)
class Target:
    """One address to probe: its normalized key and the spelling to request."""

    url_key: str
    url: str


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What probing one address found."""

    url_key: str
    url: str
    outcome: LinkOutcome
    http_status: int | None
    final_url: str | None
    checked_at: dt.datetime
    elapsed_ms: int
    error: str | None = None


@dataclass(slots=True)
class _HostGate:
    """Requests in flight to one host, and when the next may start."""

    slots: asyncio.Semaphore
    next_start: float = 0.0


@dataclass(slots=True)
class _Lane:
    """A queue of one host's addresses, worked through one at a time."""

    targets: deque[Target] = field(default_factory=deque)


class Prober:
    """Probes many addresses with one HTTP client; `run` reports each result as it comes."""

    def __init__(self, options: ProbeOptions) -> None:
        self.options = options
        self._gates: dict[str, _HostGate] = {}
        self._in_flight = asyncio.Semaphore(options.concurrency)
        timeout = httpx.Timeout(options.timeout, pool=None)
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": options.user_agent, "Accept": "*/*"},
            # In-flight requests are bounded above; the pool only keeps one idle connection
            # per lane that may come back, so busy hosts are not reconnected per request.
            limits=httpx.Limits(
                max_connections=None,
                max_keepalive_connections=options.concurrency * 4,
            ),
        )

    async def run(
        self, targets: Iterable[Target], on_result: Callable[[ProbeResult], None]
    ) -> None:
        """Probe every target, calling `on_result` once per target, in completion order."""
        by_host: dict[str, deque[Target]] = defaultdict(deque)
        for target in targets:
            by_host[_host_key(target.url)].append(target)
        # Busiest hosts first: their lanes take longest, so they must not start last.
        lanes: deque[_Lane] = deque()
        for queue in sorted(by_host.values(), key=len, reverse=True):
            shared = _Lane(queue)
            lanes.extend(shared for _ in range(min(self.options.per_host, len(queue))))
        # More workers than request slots: a worker waiting out a host's delay holds none.
        workers = min(len(lanes), self.options.concurrency * 4)
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(workers):
                    group.create_task(self._work(lanes, on_result))
        finally:
            await self._client.aclose()

    async def _work(self, lanes: deque[_Lane], on_result: Callable[[ProbeResult], None]) -> None:
        """Take lanes until none are left; probe each lane's addresses in turn."""
        while lanes:
            lane = lanes.popleft()
            while lane.targets:
                on_result(await self.probe(lane.targets.popleft()))

    async def probe(self, target: Target) -> ProbeResult:
        """HEAD (or GET) the target, following redirects hop by hop; never raises for I/O."""
        loop = asyncio.get_running_loop()
        started = loop.time()

        def result(
            outcome: LinkOutcome,
            status: int | None = None,
            final: httpx.URL | None = None,
            error: str | None = None,
        ) -> ProbeResult:
            return ProbeResult(
                url_key=target.url_key,
                url=target.url,
                outcome=outcome,
                http_status=status,
                final_url=str(final) if final is not None else None,
                checked_at=dt.datetime.now(dt.UTC),
                elapsed_ms=round((loop.time() - started) * 1000),
                error=error,
            )

        try:
            request = self._client.build_request("HEAD", target.url)
            hops = 0
            while True:
                response = await self._send(request)
                if request.method == "HEAD" and response.status_code in HEAD_REFUSED:
                    request = self._client.build_request("GET", request.url)
                    continue
                if response.next_request is None:
                    break
                hops += 1
                if hops > self.options.max_redirects:
                    return result(
                        LinkOutcome.broken,
                        response.status_code,
                        request.url,
                        f"more than {self.options.max_redirects} redirects",
                    )
                request = response.next_request
        except (httpx.TimeoutException, TimeoutError):
            return result(LinkOutcome.timeout, error=f"no answer within {self.options.timeout:g} s")
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return result(LinkOutcome.unreachable, error=f"not a URL that can be probed: {exc}")
        except (httpx.TransportError, OSError, ValueError) as exc:
            return result(LinkOutcome.unreachable, error=_describe(exc))
        status = response.status_code
        if 200 <= status < 300:
            same = _comparable(request.url) == _comparable(httpx.URL(target.url))
            return result(LinkOutcome.ok if same else LinkOutcome.redirected, status, request.url)
        if status >= 500:
            return result(LinkOutcome.error, status, request.url)
        if 400 <= status < 500:
            return result(LinkOutcome.broken, status, request.url)
        return result(LinkOutcome.broken, status, request.url, f"HTTP {status} without a Location")

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """Send one request through its host's gate and the global limit; read headers only."""
        loop = asyncio.get_running_loop()
        gate = self._gate(request.url.host)
        async with gate.slots:
            while True:
                # Wait out the host's delay without holding a global slot, then re-check:
                # another request to the host may have started meanwhile.
                await asyncio.sleep(max(0.0, gate.next_start - loop.time()))
                await self._in_flight.acquire()
                if loop.time() >= gate.next_start:
                    break
                self._in_flight.release()
            gate.next_start = loop.time() + self.options.per_host_delay
            try:
                # httpx's timeouts bound each phase; this bounds a server dripping bytes.
                async with asyncio.timeout(self.options.timeout * 2):
                    response = await self._client.send(request, stream=True)
                    await response.aclose()
            finally:
                self._in_flight.release()
        return response

    def _gate(self, host: str) -> _HostGate:
        """The gate of `host`, made on first use."""
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = _HostGate(asyncio.Semaphore(self.options.per_host))
        return gate


def _host_key(url: str) -> str:
    """The host an address's lane belongs to ('' when it has none that parses)."""
    try:
        return httpx.URL(url).host
    except (httpx.InvalidURL, ValueError):
        return ""


def _comparable(url: httpx.URL) -> httpx.URL:
    """The URL without its fragment, which is never sent and never redirected."""
    return url.copy_with(fragment=None)


def _describe(exc: BaseException) -> str:
    """A one-line reason for a failed connection, with its root cause (refused, DNS, TLS)."""
    text = f"{type(exc).__name__}: {exc}"
    root = exc
    while (cause := root.__cause__ or root.__context__) is not None:
        root = cause
    if root is not exc and str(root) != str(exc):
        text += f" ({type(root).__name__}: {root})"
    return text[:500]
