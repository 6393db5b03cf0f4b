"""What each operation documents besides its success: problem bodies, 304 and 503.

The answers listed here are the ones the API really gives, each with the media type it
really has, so that the OpenAPI document tells the truth and contract tests hold it to it.
"""

from typing import Any

from app.errors import PROBLEM_JSON
from app.schemas import Problem

Responses = dict[int | str, dict[str, Any]]

# Inline rather than `model=Problem`: FastAPI files a response model under the route's own
# media type (application/json, Atom, JSON Feed), and a problem is application/problem+json.
_PROBLEM_SCHEMA = Problem.model_json_schema()


def problem(description: str) -> dict[str, Any]:
    """One error answer, documented as an RFC 9457 problem document."""
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _PROBLEM_SCHEMA}}}


INVALID: Responses = {
    422: problem(
        "Invalid parameter (`errors` names each one and why), or an answer larger than "
        "the configured limit"
    )
}
UNAVAILABLE: Responses = {
    503: problem(
        "The database cannot answer right now, or the query ran past the time limit "
        "(`Retry-After` says when to try again)"
    )
}
TOO_LONG: Responses = {414: problem("The query string is longer than 16 KiB")}
NOT_MODIFIED: Responses = {
    304: {"description": "Not modified: the `If-None-Match` ETag is still current (no body)."}
}

PREVIEW: Responses = {
    401: problem("`include_drafts=true` without the preview token"),
    403: problem("A bearer token that is neither the preview nor the admin token"),
}

# A read that takes parameters and answers conditional GETs: every list and lookup.
READ: Responses = {**NOT_MODIFIED, **PREVIEW, **INVALID, **TOO_LONG, **UNAVAILABLE}


def not_found(description: str) -> Responses:
    """A 404 for an unknown id or slug."""
    return {404: problem(description)}
