"""Hostile files, each written beside a normal post and ingested on both engines.

Whatever one file does, the rest of the folder still ingests. Bounded work is asserted on
what was done (rows, tracemalloc peaks), never on wall-clock time.
"""

import functools
import json
import os
import pickle
import shutil
import tracemalloc
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.ingest import parse, pipeline
from app.ingest.body import MAX_ENTRY_DEPTH
from app.ingest.discover import SourceFile
from app.ingest.parse import ParsedPost, parse_post
from app.ingest.pipeline import RunSummary
from app.ingest.problems import SourceVanished
from app.ingest.sync import BODY_TEXT_BYTES
from app.main import create_app
from app.settings import Settings
from tests.conftest import Ingest

NORMAL = "2024-01-01-normal.md"
NORMAL_TEXT = (
    "---\ntitle: Normal\n---\n## Systems\n* a normal entry [link](https://example.com/normal)\n"
)
MIB = 1024 * 1024
T = TypeVar("T")


def rows(engine: Engine, sql: str, **params: object) -> list[tuple[Any, ...]]:
    """Run a query and return plain tuples."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def content(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    """A content folder holding the normal post and `files` (name -> text or bytes)."""
    folder = tmp_path / "content"
    folder.mkdir(exist_ok=True)
    (folder / NORMAL).write_text(NORMAL_TEXT, encoding="utf-8")
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return folder


def assert_normal_post_ingested(engine: Engine) -> None:
    """The post beside the hostile one is there, whole."""
    assert rows(
        engine,
        "SELECT p.title, e.text, l.url FROM posts p JOIN entries e ON e.post_id = p.id "
        "JOIN links l ON l.entry_id = e.id WHERE p.source_path = :path",
        path=NORMAL,
    ) == [("Normal", "a normal entry link", "https://example.com/normal")]


def problems(summary: RunSummary, path: str) -> list[tuple[str, int | None, str]]:
    """(severity, line, reason) of every failure and warning the run gave `path`."""
    return [
        (p.severity, p.line, p.reason)
        for p in [*summary.failures, *summary.warnings]
        if p.path == path
    ]


def recorded(engine: Engine, summary: RunSummary, path: str) -> list[tuple[Any, ...]]:
    """What the run row says about `path`: (severity, line, reason)."""
    return rows(
        engine,
        "SELECT severity, line, reason FROM ingest_problems "
        "WHERE run_id = :run AND path = :path ORDER BY id",
        run=summary.run_id,
        path=path,
    )


def with_peak(work: Callable[[], T]) -> tuple[T, int]:
    """What `work` returns, and the peak of memory Python allocated while it ran."""
    tracemalloc.start()
    try:
        return work(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    """An API client over the test database."""
    url = engine.url.render_as_string(hide_password=False)
    with TestClient(create_app(Settings(database_url=url))) as client:
        yield client


# -- bytes: BOM, line ends, invisible and decomposed characters -------------------------

CLEAN = (
    "---\ntitle: Café log\ndate: 2024-03-01\ntags: [café, notes]\n---\n"
    "# Café notes\n\n"
    "Some prose before the list.\n\n"
    "* An entry with a [link](https://example.com/café)\n"
    "  * a nested entry\n"
    "* [Thought] a naïve idea\n\n"
    "## Other heading\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n"
)


def _mixed_line_ends(source: str) -> str:
    """CRLF, CR and LF in turn (never a CR just before an empty line's LF: that is a CRLF)."""
    lines = source.split("\n")
    written = []
    for index, line in enumerate(lines[:-1]):
        end = ("\r\n", "\r", "\n")[index % 3]
        written.append(line + ("\r\n" if end == "\r" and not lines[index + 1] else end))
    return "".join(written) + lines[-1]


def _invisible(source: str) -> str:
    """No-break spaces (one after a list marker) and zero-width characters sprinkled in."""
    return (
        source.replace("title: Café log", "title:\u00a0Café\u202flog")
        .replace("* [Thought] a", "*\u00a0[Thought]\u00a0a")
        .replace("Café notes", "Caf\u200bé\u2060 notes")
        .replace("naïve", "na\ufeffïve")
    )


TWINS = {
    "bom": b"\xef\xbb\xbf" + CLEAN.encode(),
    "crlf": CLEAN.replace("\n", "\r\n").encode(),
    "lone-cr": CLEAN.replace("\n", "\r").encode(),
    "mixed-line-ends": _mixed_line_ends(CLEAN).encode(),
    "nbsp-and-zero-width": _invisible(CLEAN).encode(),
    "decomposed": unicodedata.normalize("NFD", CLEAN).encode(),
    "all-at-once": b"\xef\xbb\xbf"
    + unicodedata.normalize("NFD", _invisible(CLEAN)).replace("\n", "\r\n").encode(),
}


def post_rows(engine: Engine, path: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a post produced, without its ids (which derive from its path)."""
    post = {"path": path}
    return {
        "post": rows(
            engine,
            "SELECT title, date, date_text, excerpt, front_matter, front_matter_format, html, "
            "body_text, line, content_hash FROM posts WHERE source_path = :path",
            **post,
        ),
        "tags": rows(
            engine,
            "SELECT t.tag FROM post_tags t JOIN posts p ON p.id = t.post_id "
            "WHERE p.source_path = :path ORDER BY t.tag",
            **post,
        ),
        "sections": rows(
            engine,
            "SELECT s.position, s.level, s.heading, s.slug, s.line FROM sections s "
            "JOIN posts p ON p.id = s.post_id WHERE p.source_path = :path ORDER BY s.position",
            **post,
        ),
        "entries": rows(
            engine,
            "SELECT e.position, parent.position, e.depth, e.kind, e.text, e.html, e.line, "
            "e.domain_path FROM entries e JOIN posts p ON p.id = e.post_id "
            "LEFT JOIN entries parent ON parent.id = e.parent_id "
            "WHERE p.source_path = :path ORDER BY e.position",
            **post,
        ),
        "entry_tags": rows(
            engine,
            "SELECT e.position, t.tag FROM entry_tags t JOIN entries e ON e.id = t.entry_id "
            "JOIN posts p ON p.id = e.post_id WHERE p.source_path = :path ORDER BY e.position",
            **post,
        ),
        "links": rows(
            engine,
            "SELECT l.position, e.position, l.url, l.text, l.host, l.kind, l.url_key, l.line "
            "FROM links l JOIN posts p ON p.id = l.post_id "
            "LEFT JOIN entries e ON e.id = l.entry_id "
            "WHERE p.source_path = :path ORDER BY l.position",
            **post,
        ),
    }


def without_identity(value: Any) -> Any:
    """An API answer without what differs between two files: ids, slugs, source paths."""
    if isinstance(value, dict):
        return {
            key: without_identity(item)
            for key, item in value.items()
            if key not in {"id", "parent_id", "slug", "source", "post"}
        }
    if isinstance(value, list):
        return [without_identity(item) for item in value]
    return value


@pytest.mark.parametrize("variant", TWINS.values(), ids=TWINS.keys())
def test_bytes_variants_give_the_same_rows_as_their_clean_twin(
    engine: Engine, ingest: Ingest, api: TestClient, tmp_path: Path, variant: bytes
) -> None:
    folder = content(tmp_path, {"twin-clean.md": CLEAN, "twin-hostile.md": variant})
    summary = ingest(folder)
    assert (summary.added, summary.failures, summary.warnings) == (3, [], [])
    clean = post_rows(engine, "twin-clean.md")
    assert all(clean.values())
    assert post_rows(engine, "twin-hostile.md") == clean
    answers = [api.get(f"/posts/{slug}") for slug in ("twin-clean", "twin-hostile")]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert without_identity(answers[1].json()) == without_identity(answers[0].json())
    assert_normal_post_ingested(engine)


# -- bytes that are not UTF-8 text -------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
NOT_TEXT = {
    "latin-1": (
        "# Notes\n\n* caf\xe9 au lait\n".encode("latin-1"),
        "not UTF-8 text: invalid byte 0xe9 at byte offset 14",
        3,
    ),
    "nul": (b"# Notes\n* a\x00b\n", "not UTF-8 text: NUL byte at byte offset 11", 2),
    "binary-png": (PNG, "not UTF-8 text: NUL byte at byte offset 8", 3),
    "binary-no-nul": (
        bytes(range(1, 256)) * 4,
        "not UTF-8 text: invalid byte 0x80 at byte offset 127",
        2,
    ),
    "utf-16": ("# Notes\n".encode("utf-16"), "not UTF-8 text: NUL byte at byte offset 3", 1),
    "truncated-sequence": (b"# Caf\xc3", "not UTF-8 text: invalid byte 0xc3 at byte offset 5", 1),
    "overlong": (b"# a\n\xc0\xaf\n", "not UTF-8 text: invalid byte 0xc0 at byte offset 4", 2),
    "surrogate": (b"# a\n\xed\xa0\x80\n", "not UTF-8 text: invalid byte 0xed at byte offset 4", 2),
}


@pytest.mark.parametrize(("data", "reason", "line"), NOT_TEXT.values(), ids=NOT_TEXT.keys())
def test_bytes_that_are_not_utf8_fail_with_the_offset(
    engine: Engine, ingest: Ingest, tmp_path: Path, data: bytes, reason: str, line: int
) -> None:
    folder = content(tmp_path, {"2024-02-01-bad.md": "# First version\n* kept\n"})
    ingest(folder)
    (folder / "2024-02-01-bad.md").write_bytes(data)
    summary = ingest(folder)  # a stored post turning into bytes: the hash check path
    assert problems(summary, "2024-02-01-bad.md") == [("error", line, reason)]
    assert recorded(engine, summary, "2024-02-01-bad.md") == [("error", line, reason)]
    assert rows(engine, "SELECT title FROM posts WHERE source_path = '2024-02-01-bad.md'") == [
        ("First version",)
    ]

    (folder / "2024-02-01-new.md").write_bytes(data)
    summary = ingest(folder)  # a new file: the parse path
    assert problems(summary, "2024-02-01-new.md") == [("error", line, reason)]
    assert (summary.added, summary.unchanged, summary.failed) == (0, 1, 2)
    assert_normal_post_ingested(engine)


# -- size ----------------------------------------------------------------------------------


def test_the_size_limit_is_a_setting_of_a_few_megabytes() -> None:
    default = Settings.model_fields["max_file_bytes"].default
    assert 1 * MIB <= default <= 10 * MIB


def test_files_over_the_size_limit_fail_with_size_and_limit(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    folder = content(
        tmp_path,
        {
            "2024-02-01-at-limit.md": "* " + "x" * 4094,
            "2024-02-02-over.md": "* " + "x" * 4095,
            "2024-02-03-grows.md": "* small\n",
        },
    )
    summary = ingest(folder, max_file_bytes=4096)
    assert problems(summary, "2024-02-02-over.md") == [
        ("error", None, "too large: 4097 bytes, the limit is 4096 bytes")
    ]
    assert summary.added == 3

    # A stored post that grows past the limit keeps its rows; a huge (sparse) file is
    # refused from its size alone, never read.
    (folder / "2024-02-03-grows.md").write_text("* " + "y" * 5000)
    with (folder / "2024-02-04-huge.md").open("wb") as huge:
        huge.truncate(2**30)
    summary, peak = with_peak(lambda: ingest(folder, max_file_bytes=4096))
    assert problems(summary, "2024-02-03-grows.md") == [
        ("error", None, "too large: 5002 bytes, the limit is 4096 bytes")
    ]
    assert problems(summary, "2024-02-04-huge.md") == [
        ("error", None, f"too large: {2**30} bytes, the limit is 4096 bytes")
    ]
    assert rows(engine, "SELECT COUNT(*) FROM entries WHERE text = 'small'") == [(1,)]
    assert peak < 16 * MIB
    assert_normal_post_ingested(engine)


# -- deep nesting ----------------------------------------------------------------------------

FOLD_WARNING = (
    f"list nested deeper than {MAX_ENTRY_DEPTH} levels: deeper items were folded into "
    "their deepest kept ancestor"
)


def test_a_10000_deep_list_folds_with_one_warning(
    engine: Engine, ingest: Ingest, api: TestClient, tmp_path: Path
) -> None:
    deep = (
        "# Deep\n\n"
        + "- " * 10_000
        + "bottom [deep link](https://example.com/deep)\n\n## After\n\n* still here\n"
    )
    folder = content(tmp_path, {"2024-02-01-deep.md": deep})
    _, peak = with_peak(lambda: parse_post(deep, "2024-02-01-deep.md"))
    summary = ingest(folder)
    assert summary.failures == []
    assert problems(summary, "2024-02-01-deep.md") == [("warning", 3, FOLD_WARNING)]
    entries = rows(
        engine,
        "SELECT e.depth, e.text FROM entries e JOIN posts p ON p.id = e.post_id "
        "WHERE p.source_path = '2024-02-01-deep.md' ORDER BY e.position",
    )
    # Eight kept levels; everything deeper (the text at the bottom too) folds into the
    # eighth; nothing after the list is lost.
    assert [depth for depth, _ in entries] == [*range(1, MAX_ENTRY_DEPTH + 1), 1]
    assert entries[MAX_ENTRY_DEPTH - 1][1].endswith("bottom deep link")
    assert entries[-1][1] == "still here"
    link = rows(
        engine,
        "SELECT e.depth FROM links l JOIN entries e ON e.id = l.entry_id "
        "WHERE l.url = 'https://example.com/deep'",
    )
    assert link == [(MAX_ENTRY_DEPTH,)]
    assert peak < 32 * MIB  # a 20 kB file
    assert api.get("/posts/2024-02-01-deep").status_code == 200
    assert_normal_post_ingested(engine)


def test_a_deep_indented_list_keeps_every_item_text(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    deep = "".join("  " * level + f"- item {level}\n" for level in range(1000))
    folder = content(tmp_path, {"2024-02-01-deep.md": deep + "\n# After\n\n* still here\n"})
    summary = ingest(folder)
    assert problems(summary, "2024-02-01-deep.md") == [("warning", 9, FOLD_WARNING)]
    texts = [
        row[0]
        for row in rows(
            engine,
            "SELECT e.text FROM entries e JOIN posts p ON p.id = e.post_id "
            "WHERE p.source_path = '2024-02-01-deep.md' ORDER BY e.position",
        )
    ]
    assert len(texts) == MAX_ENTRY_DEPTH + 1
    assert texts[-1] == "still here"
    words = " ".join(texts).replace("- ", " ").split()
    assert [int(word) for word in words if word.isdigit()] == list(range(1000))
    assert_normal_post_ingested(engine)


# -- many links ------------------------------------------------------------------------------


def many_links(count: int) -> str:
    """A post of `count` links in items of 100, in four spellings."""
    spellings = [
        "[link {n}](https://example.com/{n})",
        "<https://example.com/{n}>",
        "https://example.com/{n}",
        '<a href="https://example.com/{n}">link {n}</a>',
    ]
    items = [
        "* " + " ".join(spellings[n % 4].format(n=n) for n in range(start, start + 100))
        for start in range(0, count, 100)
    ]
    return "# Links\n\n" + "\n".join(items) + "\n"


@functools.cache
def links_post() -> tuple[str, ParsedPost]:
    """The 100,000-link post and its parse (pure, and most of the work: done once)."""
    body = many_links(100_000)
    return body, parse_post(body, "2024-02-01-links.md")


def test_a_post_with_100000_links_stores_every_link(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body, parsed = links_post()
    assert len(parsed.links) == 100_000
    real_parse = parse.parse_post
    monkeypatch.setattr(
        parse,
        "parse_post",
        lambda text, path, *rest: parsed if text == body else real_parse(text, path, *rest),
    )
    folder = content(tmp_path, {"2024-02-01-links.md": body})
    summary = ingest(folder)
    assert (summary.added, summary.failures, summary.warnings) == (2, [], [])
    stored = rows(
        engine,
        "SELECT l.url FROM links l JOIN posts p ON p.id = l.post_id "
        "WHERE p.source_path = '2024-02-01-links.md'",
    )
    assert len(stored) == 100_000
    assert {url for (url,) in stored} == {f"https://example.com/{n}" for n in range(100_000)}
    assert rows(
        engine,
        "SELECT COUNT(*) FROM entries e JOIN posts p ON p.id = e.post_id "
        "WHERE p.source_path = '2024-02-01-links.md'",
    ) == [(1000,)]
    # Post search reads the beginning of so big a post (a tsvector holds 1 MB at most).
    [(body_text,)] = rows(engine, "SELECT body_text FROM posts WHERE slug = '2024-02-01-links'")
    assert 0 < len(body_text.encode()) <= BODY_TEXT_BYTES
    assert_normal_post_ingested(engine)


def test_parsing_many_links_takes_memory_in_proportion() -> None:
    small, large = many_links(1_000), many_links(4_000)
    _, small_peak = with_peak(lambda: parse_post(small, "links.md"))
    _, large_peak = with_peak(lambda: parse_post(large, "links.md"))
    # Linear, not worse: four times the links cost about four times the memory (about
    # 2 kB per link, so 100,000 links peak near 200 MB).
    assert large_peak < 4.5 * small_peak
    assert large_peak < 64 * len(large)


# -- hostile YAML ----------------------------------------------------------------------------


def _laughs() -> str:
    """The "billion laughs": nine levels of nine aliases to the level below."""
    levels = ["a: &a ['lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol']"]
    for index, name in enumerate("bcdefghi"):
        levels.append(f"{name}: &{name} [{', '.join(['*' + 'abcdefghi'[index]] * 9)}]")
    return "---\n" + "\n".join(levels) + "\n---\n* x\n"


def _python_tags(marker: Path) -> str:
    """Tags that would run code or build objects under an unsafe loader."""
    return (
        "---\n"
        f"a: !!python/object/apply:os.mkdir ['{marker}']\n"
        "b: !!python/object/new:builtins.dict {}\n"
        "c: !!python/name:os.system\n"
        "d: !!python/object:argparse.Namespace {x: 1}\n"
        "---\n* x\n"
    )


NESTING_ERROR = "front matter nested too deeply to read (or a YAML alias inside its own anchor)"
YAML_BOMBS: dict[str, tuple[Callable[[Path], str], int, str]] = {
    "billion-laughs": (lambda _: _laughs(), 1, "front matter expands to more than 20000 values"),
    "self-reference": (lambda _: "---\na: &a [1, *a]\n---\n* x\n", 1, NESTING_ERROR),
    "nested-500": (lambda _: "---\na: " + "[" * 500 + "]" * 500 + "\n---\n* x\n", 1, NESTING_ERROR),
    "nested-100000": (
        lambda _: "---\na: " + "[" * 100_000 + "]" * 100_000 + "\n---\n* x\n",
        2,
        "invalid YAML front matter: exceeded maximum nesting depth",
    ),
    "python-tags": (
        _python_tags,
        2,
        "invalid YAML front matter: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.mkdir'",
    ),
}


@pytest.mark.parametrize("case", YAML_BOMBS)
def test_hostile_yaml_fails_without_running_anything(
    engine: Engine, ingest: Ingest, tmp_path: Path, case: str
) -> None:
    marker = tmp_path / "executed"
    write, line, reason = YAML_BOMBS[case]
    folder = content(tmp_path, {"2024-02-01-bomb.md": write(marker)})
    summary, peak = with_peak(lambda: ingest(folder))
    [(severity, found_line, found_reason)] = problems(summary, "2024-02-01-bomb.md")
    assert (severity, found_line) == ("error", line)
    assert found_reason.startswith(reason)
    assert not marker.exists()
    assert peak < 32 * MIB
    assert_normal_post_ingested(engine)


def test_merge_keys_doubling_a_mapping_stay_small(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    levels = ["m0: &m0 {k: v}"]
    levels += [f"m{n}: &m{n} {{<<: [*m{n - 1}, *m{n - 1}], k{n}: v}}" for n in range(1, 65)]
    folder = content(tmp_path, {"2024-02-01-merge.md": "---\n" + "\n".join(levels) + "\n---\n"})
    _, peak = with_peak(lambda: ingest(folder))
    assert peak < 32 * MIB
    [(front_matter,)] = rows(
        engine, "SELECT front_matter FROM posts WHERE slug = '2024-02-01-merge'"
    )
    if isinstance(front_matter, str):  # SQLite hands JSON back as text
        front_matter = json.loads(front_matter)
    assert len(front_matter["m64"]) == 65  # merged keys, each once
    assert_normal_post_ingested(engine)


def test_values_json_cannot_hold_are_stored_alike_on_both_engines(
    engine: Engine, ingest: Ingest, api: TestClient, tmp_path: Path
) -> None:
    folder = content(
        tmp_path,
        {
            "2024-02-01-yaml.md": '---\ntitle: "a\\0b"\nbig: .inf\nsmall: -.inf\nnan: .nan\n---\n',
            "2024-02-02-toml.md": '+++\ntitle = "c\\u0000d"\nbig = inf\n+++\n',
        },
    )
    summary = ingest(folder)
    assert (summary.added, summary.failures) == (3, [])
    yaml_post = api.get("/posts/2024-02-01-yaml").json()
    assert yaml_post["title"] == "a\ufffdb"
    assert yaml_post["front_matter"] == {
        "title": "a\ufffdb",
        "big": None,
        "small": None,
        "nan": None,
    }
    toml_post = api.get("/posts/2024-02-02-toml").json()
    assert toml_post["front_matter"] == {"title": "c\ufffdd", "big": None}
    assert_normal_post_ingested(engine)


# -- front matter of the wrong shape -----------------------------------------------------------

WRONG_SHAPES = {
    "yaml-list": (
        "---\n- a\n- b\n---\n* x\n",
        "front matter must be a mapping of keys to values, not a list",
    ),
    "yaml-scalar": (
        "---\njust text\n---\n* x\n",
        "front matter must be a mapping of keys to values, not a str",
    ),
    "yaml-unterminated": (
        "---\ntitle: open\n\n* x\n",
        "unterminated YAML front matter: no closing delimiter",
    ),
    "toml-unterminated": (
        "+++\ntitle = 'open'\n\n* x\n",
        "unterminated TOML front matter: no closing delimiter",
    ),
    "only-a-delimiter": ("---\n", "unterminated YAML front matter: no closing delimiter"),
}


@pytest.mark.parametrize(("post", "reason"), WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_front_matter_of_the_wrong_shape_fails_with_line_and_reason(
    engine: Engine, ingest: Ingest, tmp_path: Path, post: str, reason: str
) -> None:
    folder = content(tmp_path, {"2024-02-01-shape.md": post})
    summary = ingest(folder)
    assert problems(summary, "2024-02-01-shape.md") == [("error", 1, reason)]
    assert recorded(engine, summary, "2024-02-01-shape.md") == [("error", 1, reason)]
    assert_normal_post_ingested(engine)


# -- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["2024-02-30", "2023-13-01", "'2024-02-30 10:00:00 +02:00'", "0000-00-00"]
)
def test_an_impossible_date_leaves_the_post_undated_with_a_warning(
    engine: Engine, ingest: Ingest, api: TestClient, tmp_path: Path, value: str
) -> None:
    folder = content(tmp_path, {"impossible.md": f"---\ndate: {value}\n---\n* x\n"})
    summary = ingest(folder)
    assert summary.failures == []
    written = value.strip("'")
    assert ("warning", 1, f"front matter date {written!r} is not a valid date") in problems(
        summary, "impossible.md"
    )
    assert rows(engine, "SELECT date, published_at FROM posts WHERE slug = 'impossible'") == [
        (None, None)
    ]
    assert api.get("/posts/impossible").json()["date"] is None
    assert_normal_post_ingested(engine)


MIDNIGHT = {
    "west-late.md": ("date: 2024-01-01 23:30:00 -08:00", "2024-01-01", "2024-01-02 07:30"),
    "east-early.md": ("date: 2024-01-02 00:30:00 +09:00", "2024-01-02", "2024-01-01 15:30"),
    "utc-midnight.md": ("date: 2024-01-02T00:00:00Z", "2024-01-02", "2024-01-02 00:00"),
    "abbreviation.md": ("date: 2024-01-01 23:59 PST", "2024-01-01", "2024-01-02 07:59"),
    "far-east.md": ("date: '2024-01-02T00:00:00+14:00'", "2024-01-02", "2024-01-01 10:00"),
    "far-west.md": ("date: 2024-01-01T23:59:59-12:00", "2024-01-01", "2024-01-02 11:59"),
}


def test_times_with_zones_keep_the_calendar_date_as_written(
    engine: Engine, ingest: Ingest, api: TestClient, tmp_path: Path
) -> None:
    files: dict[str, bytes | str] = {
        name: f"---\n{line}\n---\n* x\n" for name, (line, _, _) in MIDNIGHT.items()
    }
    files["toml-west-late.md"] = "+++\ndate = 2024-01-01T23:30:00-08:00\n+++\n* x\n"
    folder = content(tmp_path, files)
    summary = ingest(folder)
    assert (summary.failures, summary.warnings) == ([], [])
    expected = {name: (day, utc) for name, (_, day, utc) in MIDNIGHT.items()}
    expected["toml-west-late.md"] = ("2024-01-01", "2024-01-02 07:30")
    stored = {
        path: (str(day), str(moment)[:16])
        for path, day, moment in rows(
            engine,
            "SELECT source_path, date, published_at FROM posts WHERE source_path != :n",
            n=NORMAL,
        )
    }
    assert stored == expected
    for day in ("2024-01-01", "2024-01-02"):
        listed = api.get("/posts", params={"from": day, "to": day, "limit": 50}).json()
        assert {item["source"]["path"] for item in listed["items"]} == {
            name for name, (found, _) in expected.items() if found == day
        } | ({NORMAL} if day == "2024-01-01" else set())
    assert_normal_post_ingested(engine)


# -- identity --------------------------------------------------------------------------------


def test_duplicate_slugs_get_distinct_stable_slugs_and_warnings(
    engine: Engine, ingest: Ingest, api: TestClient, tmp_path: Path
) -> None:
    names = [
        "2024-01-05-notes.md",
        "2024-01-05-Notes.md",
        "2024-01-05 notes.md",
        "2024-01-05-notes.markdown",
        "sub/2024-01-05-notes.md",
    ]
    folder = content(tmp_path, {name: f"# {name}\n* entry of {name}\n" for name in names})
    summary = ingest(folder)
    assert (summary.added, summary.failed) == (6, 0)
    slugs = dict(
        rows(engine, "SELECT source_path, slug FROM posts WHERE source_path != :n", n=NORMAL)
    )
    assert sorted(slugs) == sorted(names)
    assert len(set(slugs.values())) == len(names)
    assert all(slug.startswith("2024-01-05-notes-") for slug in slugs.values())
    for name in names:
        [(severity, _, reason)] = problems(summary, name)
        assert severity == "warning"
        assert f"slug {slugs[name]!r}: several files ask for the same slug" in reason

    (folder / "2024-01-06-other.md").write_text("* other\n")
    again = ingest(folder)
    assert (again.added, again.unchanged) == (1, 6)
    assert (
        dict(rows(engine, "SELECT source_path, slug FROM posts WHERE slug LIKE '%-notes-%'"))
        == slugs
    )
    for name, slug in slugs.items():
        answer = api.get(f"/posts/{slug}")
        assert answer.status_code == 200
        assert answer.json()["source"]["path"] == name
    assert_normal_post_ingested(engine)


def test_symlinks_leaving_the_folder_are_refused_and_named(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n* do not ingest\n")
    folder = content(tmp_path, {})
    os.symlink(outside / "secret.md", folder / "leak.md")
    os.symlink("../outside/secret.md", folder / "relative-leak.md")
    os.symlink(outside, folder / "linked-folder")
    os.symlink(folder / NORMAL, folder / "2024-01-02-alias.md")  # stays inside: fine
    os.symlink(folder / "missing.md", folder / "broken.md")
    summary = ingest(folder)
    refused = "symbolic link leads outside the content folder"
    assert {p.path: p.reason for p in summary.failures} == {
        "leak.md": refused,
        "relative-leak.md": refused,
        "linked-folder": refused,
        "broken.md": "cannot read file: its symbolic link leads nowhere",
    }
    assert recorded(engine, summary, "linked-folder") == [("error", None, refused)]
    assert rows(engine, "SELECT COUNT(*) FROM entries WHERE text LIKE '%not ingest%'") == [(0,)]
    assert sorted(rows(engine, "SELECT source_path FROM posts")) == [
        (NORMAL,),
        ("2024-01-02-alias.md",),
    ]
    assert_normal_post_ingested(engine)


# -- files that change under the run ------------------------------------------------------------

RealRead = Callable[[SourceFile, int], Any]


def hook_reading(
    monkeypatch: pytest.MonkeyPatch, name: str, meddle: Callable[[Path], None], function: str
) -> None:
    """Run `meddle` on file `name` just before the pipeline's `function` reads it."""
    real: RealRead = getattr(pipeline, function)

    def read(source: SourceFile, max_bytes: int) -> Any:
        if source.path == name:
            meddle(source.absolute)
        return real(source, max_bytes)

    monkeypatch.setattr(pipeline, function, read)


def test_a_file_vanishing_before_it_is_read_is_skipped(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = content(tmp_path, {"2024-02-01-vanishing.md": "* here for a moment\n"})
    hook_reading(monkeypatch, "2024-02-01-vanishing.md", Path.unlink, "read_source")
    outcomes: dict[str, str] = {}
    summary = ingest(folder, on_file=outcomes.__setitem__)
    skipped = ("warning", None, "skipped: the file vanished before it could be read")
    assert problems(summary, "2024-02-01-vanishing.md") == [skipped]
    assert outcomes == {NORMAL: "added", "2024-02-01-vanishing.md": "skipped"}
    assert (summary.added, summary.failed) == (1, 0)
    assert rows(engine, "SELECT status FROM ingest_runs WHERE id = :r", r=summary.run_id) == [
        ("ok",)
    ]
    # The error keeps its kind when it comes back from a parser process.
    error = pickle.loads(pickle.dumps(SourceVanished("gone", 3)))
    assert (type(error), error.reason, error.line) == (SourceVanished, "gone", 3)
    assert_normal_post_ingested(engine)


def test_a_stored_file_vanishing_during_the_run_keeps_its_post_until_the_next(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = content(tmp_path, {"2024-02-01-vanishing.md": "* stored\n"})
    ingest(folder)
    hook_reading(monkeypatch, "2024-02-01-vanishing.md", Path.unlink, "read_bytes")
    summary = ingest(folder)
    assert problems(summary, "2024-02-01-vanishing.md") == [
        ("warning", None, "skipped: the file vanished before it could be read")
    ]
    assert (summary.unchanged, summary.deleted, summary.failed) == (1, 0, 0)
    assert rows(engine, "SELECT COUNT(*) FROM entries WHERE text = 'stored'") == [(1,)]
    monkeypatch.undo()
    assert ingest(folder).deleted == 1
    assert_normal_post_ingested(engine)


def test_a_file_changing_before_it_is_read_is_read_as_it_is_now(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = content(tmp_path, {"2024-02-01-changing.md": "* first version\n"})

    def rewrite(path: Path) -> None:
        path.write_text("# Rewritten\n* second, longer version\n")

    hook_reading(monkeypatch, "2024-02-01-changing.md", rewrite, "read_source")
    summary = ingest(folder)
    assert problems(summary, "2024-02-01-changing.md") == [
        (
            "warning",
            None,
            "the file changed after it was found: re-read, its content as read is stored",
        )
    ]
    assert summary.added == 2
    assert rows(
        engine,
        "SELECT e.text FROM entries e JOIN posts p ON p.id = e.post_id "
        "WHERE p.source_path = '2024-02-01-changing.md'",
    ) == [("second, longer version",)]
    monkeypatch.undo()
    assert ingest(folder).unchanged == 2  # what was stored is what the file holds
    assert_normal_post_ingested(engine)


def test_a_folder_vanishing_during_discovery_is_no_crash(
    engine: Engine, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = content(tmp_path, {"sub/2024-02-01-gone.md": "* gone\n"})
    sub = (folder / "sub").resolve()
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if path == str(sub) and sub.exists():
            shutil.rmtree(sub)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    summary = ingest(folder)
    assert (summary.added, summary.failures, summary.warnings) == (1, [], [])
    assert_normal_post_ingested(engine)


# -- empty files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"\n\n   \n", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom-only"]
)
def test_an_empty_file_is_an_empty_undated_post_with_a_warning(
    engine: Engine, ingest: Ingest, api: TestClient, tmp_path: Path, data: bytes
) -> None:
    folder = content(tmp_path, {"empty.md": data})
    summary = ingest(folder)
    assert (summary.added, summary.failed) == (2, 0)
    assert sorted(problems(summary, "empty.md")) == [
        ("warning", None, "empty file: stored as an empty post"),
        ("warning", None, "no date in the front matter or the file name: the post is undated"),
    ]
    assert rows(engine, "SELECT title, date FROM posts WHERE source_path = 'empty.md'") == [
        ("empty", None)
    ]
    assert rows(
        engine,
        "SELECT COUNT(*) FROM entries e JOIN posts p ON p.id = e.post_id "
        "WHERE p.source_path = 'empty.md'",
    ) == [(0,)]
    answer = api.get("/posts/empty").json()
    assert (answer["date"], answer["html"], answer["sections"]) == (None, "", [])
    assert_normal_post_ingested(engine)
