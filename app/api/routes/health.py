"""Liveness and readiness probes."""

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import SingleValues
from app.api.responses import INVALID
from app.db import SCHEMA_HEAD
from app.models import CONTENT_VERSION
from app.schemas import Health

# Unknown query parameters are a 422 here too (app.api.deps.single_values).
router = APIRouter(tags=["health"], dependencies=[SingleValues], responses=INVALID)


@router.get("/healthz", operation_id="health")
async def healthz() -> Health:
    """The process is up (it does not touch the database)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="ready",
    responses={503: {"model": Health, "description": "Database unreachable or schema behind"}},
)
async def readyz(request: Request, response: Response) -> Health:
    """The database answers and its schema is at the revision this code expects."""
    try:
        # In the threadpool: connecting can wait (a full pool, an unreachable server), and
        # a probe must never make the event loop wait with it.
        version, revision = await run_in_threadpool(_versions, request.app.state.engine)
    except SQLAlchemyError as error:
        response.status_code = 503
        return Health(status=f"database unavailable: {type(error).__name__}")
    if revision != SCHEMA_HEAD:
        response.status_code = 503
        return Health(status="schema behind: run `learnlog migrate`", schema_revision=revision)
    return Health(status="ok", content_version=version, schema_revision=revision)


def _versions(engine: Engine) -> tuple[int | None, str | None]:
    """The content version and the schema revision the database holds."""
    with engine.connect() as conn:
        version = conn.execute(CONTENT_VERSION).scalar()
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return version, revision
