"""Declared fields: validation at ingest, `data` on posts, filters, sorts, sparse answers."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.folders.config import FolderConfigError, load_config
from app.models import PROBLEMS
from tests.conftest import Ingest

SCHEMA = """\
[fields.rating]
type = "integer"
description = "How good, 1-5"

[fields.stage]
type = "enum"
values = ["open", "done"]

[fields.read_on]
type = "date"

[fields.topics]
type = "list"
items = "string"
"""


def write_folder(root: Path, *, strict: bool = False) -> Path:
    """Five rated posts, one with a bad rating and stage, one with no fields."""
    root.mkdir(exist_ok=True)
    (root / "learnlog.toml").write_text(("strict = true\n\n" if strict else "") + SCHEMA)
    for number in range(1, 6):
        stage = "done" if number > 2 else "open"
        (root / f"2024-01-0{number}-p{number}.md").write_text(
            f"---\ntitle: Post {number}\ndate: 2024-01-0{number}\nrating: {number}\n"
            f"stage: {stage}\nread_on: 2024-02-0{number}\ntopics: [a, b{number}]\n---\n\n"
            f"## GenAI\n\n* note {number}\n"
        )
    (root / "2024-01-07-bad.md").write_text(
        '---\ntitle: Bad\ndate: 2024-01-07\nrating: "five"\nstage: maybe\n---\n\n* bad one\n'
    )
    (root / "2024-01-08-none.md").write_text("---\ntitle: None\ndate: 2024-01-08\n---\n\n* y\n")
    return root


@pytest.fixture
def rated(client: TestClient, ingest: Ingest, tmp_path: Path) -> TestClient:
    """The client over the rated folder."""
    ingest(write_folder(tmp_path / "rated"))
    return client


def slugs(client: TestClient, params: dict[str, Any]) -> list[str]:
    """Every slug of /posts for `params`, following `next` through every page."""
    found: list[str] = []
    response = client.get("/posts", params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        found += [item["slug"] for item in body["items"]]
        if body["next"] is None:
            return found
        response = client.get(body["next"])


def test_a_violation_names_file_line_and_field(ingest: Ingest, tmp_path: Path) -> None:
    summary = ingest(write_folder(tmp_path / "rated"))
    found = {(w.path, w.line, w.reason) for w in summary.warnings}
    assert ("2024-01-07-bad.md", 4, 'field `rating`: expected an integer, got "five"') in found
    assert ("2024-01-07-bad.md", 5, 'field `stage`: "maybe" is not one of open, done') in found
    assert summary.failed == 0


def test_strict_fails_the_file_and_keeps_its_previous_version(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    root = write_folder(tmp_path / "rated", strict=True)
    (root / "2024-01-07-bad.md").write_text("---\ntitle: Bad\nrating: 2\n---\n\n* fine\n")
    first = ingest(root)
    assert first.failed == 0
    (root / "2024-01-07-bad.md").write_text('---\ntitle: Bad\nrating: "five"\n---\n\n* x\n')
    second = ingest(root)
    assert second.failed == 1
    (failure,) = second.failures
    assert (failure.path, failure.line) == ("2024-01-07-bad.md", 3)
    assert "field `rating`" in failure.reason
    kept = client.get("/posts/2024-01-07-bad").json()
    assert kept["data"] == {"rating": 2}


def test_posts_carry_their_typed_data(rated: TestClient) -> None:
    post = rated.get("/posts/2024-01-03-p3").json()
    assert post["data"] == {
        "rating": 3,
        "stage": "done",
        "read_on": "2024-02-03",
        "topics": ["a", "b3"],
    }
    assert rated.get("/posts/2024-01-07-bad").json()["data"] == {}
    assert post["front_matter"]["rating"] == 3


def test_comparison_filters_return_exactly_the_matching_posts(rated: TestClient) -> None:
    assert sorted(slugs(rated, {"data.rating.gte": "4"})) == ["2024-01-04-p4", "2024-01-05-p5"]
    assert sorted(slugs(rated, {"data.rating.lt": "2"})) == ["2024-01-01-p1"]
    assert len(slugs(rated, {"data.stage": "done"})) == 3
    assert len(slugs(rated, {"data.stage.in": "open,done"})) == 5
    assert slugs(rated, {"data.read_on.gt": "2024-02-04"}) == ["2024-01-05-p5"]
    assert slugs(rated, {"data.topics": "b2"}) == ["2024-01-02-p2"]
    assert sorted(slugs(rated, {"data.rating.exists": "false"})) == [
        "2024-01-07-bad",
        "2024-01-08-none",
    ]


def test_entries_and_feeds_filter_through_their_post(rated: TestClient) -> None:
    items = rated.get("/entries", params={"data.rating.gte": "5"}).json()["items"]
    assert [item["text"] for item in items] == ["note 5"]
    feed = rated.get("/feeds/posts.json", params={"data.rating.gte": "5"}).json()
    assert [item["title"] for item in feed["items"]] == ["Post 5"]
    assert rated.get("/feeds/entries.atom", params={"data.nope": "1"}).status_code == 422


@pytest.mark.parametrize(
    ("param", "value", "named"),
    [
        ("data.stage", "maybe", "maybe"),
        ("data.nope", "1", "nope"),
        ("data.stage.gt", "open", "gt"),
        ("data.rating.near", "3", "near"),
        ("data.rating.gte", "four", "four"),
        ("data.read_on", "yesterday", "yesterday"),
        ("data.rating.exists", "maybe", "true or false"),
    ],
)
def test_bad_field_filters_are_422_naming_the_parameter(
    rated: TestClient, param: str, value: str, named: str
) -> None:
    for path in ("/posts", "/entries"):
        response = rated.get(path, params={param: value})
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        (error,) = response.json()["errors"]
        assert error["param"] == param
        assert named in error["message"]


@pytest.mark.parametrize("direction", ["", "-"])
def test_sort_on_a_field_pages_through_every_post_once_missing_last(
    rated: TestClient, direction: str
) -> None:
    found = slugs(rated, {"sort": f"{direction}data.rating", "limit": "2"})
    rated_ones = [f"2024-01-0{n}-p{n}" for n in range(1, 6)]
    assert found[:5] == (rated_ones if not direction else rated_ones[::-1])
    assert sorted(found[5:]) == ["2024-01-07-bad", "2024-01-08-none"]
    assert len(found) == len(set(found)) == 7


def test_sort_by_title_pages_through_entries_and_posts(rated: TestClient) -> None:
    titles = list(slugs(rated, {"sort": "title", "limit": "3"}))
    assert titles[0] == "2024-01-07-bad"
    assert titles[-1] == "2024-01-05-p5"
    texts: list[str] = []
    response = rated.get("/entries", params={"sort": "-title", "limit": "2"})
    while True:
        body = response.json()
        texts += [item["text"] for item in body["items"]]
        if body["next"] is None:
            break
        response = rated.get(body["next"])
    assert texts[0] == "note 5"
    assert len(texts) == len(set(texts)) == 7
    entries_by_rating = rated.get("/entries", params={"sort": "-data.rating", "limit": "1"})
    assert entries_by_rating.json()["items"][0]["text"] == "note 5"
    following = rated.get(entries_by_rating.json()["next"]).json()
    assert following["items"][0]["text"] == "note 4"


def test_sort_refuses_unknown_and_list_fields(rated: TestClient) -> None:
    for value in ("data.nope", "data.topics", "sideways"):
        response = rated.get("/posts", params={"sort": value})
        assert response.status_code == 422
        assert response.json()["errors"][0]["param"] == "sort"


def test_sparse_answers_hold_exactly_the_members_asked_for(rated: TestClient) -> None:
    items = rated.get("/entries", params={"fields": "id,text", "limit": "3"}).json()["items"]
    assert len(items) == 3
    assert all(set(item) == {"id", "text"} for item in items)
    posts = rated.get("/posts", params={"fields": "slug,data.rating", "data.rating.gte": "5"})
    assert posts.json()["items"] == [{"slug": "2024-01-05-p5", "data": {"rating": 5}}]
    one = rated.get("/posts/2024-01-02-p2", params={"fields": "title,data.stage"}).json()
    assert one == {"title": "Post 2", "data": {"stage": "open"}}
    bad = rated.get("/entries", params={"fields": "id,nope"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["param"] == "fields"
    assert rated.get("/entries", params={"fields": "data.rating"}).status_code == 422


@pytest.mark.parametrize(
    "path",
    ["/entries", "/posts", "/posts/2024-01-01-p1", "/tags", "/links", "/search", "/healthz", "/"],
)
def test_unknown_parameters_are_422_naming_them(rated: TestClient, path: str) -> None:
    params = {"tgas": "x", "q": "note"} if path == "/search" else {"tgas": "x"}
    response = rated.get(path, params=params)
    assert response.status_code == 422, response.text
    assert [e["param"] for e in response.json()["errors"]] == ["tgas"]


def test_a_shadowing_declaration_is_an_error_at_start(tmp_path: Path) -> None:
    (tmp_path / "learnlog.toml").write_text('\n[fields.tags]\ntype = "string"\n')
    with pytest.raises(FolderConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.line == 2
    assert "tags" in caught.value.reason
    (tmp_path / "learnlog.toml").write_text('[fields.rating]\ntype = "stars"\n')
    with pytest.raises(FolderConfigError, match="type"):
        load_config(tmp_path)


def test_a_new_schema_revalidates_unchanged_posts(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    root = write_folder(tmp_path / "rated")
    (root / "learnlog.toml").write_text("")
    ingest(root)
    assert client.get("/posts/2024-01-01-p1").json()["data"] == {}
    (root / "learnlog.toml").write_text(SCHEMA)
    summary = ingest(root)
    assert any("rating" in w.reason for w in summary.warnings)
    assert client.get("/posts/2024-01-01-p1").json()["data"]["rating"] == 1
    assert ingest(root).updated == 0


def test_check_reports_field_violations_without_a_database(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "rated", strict=True)
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code == 1
    assert '2024-01-07-bad.md:4: error: field `rating`: expected an integer, got "five"' in (
        result.output
    )


def test_ingest_records_field_warnings_in_the_run(ingest: Ingest, tmp_path: Path) -> None:
    summary = ingest(write_folder(tmp_path / "rated"))
    assert summary.counts()["warnings"] >= 2
    assert PROBLEMS.name == "ingest_problems"


def test_openapi_with_a_folder_types_data(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "rated")
    result = CliRunner().invoke(cli, ["openapi", str(root)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    data = document["components"]["schemas"]["PostData"]
    assert data["properties"]["rating"]["type"] == "integer"
    assert data["properties"]["stage"] == {"type": "string", "enum": ["open", "done"]}
    assert data["properties"]["topics"] == {"type": "array", "items": {"type": "string"}}
    assert data["additionalProperties"] is False
    names = {p["name"] for p in document["paths"]["/posts"]["get"]["parameters"]}
    assert {"data.rating.gte", "data.stage", "data.stage.in"} <= names
    assert "data.stage.gt" not in names
    (root / "learnlog.toml").write_text('[fields.title]\ntype = "string"\n')
    refused = CliRunner().invoke(cli, ["openapi", str(root)])
    assert refused.exit_code == 2


@pytest.mark.parametrize(
    "params",
    [
        {"data.rating.gte": "2"},
        {"data.stage": "done", "sort": "date"},
        {"data.topics": "a", "data.rating.lte": "4", "tag": "nope"},
        {"data.topics": "a", "data.rating.lte": "4"},
        {"data.rating.exists": "true", "domain": "genai"},
    ],
)
def test_the_entry_index_answers_field_filters_as_sql_does(
    rated: TestClient, params: dict[str, str]
) -> None:
    def walk(extra: dict[str, str]) -> list[int]:
        found: list[int] = []
        response = rated.get("/entries", params={**params, **extra, "limit": "2"})
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            found += [item["id"] for item in body["items"]]
            if body["next"] is None:
                return found
            response = rated.get(body["next"])

    # `fields=` takes the SQL path; without it the entry index answers.
    assert walk({}) == walk({"fields": "id"})
