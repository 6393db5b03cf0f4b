"""Errors the API can answer with, and the one handler rendering them as RFC 9457 problems."""

from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """Base of every expected error; carries its HTTP status and problem type."""

    status = 500
    title = "Internal Server Error"
    type = "about:blank"

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class InvalidParameter(AppError):
    """A query parameter that cannot be used (422), naming the parameter."""

    status = 422
    title = "Invalid parameter"
    type = "/problems/invalid-parameter"

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}", [{"param": param, "message": message}])


class NotFound(AppError):
    """An unknown id or slug (404)."""

    status = 404
    title = "Not found"
    type = "/problems/not-found"


class NotModified(AppError):
    """The client's cached copy is current (304, no body)."""

    status = 304
    title = "Not modified"

    def __init__(self, etag: str) -> None:
        super().__init__("not modified")
        self.etag = etag


class Unauthorized(AppError):
    """No credentials where they are required (401, with a Bearer challenge)."""

    status = 401
    title = "Unauthorized"
    type = "/problems/unauthorized"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="learnlog admin"'}


class Forbidden(AppError):
    """Credentials that do not grant this (403)."""

    status = 403
    title = "Forbidden"
    type = "/problems/forbidden"


class Conflict(AppError):
    """The request collides with work in progress (409)."""

    status = 409
    title = "Conflict"
    type = "/problems/conflict"


class Unavailable(AppError):
    """The database cannot answer right now (503)."""

    status = 503
    title = "Service unavailable"
    type = "/problems/unavailable"


class QueryTimeout(Unavailable):
    """A query ran past the time limit and was cancelled (503, worth retrying later)."""

    title = "Query took too long"
    type = "/problems/query-timeout"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "5"}

    def __init__(self, milliseconds: int) -> None:
        super().__init__(
            f"the query ran longer than {milliseconds} ms (LEARNLOG_QUERY_TIMEOUT_MS) and was "
            "cancelled; narrow the filters or try again later"
        )


def problem(
    status: int, title: str, detail: str, type_: str, errors: list[dict[str, str]] | None = None
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error, expected or not, as problem+json."""

    async def app_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        if isinstance(exc, NotModified):
            headers = {"ETag": exc.etag, "Cache-Control": "public, max-age=0, must-revalidate"}
            return Response(status_code=304, headers=headers)
        answer = problem(exc.status, exc.title, exc.detail, exc.type, exc.errors)
        answer.headers.update(getattr(exc, "headers", {}))
        return answer

    async def validation_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                # ("query", "status", 0) names the parameter `status`, not `status.0`.
                "param": ".".join(str(part) for part in err["loc"][1:] if not isinstance(part, int))
                or str(err["loc"][0]),
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['param']}: {e['message']}" for e in errors)
        return problem(422, "Invalid parameter", detail, InvalidParameter.type, errors)

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        answer = problem(
            exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail), "about:blank"
        )
        # A 405 names the methods the resource has in `Allow` (RFC 9110): keep such headers.
        answer.headers.update(exc.headers or {})
        return answer

    async def unexpected(_request: Request, _exc: Exception) -> Response:
        return problem(500, "Internal Server Error", "unexpected error", "about:blank")

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


_TITLES = {404: "Not found", 405: "Method not allowed", 406: "Not acceptable"}
