"""Real-world corpora (../shared/corpora): every file becomes a post or a named failure."""

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.ingest.discover import discover
from tests.conftest import CORPORA, Ingest

pytestmark = pytest.mark.corpora

# Files of these corpora that are expected to fail, by path, with the reason's start.
# (None today: the tab in jekyll-18f's content-debt post is legal to libyaml, as to Jekyll.)
EXPECTED_FAILURES: dict[str, dict[str, str]] = {
    "seedblog": {},
    "jekyll-18f": {},
    "twir": {},
    "logseq-docs": {},
}

# A reference definition with an empty destination swallows the definitions after it, so
# these references stay text in CommonMark (and on every renderer that follows it).
UNRESOLVED_REFERENCES_ALLOWED = {"content/2015-02-23-this-week-in-rust.md"}


def corpus(name: str) -> Path:
    """The corpus folder, or a skip (never in CI, where it must exist)."""
    folder = CORPORA / name
    if not folder.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"corpus {folder} is missing in CI")
        pytest.skip(f"corpus {folder} not present")
    return folder


def scalar(engine: Engine, sql: str, **params: object) -> object:
    """One value from a query."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_every_file_is_a_post_or_a_named_failure(name: str, engine: Engine, ingest: Ingest) -> None:
    folder = corpus(name)
    sources, refused = discover(folder)
    summary = ingest(folder, workers=0)
    failures = {p.path: p.reason for p in summary.failures}
    assert set(failures) == set(EXPECTED_FAILURES[name])
    for path, reason in EXPECTED_FAILURES[name].items():
        assert failures[path].startswith(reason)
    stored = scalar(engine, "SELECT COUNT(*) FROM posts")
    assert stored == len(sources) - len(failures)
    assert refused == []


def test_twir_links_and_references(engine: Engine, ingest: Ingest) -> None:
    folder = corpus("twir")
    ingest(folder, workers=0)
    with_links = scalar(
        engine, "SELECT COUNT(*) FROM entries WHERE id IN (SELECT entry_id FROM links)"
    )
    assert isinstance(with_links, int)
    assert with_links > 70_000
    # An unresolved reference link stays in the text as `[text][label]`.
    with engine.connect() as conn:
        texts = conn.execute(
            text(
                "SELECT p.source_path, e.text FROM entries e JOIN posts p ON p.id = e.post_id "
                "WHERE e.text LIKE '%][%'"
            )
        ).all()
    definitions = {}
    for path in folder.rglob("*.md"):
        for label in re.findall(r"^\[([^\]]+)\]:", path.read_text(encoding="utf-8"), re.M):
            definitions.setdefault(path.relative_to(folder).as_posix(), set()).add(label.lower())
    unresolved = [
        (path, found)
        for path, entry_text in texts
        for found in re.findall(r"\]\[([^\]]+)\]", entry_text)
        if found.lower() in definitions.get(path, set())
        and path not in UNRESOLVED_REFERENCES_ALLOWED
    ]
    assert unresolved == []
    # URLs with parentheses are never cut at `(`.
    assert (
        scalar(engine, "SELECT COUNT(*) FROM links WHERE url LIKE '%(%' AND url NOT LIKE '%)%'")
        == 0
    )


def test_seedblog_dates_drafts_and_slugs(engine: Engine, ingest: Ingest) -> None:
    folder = corpus("seedblog")
    summary = ingest(folder, workers=0)
    path = "_posts/2023-01-06-learning-logs.markdown"
    assert (
        str(scalar(engine, "SELECT date FROM posts WHERE source_path = :p", p=path)) == "2024-01-06"
    )
    assert any(w.path == path and "disagrees" in w.reason for w in summary.warnings)
    in_january = scalar(
        engine,
        "SELECT COUNT(*) FROM posts WHERE source_path = :p AND date BETWEEN :a AND :b",
        p=path,
        a="2024-01-01",
        b="2024-01-31",
    )
    assert in_january == 1
    drafts = scalar(
        engine, "SELECT COUNT(*) FROM posts WHERE source_path LIKE '_drafts/%' AND NOT is_draft"
    )
    assert drafts == 0
    assert scalar(
        engine, "SELECT COUNT(*) FROM posts WHERE source_path LIKE '\\_drafts/%' ESCAPE '\\'"
    )
    with engine.connect() as conn:
        raksha = (
            conn.execute(text("SELECT slug FROM posts WHERE source_path LIKE '%raksha-turns-one%'"))
            .scalars()
            .all()
        )
    assert len(raksha) == 2
    assert len(set(raksha)) == 2
    again = ingest(folder, workers=0)
    assert (again.added, again.updated, again.deleted, again.unchanged) == (
        0,
        0,
        0,
        len(discover(folder)[0]),
    )


def test_jekyll_quirks(engine: Engine, ingest: Ingest) -> None:
    folder = corpus("jekyll-18f")
    ingest(folder, workers=0)
    with engine.connect() as conn:
        debt = conn.execute(
            text("SELECT front_matter FROM posts WHERE source_path LIKE '%content-debt%'")
        ).scalar_one()
    if isinstance(debt, str):  # SQLite returns JSON as text through a raw query
        import json

        debt = json.loads(debt)
    assert debt["authors"] == ["melody"]
    unpublished = "_posts/2015-08-12-18f-consulting-is-hiring.md"
    assert scalar(engine, "SELECT is_draft FROM posts WHERE source_path = :p", p=unpublished)
    # Links written as raw HTML are links too.
    assert scalar(engine, "SELECT COUNT(*) FROM links WHERE host = '18f.gsa.gov'")
