"""A first load builds its indexes once at the end; a file the parser chokes on fails alone."""

from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from app.ingest import parse, pipeline, sync
from app.ingest.parse import parse_post
from app.models import (
    ENTRIES,
    ENTRY_TAGS,
    LINKS,
    POST_CATEGORIES,
    POST_TAGS,
    SECTION_PATHS,
    SECTIONS,
)
from tests.conftest import Ingest


def _folder(tmp_path: Path, name: str, posts: int) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for number in range(posts):
        (folder / f"2024-01-{number:03d}-post.md").write_text(
            f"## Domain {number % 3}\n"
            f"* entry {number} [Thought] with [a link](https://example.org/{number})\n"
            f"  * child https://host{number % 4}.example/x\n"
        )
    return folder


# The tables a post's rows fill that have secondary indexes.
_TABLES = (SECTIONS, SECTION_PATHS, ENTRIES, LINKS, ENTRY_TAGS, POST_TAGS, POST_CATEGORIES)


def _indexes(engine: Engine) -> set[str]:
    found = inspect(engine)
    return {str(index["name"]) for table in _TABLES for index in found.get_indexes(table.name)}


def _declared() -> set[str]:
    return {str(index.name) for table in _TABLES for index in table.indexes}


def _rows(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return [
            conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()
            for table in ("posts", "sections", "entries", "links", "entry_tags")
        ] + [
            conn.execute(
                text("SELECT url FROM links WHERE host = 'host1.example' ORDER BY id")
            ).all()
        ]


def test_a_first_load_ends_with_every_index_and_the_rows_of_an_ordinary_load(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "_FIRST_LOAD_FILES", 5)
    dropped: list[bool] = []
    defer = sync.Writer.defer_indexes

    def watched(writer: sync.Writer) -> bool:
        dropped.append(defer(writer))
        return dropped[-1]

    monkeypatch.setattr(sync.Writer, "defer_indexes", watched)
    summary = ingest(_folder(tmp_path, "log", 12))
    assert (summary.added, summary.failed) == (12, 0)
    # SQLite loads without them and builds them at the end; PostgreSQL keeps them.
    assert dropped == [engine.dialect.name == "sqlite"]
    assert _indexes(engine) >= _declared()
    first = _rows(engine)
    assert first[:3] == [12, 12, 24]

    # A run over a database that holds posts keeps its indexes as they are.
    (tmp_path / "log" / "2024-01-999-post.md").write_text("## Domain 0\n* late entry\n")
    ingest(tmp_path / "log")
    assert dropped == [engine.dialect.name == "sqlite"]
    assert _indexes(engine) >= _declared()


def test_a_first_load_reads_the_same_rows_as_a_load_that_keeps_its_indexes(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, "log", 12)
    monkeypatch.setattr(pipeline, "_FIRST_LOAD_FILES", 10_000)
    ingest(folder)
    kept = _rows(engine)
    with engine.begin() as conn:
        for table in ("entry_tags", "links", "entries", "sections", "post_tags", "posts"):
            conn.execute(text(f"DELETE FROM {table}"))
    monkeypatch.setattr(pipeline, "_FIRST_LOAD_FILES", 5)
    ingest(folder)
    assert _rows(engine) == kept


def test_the_next_run_builds_the_indexes_a_cut_off_first_load_left_unbuilt(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite loads without its indexes")
    folder = _folder(tmp_path, "log", 3)
    ingest(folder)
    with engine.begin() as conn:  # as a load killed before its end leaves them
        for index in sync._DEFERRED_INDEXES:
            index.drop(conn)
    assert not _indexes(engine) >= _declared()
    summary = ingest(folder)
    assert summary.unchanged == 3
    assert _indexes(engine) >= _declared()


def test_a_marked_section_python_cannot_read_is_a_bogus_comment_as_in_browsers() -> None:
    post = parse_post("<div>\n<![x]>\n</div>\n\n<p>a <![if mso]>b<![endif]> c</p>\n", "a.md")
    assert [entry.text for entry in post.entries] == ["a b c"]


def test_a_file_the_parser_fails_on_fails_alone_and_says_so(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, "log", 3)
    broken = "2024-01-001-post.md"

    def failing(text: str, path: str, *args: str) -> parse.ParsedPost:
        if path == broken:
            raise ValueError("no such state")
        return parse_post(text, path, *args)

    monkeypatch.setattr(parse, "parse_post", failing)
    summary = ingest(folder)
    assert summary.added == 2
    assert [(p.path, p.reason) for p in summary.failures] == [
        (broken, "the parser failed on this file (ValueError: no such state)")
    ]


def test_a_first_load_holds_its_scheduled_posts_and_indexes_every_entry_for_search(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an index by post, a first load still finds each batch's entries: the
    full-text rows of every entry, and the entries of posts dated ahead held as drafts."""
    monkeypatch.setattr(pipeline, "_FIRST_LOAD_FILES", 5)
    folder = _folder(tmp_path, "log", 12)
    for number in (3, 8):
        (folder / f"2099-01-{number:03d}-ahead.md").write_text(
            f"---\ndate: 2999-01-01\n---\n## Domain 1\n* ahead {number} [Thought]\n  * child\n"
        )
    summary = ingest(folder)
    assert (summary.added, summary.failed) == (14, 0)
    with engine.connect() as conn:
        held = conn.execute(text("SELECT text FROM entries WHERE is_draft ORDER BY text")).scalars()
        assert list(held) == ["ahead 3 [Thought]", "ahead 8 [Thought]", "child", "child"]
        if engine.dialect.name != "sqlite":
            return
        stored = conn.execute(text("SELECT rowid, text FROM entries ORDER BY rowid")).all()
        assert len(stored) == 28
        for word in ("entry", "ahead", "child"):
            found = conn.execute(
                text("SELECT rowid FROM entries_fts WHERE entries_fts MATCH :word ORDER BY rowid"),
                {"word": word},
            ).scalars()
            assert list(found) == [rowid for rowid, entry in stored if word in entry]
