"""The ASGI application: `create_app(settings)` for tests and servers, `app` for uvicorn."""

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.gzip import GZipMiddleware
from fastapi_offline import FastAPIOffline

from app import __version__
from app.api.limits import ResponseSizeLimit
from app.api.memo import PerVersion
from app.api.routes import (
    admin,
    changes,
    entries,
    feeds,
    graph,
    health,
    landing,
    metrics,
    posts,
    search,
    taxonomy,
    timeline,
    urls,
)
from app.asgi.edge import GZIP_LEVEL, GZIP_MINIMUM_SIZE, Edge
from app.db import REQUEST_CONNECTIONS, make_engine
from app.errors import install_error_handlers
from app.folders.location import database_url
from app.observability import configure_logging, install_observability
from app.publishing.loop import Clock, publishing_loop, utc_clock
from app.queries.entry_index import IndexHolder, LoopReader
from app.reader import READER_PATH, mount_reader
from app.schemas import EDIT_URL_TEMPLATE
from app.search.index import SEARCH_INDEXES
from app.security import docs_pages
from app.settings import Settings, get_settings

DESCRIPTION = """
Filtered, paginated JSON over Markdown learning logs.

Every list answers `{"items": [...], "next": url-or-null, "total": n}` and sends the
next page's URL in a `Link: rel="next"` header too. Filters combine: a repeated
parameter means any of its values, different parameters must all hold. Every GET
carries an `ETag`; send it back in `If-None-Match` to get `304 Not Modified`.
Errors are `application/problem+json` (RFC 9457).
"""


def create_app(settings: Settings | None = None, *, clock: Clock = utc_clock) -> FastAPI:
    """Build the API; the database engine is created when the app starts, not at import.

    While it runs, so does the publishing loop (unless LEARNLOG_PUBLISHING=false), on
    `clock` (tests give it one they move).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Here rather than at build time: uvicorn applies its own logging config in between.
        configure_logging(settings.log_format)
        app.state.engine = make_engine(database_url(settings), serving=True)
        app.state.connection_slots = asyncio.Semaphore(REQUEST_CONNECTIONS)
        app.state.entry_index = IndexHolder(app.state.engine)
        app.state.entry_index.when_installed(
            lambda built: SEARCH_INDEXES.prepare(app.state.engine, built)
        )
        app.state.loop_reader = LoopReader.of(app.state.engine, settings.query_timeout_ms)
        await run_in_threadpool(app.state.entry_index.warm)
        # What exists now (framework, routes, the index) lives as long as the app. Frozen,
        # it is out of the cycle collector's sight: a full collection walks only what came
        # later (55 ms at 300k entries otherwise, waited out by every request in flight).
        gc.freeze()
        stop = asyncio.Event()
        loop = None
        if settings.publishing:
            loop = asyncio.create_task(
                publishing_loop(app.state.engine, settings, clock=clock, stop=stop),
                name="publishing-loop",
            )
        try:
            yield
        finally:
            stop.set()
            if loop is not None:
                await loop
            if app.state.loop_reader is not None:
                app.state.loop_reader.close()
            app.state.engine.dispose()

    async def edit_urls() -> None:
        """Let `source.edit_url` in this request's answer use this app's template."""
        EDIT_URL_TEMPLATE.set(settings.edit_url_template)

    app = FastAPIOffline(
        title="learnlog",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(edit_urls)],
    )
    app.state.settings = settings
    app.state.vocabularies = PerVersion[Any]()
    install_error_handlers(app)
    # Innermost: it measures the framework's answers before compression.
    app.add_middleware(ResponseSizeLimit, max_response_bytes=settings.max_response_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
    # Outermost: request id, metrics (timing the whole answer), security headers, HEAD and
    # CORS in one layer, and the quick lanes ahead of the framework.
    app.add_middleware(
        Edge,
        metrics=install_observability(app),
        docs_pages=docs_pages(app),
        reader_prefix=f"{READER_PATH}/" if settings.reader else None,
        cors={
            "allow_origins": settings.cors_origins,
            "allow_methods": ["GET", "HEAD", "OPTIONS"],
            # Authorization: a preview frontend on another origin sends the preview token.
            "allow_headers": ["If-None-Match", "Authorization"],
            "expose_headers": ["ETag", "Link"],
        },
        lanes={"/entries": entries.quick_entries, "/search": search.quick_search},
        max_response_bytes=settings.max_response_bytes,
    )
    routers = [entries, posts, search, feeds, taxonomy, urls, timeline, changes, admin]
    routers += [graph, health, metrics, landing]
    for module in routers:
        app.include_router(module.router)
    if settings.reader:
        mount_reader(app)
    return app


def __getattr__(name: str) -> FastAPI:
    """`app.main:app` for ASGI servers, built on first access (never at import)."""
    if name == "app":
        return create_app()
    raise AttributeError(name)
