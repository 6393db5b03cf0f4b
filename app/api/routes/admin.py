"""Admin: trigger an ingest (say, from a git push hook), read the ingest history and the
webhook deliveries.

Off unless LEARNLOG_ADMIN_TOKEN is set; then every call needs `Authorization: Bearer
<token>` (compared in constant time, never logged or echoed; no CORS: browsers on other
origins cannot call these). One ingest at a time per database, across processes: a
trigger while any ingest holds the lock gets 409.
"""

import functools
import logging
import queue
import threading
from contextlib import ExitStack
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from app.api.deps import ConnectionDep, SingleValues
from app.api.responses import INVALID, UNAVAILABLE, Responses, not_found, problem
from app.errors import Conflict, Forbidden, NotFound, Unauthorized, Unavailable
from app.ingest.lock import IngestBusy, ingest_lock
from app.ingest.pipeline import run_ingest
from app.ingest.problems import escaped
from app.ingest.sync import RecordedProblem, Writer
from app.publishing.schemas import DeliveryOut, DeliveryStatus
from app.queries.deliveries import list_deliveries
from app.queries.runs import list_runs
from app.schemas import IngestStarted, RunOut
from app.security import token_matches
from app.settings import Settings

logger = logging.getLogger(__name__)

ADMIN_ERRORS: Responses = {
    401: problem("No bearer token"),
    403: problem("Wrong token"),
    404: problem("Admin endpoints are off (no token configured)"),
    **UNAVAILABLE,
}


async def require_admin(
    request: Request,
    authorization: Annotated[
        str | None, Header(description="`Bearer <LEARNLOG_ADMIN_TOKEN>`.")
    ] = None,
) -> None:
    """Let the request through only with the configured bearer token."""
    settings: Settings = request.app.state.settings
    if settings.admin_token is None:
        raise NotFound("admin endpoints are off: set LEARNLOG_ADMIN_TOKEN to turn them on")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("send the admin token as `Authorization: Bearer <token>`")
    if not token_matches(given, [settings.admin_token]):
        raise Forbidden("that token does not open the admin endpoints")


router = APIRouter(
    tags=["admin"], dependencies=[Depends(require_admin), SingleValues], responses=ADMIN_ERRORS
)

# How long a trigger waits for the run to be recorded before answering.
_START_TIMEOUT_S = 30
# How long a trigger waits for the lock: a run that has recorded its end is still letting
# go of it, and a trigger right after it must start, not answer 409.
_LOCK_WAIT_S = 5


@router.post(
    "/admin/ingest",
    operation_id="startIngest",
    status_code=202,
    responses={**INVALID, 409: problem("An ingest is already running on this database")},
)
async def start_ingest(request: Request) -> IngestStarted:
    """Re-ingest the content folder in the background; answers once the run is recorded.

    Only changed files are parsed again. The run's outcome (counts, per-file failures and
    warnings) appears at `/admin/runs/{run_id}` when it finishes.
    """
    run_id = await run_in_threadpool(_start, request.app.state.engine, request.app.state.settings)
    return IngestStarted(run_id=run_id, href=f"/admin/runs/{run_id}")


def _start(engine: Engine, settings: Settings) -> int:
    """Take the ingest lock here (so a busy database answers 409), run in a thread."""
    held = ExitStack()
    try:
        held.enter_context(ingest_lock(engine, wait=_LOCK_WAIT_S))
    except IngestBusy as busy:
        raise Conflict(f"{busy}: try again when it has finished") from None
    started: queue.Queue[int | BaseException] = queue.Queue()

    def work() -> None:
        run: list[tuple[int, FilePath]] = []  # the run in progress, once it is recorded
        with held:
            try:
                for folder in settings.folders():  # one run per folder, in turn
                    run[:] = []
                    run_ingest(
                        engine,
                        folder,
                        max_file_bytes=settings.max_file_bytes,
                        aliases_file=settings.resolved_aliases_file(folder),
                        # Parse in this thread: forking worker processes from a threaded
                        # server is unsafe, and a triggered re-ingest parses what changed.
                        workers=1,
                        on_run=functools.partial(_recorded, started, run, folder),
                        locked=True,
                    )
            except BaseException as error:
                # Nobody else will see it: the request may have had its answer long ago.
                logger.error("admin ingest stopped: %s", _described(error), exc_info=error)
                if run:
                    _end_run(engine, *run[0], error)
                started.put(error)  # to the waiting request, if still waiting
                if not isinstance(error, Exception):
                    raise

    threading.Thread(target=work, name="admin-ingest", daemon=True).start()
    try:
        first = started.get(timeout=_START_TIMEOUT_S)
    except queue.Empty:
        raise Unavailable("the ingest did not start in time") from None
    if isinstance(first, BaseException):
        raise Unavailable(f"the ingest could not start: {type(first).__name__}") from None
    return first


def _recorded(
    started: "queue.Queue[int | BaseException]",
    run: list[tuple[int, FilePath]],
    folder: FilePath,
    run_id: int,
) -> None:
    """Note the run now in progress and tell the waiting request its id."""
    run[:] = [(run_id, folder)]
    started.put(run_id)


def _described(error: BaseException) -> str:
    """An exception as one printable line (file names in it may hold any bytes)."""
    return escaped(f"{type(error).__name__}: {error}")


def _end_run(engine: Engine, run_id: int, folder: FilePath, error: BaseException) -> None:
    """Mark a run that stopped on an exception failed, unless the ingest ended it itself."""
    try:
        with engine.connect() as conn:
            found = list_runs(conn, limit=1, run_id=run_id)
        if found and found[0]["status"] == "running":
            reason = f"the run stopped: {_described(error)}"
            problem = RecordedProblem("error", escaped(str(folder)), None, reason)
            Writer(engine).finish_run(run_id, {"failed": 1}, [problem])
    except Exception:  # the database itself may be what failed; the next run marks it
        logger.exception("could not mark ingest run %d as failed", run_id)


@router.get("/admin/runs", operation_id="listRuns", responses=INVALID)
async def runs(
    conn: ConnectionDep,
    limit: Annotated[
        int, Query(description="How many runs, newest first (1-100).", ge=1, le=100)
    ] = 20,
) -> list[RunOut]:
    """The ingest history, newest first, with each run's per-file failures and warnings."""
    return [RunOut.model_validate(run) for run in list_runs(conn, limit=limit)]


@router.get(
    "/admin/runs/{run_id}",
    operation_id="getRun",
    responses={**INVALID, **not_found("Admin endpoints are off, or no such run")},
)
async def run(
    conn: ConnectionDep,
    # Run ids are 32-bit integers in the database: a larger one would fail the query.
    run_id: Annotated[int, Path(description="Run id.", ge=1, le=2**31 - 1)],
) -> RunOut:
    """One ingest run with its per-file failures and warnings."""
    found = list_runs(conn, limit=1, run_id=run_id)
    if not found:
        raise NotFound(f"no ingest run {run_id}")
    return RunOut.model_validate(found[0])


@router.get("/admin/webhooks/deliveries", operation_id="listWebhookDeliveries", responses=INVALID)
async def deliveries(
    conn: ConnectionDep,
    limit: Annotated[
        int, Query(description="How many deliveries, newest first (1-200).", ge=1, le=200)
    ] = 50,
    status: Annotated[
        list[DeliveryStatus],
        Query(description="Keep deliveries in any of these states; repeat for several."),
    ] = [],  # noqa: B006 - FastAPI copies defaults per request
) -> list[DeliveryOut]:
    """Webhook deliveries, newest first: status, attempts, next attempt and last error."""
    found = list_deliveries(conn, limit=limit, status=tuple(dict.fromkeys(status)))
    return [DeliveryOut.model_validate(row) for row in found]
