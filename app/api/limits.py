"""Request and answer size limits: an over-long query string (414) and an over-large answer (422).

The other request limits live with the parameters they guard (`deps.py`: values per
parameter, characters per value, cursor length, `limit`); the query time limit is
`db.time_limit`, applied to every request's connection.
"""

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_JSON, problem

# Fifty values of a parameter at 200 characters each, percent-encoded, still fit well
# under this; nothing a person or a frontend builds comes close.
MAX_QUERY_BYTES = 16 * 1024


class SizeLimitMiddleware:
    """Refuse query strings over MAX_QUERY_BYTES and answers over `max_response_bytes`."""

    def __init__(self, app: ASGIApp, max_response_bytes: int) -> None:
        self.app = app
        self.max_response_bytes = max_response_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call; only HTTP requests are checked."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = len(scope.get("query_string", b""))
        if length > MAX_QUERY_BYTES:
            detail = f"the query string is {length} bytes; at most {MAX_QUERY_BYTES} are read"
            answer = problem(414, "URI too long", detail, "/problems/uri-too-long")
            await answer(scope, receive, send)
            return
        refused = False

        async def capped(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                size = int(Headers(raw=message["headers"]).get("content-length", 0))
                if size > self.max_response_bytes and not _is_problem(message):
                    refused = True
                    await self._too_large(size, scope, receive, send)
                    return
            elif refused:
                return  # the body of the answer that was refused
            await send(message)

        await self.app(scope, receive, capped)

    async def _too_large(self, size: int, scope: Scope, receive: Receive, send: Send) -> None:
        detail = (
            f"the answer would be {size / 1e6:.1f} MB, more than the limit of "
            f"{self.max_response_bytes / 1e6:.1f} MB (LEARNLOG_MAX_RESPONSE_BYTES); "
            "ask for fewer items with `limit`"
        )
        answer = problem(422, "Answer too large", detail, "/problems/answer-too-large")
        await answer(scope, receive, send)


def _is_problem(message: Message) -> bool:
    return Headers(raw=message["headers"]).get("content-type", "").startswith(PROBLEM_JSON)
