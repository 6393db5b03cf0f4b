"""Cursors are signed with a per-database secret and checked before use: never a 5xx.

A cursor forged with the signing key older versions kept in their source, or signed with
the database's own key around a payload no page ever issued, is a 422 naming `cursor`.
"""

import base64
import hashlib
import hmac
import json
import math
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.api.deps import CURSOR_SHAPES, MAX_BIGINT, MAX_INT
from app.cursor_secret import cursor_secret
from app.db import make_engine, migrate
from app.main import create_app
from app.settings import Settings
from tests.conftest import Ingest

FORGERIES = 128
OLD_CONSTANT_KEY = b"learnlog cursor v1"
MAC_BYTES = 12
LIST_ROUTES = {
    "/entries": {},
    "/posts": {},
    "/search": {"q": "llm"},
    "/links": {},
    "/urls": {},
}


@pytest.fixture
def logs(client: TestClient, ingest: Ingest, seed_dir: Path) -> TestClient:
    """The seed post and a few more, so that every list has a second page."""
    for number in range(3):
        (seed_dir / f"2024-01-0{number + 1}-more.md").write_text(
            f"---\ntitle: More {number}\n---\n\n## GenAI\n\n"
            f"* LLM note {number} [paper](https://arxiv.org/abs/2401.0000{number})\n"
        )
    ingest(seed_dir)
    return client


def sign(secret: bytes, payload: bytes) -> str:
    """A cursor token around `payload`, signed the way the API signs its cursors."""
    mac = hmac.new(secret, payload, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")


def payload_of(token: str) -> Any:
    """The JSON a cursor carries (cursors are signed, not encrypted)."""
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return json.loads(raw[MAC_BYTES:])


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """One value of a kind a cursor key could hold, or could be forged to hold."""
    choices: list[Callable[[], Any]] = [
        lambda: rng.randint(-(2**70), 2**70),
        lambda: rng.choice([0, -1, 2**31, 2**53, 2**63, -(2**63) - 1, 10**40]),
        lambda: rng.randint(0, 10_000),
        lambda: rng.choice([1.5, -0.0, 1e308, math.inf, -math.inf, math.nan]),
        lambda: rng.choice(["2023-12-24", "9999-12-31", "0000-00-00", "2023-02-30", "", "x" * 40]),
        lambda: rng.choice([None, True, False]),
        lambda: {"a": 1},
    ]
    if depth < 2:
        choices.append(lambda: [random_value(rng, depth + 1) for _ in range(rng.randrange(4))])
    return rng.choice(choices)()


# Values at and just past the edges of what each kind of cursor value may hold.
EDGES: dict[str, list[Any]] = {
    "day": [None, "0001-01-01", "9999-12-31", "2023-12-24", "2023-12-24T00:00:00", 20231224],
    "int": [0, 1, MAX_INT, MAX_INT + 1, -1, "1"],
    "bigint": [0, 1, 2**53, MAX_BIGINT, MAX_BIGINT + 1, -1, None],
    "text": ["", "genai", "x" * 255, "x" * 256, 7],
}


def random_payload(rng: random.Random, scope: str, path: str) -> bytes:
    """A payload no page issued: the right scope around a random or edge key, or junk."""
    roll = rng.random()
    if roll < 0.3:
        key = [rng.choice(EDGES[slot]) for slot in CURSOR_SHAPES[path]]
        return json.dumps([scope, key], separators=(",", ":")).encode()
    if roll < 0.4:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60)))
    if roll < 0.5:
        shapes: list[Any] = [random_value(rng), {"scope": scope}, [scope], [scope, [], 1], scope]
        document = rng.choice(shapes)
    else:
        key = [random_value(rng) for _ in range(rng.randrange(0, 5))]
        document = [scope, key if rng.random() < 0.9 else random_value(rng)]
    text_ = json.dumps(document, allow_nan=True, separators=(",", ":"))
    return text_.encode()[:300]


def scope_of(client: TestClient, path: str, params: dict[str, str]) -> str:
    """The scope of `path` with `params`, read from the cursor of its first page."""
    following = client.get(path, params={**params, "limit": "1"}).json()["next"]
    assert following is not None, path
    (token,) = parse_qs(urlsplit(following).query)["cursor"]
    scope: str = payload_of(token)[0]
    return scope


def database_secret(client: TestClient, engine: Engine) -> bytes:
    """The cursor signing secret stored in the database (the API creates it if missing)."""
    assert client.get("/entries", params={"limit": "1"}).status_code == 200
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT cursor_secret FROM content_state WHERE id = 1"))
        return bytes.fromhex(stored.scalar_one())


def _answers(client: TestClient, secret: bytes, seed: int) -> dict[str, list[int]]:
    """Status codes of FORGERIES forged cursors per list route."""
    statuses: dict[str, list[int]] = {}
    for path, params in LIST_ROUTES.items():
        rng = random.Random(f"{seed}{path}")
        scope = scope_of(client, path, params)
        found = statuses[path] = []
        for _ in range(FORGERIES):
            token = sign(secret, random_payload(rng, scope, path))
            response = client.get(path, params={**params, "limit": "1", "cursor": token})
            found.append(response.status_code)
            if response.status_code != 200:
                assert response.headers["content-type"] == "application/problem+json"
                if response.status_code == 422:
                    assert [e["param"] for e in response.json()["errors"]] == ["cursor"]
    return statuses


def test_forged_cursor_is_422_not_500(logs: TestClient) -> None:
    statuses = _answers(logs, OLD_CONSTANT_KEY, seed=1)
    assert {path: set(found) for path, found in statuses.items()} == {
        path: {422} for path in LIST_ROUTES
    }, "the old constant key signs nothing any more"


def test_random_payload_signed_with_the_database_key_is_never_5xx(
    logs: TestClient, engine: Engine
) -> None:
    statuses = _answers(logs, database_secret(logs, engine), seed=2)
    failures = {path: [s for s in found if s >= 500] for path, found in statuses.items()}
    assert failures == {path: [] for path in LIST_ROUTES}
    assert all(set(found) <= {200, 422} for found in statuses.values()), statuses


def test_cursors_follow_to_the_last_page(logs: TestClient) -> None:
    for path, params in LIST_ROUTES.items():
        following: str | None = logs.get(path, params={**params, "limit": "2"}).json()["next"]
        pages = 1
        while following is not None:
            response = logs.get(following)
            assert response.status_code == 200, (path, response.text)
            following = response.json()["next"]
            pages += 1
        assert pages > 1, path


def test_cursor_secret_is_created_once_for_every_process(engine: Engine) -> None:
    with engine.begin() as conn:  # as a reset state row, or a restored backup, has it
        conn.execute(text("UPDATE content_state SET cursor_secret = NULL"))
    url = engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url) for _ in range(6)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            found = list(pool.map(cursor_secret, engines))
    finally:
        for each in engines:
            each.dispose()
    assert len(set(found)) == 1
    assert len(found[0]) == 32
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT cursor_secret FROM content_state")).scalar_one()
    assert bytes.fromhex(stored) == found[0]


def test_replicas_on_one_database_accept_each_others_cursors(logs: TestClient) -> None:
    url = logs.app.state.engine.url.render_as_string(hide_password=False)  # type: ignore[attr-defined]
    with TestClient(create_app(Settings(database_url=url))) as replica:
        for path, params in LIST_ROUTES.items():
            first = logs.get(path, params={**params, "limit": "1"}).json()
            response = replica.get(first["next"])
            assert response.status_code == 200, (path, response.text)
            assert response.json()["items"] != first["items"]


def test_cursor_of_another_database_is_422(logs: TestClient, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    migrate(other)
    with TestClient(create_app(Settings(database_url=other))) as elsewhere:
        assert elsewhere.get("/entries").status_code == 200
        following = logs.get("/entries", params={"limit": "1"}).json()["next"]
        (token,) = parse_qs(urlsplit(following).query)["cursor"]
        response = elsewhere.get("/entries", params={"limit": "1", "cursor": token})
    assert response.status_code == 422
    assert [e["param"] for e in response.json()["errors"]] == ["cursor"]
