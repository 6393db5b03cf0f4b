"""The OpenAPI document is fit to generate clients from.

Generated clients name their functions after operation ids and their types after schema
names, and show descriptions as doc comments: so ids are unique camelCase, schema names
are plain PascalCase words (no `Page_PostSummary_`, no `Body_...`, no `-Input`/`-Output`
split), and every operation, parameter, schema and field says what it is.
"""

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from app.settings import Settings

CAMEL_CASE = re.compile(r"[a-z][a-zA-Z0-9]*")
PASCAL_CASE = re.compile(r"[A-Z][a-zA-Z0-9]*")
# FastAPI's own names: a request body wrapper and its default 422 body (the API answers
# every 422 with a problem document instead).
FRAMEWORK_NAMES = re.compile(r"Body_.*|HTTPValidationError|ValidationError|.*(Input|Output)")

Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The document, built without a database (settings do not change it)."""
    return create_app(Settings(database_url="sqlite://")).openapi()


def operations(spec: dict[str, Any]) -> Iterator[Operation]:
    """Every (method, path, operation) in the document."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def fields(schema: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property of a schema, nested inline objects included, with where it is."""
    for name, prop in schema.get("properties", {}).items():
        yield f"{where}.{name}", prop
        yield from fields(prop, f"{where}.{name}")
        for option in [*prop.get("anyOf", []), prop.get("items", {})]:
            yield from fields(option, f"{where}.{name}")


def test_operation_ids_are_unique_camel_case(spec: dict[str, Any]) -> None:
    ids = [operation.get("operationId", "") for _, _, operation in operations(spec)]
    assert [i for i in ids if not CAMEL_CASE.fullmatch(i)] == []
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    # The ones the README's client example calls.
    assert {"listEntries", "getEntry", "listPosts", "getPost", "search"} <= set(ids)


def test_schema_names_are_plain_words_and_titles_match(spec: dict[str, Any]) -> None:
    schemas: dict[str, dict[str, Any]] = spec["components"]["schemas"]
    assert [name for name in schemas if not PASCAL_CASE.fullmatch(name)] == []
    assert [name for name in schemas if FRAMEWORK_NAMES.fullmatch(name)] == []
    # A title other than the name means two models were disambiguated (same class name in
    # two modules) or a generic was spelled out; generators use either.
    assert {name: s.get("title") for name, s in schemas.items() if s.get("title") != name} == {}


def test_list_envelopes_are_named_pages(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        body = operation["responses"].get("200", {}).get("content", {}).get("application/json")
        if body is None or "$ref" not in body["schema"]:
            continue
        name = body["schema"]["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
        if {"items", "next", "total"} <= set(schema["properties"]):
            assert name.endswith("Page"), f"{method} {path} answers {name}"


def test_every_operation_and_parameter_is_described(spec: dict[str, Any]) -> None:
    missing = []
    for method, path, operation in operations(spec):
        for key in ("summary", "description"):
            if not operation.get(key):
                missing.append(f"{method} {path}: {key}")
        for parameter in operation.get("parameters", []):
            if not parameter.get("description"):
                missing.append(f"{method} {path}: parameter {parameter['name']}")
        for status, answer in operation["responses"].items():
            if not answer.get("description"):
                missing.append(f"{method} {path}: response {status}")
    assert missing == []


def test_every_schema_and_field_is_described(spec: dict[str, Any]) -> None:
    missing = []
    for name, schema in spec["components"]["schemas"].items():
        if not schema.get("description"):
            missing.append(name)
        missing += [where for where, prop in fields(schema, name) if not prop.get("description")]
    for method, path, operation in operations(spec):
        for status, answer in operation["responses"].items():
            for media_type, content in answer.get("content", {}).items():
                where = f"{method} {path} {status} {media_type}"
                found = fields(content.get("schema", {}), where)
                missing += [where for where, prop in found if not prop.get("description")]
    assert missing == []


def test_invalid_input_is_documented_as_a_problem(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        answer = operation["responses"].get("422")
        if answer is not None:
            assert list(answer["content"]) == ["application/problem+json"], f"{method} {path}"


def test_cli_writes_the_document_without_touching_a_database(tmp_path: Path) -> None:
    database = tmp_path / "never.db"
    output = tmp_path / "openapi.json"
    env = {"LEARNLOG_DATABASE_URL": f"sqlite:///{database}"}
    result = CliRunner().invoke(cli, ["openapi", "--output", str(output)], env=env)
    assert result.exit_code == 0, result.output
    assert f"wrote {output}" in result.output
    assert json.loads(output.read_text()) == create_app(Settings()).openapi()
    assert not database.exists()


def test_cli_prints_the_document_without_output(tmp_path: Path) -> None:
    env = {"LEARNLOG_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}"}
    result = CliRunner().invoke(cli, ["openapi"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["info"]["title"] == "learnlog"


def test_cli_names_a_file_it_cannot_write(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "openapi.json"
    result = CliRunner().invoke(cli, ["openapi", "--output", str(target)])
    assert result.exit_code == 2
    assert f"cannot write {target}" in result.output


def test_served_document_is_the_exported_one(client: TestClient, tmp_path: Path) -> None:
    output = tmp_path / "openapi.json"
    assert CliRunner().invoke(cli, ["openapi", "--output", str(output)]).exit_code == 0
    assert client.get("/openapi.json").json() == json.loads(output.read_text())
