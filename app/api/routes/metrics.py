"""Prometheus metrics: requests by route, latencies, and the ingest runs in the database."""

from fastapi import APIRouter, Request, Response

from app.observability import PROMETHEUS_MEDIA_TYPE, render_metrics

router = APIRouter(tags=["health"])


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
