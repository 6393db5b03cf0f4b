"""Admin endpoints: bearer token, triggered ingest, one ingest at a time, run history."""

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.ingest import pipeline
from app.main import create_app
from app.settings import Settings
from tests.conftest import SEED
from tests.ingest.test_lock import hold_lock
from tests.ingest.test_odd_folders import release_fifos

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def admin(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    """An API whose admin endpoints are on, over a content folder holding the seed post."""
    content = tmp_path / "content"
    content.mkdir()
    (content / SEED.name).write_text(SEED.read_text())
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, content_dir=content, admin_token=TOKEN)
    with TestClient(create_app(settings)) as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _finished(client: TestClient, run_id: int) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = client.get(f"/admin/runs/{run_id}", headers=_bearer(TOKEN)).json()
        if run["status"] != "running":
            return dict(run)
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish")


def test_tokens(admin: TestClient) -> None:
    missing = admin.post("/admin/ingest")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = admin.post("/admin/ingest", headers=_bearer("not-the-token"))
    assert wrong.status_code == 403
    assert admin.get("/admin/runs", headers={"Authorization": "Basic abc"}).status_code == 401
    assert TOKEN not in wrong.text


def test_a_trigger_ingests_and_the_run_is_listed(admin: TestClient) -> None:
    assert admin.get("/entries", params={"domain": "genai"}).json()["items"] == []
    started = admin.post("/admin/ingest", headers=_bearer(TOKEN))
    assert started.status_code == 202
    run_id = started.json()["run_id"]
    assert started.json()["href"] == f"/admin/runs/{run_id}"
    run = _finished(admin, run_id)
    assert (run["status"], run["added"], run["failed"]) == ("ok", 1, 0)
    assert len(admin.get("/entries", params={"domain": "genai"}).json()["items"]) == 6
    runs = admin.get("/admin/runs", headers=_bearer(TOKEN)).json()
    assert runs[0]["id"] == run_id
    assert admin.get("/admin/runs/999999", headers=_bearer(TOKEN)).status_code == 404


def test_a_trigger_while_another_process_ingests_gets_409(
    admin: TestClient, engine: Engine
) -> None:
    holder = hold_lock(engine)
    try:
        busy = admin.post("/admin/ingest", headers=_bearer(TOKEN))
        assert busy.status_code == 409
        assert "another ingest is running" in busy.json()["detail"]
    finally:
        holder.kill()
        holder.communicate()


def test_admin_is_off_without_a_token(client: TestClient) -> None:
    response = client.post("/admin/ingest", headers=_bearer("anything"))
    assert response.status_code == 404
    assert "LEARNLOG_ADMIN_TOKEN" in response.json()["detail"]


def _content(admin: TestClient) -> Path:
    """The content folder the admin fixture's API ingests."""
    folder: Path = admin.app.state.settings.content_dir  # type: ignore[attr-defined]
    return folder


def test_an_admin_ingest_beside_a_fifo_and_a_bad_name_ends_and_frees_the_lock(
    admin: TestClient,
) -> None:
    folder = _content(admin)
    os.mkfifo(folder / "x.md")
    with open(os.fsencode(folder) + b"/caf\xe9.md", "wb") as post:
        post.write(b"* x\n")
    try:
        started = admin.post("/admin/ingest", headers=_bearer(TOKEN))
        assert started.status_code == 202
        run = _finished(admin, started.json()["run_id"])
        # The lock went with the run: a second trigger starts at once.
        again = admin.post("/admin/ingest", headers=_bearer(TOKEN))
        assert again.status_code == 202
        _finished(admin, again.json()["run_id"])
    finally:
        release_fifos(folder)
    assert (run["status"], run["added"], run["failed"]) == ("failed", 1, 2)
    assert {p["path"] for p in run["problems"]} == {"x.md", "caf\\xe9.md"}  # type: ignore[attr-defined]
    assert len(admin.get("/entries", params={"domain": "genai"}).json()["items"]) == 6


def test_an_admin_ingest_that_raises_is_ended_failed_and_logged(
    admin: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("the disk went away")

    # Parsing starts after the run is recorded: the run exists and must be ended.
    monkeypatch.setattr(pipeline, "parse_all", broken)
    with caplog.at_level(logging.ERROR):
        started = admin.post("/admin/ingest", headers=_bearer(TOKEN))
        assert started.status_code == 202
        run = _finished(admin, started.json()["run_id"])
    assert run["status"] == "failed"
    assert [p["reason"] for p in run["problems"]] == [  # type: ignore[attr-defined]
        "the run stopped: RuntimeError: the disk went away"
    ]
    assert "admin ingest stopped: RuntimeError: the disk went away" in caplog.text
    monkeypatch.undo()
    again = admin.post("/admin/ingest", headers=_bearer(TOKEN))  # the lock is free
    assert again.status_code == 202
    assert _finished(admin, again.json()["run_id"])["status"] == "ok"
