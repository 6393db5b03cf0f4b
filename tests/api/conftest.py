"""An API client over a fresh database on each engine."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import create_app
from app.settings import Settings
from tests.conftest import Ingest


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """A TestClient for an app on the test database (empty until a test ingests)."""
    url = engine.url.render_as_string(hide_password=False)
    with TestClient(create_app(Settings(database_url=url))) as test_client:
        yield test_client


@pytest.fixture
def seeded(client: TestClient, ingest: Ingest, seed_dir: Path) -> TestClient:
    """The client over a database holding only the seed post."""
    ingest(seed_dir)
    return client
