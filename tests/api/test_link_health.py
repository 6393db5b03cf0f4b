"""Link health through the API: `check` on /links items, `status=`, and /hosts/health."""

import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.export import write_ndjson
from tests import test_linkcheck
from tests.conftest import Ingest
from tests.test_linkcheck import LinkServer, check, closed_port, write_links_post

# The loopback server and the clean results table, shared with the CLI tests.
link_server = test_linkcheck.link_server
no_checks = test_linkcheck.no_checks


@pytest.fixture
def checked(
    client: TestClient, no_checks: Engine, ingest: Ingest, link_server: LinkServer, tmp_path: Path
) -> dict[str, str]:
    """The links post ingested and checked; returns {case: url}."""
    urls = write_links_post(tmp_path / "logs", link_server, closed_port())
    ingest(tmp_path / "logs")
    check(no_checks)
    return urls


def all_items(client: TestClient, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a paged list, following `next`."""
    page = client.get("/links", params=params)
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    while page.json()["next"]:
        page = client.get(page.json()["next"])
        assert page.status_code == 200, page.text
        items += page.json()["items"]
    return items


def test_status_broken_is_exactly_the_dead_link(
    client: TestClient, checked: dict[str, str]
) -> None:
    body = client.get("/links", params={"status": "broken"}).json()
    assert [item["url"] for item in body["items"]] == [checked["gone"]]
    assert body["total"] == 1
    dead = body["items"][0]["check"]
    assert dead["outcome"] == "broken"
    assert dead["http_status"] == 404
    assert dead["final_url"] == checked["gone"]
    assert dead["checked_at"].startswith("20")


def test_every_link_carries_its_check(client: TestClient, checked: dict[str, str]) -> None:
    items = all_items(client, {"limit": 200})
    by_text = {item["text"]: item["check"] for item in items}
    assert by_text["moved"]["outcome"] == "redirected"
    assert by_text["moved"]["final_url"].endswith("/ok")
    assert by_text["hang"]["outcome"] == "timeout"
    assert by_text["hang"]["http_status"] is None
    assert by_text["refused"]["outcome"] == "unreachable"
    assert by_text["refused"]["error"]
    # Two spellings of one address share its result.
    assert by_text["ok again"] == by_text["ok"]
    assert by_text["mail"] is None
    assert by_text["local"] is None


def test_status_values_combine_and_unchecked_means_no_result(
    client: TestClient, checked: dict[str, str]
) -> None:
    fine = all_items(client, {"status": ["ok", "redirected"], "limit": 1})
    assert sorted(item["text"] for item in fine) == ["moved", "no-head", "ok", "ok again"]
    unchecked = all_items(client, {"status": "unchecked"})
    assert sorted(item["text"] for item in unchecked) == ["local", "mail"]
    both = all_items(client, {"status": ["broken", "unchecked"], "host": "127.0.0.1"})
    assert [item["text"] for item in both] == ["gone"]
    failing = client.get("/links", params={"status": ["error", "timeout", "unreachable"]})
    assert sorted(item["text"] for item in failing.json()["items"]) == ["fail", "hang", "refused"]


def test_before_any_check_every_link_is_unchecked(
    client: TestClient, no_checks: Engine, ingest: Ingest, link_server: LinkServer, tmp_path: Path
) -> None:
    write_links_post(tmp_path / "logs", link_server, closed_port())
    ingest(tmp_path / "logs")
    items = all_items(client, {})
    assert len(items) == 10
    assert all(item["check"] is None for item in items)
    assert len(all_items(client, {"status": "unchecked"})) == 10
    assert client.get("/links", params={"status": "broken"}).json()["items"] == []
    assert link_server.total() == 0  # the API never probes anything itself


@pytest.mark.parametrize("value", ["dead", "BROKEN", ""])
def test_unknown_status_is_a_422_naming_the_parameter(
    client: TestClient, value: str, checked: dict[str, str]
) -> None:
    answer = client.get("/links", params={"status": value})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["param"].startswith("status")


def test_results_change_the_etag(
    client: TestClient, no_checks: Engine, ingest: Ingest, link_server: LinkServer, tmp_path: Path
) -> None:
    write_links_post(tmp_path / "logs", link_server, closed_port())
    ingest(tmp_path / "logs")
    before = client.get("/links")
    etag = before.headers["ETag"]
    assert client.get("/links", headers={"If-None-Match": etag}).status_code == 304
    check(no_checks)
    after = client.get("/links", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert any(item["check"] for item in after.json()["items"])


def test_results_survive_a_reingest_of_the_post(
    client: TestClient,
    checked: dict[str, str],
    ingest: Ingest,
    link_server: LinkServer,
    tmp_path: Path,
) -> None:
    post = tmp_path / "logs" / "2024-05-01-links.md"
    before = client.get("/links", params={"status": "broken"}).json()["items"]
    new_link = link_server.url("/new")
    post.write_text(post.read_text() + f"* [new]({new_link})\n")
    summary = ingest(tmp_path / "logs")
    assert summary.updated == 1
    after = client.get("/links", params={"status": "broken"}).json()["items"]
    assert [(item["url"], item["check"]) for item in after] == [
        (item["url"], item["check"]) for item in before
    ]
    unchecked = client.get("/links", params={"status": "unchecked"}).json()["items"]
    assert new_link in [item["url"] for item in unchecked]


def test_hosts_health_counts_outcomes_per_host(client: TestClient, checked: dict[str, str]) -> None:
    answer = client.get("/hosts/health")
    assert answer.status_code == 200
    assert "ETag" in answer.headers
    (row,) = answer.json()["items"]
    last_checked = row.pop("last_checked_at")
    assert last_checked is not None
    assert row == {
        "host": "127.0.0.1",
        "links": 8,
        "urls": 7,
        "checked": 8,
        "ok": 3,
        "redirected": 1,
        "broken": 1,
        "error": 1,
        "timeout": 1,
        "unreachable": 1,
    }
    assert client.get("/hosts/health", params={"host": "elsewhere.test"}).json()["items"] == []
    # /hosts keeps answering plain counts: the two routes do not shadow each other.
    assert client.get("/hosts").json()["items"] == [{"name": "127.0.0.1", "count": 8}]


def test_hosts_health_follows_a_check(
    client: TestClient, no_checks: Engine, ingest: Ingest, link_server: LinkServer, tmp_path: Path
) -> None:
    write_links_post(tmp_path / "logs", link_server, closed_port())
    ingest(tmp_path / "logs")
    (before,) = client.get("/hosts/health").json()["items"]
    assert before["checked"] == 0
    check(no_checks)
    (after,) = client.get("/hosts/health").json()["items"]
    assert after["checked"] == 8
    assert after["broken"] == 1


def test_export_link_lines_carry_the_check_as_links_does(
    client: TestClient, checked: dict[str, str], no_checks: Engine
) -> None:
    out = io.BytesIO()
    write_ndjson(no_checks, out, include_drafts=False, edit_url_template=None)
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    exported = [
        {k: v for k, v in line.items() if k != "type"}
        for line in lines
        if line["type"] == "link" and line["entry_id"] is not None
    ]
    assert exported == all_items(client, {"limit": 200})


def test_openapi_documents_the_outcomes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    parameters = document["paths"]["/links"]["get"]["parameters"]
    (status,) = [p for p in parameters if p["name"] == "status"]
    schemas = document["components"]["schemas"]
    statuses = schemas[status["schema"]["items"]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert statuses == [
        "ok",
        "redirected",
        "broken",
        "error",
        "timeout",
        "unreachable",
        "unchecked",
    ]
    outcome = schemas["LinkCheckOut"]["properties"]["outcome"]
    assert schemas[outcome["$ref"].rsplit("/", 1)[1]]["enum"] == statuses[:-1]
    assert "/hosts/health" in document["paths"]
