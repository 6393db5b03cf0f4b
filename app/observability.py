"""What an operator sees: request metrics, ingest figures for Prometheus, and JSON log lines.

Request counts and latencies live in each process (Prometheus scrapes every replica);
ingest figures are read from the database at scrape time, so every replica reports the
same runs whichever of them, or which CLI, ran the ingest.
"""

import datetime as dt
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any, Literal, TextIO

import orjson
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, RowMapping, func, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Scope

from app.models import CONTENT_VERSION, RUNS

# The Prometheus text format, version 0.0.4: what every scraper reads.
PROMETHEUS_MEDIA_TYPE = "text/plain; version=0.0.4"

# The route label of a request no route matched: raw paths would make labels unbounded.
UNMATCHED = "unmatched"

# The hot list routes answer in 1-2 ms, so the buckets start well below the defaults.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Statuses an ingest run takes (app/ingest/sync.py); each is reported even at zero.
RUN_STATUSES = ("running", "ok", "failed")
RUN_FILE_OUTCOMES = ("added", "updated", "unchanged", "deleted", "failed", "skipped_drafts")

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the request being handled, for every log line written while handling it."""

logger = logging.getLogger(__name__)


class HttpMetrics:
    """Request counts by route template and status, and latencies by route template."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "learnlog_http_requests",
            "HTTP requests answered, by route template and status code.",
            ["route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "learnlog_http_request_duration_seconds",
            "Time from receiving a request to sending the last byte of its answer.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        # `labels()` takes a lock and builds a key on every call; the children are cached.
        self._counters: dict[tuple[str, int], Counter] = {}
        self._histograms: dict[str, Histogram] = {}

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one answered request and record how long it took."""
        counter = self._counters.get((route, status))
        if counter is None:
            counter = self._counters[route, status] = self.requests.labels(route, str(status))
        counter.inc()
        histogram = self._histograms.get(route)
        if histogram is None:
            histogram = self._histograms[route] = self.latency.labels(route)
        histogram.observe(seconds)


class IngestCollector(Collector):
    """Ingest runs and the content version, read from the database at each scrape."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self._engine = engine

    def collect(self) -> Iterable[Metric]:
        """The ingest figures, plus whether the database could be read at all."""
        engine = self._engine()
        figures: list[Metric] | None = None
        if engine is not None:
            try:
                figures = ingest_figures(engine)
            except SQLAlchemyError as error:
                logger.warning("metrics: cannot read ingest figures (%s)", type(error).__name__)
        up = GaugeMetricFamily(
            "learnlog_database_up", "1 when this scrape could read the ingest figures, else 0."
        )
        up.add_metric([], 1 if figures is not None else 0)
        return [up, *(figures or [])]


class IndexCollector:
    """How often this process built its in-memory entry index, and for which version."""

    def __init__(self, holder: Callable[[], Any]) -> None:
        self._holder = holder

    def collect(self) -> Iterable[Metric]:
        """The build count and the version of the index in use (absent before the first)."""
        holder = self._holder()
        if holder is None:
            return []
        builds = CounterMetricFamily(
            "learnlog_entry_index_builds",
            "Entry indexes this process built (once per content version it served at most).",
        )
        builds.add_metric([], holder.builds)
        figures: list[Metric] = [builds]
        if holder.current is not None:
            figures.append(
                GaugeMetricFamily(
                    "learnlog_entry_index_version",
                    "Content version of the entry index this process answers from.",
                    value=holder.current.version,
                )
            )
        return figures


def ingest_figures(engine: Engine) -> list[Metric]:
    """The content version, runs by status and what the newest run did."""
    with engine.connect() as conn:
        version = conn.execute(CONTENT_VERSION).scalar()
        counts = select(RUNS.c.status, func.count()).group_by(RUNS.c.status)
        by_status: dict[str, int] = dict(conn.execute(counts).all())
        newest = (
            conn.execute(
                select(
                    RUNS.c.status,
                    RUNS.c.started_at,
                    RUNS.c.finished_at,
                    RUNS.c.warnings,
                    RUNS.c.content_version,
                    *(RUNS.c[outcome] for outcome in RUN_FILE_OUTCOMES),
                )
                .order_by(RUNS.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
    figures: list[Metric] = []
    if version is not None:
        figures.append(
            GaugeMetricFamily(
                "learnlog_content_version",
                "Content version of the database: it goes up with every ingest that changed it.",
                value=version,
            )
        )
    runs = GaugeMetricFamily(
        "learnlog_ingest_runs",
        "Ingest runs recorded in the database, by status.",
        labels=["status"],
    )
    for status in sorted({*RUN_STATUSES, *by_status}):
        runs.add_metric([status], by_status.get(status, 0))
    figures.append(runs)
    if newest is not None:
        figures.extend(_newest_run(newest))
    return figures


def _newest_run(run: RowMapping) -> Iterator[Metric]:
    """Figures of the most recently started run (its finish time once it has one)."""
    status = GaugeMetricFamily(
        "learnlog_ingest_last_run_status",
        "1 for the status of the most recently started ingest run, 0 for the others.",
        labels=["status"],
    )
    for name in sorted({*RUN_STATUSES, run["status"]}):
        status.add_metric([name], 1 if name == run["status"] else 0)
    yield status
    yield GaugeMetricFamily(
        "learnlog_ingest_last_run_started_timestamp_seconds",
        "When the most recently started ingest run started (Unix time).",
        value=_unix_time(run["started_at"]),
    )
    if run["finished_at"] is not None:
        yield GaugeMetricFamily(
            "learnlog_ingest_last_run_finished_timestamp_seconds",
            "When the most recently started ingest run finished (Unix time).",
            value=_unix_time(run["finished_at"]),
        )
    files = GaugeMetricFamily(
        "learnlog_ingest_last_run_files",
        "Files the most recently started ingest run handled, by outcome.",
        labels=["outcome"],
    )
    for outcome in RUN_FILE_OUTCOMES:
        files.add_metric([outcome], run[outcome])
    yield files
    yield GaugeMetricFamily(
        "learnlog_ingest_last_run_warnings",
        "Warnings the most recently started ingest run recorded.",
        value=run["warnings"],
    )
    yield GaugeMetricFamily(
        "learnlog_ingest_last_run_content_version",
        "Content version the most recently started ingest run ended at (0 while running).",
        value=run["content_version"],
    )


def _unix_time(moment: dt.datetime) -> float:
    """Seconds since the epoch; the columns hold UTC without a zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (never the raw path), or UNMATCHED."""
    # API routes leave themselves in the scope; plain Starlette routes and mounts (the
    # OpenAPI document, the docs' static files) leave only their endpoint.
    route = scope.get("route")
    if route is None and (endpoint := scope.get("endpoint")) is not None:
        candidates = getattr(scope.get("router"), "routes", ())
        route = next((r for r in candidates if _serves(r, endpoint)), None)
    template = getattr(route, "path_format", None)
    return template if isinstance(template, str) and template else UNMATCHED


def _serves(route: object, endpoint: object) -> bool:
    """Whether `route` is the route (or mount) whose endpoint is `endpoint`."""
    return getattr(route, "endpoint", None) is endpoint or getattr(route, "app", None) is endpoint


def install_observability(app: FastAPI) -> HttpMetrics:
    """Give `app` its own metrics registry; the request metrics, for the edge to update."""
    # One registry per app: tests build many apps, and the global one would refuse
    # to register the same metric names twice.
    registry = CollectorRegistry()
    metrics = HttpMetrics(registry)
    registry.register(IngestCollector(lambda: getattr(app.state, "engine", None)))
    registry.register(IndexCollector(lambda: getattr(app.state, "entry_index", None)))
    app.state.metrics_registry = registry
    return metrics


def render_metrics(registry: CollectorRegistry) -> bytes:
    """Everything in `registry`, in the Prometheus text format."""
    return generate_latest(registry)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the request's id."""

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as a single line of JSON."""
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


class JsonLogHandler(logging.StreamHandler[TextIO]):
    """The handler `configure_logging` installs on the root logger in JSON mode."""


class WithoutQueryString(logging.Filter):
    """Cut the query string from uvicorn's access lines: it may carry tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the path argument of an access record; never drop the record."""
        args = record.args
        # uvicorn logs (client, method, path with query, HTTP version, status).
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].partition("?")[0], *args[3:])
        return True


def configure_logging(log_format: Literal["text", "json"]) -> None:
    """Strip query strings from access lines; in JSON mode, make every line one JSON object.

    Called when the app starts, after uvicorn has applied its own logging config, so that
    uvicorn's loggers are rerouted rather than set up again over ours.
    """
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, WithoutQueryString) for f in access.filters):
        access.addFilter(WithoutQueryString())
    if log_format != "json":
        return
    root = logging.getLogger()
    # Replace a handler an earlier app installed: its stream may be stale.
    for handler in [h for h in root.handlers if isinstance(h, JsonLogHandler)]:
        root.removeHandler(handler)
    handler = JsonLogHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_logger = logging.getLogger(name)
        # A logger without handlers that does not propagate was switched off
        # (`--no-access-log`); the others send their lines to the root handler.
        if server_logger.handlers:
            server_logger.handlers.clear()
            server_logger.propagate = True
