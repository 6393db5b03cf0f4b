"""Timeline: how many entries and links each day, week, month or year holds."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.api.deps import Conditional, ConnectionDep, FiltersDep
from app.api.memo import per_version
from app.api.responses import READ
from app.queries.timeline import timeline
from app.schemas import Timeline, TimelineBucket
from app.vocabulary import Interval

router = APIRouter(tags=["timeline"])


@router.get("/timeline", operation_id="getTimeline", dependencies=[Conditional], responses=READ)
async def get_timeline(
    request: Request,
    conn: ConnectionDep,
    filters: FiltersDep,
    interval: Annotated[
        Interval,
        Query(description="Period length: day, week (ISO, from Monday), month or year."),
    ] = "month",
) -> Timeline:
    """Matching entries and their links per period, oldest first; undated entries are left out."""

    def answer() -> Timeline:
        buckets = timeline(conn, filters=filters, interval=interval)
        return Timeline(
            interval=interval,
            buckets=[TimelineBucket.model_validate(b, from_attributes=True) for b in buckets],
        )

    return await per_version(request, ("timeline", filters, interval), answer)
