"""Contract fuzzing: every operation of the app's own OpenAPI document, on both engines.

Schemathesis generates requests from `app.openapi()` (the examples, coverage and fuzzing
phases, a bounded and derandomized number of cases per operation) and sends them in
process through its ASGI transport to an app over the seed post. The built-in checks run
(all but two, see CONFIG), so each answer must be documented: never a 5xx, a declared
status code and media type, a body matching the declared schema. The admin operations
run twice: with whatever Authorization header is generated (none, or a wrong one) and
with the right token.
"""

import threading
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from sqlalchemy import Engine

from app.main import create_app
from app.settings import Settings
from tests.conftest import Ingest

TOKEN = "contract-fuzzing-admin-token"
# Fixed seed and derandomized generation: the same cases on every run.
CONFIG = {
    "seed": 20231224,
    "generation": {"max-examples": 30, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    "checks": {
        # The API refuses some values no schema can rule out, by design (a cursor it did
        # not sign, `from` after `to`, a `since` past the database's version): 422.
        "positive_data_acceptance": {"enabled": False},
        # Schemathesis takes `domain=null` or `tag=false` in a query string for a null or
        # a boolean where a string belongs, and reports the 200 as accepting bad data; in
        # a URL they are the strings "null" and "false", valid domain and tag names
        # (schemathesis issues 2312, 2900, 4600). tests/api/test_errors.py checks that
        # every kind of invalid parameter gets its 422.
        "negative_data_rejection": {"enabled": False},
    },
}
# One app (and database) serves every case of a test: its cases only read, but for the
# ingests the admin operations trigger, which change nothing in an unchanged folder. And
# no timing: a busy machine must not fail the run.
ONE_APP_PER_TEST = hypothesis.settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
# A triggered ingest re-reads one unchanged file: a generous bound.
INGEST_JOIN_SECONDS = 60


@pytest.fixture
def api(engine: Engine, ingest: Ingest, seed_dir: Path) -> FastAPI:
    """The app, admin endpoints on, over a database holding the seed post."""
    ingest(seed_dir)
    url = engine.url.render_as_string(hide_password=False)
    return create_app(Settings(database_url=url, content_dir=seed_dir, admin_token=TOKEN))


def finish_ingests() -> None:
    """Wait for the ingests a trigger started: they run in threads of their own."""
    for thread in threading.enumerate():
        if thread.name == "admin-ingest":
            thread.join(INGEST_JOIN_SECONDS)


# The document of an app built like every other (settings do not change it); each test
# item is one operation on one engine, sent to that test's own app.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(database_url="sqlite://")).openapi(),
    config=SchemathesisConfig.from_dict(CONFIG),
)


@schema.parametrize()
@ONE_APP_PER_TEST
def test_every_operation_keeps_its_contract(case: Case, api: FastAPI) -> None:
    case.call_and_validate(app=api)


@schema.include(path_regex="^/admin/").parametrize()
@ONE_APP_PER_TEST
def test_admin_operations_keep_their_contract_with_the_token(case: Case, api: FastAPI) -> None:
    try:
        case.call_and_validate(app=api, headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        # Before the next case, and before the app's engine goes at the end of the test.
        finish_ingests()
