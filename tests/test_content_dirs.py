"""Several content folders in one database (LEARNLOG_CONTENT_DIRS)."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from app.settings import Settings


def test_every_folder_is_ingested_and_nothing_collides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes, links = tmp_path / "notes", tmp_path / "links"
    for folder, text in ((notes, "* a note"), (links, "* a link [x](https://example.com)")):
        folder.mkdir()
        # The same file name in both folders: same path, same slug stem.
        (folder / "2024-01-01-log.md").write_text(f"## GenAI\n{text}\n")
    (notes / "domains.yml").write_text("genai: [GenAI]\n")
    url = f"sqlite:///{tmp_path / 'multi.db'}"
    monkeypatch.setenv("LEARNLOG_CONTENT_DIRS", json.dumps([str(notes), str(links)]))

    result = CliRunner().invoke(cli, ["ingest", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert result.output.count("ingest run") == 2  # one run per folder

    with TestClient(create_app(Settings(database_url=url))) as client:
        posts = client.get("/posts").json()["items"]
        assert len(posts) == 2
        slugs = sorted(post["slug"] for post in posts)
        assert slugs[0] != slugs[1]
        assert all(slug.startswith("2024-01-01-log") for slug in slugs)
        items = client.get("/entries").json()["items"]
        assert sorted(item["text"] for item in items) == ["a link x", "a note"]
        assert len({item["id"] for item in items}) == 2
        assert {item["domains"][0] for item in items} == {"genai"}

    # Removing a file in one folder leaves the other folder's post alone.
    (links / "2024-01-02-log.md").write_text("no list here\n")
    (links / "2024-01-01-log.md").unlink()
    assert CliRunner().invoke(cli, ["ingest", "--database-url", url]).exit_code == 0
    with TestClient(create_app(Settings(database_url=url))) as client:
        texts = [item["text"] for item in client.get("/entries").json()["items"]]
        assert texts == ["no list here", "a note"]
