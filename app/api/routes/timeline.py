"""Timeline: how many entries and links each day, week, month or year holds."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from app.api.deps import Conditional, ConnectionDep, FiltersDep
from app.api.responses import READ
from app.queries.timeline import Interval, timeline
from app.schemas import Timeline, TimelineBucket

router = APIRouter(tags=["timeline"])


@router.get("/timeline", operation_id="getTimeline", dependencies=[Conditional], responses=READ)
async def get_timeline(
    conn: ConnectionDep,
    filters: FiltersDep,
    interval: Annotated[
        Interval,
        Query(description="Period length: day, week (ISO, from Monday), month or year."),
    ] = "month",
) -> Timeline:
    """Matching entries and their links per period, oldest first; undated entries are left out."""
    # A broad timeline reads every matching entry and its links (hundreds of ms on the
    # design corpus): the threadpool takes it so that the event loop keeps serving.
    buckets = await run_in_threadpool(timeline, conn, filters=filters, interval=interval)
    return Timeline(
        interval=interval,
        buckets=[TimelineBucket.model_validate(bucket, from_attributes=True) for bucket in buckets],
    )
