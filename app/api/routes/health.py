"""Liveness and readiness probes."""

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import SQLAlchemyError

from app.db import SCHEMA_HEAD
from app.models import CONTENT_VERSION
from app.schemas import Health

router = APIRouter(tags=["health"])


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
        with request.app.state.engine.connect() as conn:
            version = conn.execute(CONTENT_VERSION).scalar()
            revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except SQLAlchemyError as error:
        response.status_code = 503
        return Health(status=f"database unavailable: {type(error).__name__}")
    if revision != SCHEMA_HEAD:
        response.status_code = 503
        return Health(status="schema behind: run `learnlog migrate`", schema_revision=revision)
    return Health(status="ok", content_version=version, schema_revision=revision)
