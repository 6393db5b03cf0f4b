"""`from`/`to` datetimes whose UTC moment no engine can hold are a 422 naming the parameter."""

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

# Valid ISO 8601 datetimes whose zone moves them past year 9999 or before year 1 in UTC.
EDGE_MOMENTS = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]


def _routes_with_bounds() -> list[str]:
    """Every GET route taking `from`/`to`, read from the OpenAPI document."""
    document = create_app(Settings(database_url="sqlite://")).openapi()
    return sorted(
        path
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method == "get"
        and {"from", "to"} <= {p["name"] for p in operation.get("parameters", [])}
    )


ROUTES = _routes_with_bounds()


def _concrete(client: TestClient, path: str) -> str:
    """`path` with its placeholders filled from the seeded content (backlinks routes)."""
    if "{slug}" in path:
        path = path.replace("{slug}", client.get("/posts").json()["items"][0]["slug"])
    if "{entry_id}" in path:
        path = path.replace("{entry_id}", str(client.get("/entries").json()["items"][0]["id"]))
    return path


def test_every_route_with_bounds_is_covered() -> None:
    assert len(ROUTES) >= 12
    assert {"/entries", "/posts", "/search", "/links", "/urls", "/timeline"} <= set(ROUTES)


@pytest.mark.parametrize("param", ["from", "to"])
@pytest.mark.parametrize("moment", EDGE_MOMENTS)
def test_unrepresentable_moment_is_422_not_503(seeded: TestClient, param: str, moment: str) -> None:
    for path in ROUTES:
        params = {param: moment, "q": "llm"} if path == "/search" else {param: moment}
        response = seeded.get(_concrete(seeded, path), params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["param"] for e in response.json()["errors"]] == [param], path


@pytest.mark.parametrize(
    "moment",
    ["9999-12-31T23:59:59+00:00", "9999-12-31T09:59:59-14:00", "0001-01-01T14:00:00+14:00"],
)
def test_moments_at_the_edge_of_the_range_still_answer(seeded: TestClient, moment: str) -> None:
    for path in ROUTES:
        for param in ("from", "to"):
            params = {param: moment, "q": "llm"} if path == "/search" else {param: moment}
            response = seeded.get(_concrete(seeded, path), params=params)
            assert response.status_code == 200, (path, params, response.text)
