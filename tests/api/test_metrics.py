"""/metrics, request ids and JSON log lines."""

import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from app.main import create_app
from app.observability import JsonLogHandler, configure_logging
from app.settings import Settings
from tests.conftest import Ingest

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient) -> Samples:
    """Every sample of one scrape, keyed by name and sorted labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_requests_counted_by_route_template_and_status(seeded: TestClient) -> None:
    for _ in range(3):
        assert seeded.get("/entries").status_code == 200
    assert seeded.get("/entries/999999").status_code == 404
    assert seeded.get("/no/such/page", params={"token": "t"}).status_code == 404
    samples = scrape(seeded)
    requests = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "learnlog_http_requests_total"
    }
    assert requests == {
        (("route", "/entries"), ("status", "200")): 3,
        (("route", "/entries/{entry_id}"), ("status", "404")): 1,
        (("route", "unmatched"), ("status", "404")): 1,
    }
    buckets = {
        dict(labels)["le"]: value
        for (name, labels), value in samples.items()
        if name == "learnlog_http_request_duration_seconds_bucket"
        and dict(labels)["route"] == "/entries"
    }
    assert len(buckets) > 10
    assert buckets["+Inf"] == 3
    assert samples["learnlog_http_request_duration_seconds_count", (("route", "/entries"),)] == 3
    # The scrape itself shows up in the next one.
    again = scrape(seeded)
    assert again["learnlog_http_requests_total", (("route", "/metrics"), ("status", "200"))] == 1


def test_ingest_figures_come_from_the_database(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    samples = scrape(seeded)
    version = seeded.get("/readyz").json()["content_version"]
    assert samples["learnlog_database_up", ()] == 1
    assert samples["learnlog_content_version", ()] == version
    assert samples["learnlog_ingest_last_run_content_version", ()] == version
    assert samples["learnlog_ingest_runs", (("status", "ok"),)] == 1
    assert samples["learnlog_ingest_last_run_status", (("status", "ok"),)] == 1
    assert samples["learnlog_ingest_last_run_files", (("outcome", "added"),)] == 1
    finished = samples["learnlog_ingest_last_run_finished_timestamp_seconds", ()]
    assert abs(time.time() - finished) < 300

    # A run that fails every file: the newest run is what the figures describe.
    (seed_dir / "2024-02-01-new.md").write_text("## GenAI\n* new\n")
    ingest(seed_dir, max_file_bytes=1)
    samples = scrape(seeded)
    assert samples["learnlog_ingest_runs", (("status", "ok"),)] == 1
    assert samples["learnlog_ingest_runs", (("status", "failed"),)] == 1
    assert samples["learnlog_ingest_runs", (("status", "running"),)] == 0
    assert samples["learnlog_ingest_last_run_status", (("status", "failed"),)] == 1
    assert samples["learnlog_ingest_last_run_status", (("status", "ok"),)] == 0
    assert samples["learnlog_ingest_last_run_files", (("outcome", "failed"),)] == 2
    assert samples["learnlog_ingest_last_run_files", (("outcome", "added"),)] == 0


def test_entry_index_builds_follow_the_content_versions_served(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    seeded.get("/entries")
    samples = scrape(seeded)
    builds = samples["learnlog_entry_index_builds_total", ()]
    assert builds >= 1
    assert samples["learnlog_entry_index_version", ()] == samples["learnlog_content_version", ()]
    for _ in range(3):
        seeded.get("/entries")
    assert scrape(seeded)["learnlog_entry_index_builds_total", ()] == builds  # same version
    (seed_dir / "2024-02-01-new.md").write_text("## GenAI\n* new\n")
    ingest(seed_dir)
    seeded.get("/entries")
    samples = scrape(seeded)
    assert samples["learnlog_entry_index_builds_total", ()] == builds + 1
    assert samples["learnlog_entry_index_version", ()] == samples["learnlog_content_version", ()]


def test_unreadable_database_is_reported_not_a_500(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unmigrated.db'}"))
    with TestClient(app) as client:
        samples = scrape(client)
    assert samples["learnlog_database_up", ()] == 0
    assert not any(name.startswith("learnlog_ingest_") for name, _ in samples)


def test_metrics_are_documented_as_prometheus_text(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/metrics"]["get"]
    assert operation["operationId"] == "metrics"
    assert list(operation["responses"]["200"]["content"]) == ["text/plain; version=0.0.4"]


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    sent = client.get("/healthz", headers={"X-Request-ID": "req-42.a:b"})
    assert sent.headers["X-Request-ID"] == "req-42.a:b"
    odd = client.get("/healthz", headers={"X-Request-ID": "two words"})
    made = client.get("/healthz")
    for response in (odd, made):
        assert len(response.headers["X-Request-ID"]) == 32
    assert odd.headers["X-Request-ID"] != made.headers["X-Request-ID"]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Put the root and uvicorn loggers back as they were: logging is process-wide."""
    loggers = [
        logging.getLogger(name)
        for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx")
    ]
    saved = [
        (logger, logger.level, logger.propagate, logger.handlers[:], logger.filters[:])
        for logger in loggers
    ]
    yield
    for logger, level, propagate, handlers, filters in saved:
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers
        logger.filters[:] = filters


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run `app` under uvicorn (its own logging config included) in a thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, http="h11", ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "server did not start"
            assert time.monotonic() < deadline, "server start timed out"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.mark.usefixtures("restored_logging")
def test_json_log_lines_carry_the_request_id(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url, log_format="json"))

    @app.get("/probe", include_in_schema=False)
    async def probe() -> None:
        logging.getLogger("app.probe").info("probing")

    @app.get("/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("boom")

    # The test's own HTTP client logs in this process too; only the server's lines count.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    secret = {"Authorization": "Bearer secret-header-value"}
    with serving(app) as base:
        handler = next(h for h in logging.getLogger().handlers if isinstance(h, JsonLogHandler))
        stream = io.StringIO()
        handler.setStream(stream)
        with httpx.Client(base_url=base) as http:
            probed = http.get(
                "/probe?token=secret-query-value", headers={**secret, "X-Request-ID": "probe-1"}
            )
            failed = http.get("/boom", headers={**secret, "X-Request-ID": "boom-1"})
    assert probed.headers["X-Request-ID"] == "probe-1"
    # The 500 is sent by Starlette's outermost layer, outside every added middleware, so
    # it carries no X-Request-ID; the log lines about it do.
    assert failed.status_code == 500

    output = stream.getvalue()
    assert "secret-header-value" not in output
    assert "secret-query-value" not in output
    lines = [json.loads(line) for line in output.splitlines()]
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line)
    by_id: dict[str, list[tuple[str, str]]] = {}
    for line in lines:
        by_id.setdefault(line.get("request_id", ""), []).append((line["logger"], line["level"]))
    assert by_id["probe-1"] == [("app.probe", "INFO"), ("uvicorn.access", "INFO")]
    assert ("uvicorn.error", "ERROR") in by_id["boom-1"]
    assert ("uvicorn.access", "INFO") in by_id["boom-1"]
    traceback = next(
        line for line in lines if line["logger"] == "uvicorn.error" and "exception" in line
    )
    assert "RuntimeError: boom" in traceback["exception"]


@pytest.mark.usefixtures("restored_logging")
def test_access_lines_lose_their_query_string_in_text_mode_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging("text")
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/entries?token=abc", "1.1", 200
    )
    assert caplog.records[-1].getMessage() == '127.0.0.1:5000 - "GET /entries HTTP/1.1" 200'
    assert not any(isinstance(h, JsonLogHandler) for h in logging.getLogger().handlers)
