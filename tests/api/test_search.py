"""Full-text search through HTTP: /search, and `q` on /entries and /posts, on both engines."""

import datetime as dt
import random
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.queries.entries import EntryFilters, entry_conditions
from app.queries.entry_index import build_index
from app.queries.search import ranked, ranked_by_join, ranked_from_candidates
from app.search import index as search_index
from app.search.index import build_search_index
from app.search_syntax import parse_search
from tests.conftest import Ingest


def _texts(body: dict[str, object]) -> list[str]:
    return [hit["entry"]["text"] for hit in body["items"]]  # type: ignore[attr-defined, index]


def test_search_finds_mixtral_with_a_marked_snippet(seeded: TestClient) -> None:
    response = seeded.get("/search", params={"q": "mixtral"})
    assert response.status_code == 200
    hits = response.json()["items"]
    mixtral = next(hit for hit in hits if hit["entry"]["text"].startswith("What's up with Mixtral"))
    assert "<mark>Mixtral</mark>" in mixtral["snippet"]
    assert mixtral["score"] > 0
    assert mixtral["entry"]["links"], "hits are whole entries, links included"
    assert hits[0]["score"] >= hits[-1]["score"]


@pytest.mark.parametrize(
    ("q", "reason"),
    [('"unbalanced', "unbalanced quote"), ("*", "no word"), ("NEAR(", "not search syntax")],
)
def test_syntax_an_engine_would_reject_is_a_422(seeded: TestClient, q: str, reason: str) -> None:
    for path in ("/search", "/entries", "/posts"):
        response = seeded.get(path, params={"q": q})
        assert response.status_code == 422, path
        assert response.headers["content-type"] == "application/problem+json"
        error = response.json()["errors"][0]
        assert error["param"] == "q"
        assert reason in error["message"]


def test_phrase_prefix_and_exclusion(seeded: TestClient) -> None:
    phrase = _texts(seeded.get("/search", params={"q": '"sparse moe"'}).json())
    assert len(phrase) == 1
    assert "sparse MoE" in phrase[0]

    prefixed = _texts(seeded.get("/search", params={"q": "llm*", "limit": 50}).json())
    assert "Apple LLMs:" in prefixed
    assert all("llm" in text.lower() for text in prefixed)

    without_apple = _texts(seeded.get("/search", params={"q": "llm -apple", "limit": 50}).json())
    assert without_apple
    assert all("apple" not in text.lower() for text in without_apple)
    assert all("llm" in text.lower() for text in without_apple)


def test_search_combines_with_filters(seeded: TestClient) -> None:
    everywhere = _texts(seeded.get("/search", params={"q": "llm*", "limit": 50}).json())
    genai = _texts(seeded.get("/search", params={"q": "llm*", "domain": "genai"}).json())
    assert genai
    assert set(genai) < set(everywhere)
    nothing = seeded.get("/search", params={"q": "mixtral", "from": "2030-01-01"}).json()
    assert nothing["items"] == []


def test_q_on_entries_uses_the_search_engine(seeded: TestClient) -> None:
    # Stemming: "serving" finds "serve"; substring matching would not.
    found = seeded.get("/entries", params={"q": "serving"}).json()["items"]
    assert any("serve" in item["text"] for item in found)
    posts = seeded.get("/posts", params={"q": "mixtral"}).json()["items"]
    assert [post["slug"] for post in posts] == ["2023-12-24-learning-logs"]


def test_post_search_ranks_title_matches(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    (tmp_path / "2024-01-01-rust.md").write_text("# Rust notes\n\n## Systems\n* borrow checker\n")
    (tmp_path / "2024-01-02-misc.md").write_text("# Misc\n\n## Systems\n* a rust crate, rust\n")
    ingest(tmp_path)
    hits = client.get("/search", params={"q": "rust", "type": "post"}).json()["items"]
    assert [hit["post"]["slug"] for hit in hits] == ["2024-01-01-rust", "2024-01-02-misc"]
    assert all(hit["entry"] is None for hit in hits)


def test_snippets_never_carry_markup_from_the_source(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    hostile = "## Web\n* beware `<script>alert(1)</script>` and <img src=x onerror=alert(1)>\n"
    (tmp_path / "2024-01-01-x.md").write_text(hostile)
    ingest(tmp_path)
    hits = client.get("/search", params={"q": "beware"}).json()["items"]
    assert len(hits) == 1
    snippet = hits[0]["snippet"]
    assert "<mark>beware</mark>" in snippet
    assert "<script" not in snippet
    assert "<img" not in snippet
    assert "alert(1)" in snippet  # the text stays (escaped or with the tag dropped)


def test_search_pages_follow_next(client: TestClient, ingest: Ingest, tmp_path: Path) -> None:
    lines = "\n".join(f"* kernel note {n}" for n in range(7))
    (tmp_path / "2024-01-01-k.md").write_text(f"## Systems\n{lines}\n")
    ingest(tmp_path)
    seen: list[int] = []
    url: str | None = "/search?q=kernel&limit=3"
    while url:
        body = client.get(url).json()
        seen.extend(hit["entry"]["id"] for hit in body["items"])
        url = body["next"]
    assert len(seen) == 7
    assert len(set(seen)) == 7


def test_each_snippet_comes_from_its_own_hit(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    lines = "\n".join(f"* kernel {'kernel ' * n}note {name}" for n, name in enumerate(names))
    (tmp_path / "2024-01-01-k.md").write_text(f"## Systems\n{lines}\n")
    (tmp_path / "2024-01-02-p.md").write_text(f"# Kernel {names[0]}\n\n## Systems\n* {names[1]}\n")
    ingest(tmp_path)
    hits = client.get("/search", params={"q": "kernel", "limit": 50}).json()["items"]
    assert len(hits) == len(names)
    for hit in hits:
        own = hit["entry"]["text"].split()[-1]
        assert f"note {own}" in hit["snippet"], (own, hit["snippet"])
    posts = client.get("/search", params={"q": "kernel", "type": "post"}).json()["items"]
    snippets = {hit["post"]["slug"]: hit["snippet"] for hit in posts}
    assert "note" not in snippets["2024-01-02-p"]
    assert "note" in snippets["2024-01-01-k"]


def test_search_index_follows_edits(client: TestClient, ingest: Ingest, tmp_path: Path) -> None:
    post = tmp_path / "2024-01-01-x.md"
    post.write_text("## Notes\n* about zebras\n")
    ingest(tmp_path)
    assert len(client.get("/search", params={"q": "zebra"}).json()["items"]) == 1
    post.write_text("## Notes\n* about giraffes\n")
    ingest(tmp_path)
    assert client.get("/search", params={"q": "zebra"}).json()["items"] == []
    assert len(client.get("/search", params={"q": "giraffe"}).json()["items"]) == 1
    post.unlink()
    ingest(tmp_path)
    assert client.get("/search", params={"q": "giraffe"}).json()["items"] == []


def test_full_text_index_matches_its_rows_after_edits(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's full-text columns are generated by the database")
    for number in range(3):
        (tmp_path / f"2024-01-0{number + 1}-x.md").write_text(f"## A\n* zebra {number}\n")
    ingest(tmp_path)
    (tmp_path / "2024-01-01-x.md").write_text("## A\n* giraffe\n* and more\n")
    (tmp_path / "2024-01-02-x.md").unlink()
    ingest(tmp_path)
    with engine.begin() as conn:
        for table in ("entries_fts", "posts_fts"):
            # FTS5 compares its index with the rows it reads them from; raises if they differ.
            conn.exec_driver_sql(
                f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)"
            )
        hits = conn.exec_driver_sql(
            "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'zebra'"
        ).scalar_one()
    assert hits == 1


def _write_kernel_corpus(folder: Path) -> None:
    """Entries of many lengths and repeats (so, many equal scores), and a draft post whose
    short, repetitive entries outrank everything else."""
    rng = random.Random(3)
    words = ["note", "cache", "paging", "sched", "driver", "locks", "memory", "queue"]
    for number in range(12):
        lines = [f"## Systems {number}"]
        for _ in range(30):
            text = rng.choices(["kernel", *words], k=rng.randrange(2, 9))
            lines.append(f"* {' '.join(text)}")
        (folder / f"2024-01-{number + 1:02d}-k.md").write_text("\n".join(lines) + "\n")
    draft = "\n".join(["---", "draft: true", "---", "## Drafts", *["* kernel kernel"] * 250])
    (folder / "2024-02-01-draft.md").write_text(draft + "\n")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # FTS5 ranks on its own
def test_candidates_first_ranking_gives_the_joined_answer(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    _write_kernel_corpus(tmp_path)
    ingest(tmp_path)
    published = entry_conditions(EntryFilters(), {})
    answered = 0
    with engine.connect() as conn:
        for words, where in [("kernel", published), ("kernel", []), ("note", published)]:
            query = parse_search(words)
            for limit, offset in [(1, 0), (10, 0), (50, 0), (50, 50), (20, 140), (51, 200)]:
                options = {"limit": limit, "offset": offset}
                joined = ranked_by_join(conn, "entries", query, where, **options)
                first = ranked_from_candidates(conn, "entries", query, where, **options)
                assert first is None or first == joined, (words, len(where), limit, offset)
                answered += first is not None
                page = ranked(conn, "entries", query, where, **options)
                assert [(hit.id, hit.score) for hit in page] == [
                    (row.id, row.score) for row in joined
                ]
        # The drafts fill FTS5's best 200: the candidates cannot hold the page.
        kernel = parse_search("kernel")
        crowded = ranked_from_candidates(conn, "entries", kernel, published, limit=20, offset=0)
        assert crowded is None
    assert answered >= 6


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # FTS5's postings
@pytest.mark.parametrize(("walk_step", "head"), [(4096, 1024), (16, 8)])
def test_in_memory_ranking_gives_the_joined_answer(
    engine: Engine,
    ingest: Ingest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    walk_step: int,
    head: int,
) -> None:
    # Small steps and heads make a small corpus take every path a large one takes.
    monkeypatch.setattr(search_index, "WALK_STEP", walk_step)
    monkeypatch.setattr(search_index, "HEAD", head)
    _write_kernel_corpus(tmp_path)
    (tmp_path / "2024-03-01-t.md").write_text(
        "---\ntags: [systems]\n---\n## Systems 3\n* kernel cache\n* kernel kernel locks\n"
    )
    ingest(tmp_path)
    cases = [
        ("kernel", EntryFilters()),
        ("kernel", EntryFilters(include_drafts=True)),
        ("note cache", EntryFilters()),
        ("kernel memory -locks", EntryFilters()),
        ("Kernels", EntryFilters(domain=("systems-3",))),
        ("kernel", EntryFilters(tag=("systems",))),
        ("queue", EntryFilters(date_from=dt.date(2024, 1, 3), date_to=dt.date(2024, 1, 5))),
        ("kernel driver", EntryFilters(post=("2024-01-02-k",))),
        ("zebra", EntryFilters()),
    ]
    with engine.connect() as conn:
        entries = build_index(conn)
        search = build_search_index(conn, entries)
        for words, filters in cases:
            query = parse_search(words)
            where = entry_conditions(filters, entries.aliases)
            for limit, offset in [(1, 0), (10, 0), (50, 0), (50, 50), (20, 140), (51, 1030)]:
                joined = ranked_by_join(conn, "entries", query, where, limit=limit, offset=offset)
                found = search.page(conn, query, filters, wanted=offset + limit)
                assert found is not None, words
                assert [(hit.id, hit.score) for hit in found[offset:]] == [
                    (row.id, row.score) for row in joined
                ], (words, filters, limit, offset)
        # Phrases, prefixes and date-time bounds are SQL's to answer.
        for words, filters in [
            ('"kernel note"', EntryFilters()),
            ("kern*", EntryFilters()),
            ("kernel", EntryFilters(date_from=dt.datetime(2024, 1, 3, tzinfo=dt.UTC))),
        ]:
            assert search.page(conn, parse_search(words), filters, wanted=10) is None


def test_search_answers_the_same_from_memory_and_sql(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    _write_kernel_corpus(tmp_path)
    ingest(tmp_path)
    for params in [
        {"q": "kernel", "limit": 50},
        {"q": "kernel note", "limit": 7, "domain": "systems-4"},
        {"q": "cache -memory", "limit": 30},
        {"q": "Kernels", "limit": 200},
    ]:
        first = client.get("/search", params=params)
        assert first.status_code == 200, first.text
        # A date-time bound is SQL's to answer; this one leaves out nothing.
        second = client.get("/search", params={**params, "from": "2000-01-01T00:00:00Z"})
        assert second.status_code == 200, second.text
        items = first.json()["items"]
        assert items
        assert items == second.json()["items"]
