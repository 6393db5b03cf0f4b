"""The API's root: where a person or a client lands first (the address uvicorn prints)."""

from html import escape

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app import __version__
from app.api.deps import SingleValues
from app.api.responses import INVALID, TOO_LONG
from app.reader import READER_PATH
from app.schemas import Landing, LandingLinks

# Unknown query parameters are a 422 here too (app.api.deps.single_values).
router = APIRouter(tags=["about"], dependencies=[SingleValues], responses=INVALID)

HTML = "text/html"
JSON = "application/json"

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>learnlog {version}</title></head>
<body>
<h1>learnlog {version}</h1>
<p>A read-only JSON API over Markdown learning logs.</p>
<ul>
{items}
</ul>
</body>
</html>
"""

_LABELS = {
    "docs": "API documentation",
    "openapi": "OpenAPI document",
    "entries": "Entries",
    "posts": "Posts",
    "domains": "Domains",
    "reader": "Reader",
}


def _quality(accept: str, media_type: str) -> float:
    """The weight `accept` gives `media_type` itself (0 when it is not named)."""
    best = 0.0
    for part in accept.split(","):
        name, *params = (piece.strip() for piece in part.split(";"))
        if name.lower() != media_type:
            continue
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        best = max(best, weight)
    return best


def wants_html(accept: str) -> bool:
    """True when `accept` prefers HTML to JSON (a browser); `*/*` and ties get JSON."""
    return _quality(accept, HTML) > _quality(accept, JSON)


@router.get(
    "/",
    operation_id="landing",
    response_model=Landing,
    responses={
        200: {
            "description": "The API's name, version and links: JSON, or an HTML page for a "
            "browser (`Accept: text/html`).",
            "content": {HTML: {"schema": {"type": "string", "description": "An HTML page."}}},
        },
        **TOO_LONG,
    },
)
async def landing(request: Request, response: Response) -> Landing | HTMLResponse:
    """The API's name and version, with links to its docs, main lists and reader."""
    base = str(request.base_url)
    reader = f"{base}{READER_PATH.lstrip('/')}/" if request.app.state.settings.reader else None
    answer = Landing(
        name="learnlog",
        version=__version__,
        links=LandingLinks(
            docs=f"{base}docs",
            openapi=f"{base}openapi.json",
            entries=f"{base}entries",
            posts=f"{base}posts",
            domains=f"{base}domains",
            reader=reader,
        ),
    )
    # One address, two representations: caches must key them on Accept.
    response.headers["Vary"] = "Accept"
    if not wants_html(request.headers.get("accept", "")):
        return answer
    items = "\n".join(
        f'<li><a href="{escape(url)}">{_LABELS[name]}</a></li>'
        for name, url in answer.links.model_dump().items()
        if url is not None
    )
    page = _PAGE.format(version=escape(__version__), items=items)
    return HTMLResponse(page, headers={"Vary": "Accept"})
