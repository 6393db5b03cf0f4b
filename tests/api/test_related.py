"""/entries/{id}/related and source edit URLs, on both engines."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import create_app
from app.settings import Settings
from tests.conftest import Ingest

POSTS = {
    "2024-01-01-a.md": (
        "## GenAI\n"
        "* [Mixtral paper](https://arxiv.org/abs/2401.04088) sparse mixture of experts\n"
        "* [Thought] quantization makes inference cheaper\n"
    ),
    "2024-02-01-b.md": (
        "## Systems\n"
        "* [Mixtral PDF](https://arxiv.org/pdf/2401.04088v2.pdf) read it again\n"
        "* [Thought] garbage collection pauses\n"
        "* router networks for mixture experts explained\n"
        "* nothing in common here\n"
    ),
}


def _ingest(ingest: Ingest, folder: Path) -> None:
    for name, text in POSTS.items():
        (folder / name).write_text(text)
    ingest(folder)


def _entry_id(client: TestClient, text_start: str) -> int:
    items = client.get("/entries", params={"limit": 50}).json()["items"]
    return next(item["id"] for item in items if item["text"].startswith(text_start))


def test_related_entries_with_reasons(client: TestClient, ingest: Ingest, tmp_path: Path) -> None:
    _ingest(ingest, tmp_path)
    mixtral = _entry_id(client, "Mixtral paper")
    body = client.get(f"/entries/{mixtral}/related").json()
    by_text = {item["entry"]["text"]: item["reasons"] for item in body["items"]}
    first = body["items"][0]
    assert first["entry"]["text"].startswith("Mixtral PDF")
    assert first["reasons"][0] == {
        "kind": "same_url",
        "detail": "https://arxiv.org/pdf/2401.04088v2.pdf",
    }
    similar = by_text["router networks for mixture experts explained"]
    assert [reason["kind"] for reason in similar] == ["similar_text"]
    assert "<mark>" in similar[0]["detail"]
    assert "nothing in common here" not in by_text
    assert all(item["entry"]["id"] != mixtral for item in body["items"])

    thought = _entry_id(client, "[Thought] quantization")
    reasons = client.get(f"/entries/{thought}/related").json()["items"][0]["reasons"]
    assert reasons[0] == {"kind": "shared_tag", "detail": "thought"}


def test_related_of_an_unknown_entry_is_a_404(client: TestClient) -> None:
    response = client.get("/entries/12345/related")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/entries/1/related", params={"limit": 0}).status_code == 422


def test_edit_urls_follow_the_template(engine: Engine, ingest: Ingest, tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "2024-01-01 my log.md").write_text("# Log\n\n## A\n* one\n")
    ingest(tmp_path)
    url = engine.url.render_as_string(hide_password=False)
    template = "https://git.example/logs/edit/main/{path}#L{line}"
    with TestClient(create_app(Settings(database_url=url, edit_url_template=template))) as c:
        entry = c.get("/entries").json()["items"][0]
        assert entry["source"]["edit_url"] == (
            "https://git.example/logs/edit/main/notes/2024-01-01%20my%20log.md#L4"
        )
        post = c.get("/posts").json()["items"][0]
        assert post["source"]["edit_url"].startswith("https://git.example/logs/edit/main/notes/")
    with TestClient(create_app(Settings(database_url=url))) as plain:
        assert plain.get("/entries").json()["items"][0]["source"]["edit_url"] is None


def test_a_template_with_unknown_placeholders_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\{path\} and \{line\}"):
        Settings(edit_url_template="https://x/{file}")
