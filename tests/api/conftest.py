"""An API client over a fresh database on each engine."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import create_app
from app.settings import Settings
from tests.conftest import Ingest

# The preview token of the apps these fixtures build, and the header that sends it.
PREVIEW_TOKEN = "preview-token-for-tests"
PREVIEW = {"Authorization": f"Bearer {PREVIEW_TOKEN}"}


def preview_for(params: object) -> dict[str, str]:
    """The preview header when `params` ask for drafts (they need it), else none."""
    return PREVIEW if "include_drafts" in str(params) else {}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """A TestClient for an app on the test database (empty until a test ingests)."""
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, preview_token=PREVIEW_TOKEN)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def seeded(client: TestClient, ingest: Ingest, seed_dir: Path) -> TestClient:
    """The client over a database holding only the seed post."""
    ingest(seed_dir)
    return client
