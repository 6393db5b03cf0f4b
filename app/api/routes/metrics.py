"""Prometheus metrics: requests by route, latencies, and the ingest runs in the database."""

from fastapi import APIRouter, Request, Response

from app.api.deps import SingleValues
from app.api.responses import INVALID
from app.observability import PROMETHEUS_MEDIA_TYPE, render_metrics

# Unknown query parameters are a 422 here too (app.api.deps.single_values).
router = APIRouter(tags=["health"], dependencies=[SingleValues], responses=INVALID)


class PrometheusResponse(Response):
    """The Prometheus text exposition format."""

    media_type = PROMETHEUS_MEDIA_TYPE


# A plain `def`: the scrape reads the database, so it runs in the threadpool rather than
# holding the event loop; one scrape every few seconds costs the pool little.
@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=PrometheusResponse,
    responses={
        200: {
            "description": "Metrics in the Prometheus text format, version 0.0.4.",
            "content": {PROMETHEUS_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
def metrics(request: Request) -> Response:
    """Request counts and latencies of this process, and ingest figures from the database."""
    body = render_metrics(request.app.state.metrics_registry)
    return PrometheusResponse(body, headers={"Cache-Control": "no-store"})
