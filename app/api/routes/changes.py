"""Changes: what a static-site build or a cache needs to sync incrementally."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from app.api.deps import Conditional, ConnectionDep, ViewerDep
from app.api.responses import READ
from app.errors import InvalidParameter
from app.queries.changes import changes_since, current_version
from app.schemas import ChangesOut

router = APIRouter(tags=["changes"])


@router.get("/changes", operation_id="listChanges", dependencies=[Conditional], responses=READ)
async def changes(
    conn: ConnectionDep,
    who: ViewerDep,
    since: Annotated[
        int,
        Query(
            description="A content version from an earlier answer's `version` "
            "(0 lists every post as added).",
            ge=0,
            le=2**53,
        ),
    ] = 0,
) -> ChangesOut:
    """Posts added, updated and deleted after content version `since`.

    Keep the answer's `version` and pass it as `since` next time. A post that changed
    several times is listed once; a slug change counts as an update. A `since` newer than
    this database's version (a database rebuilt from scratch) is refused: start again
    from 0. Drafts are listed only with the preview token; a scheduled post is added at
    the version it went live.
    """
    version = current_version(conn)
    if since > version:
        raise InvalidParameter(
            "since", f"this database is at content version {version}; start again from 0"
        )
    # From version 0 that is every post ever stored (60 ms at 10,000 posts): threadpool.
    found = await run_in_threadpool(changes_since, conn, since, include_drafts=who.preview)
    return ChangesOut(
        since=since,
        version=found.version,
        added=found.added,
        updated=found.updated,
        deleted=found.deleted,
    )
