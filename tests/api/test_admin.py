"""Admin endpoints: bearer token, triggered ingest, one ingest at a time, run history."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import create_app
from app.settings import Settings
from tests.conftest import SEED
from tests.ingest.test_lock import hold_lock

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
