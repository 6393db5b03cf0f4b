"""The edge of the app: one plain ASGI layer doing what every request needs, once.

Request id, metrics, security headers, HEAD as GET and CORS used to be five middleware
layers, each wrapping `send` and copying every answer's headers again. Here one header
scan and one wrapped `send` do them all. Inside it, `Dispatch` refuses over-long query
strings and hands the routes that have a quick lane (`app.api.quick`) their requests
before the framework sees them: a quick lane reads its parameters, checks them, answers
`304` or the page, or steps aside (None) for the framework to answer as declared. What
the framework's layers would add to such an answer (compression, the size limit, problem
rendering of errors) `Dispatch` adds the same way, so both ways answer byte for byte
alike (`tests/api/test_quick_lane.py`).
"""

import logging
import re
import secrets
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi import Request, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.deps import not_modified
from app.api.limits import MAX_QUERY_BYTES, answer_too_large, uri_too_long
from app.api.quick import QuickLane
from app.errors import PROBLEM_JSON
from app.observability import REQUEST_ID, HttpMetrics, route_template
from app.security import ADMIN_PREFIX, DocsPolicy, security_headers

logger = logging.getLogger(__name__)

# Level 1, nginx's default: a 65 KB page of 50 entries becomes 12.8 KB (10.7 KB at
# level 6) in a third of the time; browsers, which always ask for gzip, got 550
# uncached pages/s at level 6 and 730 at level 1 on the benchmark corpus.
GZIP_LEVEL = 1
GZIP_MINIMUM_SIZE = 1024
# Larger answers are compressed in a worker thread, as Starlette's GZipMiddleware does.
_GZIP_IN_THREAD = 128 * 1024

_REQUEST_ID_HEADER = b"x-request-id"
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:+/=-]{0,127}")

Headers = list[tuple[bytes, bytes]]


class Edge:
    """Request id, metrics, security headers, HEAD and CORS for every HTTP request.

    `app` is the rest of the stack (compression, the answer size limit, the framework);
    `lanes` maps paths to quick lanes tried before it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: HttpMetrics,
        docs_pages: frozenset[str],
        reader_prefix: str | None,
        cors: Mapping[str, Any],
        lanes: Mapping[str, QuickLane],
        max_response_bytes: int,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.docs_pages = docs_pages
        self.reader_prefix = reader_prefix
        self.dispatch = Dispatch(app, lanes=lanes, max_response_bytes=max_response_bytes)
        # Starlette's CORS answers preflights and requests with an Origin; the others
        # only need `Vary: Origin`, added below without it.
        self.cors = CORSMiddleware(self.dispatch, **cors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call; only HTTP requests are changed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given_id: bytes | None = None
        if_none_match: bytes | None = None
        origin = False
        for name, value in scope["headers"]:
            if name == _REQUEST_ID_HEADER:
                if given_id is None:
                    given_id = value
            elif name == b"if-none-match":
                if if_none_match is None:
                    if_none_match = value
            elif name == b"origin":
                origin = True
        request_id = _request_id(given_id)
        path = _route_path(scope)
        admin = path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
        head = scope["method"] == "HEAD"
        # A copy: the server reads the method from its own scope to know HEAD is bodiless.
        inner = {**scope, "method": "GET"} if head else scope
        docs = path in self.docs_pages
        added: Headers = [(_REQUEST_ID_HEADER, request_id.encode("ascii"))]
        if not docs:
            added += security_headers(path, self.reader_prefix)
        # Starlette's CORS says `Vary: Origin` on every answer to a request without one.
        vary_origin = not origin and not admin
        status = 500
        bodiless = head

        async def respond(message: Message) -> None:
            nonlocal status, bodiless
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                headers: Headers = message.get("headers", [])
                revalidated = False
                if status == 200 and if_none_match is not None:
                    current = _still_current(headers, if_none_match)
                    if current is not None:
                        status, headers, bodiless, revalidated = 304, current, True, True
                        message = {"type": kind, "status": 304}
                headers = [*headers, *added]
                # A 304 says what the quick lanes' 304s say (those pass through CORS).
                if vary_origin or (revalidated and not admin):
                    headers = add_vary(headers, b"Origin")
                message = {**message, "headers": headers}
            elif bodiless and kind == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        outgoing: Send = DocsPolicy(respond) if docs else respond
        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        try:
            if origin and not admin:
                await self.cors(inner, receive, outgoing)
            else:
                await self.dispatch(inner, receive, outgoing)
        finally:
            self.metrics.observe(route_template(inner), status, time.perf_counter() - start)
        # Reset only on success: after an exception the server logs the traceback in this
        # same task, and that line should carry the id too.
        REQUEST_ID.reset(token)


@dataclass(frozen=True, slots=True)
class LaneRoute:
    """What a quick lane's answer leaves in the scope: the template of the route it answers."""

    path_format: str


class Dispatch:
    """Refuse over-long query strings; give quick lanes their requests, the rest to `app`."""

    def __init__(
        self, app: ASGIApp, *, lanes: Mapping[str, QuickLane], max_response_bytes: int
    ) -> None:
        self.app = app
        self.lanes = dict(lanes)
        self.max_response_bytes = max_response_bytes
        self._routes: dict[str, LaneRoute] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request (the edge passes only those)."""
        length = len(scope.get("query_string", b""))
        if length > MAX_QUERY_BYTES:
            await uri_too_long(length)(scope, receive, send)
            return
        lane = self.lanes.get(_route_path(scope)) if scope["method"] == "GET" else None
        if lane is not None and await self._quick(lane, scope, receive, send):
            return
        await self.app(scope, receive, send)

    async def _quick(self, lane: QuickLane, scope: Scope, receive: Receive, send: Send) -> bool:
        """Let `lane` answer; False when it steps aside."""
        request = Request(scope, receive)
        try:
            answer = await lane(request)
        except Exception as error:
            answer = await _render(request, error)
        if answer is None:
            return False
        # The route the lane stands for: metrics count the answer under its template.
        path = _route_path(scope)
        scope["route"] = self._routes.get(path) or self._routes.setdefault(path, LaneRoute(path))
        await self._send(scope, answer, send)
        return True

    async def _send(self, scope: Scope, answer: Response, send: Send) -> None:
        """Send a whole answer as the size limit and compression layers would pass it."""
        body = bytes(answer.body)
        status = answer.status_code
        headers = list(answer.raw_headers)
        if len(body) > self.max_response_bytes and not _is_problem(headers):
            refused = answer_too_large(len(body), self.max_response_bytes)
            body, status, headers = bytes(refused.body), refused.status_code, refused.raw_headers
        if len(body) >= GZIP_MINIMUM_SIZE and _compressible(headers, status):
            headers = add_vary(headers, b"Accept-Encoding")
            if b"gzip" in _first(scope["headers"], b"accept-encoding"):
                if len(body) >= _GZIP_IN_THREAD:
                    body = await anyio.to_thread.run_sync(_gzip, body)
                else:
                    body = _gzip(body)
                headers = [(k, v) for k, v in headers if k != b"content-length"]
                headers += [
                    (b"content-encoding", b"gzip"),
                    (b"content-length", str(len(body)).encode("latin-1")),
                ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _render(request: Request, error: Exception) -> Response:
    """The answer the app's exception handlers give for `error` (a problem, or a 304)."""
    handlers = request.app.exception_handlers
    for kind in type(error).__mro__:
        handler = handlers.get(kind)
        if handler is not None:
            if kind is Exception:
                logger.exception("unexpected error in a quick lane", exc_info=error)
            answer: Response = await handler(request, error)
            return answer
    raise error


def _still_current(headers: Headers, if_none_match: bytes) -> Headers | None:
    """The 304's headers when a public answer's ETag is one `If-None-Match` names, else None.

    The 304 keeps the answer's ETag, caching and CORS headers. Previews' answers
    (`no-store`) are never revalidated.
    """
    etag = _first(headers, b"etag")
    caching = _first(headers, b"cache-control")
    if not etag or b"no-store" in caching:
        return None
    if not not_modified(etag.decode("latin-1"), if_none_match.decode("latin-1")):
        return None
    cors = [(k, v) for k, v in headers if k.startswith(b"access-control-")]
    return [(b"etag", etag), (b"cache-control", caching), *cors]


def _gzip(body: bytes) -> bytes:
    """`body` compressed exactly as Starlette's GZipMiddleware compresses a whole answer."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


def _compressible(headers: Headers, status: int) -> bool:
    """Not compressed already, not partial, and JSON or text (what quick lanes answer)."""
    if status == 206:
        return False
    kind = b""
    for name, value in headers:
        if name == b"content-encoding":
            return False
        if name == b"content-type":
            kind = value
    return kind.startswith((b"application/json", b"application/problem+json", b"text/"))


def _is_problem(headers: Headers) -> bool:
    return _first(headers, b"content-type").startswith(PROBLEM_JSON.encode())


def _first(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes:
    """The first value of header `name` (lower case), or b""."""
    for key, value in headers:
        if key == name:
            return value
    return b""


def add_vary(headers: Headers, value: bytes) -> Headers:
    """`headers` with `value` added to Vary, as Starlette's headers do it (one Vary line)."""
    existing = [v for k, v in headers if k == b"vary"]
    if not existing:
        return [*headers, (b"vary", value)]
    joined = b", ".join([*existing, value])
    merged: Headers = []
    for key, old in headers:
        if key != b"vary":
            merged.append((key, old))
        elif joined:
            merged.append((key, joined))
            joined = b""
    return merged


def _request_id(given: bytes | None) -> str:
    """The client's X-Request-ID when it is a plain token, otherwise a new one."""
    if given is not None and _SANE_REQUEST_ID.fullmatch(given):
        return given.decode("ascii")
    # 16 random bytes as hex: as unique as a UUID4 for a tenth of its cost (0.5 us, not 5).
    return secrets.token_hex(16)


def _route_path(scope: Scope) -> str:
    """The path the app routes on (behind any root path)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :]
    return path
