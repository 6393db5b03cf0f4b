"""Request and answer size limits: an over-long query string (414) and an over-large answer (422).

The other request limits live with the parameters they guard (`deps.py`: values per
parameter, characters per value, cursor length, `limit`); the query time limit is
`db.time_limit`, applied to every request's connection. The edge (`app.asgi.edge`)
refuses over-long query strings before any routing; `ResponseSizeLimit` caps the
framework's answers and the edge caps those of the quick lanes the same way.
"""

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_JSON, problem

# Fifty values of a parameter at 200 characters each, percent-encoded, still fit well
# under this; nothing a person or a frontend builds comes close.
MAX_QUERY_BYTES = 16 * 1024


def uri_too_long(length: int) -> JSONResponse:
    """The 414 for a query string of `length` bytes."""
    detail = f"the query string is {length} bytes; at most {MAX_QUERY_BYTES} are read"
    return problem(414, "URI too long", detail, "/problems/uri-too-long")


def answer_too_large(size: int, max_response_bytes: int) -> JSONResponse:
    """The 422 replacing an answer of `size` bytes over the limit."""
    detail = (
        f"the answer would be {size / 1e6:.1f} MB, more than the limit of "
        f"{max_response_bytes / 1e6:.1f} MB (LEARNLOG_MAX_RESPONSE_BYTES); "
        "ask for fewer items with `limit`"
    )
    return problem(422, "Answer too large", detail, "/problems/answer-too-large")


class ResponseSizeLimit:
    """Refuse answers over `max_response_bytes` (measured before compression)."""

    def __init__(self, app: ASGIApp, max_response_bytes: int) -> None:
        self.app = app
        self.max_response_bytes = max_response_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call; only HTTP answers are checked."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = False

        async def capped(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                size = int(headers.get("content-length", 0))
                problem_answer = headers.get("content-type", "").startswith(PROBLEM_JSON)
                if size > self.max_response_bytes and not problem_answer:
                    refused = True
                    answer = answer_too_large(size, self.max_response_bytes)
                    await answer(scope, receive, send)
                    return
            elif refused:
                return  # the body of the answer that was refused
            await send(message)

        await self.app(scope, receive, capped)
