"""An admin token read from a secret file (trailing newline, spaces) still matches."""

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import create_app
from app.settings import Settings

TOKEN = "s3cret-token-for-tests"


def test_admin_token_with_surrounding_whitespace_matches(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, content_dir=tmp_path, admin_token=f"  {TOKEN}\n")
    with TestClient(create_app(settings)) as client:
        runs = client.get("/admin/runs", headers={"Authorization": f"Bearer {TOKEN}"})
        assert runs.status_code == 200
        padded = client.get("/admin/runs", headers={"Authorization": f"Bearer {TOKEN}\t"})
        assert padded.status_code == 200
        assert client.get("/admin/runs", headers={"Authorization": "Bearer x"}).status_code == 403
