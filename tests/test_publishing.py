"""Scheduled posts go live on time without an ingest; webhooks are signed, retried, listed.

Clocks are injected (the app's publishing loop, rounds run directly): no test sleeps or
measures time. Webhooks go to a receiver on 127.0.0.1, stopped on every path.
"""

import datetime as dt
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.main import create_app
from app.publishing.loop import publishing_round
from app.publishing.schedule import publish_due
from app.settings import Settings
from tests.conftest import Ingest

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ADMIN = "admin-token-for-publishing"
# Generous: a busy machine may take long between two rounds of the loop.
DEADLINE_SECONDS = 60


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Return once `condition()` holds; fail after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        threading.Event().wait(0.02)


class Receiver:
    """A webhook receiver on 127.0.0.1 answering each POST with the next scripted status."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver (all 2xx unless a test scripts failures), stopped afterwards."""
    found = Receiver([])
    found.thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()
        found.thread.join(DEADLINE_SECONDS)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _post(folder: Path, name: str, date: dt.datetime | str, word: str) -> None:
    moment = date if isinstance(date, str) else date.isoformat().replace("+00:00", "Z")
    folder.joinpath(name).write_text(f"---\ndate: {moment}\n---\n## Notes\n\n* the {word} note\n")


def test_a_post_dated_a_minute_ahead_appears_after_that_minute_without_an_ingest(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    _post(seed_dir, "soon.md", now + dt.timedelta(minutes=1), "zqxsoonword")
    ingest(seed_dir)
    clock = [now]
    settings = Settings(database_url=_url(engine), publish_interval=0.05)
    with TestClient(create_app(settings, clock=lambda: clock[0])) as client:
        search = {"q": "zqxsoonword"}
        assert client.get("/entries", params=search).json()["items"] == []
        assert client.get("/posts/soon").status_code == 404
        before = client.get("/entries")
        version = client.get("/readyz").json()["content_version"]
        # The loop runs rounds meanwhile: before the moment, nothing changes.
        clock[0] = now + dt.timedelta(seconds=59)
        wait_for(lambda: client.get("/entries").headers["etag"] == before.headers["etag"], "")
        clock[0] = now + dt.timedelta(minutes=1, seconds=1)
        wait_for(lambda: len(client.get("/entries", params=search).json()["items"]) == 1, "it")
        after = client.get("/entries")
        assert after.headers["etag"] != before.headers["etag"]
        assert client.get("/posts/soon").status_code == 200
        changes = client.get("/changes", params={"since": version}).json()
        assert [post["slug"] for post in changes["added"]] == ["soon"]


def test_publish_at_wins_over_the_date_and_zones_name_instants(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    later = (now + dt.timedelta(hours=2)).astimezone(dt.timezone(dt.timedelta(hours=-5)))
    seed_dir.joinpath("held.md").write_text(
        f"---\ndate: 2020-01-01\npublish_at: {later.isoformat()}\n---\n* held back\n"
    )
    _post(seed_dir, "draft.md", now - dt.timedelta(days=1), "drafted")
    seed_dir.joinpath("draft.md").write_text(
        seed_dir.joinpath("draft.md").read_text().replace("---\n## ", "draft: true\n---\n## ")
    )
    ingest(seed_dir)
    assert publish_due(engine, now=now + dt.timedelta(hours=1, minutes=59)) is None
    version = publish_due(engine, now=now + dt.timedelta(hours=2))
    assert version is not None
    # A draft stays a draft whatever its date; nothing else is due.
    assert publish_due(engine, now=now + dt.timedelta(days=400)) is None


def _verified(headers: dict[str, str], body: bytes) -> Any:
    """The payload, once a Standard Webhooks library has checked its signature."""
    return Webhook(SECRET).verify(body, headers)


def test_an_ingest_changing_one_post_delivers_one_signed_webhook(
    engine: Engine, ingest: Ingest, seed_dir: Path, receiver: Receiver
) -> None:
    ingest(seed_dir)
    settings = Settings(
        database_url=_url(engine),
        publish_interval=0.05,
        webhook_urls=[receiver.url],
        webhook_secret=SECRET,
        admin_token=ADMIN,
    )
    with TestClient(create_app(settings)) as client:
        # The first ingest (the whole folder) is announced too.
        wait_for(lambda: len(receiver.received) == 1, "the first delivery")
        post = seed_dir / "2023-12-24-learning-logs.md"
        post.write_text(post.read_text() + "\n* one more line\n")
        ingest(seed_dir)
        wait_for(lambda: len(receiver.received) == 2, "the delivery of the change")
        headers, body = receiver.received[1]
        payload = _verified(headers, body)
        assert payload["type"] == "content.changed"
        data = payload["data"]
        assert data["reason"] == "ingest"
        assert [p["slug"] for p in data["updated"]] == ["2023-12-24-learning-logs"]
        assert data["added"] == data["deleted"] == []
        assert data["version"] > data["since"]
        with pytest.raises(WebhookVerificationError):
            Webhook(SECRET).verify(body + b" ", headers)
        listed = client.get(
            "/admin/webhooks/deliveries", headers={"Authorization": f"Bearer {ADMIN}"}
        )
        assert listed.status_code == 200
        assert [d["status"] for d in listed.json()] == ["delivered", "delivered"]
        assert client.get("/admin/webhooks/deliveries").status_code == 401
    assert len(receiver.received) == 2  # no duplicate


def test_a_receiver_failing_twice_gets_the_third_attempt(
    engine: Engine, ingest: Ingest, seed_dir: Path, receiver: Receiver
) -> None:
    receiver.statuses[:] = [500, 503]
    ingest(seed_dir)
    settings = Settings(
        database_url=_url(engine),
        publishing=False,  # rounds run here, on a clock the test moves
        webhook_urls=[receiver.url],
        webhook_secret=SECRET,
        webhook_retry_seconds=10,
        admin_token=ADMIN,
    )
    start = dt.datetime.now(dt.UTC)
    with httpx.Client() as http:
        for seconds, attempts in [(0, 1), (5, 1), (10, 2), (29, 2), (30, 3), (500, 3)]:
            now = start + dt.timedelta(seconds=seconds)
            assert publishing_round(engine, settings, now=now, client=http)
            assert len(receiver.received) == attempts, seconds
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert len(ids) == 1  # one message, attempted three times
    for headers, body in receiver.received:
        assert _verified(headers, body)["data"]["reason"] == "ingest"
    with TestClient(create_app(settings)) as client:
        listed = client.get(
            "/admin/webhooks/deliveries", headers={"Authorization": f"Bearer {ADMIN}"}
        ).json()
    assert len(listed) == 1
    delivery = listed[0]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        3,
        204,
    )
    assert delivery["last_error"] is None


def test_a_receiver_that_never_answers_well_is_given_up_after_the_last_attempt(
    engine: Engine, ingest: Ingest, seed_dir: Path, receiver: Receiver
) -> None:
    receiver.statuses[:] = [500] * 10
    ingest(seed_dir)
    settings = Settings(
        database_url=_url(engine),
        webhook_urls=[receiver.url],
        webhook_secret=SECRET,
        webhook_retry_seconds=1,
        webhook_max_attempts=3,
    )
    start = dt.datetime.now(dt.UTC)
    with httpx.Client() as http:
        for seconds in range(0, 20):
            publishing_round(
                engine, settings, now=start + dt.timedelta(seconds=seconds), client=http
            )
    assert len(receiver.received) == 3


def test_only_one_process_runs_a_round_at_a_time(engine: Engine) -> None:
    from app.publishing.lock import publishing_lock

    with publishing_lock(engine) as held, publishing_lock(engine) as other:
        assert (held, other) == (True, False)
    with publishing_lock(engine) as again:
        assert again


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("admin_token", "short-token"),
        ("preview_token", "  fifteen-chars  "),
        ("webhook_secret", "not-a-secret"),
    ],
)
def test_weak_or_malformed_secrets_are_refused_without_being_echoed(field: str, value: str) -> None:
    with pytest.raises(ValueError, match="LEARNLOG_") as refused:
        Settings(**{field: value})
    assert value.strip() not in str(refused.value)


def test_webhook_urls_need_a_secret() -> None:
    with pytest.raises(ValueError, match="LEARNLOG_WEBHOOK_SECRET"):
        Settings(webhook_urls=["http://127.0.0.1:9/hook"])


def test_cors_never_opens_the_admin_endpoints(engine: Engine) -> None:
    settings = Settings(database_url=_url(engine), admin_token=ADMIN, cors_origins=["*"])
    origin = {"Origin": "https://elsewhere.example"}
    preflight = {**origin, "Access-Control-Request-Method": "GET"}
    with TestClient(create_app(settings)) as client:
        assert client.get("/posts", headers=origin).headers["access-control-allow-origin"] == "*"
        runs = client.get("/admin/runs", headers={**origin, "Authorization": f"Bearer {ADMIN}"})
        assert runs.status_code == 200
        assert "access-control-allow-origin" not in runs.headers
        asked = client.options("/admin/runs", headers=preflight)
        assert "access-control-allow-origin" not in asked.headers
        assert asked.status_code >= 400
