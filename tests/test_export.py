"""`learnlog export`: NDJSON lines and SQLite snapshots, on both engines."""

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import SQLModel
from typer.testing import CliRunner, Result

from app.cli import cli
from app.main import create_app
from app.models import ENTRIES, LINKS, POSTS, STATE
from app.schemas import EntryOut, LinkDetail, PostSummary
from app.settings import Settings
from tests.conftest import Ingest

runner = CliRunner()

DRAFT = """---
title: Not yet
date: 2024-02-01
draft: true
---
## Notes
* a draft entry with [a link](https://example.com/draft)
"""

HEADING_LINK = """---
title: Headings
date: 2024-02-02
---
## [Paper](https://arxiv.org/abs/2310.07704) notes
* an entry under a linked heading
"""


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _export(engine: Engine, output: Path | str, *options: str) -> Result:
    return runner.invoke(
        cli, ["export", "--output", str(output), "--database-url", _url(engine), *options]
    )


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _count(engine: Engine, query: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(query)).scalar_one())


@pytest.fixture
def content(seed_dir: Path) -> Path:
    """The seed post, a draft, and a post with a link in a heading."""
    (seed_dir / "draft.md").write_text(DRAFT, encoding="utf-8")
    (seed_dir / "headings.md").write_text(HEADING_LINK, encoding="utf-8")
    return seed_dir


def test_ndjson_has_a_header_then_every_published_row(
    engine: Engine, ingest: Ingest, content: Path, tmp_path: Path
) -> None:
    ingest(content)
    out = tmp_path / "site.ndjson"
    result = _export(engine, out, "--format", "ndjson")
    assert result.exit_code == 0, result.output
    lines = _lines(out)
    header, rows = lines[0], lines[1:]
    with engine.connect() as conn:
        version = conn.execute(select(STATE.c.version)).scalar_one()
    assert header["type"] == "export"
    assert header["schema"] == 1
    assert header["content_version"] == version
    assert header["generated_at"].endswith("Z")
    assert header["include_drafts"] is False

    kinds = [row["type"] for row in rows]
    assert kinds == sorted(kinds, key=["post", "entry", "link"].index)  # grouped, in that order
    published = POSTS.select().where(POSTS.c.is_draft.is_(False)).subquery()
    assert kinds.count("post") == _count(engine, published) == 2
    entries = ENTRIES.select().where(ENTRIES.c.is_draft.is_(False)).subquery()
    assert kinds.count("entry") == _count(engine, entries)
    links = (
        select(LINKS.c.id)
        .join(POSTS, POSTS.c.id == LINKS.c.post_id)
        .where(POSTS.c.is_draft.is_(False))
        .subquery()
    )
    assert kinds.count("link") == _count(engine, links)
    assert any(row["type"] == "link" and row["entry_id"] is None for row in rows)
    assert f"{kinds.count('entry')} entries" in result.output


def test_ndjson_lines_carry_the_api_fields_and_values(
    engine: Engine, ingest: Ingest, content: Path, tmp_path: Path
) -> None:
    ingest(content)
    out = tmp_path / "site.ndjson"
    template = "https://example.com/edit/{path}#L{line}"
    settings = Settings(database_url=_url(engine), edit_url_template=template)
    with TestClient(create_app(settings)) as client:
        api_entries = client.get("/entries", params={"limit": 200}).json()["items"]
        api_posts = client.get("/posts", params={"limit": 200}).json()["items"]
        api_links = client.get("/links", params={"limit": 200}).json()["items"]
    result = runner.invoke(
        cli,
        ["export", "--format", "ndjson", "--output", str(out)],
        env={"LEARNLOG_DATABASE_URL": _url(engine), "LEARNLOG_EDIT_URL_TEMPLATE": template},
    )
    assert result.exit_code == 0, result.output
    rows = _lines(out)[1:]

    def of(kind: str) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in row.items() if k != "type"} for row in rows if row["type"] == kind
        ]

    posts, entries, links = of("post"), of("entry"), of("link")
    assert all(set(post) == {*PostSummary.model_fields, "front_matter", "html"} for post in posts)
    assert all(set(entry) == set(EntryOut.model_fields) for entry in entries)
    assert all(set(link) == set(LinkDetail.model_fields) for link in links)
    assert posts[0]["front_matter"]["title"]
    assert posts[0]["html"].startswith("<")

    assert sorted(entries, key=lambda e: e["id"]) == sorted(api_entries, key=lambda e: e["id"])
    summaries = [
        {k: v for k, v in post.items() if k not in ("front_matter", "html")} for post in posts
    ]
    assert sorted(summaries, key=lambda p: p["slug"]) == sorted(api_posts, key=lambda p: p["slug"])
    # /links lists the links inside entries; the export has those in headings too.
    in_entries = [link for link in links if link["entry_id"] is not None]
    assert sorted(in_entries, key=lambda link: link["id"]) == api_links
    assert entries[0]["source"]["edit_url"].startswith("https://example.com/edit/")


def test_drafts_are_exported_only_when_asked(
    engine: Engine, ingest: Ingest, content: Path, tmp_path: Path
) -> None:
    ingest(content)
    out = tmp_path / "all.ndjson"
    result = _export(engine, out, "--format", "ndjson", "--drafts")
    assert result.exit_code == 0, result.output
    header, *rows = _lines(out)
    assert header["include_drafts"] is True
    assert sum(row["type"] == "post" for row in rows) == _count(engine, POSTS) == 3
    assert sum(row["type"] == "entry" for row in rows) == _count(engine, ENTRIES)
    assert sum(row["type"] == "link" for row in rows) == _count(engine, LINKS)
    assert any(row["type"] == "post" and row["is_draft"] for row in rows)


def test_ndjson_to_standard_output(engine: Engine, ingest: Ingest, seed_dir: Path) -> None:
    ingest(seed_dir)
    result = _export(engine, "-", "--format", "ndjson")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["type"] == "export"
    assert sum(line["type"] == "entry" for line in lines) == _count(engine, ENTRIES)


def test_an_empty_database_exports_just_the_header(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "empty.ndjson"
    result = _export(engine, out, "--format", "ndjson")
    assert result.exit_code == 0, result.output
    assert [line["type"] for line in _lines(out)] == ["export"]


def test_sqlite_snapshot_holds_the_same_rows(
    engine: Engine, ingest: Ingest, content: Path, tmp_path: Path
) -> None:
    ingest(content)
    out = tmp_path / "site.db"
    out.write_bytes(b"an older export")  # replaced, not appended to
    result = _export(engine, out, "--format", "sqlite")
    assert result.exit_code == 0, result.output
    assert not list(tmp_path.glob(".site.db*"))  # no partial file left behind
    copy = sqlite3.connect(out)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        for table in SQLModel.metadata.sorted_tables:
            (copied,) = copy.execute(f"SELECT count(*) FROM {table.name}").fetchone()
            assert copied == _count(engine, table), table.name
        with engine.connect() as conn:
            version = conn.execute(select(STATE.c.version)).scalar_one()
        assert copy.execute("SELECT version FROM content_state").fetchone()[0] == version
        # The copy searches like the original (its full-text index is filled).
        (found,) = copy.execute(
            "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'mixtral'"
        ).fetchone()
        assert found >= 1
    finally:
        copy.close()
    settings = Settings(database_url=f"sqlite:///{out}")
    with TestClient(create_app(settings)) as client:
        answer = client.get("/entries", params={"q": "mixtral"})
    assert answer.status_code == 200
    assert answer.json()["items"]


def test_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(
        cli,
        [
            "export",
            "--format",
            "csv",
            "--output",
            str(tmp_path / "x"),
            "--database-url",
            "sqlite://",
        ],
    )
    assert result.exit_code == 2
    assert "csv" in result.output
    assert "ndjson" in result.output
    assert not (tmp_path / "x").exists()


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    result = runner.invoke(
        cli,
        [
            "export",
            "--format",
            "ndjson",
            "--output",
            str(tmp_path / "out.ndjson"),
            "--database-url",
            f"sqlite:///{missing}",
        ],
    )
    assert result.exit_code == 2
    assert "no such database file" in result.output
    assert not missing.exists()
    assert not (tmp_path / "out.ndjson").exists()


def test_sqlite_cannot_go_to_standard_output(engine: Engine) -> None:
    result = _export(engine, "-", "--format", "sqlite")
    assert result.exit_code == 2
    assert "needs a file" in result.output


def test_export_is_documented_with_an_example() -> None:
    result = runner.invoke(cli, ["export", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Example: learnlog export" in text
    assert '"type"' in text
