"""Ingest into a real database (SQLite and PostgreSQL): structure, identity, incremental runs."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.ingest import sync
from tests.conftest import SEED, Ingest


def rows(engine: Engine, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Run a query and return plain tuples."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def version(engine: Engine) -> int:
    """The content version."""
    return int(rows(engine, "SELECT version FROM content_state")[0][0])


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every content row keyed by id, for comparing two states of the database."""
    return {
        "posts": rows(
            engine, "SELECT id, slug, content_hash, content_version FROM posts ORDER BY id"
        ),
        "sections": rows(engine, "SELECT id, post_id, parent_id, slug FROM sections ORDER BY id"),
        "entries": rows(engine, "SELECT id, parent_id, section_id, text FROM entries ORDER BY id"),
        "links": rows(engine, "SELECT id, entry_id, url FROM links ORDER BY id"),
    }


def test_seed_post_structure(engine: Engine, ingest: Ingest, seed_dir: Path) -> None:
    summary = ingest(seed_dir)
    assert (summary.added, summary.failed) == (1, 0)

    sections = rows(
        engine,
        "SELECT s.slug, p.slug FROM sections s LEFT JOIN sections p ON p.id = s.parent_id "
        "WHERE s.slug IS NOT NULL ORDER BY s.position",
    )
    assert sections == [
        ("machine-learning", None),
        ("genai", "machine-learning"),
        ("other-ml", None),
        ("industry-business", None),
    ]

    items = rows(
        engine,
        "SELECT e.id, e.parent_id, e.text, s.slug, e.date, e.line FROM entries e "
        "JOIN sections s ON s.id = e.section_id WHERE e.kind = 'item' ORDER BY e.position",
    )
    assert len(items) == 8
    by_start = {str(text_)[:12]: (eid, parent) for eid, parent, text_, *_ in items}
    apple_id = by_start["Apple LLMs:"][0]
    assert by_start["Ferret from "][1] == apple_id
    assert by_start["LLMs in a Fl"][1] == apple_id
    assert sum(1 for item in items if item[1] is None) == 6
    assert {item[3] for item in items} == {"genai", "other-ml", "industry-business"}
    assert all(str(item[4]) == "2023-12-24" for item in items)
    # Apple's own text excludes its children's text.
    assert [item[2] for item in items if item[0] == apple_id] == ["Apple LLMs:"]
    assert items[0][5] == 15  # source line in the file

    links = rows(engine, "SELECT url, host, kind FROM links ORDER BY position")
    assert len(links) == 6
    assert [host for _, host, _ in links] == [
        "huggingface.co",
        "guardrailsai.com",
        "arxiv.org",
        "arxiv.org",
        "papers.nips.cc",
        "databricks.com",
    ]
    assert links[2] == ("https://arxiv.org/pdf/2310.07704.pdf", "arxiv.org", "paper")

    tagged = rows(engine, "SELECT e.text FROM entry_tags t JOIN entries e ON e.id = t.entry_id")
    assert len(tagged) == 1
    assert str(tagged[0][0]).startswith("[Thought] 2024 will be")
    assert rows(engine, "SELECT tag FROM entry_tags") == [("thought",)]

    post = rows(engine, "SELECT slug, title, date, date_text, is_draft FROM posts")[0]
    assert post[0] == "2023-12-24-learning-logs"
    assert post[1] == "Learning Logs: 2023-12-24"
    assert str(post[2]) == "2023-12-24"
    assert post[3] == "2023-12-24 00:00:00"
    assert not post[4]
    assert rows(engine, "SELECT category FROM post_categories") == [("learning",)]


def test_genai_entries_are_also_machine_learning_entries(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    ingest(seed_dir)
    in_domain = (
        "SELECT COUNT(*) FROM entries WHERE section_id IN "
        "(SELECT section_id FROM section_paths WHERE slug = :slug)"
    )
    assert rows(engine, in_domain, slug="genai")[0][0] == 6
    assert rows(engine, in_domain, slug="machine-learning")[0][0] == 6
    assert rows(engine, in_domain, slug="industry-business")[0][0] == 1


def test_second_run_changes_nothing(engine: Engine, ingest: Ingest, seed_dir: Path) -> None:
    ingest(seed_dir)
    before, version_before = snapshot(engine), version(engine)
    again = ingest(seed_dir)
    assert (again.added, again.updated, again.unchanged, again.deleted) == (0, 0, 1, 0)
    assert snapshot(engine) == before
    assert version(engine) == version_before


def test_edit_updates_only_that_post_and_bumps_version(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    other = seed_dir / "2024-01-07-other.md"
    other.write_text("---\ntitle: Other\n---\n## Systems\n* one [x](https://example.com/a)\n")
    ingest(seed_dir)
    before, version_before = snapshot(engine), version(engine)

    other.write_text(other.read_text() + "* two\n")
    summary = ingest(seed_dir)
    assert (summary.updated, summary.unchanged) == (1, 1)
    assert version(engine) > version_before
    after = snapshot(engine)
    seed_post = next(p for p in before["posts"] if p[1] == "2023-12-24-learning-logs")
    assert seed_post in after["posts"]
    # The first entry of the edited post keeps its id; a second one appears.
    other_id = next(p[0] for p in after["posts"] if p[1] == "2024-01-07-other")
    other_entries = rows(
        engine, "SELECT id FROM entries WHERE post_id = :p ORDER BY position", p=other_id
    )
    assert len(other_entries) == 2
    assert other_entries[0] in [(e[0],) for e in before["entries"]]


def test_deleted_file_removes_its_post(engine: Engine, ingest: Ingest, seed_dir: Path) -> None:
    (seed_dir / "2024-02-01-gone.md").write_text("## A\n* entry\n")
    ingest(seed_dir)
    version_before = version(engine)
    (seed_dir / "2024-02-01-gone.md").unlink()
    summary = ingest(seed_dir)
    assert summary.deleted == 1
    assert rows(engine, "SELECT slug FROM posts") == [("2023-12-24-learning-logs",)]
    assert rows(engine, "SELECT COUNT(*) FROM entries WHERE text = 'entry'") == [(0,)]
    assert version(engine) > version_before


def test_invalid_edit_keeps_previous_rows_and_is_reported(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    ingest(seed_dir)
    before = snapshot(engine)
    post = seed_dir / SEED.name
    post.write_text(post.read_text().replace('category: "learning"', "category: [unclosed"))
    summary = ingest(seed_dir)
    assert summary.failed == 1
    failure = summary.failures[0]
    assert failure.path == SEED.name
    assert failure.line == 5
    assert "invalid YAML" in failure.reason
    assert snapshot(engine) == before
    recorded = rows(
        engine,
        "SELECT r.status, r.failed, p.severity, p.path, p.line FROM ingest_runs r "
        "JOIN ingest_problems p ON p.run_id = r.id WHERE r.id = :run",
        run=summary.run_id,
    )
    assert recorded == [("failed", 1, "error", SEED.name, 5)]


def test_failures_do_not_stop_the_rest(engine: Engine, ingest: Ingest, seed_dir: Path) -> None:
    (seed_dir / "latin1.md").write_bytes("## Caf\xe9\n* entr\xe9e\n".encode("latin-1"))
    (seed_dir / "open.md").write_text("---\ntitle: never closed\n\n* entry\n")
    summary = ingest(seed_dir)
    assert summary.added == 1
    reasons = {p.path: (p.line, p.reason) for p in summary.failures}
    assert reasons["latin1.md"] == (1, "not UTF-8 text: invalid byte 0xe9 at byte offset 6")
    assert reasons["open.md"][0] == 1
    assert "unterminated" in reasons["open.md"][1]


def test_ids_are_the_same_on_a_fresh_database(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    ingest(seed_dir)
    first = snapshot(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM posts"))
    ingest(seed_dir)
    assert [row[:3] for row in snapshot(engine)["entries"]] == [row[:3] for row in first["entries"]]


def test_aliases_apply_without_reparsing(engine: Engine, ingest: Ingest, seed_dir: Path) -> None:
    (seed_dir / "2024-03-01-llms.md").write_text(
        "## LLMs\n* Mamba [paper](https://arxiv.org/abs/2312.00752)\n"
    )
    ingest(seed_dir)
    aliased = (
        "SELECT COUNT(*) FROM entries e JOIN section_paths p ON p.section_id = e.section_id "
        "LEFT JOIN domain_aliases a ON a.slug = p.slug WHERE COALESCE(a.domain, p.slug) = 'genai'"
    )
    assert rows(engine, aliased)[0][0] == 6
    version_before = version(engine)

    (seed_dir / "domains.yml").write_text("genai:\n  - LLMs\n  - Generative AI\n")
    summary = ingest(seed_dir)
    assert (summary.updated, summary.unchanged) == (0, 2)
    assert rows(engine, aliased)[0][0] == 7
    assert version(engine) > version_before
    assert rows(engine, "SELECT slug, domain FROM domain_aliases ORDER BY slug") == [
        ("generative-ai", "genai"),
        ("llms", "genai"),
    ]


def test_slug_collisions_get_distinct_stable_slugs(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    (seed_dir / "notes.md").write_text("# Notes\n* a\n")
    (seed_dir / "notes.markdown").write_text("# Notes\n* b\n")
    summary = ingest(seed_dir)
    slugs = dict(
        rows(engine, "SELECT source_path, slug FROM posts WHERE source_path LIKE 'notes%'")
    )
    assert len(set(slugs.values())) == 2
    assert all(str(slug).startswith("notes-") for slug in slugs.values())
    assert {w.path for w in summary.warnings if "same slug" in w.reason} == set(slugs)
    (seed_dir / "notes.markdown").unlink()
    ingest(seed_dir)
    assert rows(engine, "SELECT slug FROM posts WHERE source_path = 'notes.md'") == [("notes",)]


def test_drafts_are_stored_and_flagged(engine: Engine, ingest: Ingest, seed_dir: Path) -> None:
    (seed_dir / "_drafts").mkdir()
    (seed_dir / "_drafts" / "idea.md").write_text("## Ideas\n* later\n")
    (seed_dir / "2024-04-01-hidden.md").write_text("---\npublished: false\n---\n* x\n")
    ingest(seed_dir)
    drafts = rows(engine, "SELECT source_path FROM posts WHERE is_draft ORDER BY source_path")
    assert drafts == [("2024-04-01-hidden.md",), ("_drafts/idea.md",)]
    assert rows(engine, "SELECT COUNT(*) FROM entries WHERE is_draft")[0][0] == 2


def test_no_drafts_option_leaves_them_out(engine: Engine, ingest: Ingest, seed_dir: Path) -> None:
    (seed_dir / "_drafts").mkdir()
    (seed_dir / "_drafts" / "idea.md").write_text("## Ideas\n* later\n")
    summary = ingest(seed_dir, include_drafts=False)
    assert summary.skipped_drafts == 1
    assert rows(engine, "SELECT source_path FROM posts") == [(SEED.name,)]


def test_undated_post_is_stored_with_a_warning(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    (seed_dir / "someday.md").write_text("# Someday\n* maybe\n")
    summary = ingest(seed_dir)
    assert rows(engine, "SELECT date FROM posts WHERE source_path = 'someday.md'") == [(None,)]
    assert any(w.path == "someday.md" and "undated" in w.reason for w in summary.warnings)


def test_timestamp_is_utc_and_calendar_date_as_written(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    (seed_dir / "late.md").write_text("---\ndate: 2024-01-01 23:30:00 -08:00\n---\n* x\n")
    ingest(seed_dir)
    day, moment = rows(
        engine, "SELECT date, published_at FROM posts WHERE source_path = 'late.md'"
    )[0]
    assert str(day) == "2024-01-01"
    assert str(moment).startswith("2024-01-02 07:30:00")


def test_many_files_ingest_in_parallel_like_in_sequence(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(80):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=number)
        (folder / f"{day.isoformat()}-log.md").write_text(
            f"## Topic {number % 5}\n"
            f"* entry {number} [l](https://github.com/x/{number})\n"
            "  * child\n"
        )
    summary = ingest(folder, workers=2)
    assert (summary.added, summary.failed) == (80, 0)
    assert rows(engine, "SELECT COUNT(*) FROM entries")[0][0] == 160
    assert rows(engine, "SELECT COUNT(*) FROM entries WHERE parent_id IS NOT NULL")[0][0] == 80
    assert rows(engine, "SELECT COUNT(DISTINCT host) FROM links") == [(1,)]
    for path in sorted(folder.iterdir())[:40]:
        path.unlink()
    assert ingest(folder, workers=2).deleted == 40


def test_a_post_the_database_refuses_fails_alone(
    engine: Engine, ingest: Ingest, seed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (seed_dir / "2024-05-01-refused.md").write_text("## A\n* refused\n")
    (seed_dir / "2024-05-02-kept.md").write_text("## A\n* kept\n")
    real_row = sync._post_row

    def row_with_bad_slug(
        root: str, post: sync.PostWrite, version: int, created: int
    ) -> dict[str, object]:
        row = real_row(root, post, version, created)
        if post.path == "2024-05-01-refused.md":
            row["slug"] = None  # NOT NULL: every engine refuses this row
        return row

    monkeypatch.setattr(sync, "_post_row", row_with_bad_slug)
    summary = ingest(seed_dir)
    assert summary.added == 2
    assert [(p.path, p.reason.split(":")[0]) for p in summary.failures] == [
        ("2024-05-01-refused.md", "the database refused the post")
    ]
    assert rows(engine, "SELECT COUNT(*) FROM entries WHERE text IN ('kept', 'refused')") == [(1,)]


def test_line_ending_change_alone_is_unchanged(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    ingest(seed_dir)
    before = snapshot(engine)
    post = seed_dir / SEED.name
    post.write_bytes(b"\xef\xbb\xbf" + post.read_bytes().replace(b"\n", b"\r\n"))
    summary = ingest(seed_dir)
    assert (summary.updated, summary.unchanged) == (0, 1)
    assert snapshot(engine) == before
