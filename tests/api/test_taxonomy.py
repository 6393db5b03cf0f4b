"""`/domains`: paged top-level domains, most posts first, filtered by `min_posts`."""

import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import PREVIEW
from tests.conftest import CORPORA, REPO, Ingest

Node = dict[str, Any]


def walk(nodes: list[Node]) -> list[Node]:
    """Every node of a domain tree, parents before children."""
    return [found for node in nodes for found in [node, *walk(node["children"])]]


def shape(nodes: list[Node]) -> list[tuple[str, Any]]:
    """A tree as nested (slug, children) pairs."""
    return [(node["slug"], shape(node["children"])) for node in nodes]


def every_page(client: TestClient, url: str) -> list[Node]:
    """The items of every page from `url` on, following `next` and checking `Link`."""
    items: list[Node] = []
    next_url: str | None = url
    while next_url:
        answer = client.get(next_url)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items += body["items"]
        next_url = body["next"]
        if next_url:
            assert answer.headers["Link"] == f'<{next_url}>; rel="next"'
        else:
            assert "Link" not in answer.headers
    return items


def assert_ordered(nodes: list[Node]) -> None:
    """Most posts first at every level, then by slug."""
    keys = [(-node["post_count"], node["slug"]) for node in nodes]
    assert keys == sorted(keys)
    for node in nodes:
        assert_ordered(node["children"])


def write(folder: Path, name: str, body: str) -> None:
    """One post under `folder`."""
    (folder / name).write_text(body)


@pytest.mark.corpora
def test_a_blog_of_1300_headings_gives_a_short_paged_list(
    client: TestClient, ingest: Ingest
) -> None:
    folder = CORPORA / "jekyll-18f"
    if not folder.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"corpus {folder} is missing in CI")
        pytest.skip(f"corpus {folder} not present")
    ingest(folder)

    every = client.get("/domains", params={"limit": 20, "min_posts": 1})
    assert every.status_code == 200
    page = every.json()
    assert len(page["items"]) == 20
    assert page["next"] is not None
    assert every.headers["Link"] == f'<{page["next"]}>; rel="next"'
    assert page["total"] > 1000  # every heading of every post is a domain of one post at least

    default = client.get("/domains", headers={"Accept-Encoding": "identity"})
    assert len(default.content) < 64 * 1024
    body = default.json()
    assert body["next"] is not None
    # Only headings several posts share: a short list a sidebar can hold.
    assert 0 < body["total"] < 100
    listed = every_page(client, "/domains?limit=25")
    assert len(listed) == body["total"]
    assert len({node["slug"] for node in listed}) == len(listed)
    assert all(node["post_count"] >= 2 for node in walk(listed))
    assert_ordered(listed)
    assert listed[0]["slug"] == "whats-next"  # in 22 posts, the most of any heading


def test_bundled_content_keeps_its_tree(client: TestClient, ingest: Ingest) -> None:
    ingest(REPO / "content")
    default = every_page(client, "/domains")
    everything = every_page(client, "/domains?min_posts=1")
    assert shape(default) == shape(everything)
    assert shape(default) == [
        ("machine-learning", [("genai", []), ("other-ml", []), ("retrieval", [])]),
        ("industry-business", []),
        ("databases", []),
        ("systems", []),
        ("reading", []),  # in one post of six: a small log keeps every heading
    ]
    assert_ordered(default)
    ml = default[0]
    assert (ml["post_count"], ml["children"][0]["post_count"]) == (6, 6)
    # `LLMs` and `GenAI` in one post make one post of genai, not two.
    assert ml["children"][0]["headings"] == ["GenAI", "Generative AI", "LLMs"]


def test_pages_cover_each_top_level_domain_once(client: TestClient, ingest: Ingest) -> None:
    ingest(REPO / "content")
    whole = client.get("/domains").json()
    first = client.get("/domains", params={"limit": 2})
    page = first.json()
    assert page["total"] == whole["total"] == 5
    assert [node["slug"] for node in page["items"]] == ["machine-learning", "industry-business"]
    rest = every_page(client, page["next"])
    assert [node["slug"] for node in rest] == ["databases", "systems", "reading"]
    assert page["items"] + rest == whole["items"]


def test_min_posts_filters_every_level_and_moves_kept_domains_up(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    folder = tmp_path / "log"
    folder.mkdir()
    # Gamma sits under Beta in one post and under Zeta in another: its home is Beta (a
    # tie goes to the first by name). Beta and Zeta occur once, Alpha twice.
    write(folder, "2024-01-01-a.md", "## Alpha\n### Beta\n#### Gamma\n* one\n")
    write(folder, "2024-01-02-b.md", "## Zeta\n### Gamma\n* two\n")
    write(folder, "2024-01-03-c.md", "## Alpha\n* three\n")
    ingest(folder)
    assert shape(every_page(client, "/domains?min_posts=1")) == [
        ("alpha", [("beta", [("gamma", [])])]),
        ("zeta", []),
    ]
    # Beta is dropped: Gamma nests under Beta's kept parent instead of vanishing.
    kept = every_page(client, "/domains?min_posts=2")
    assert shape(kept) == [("alpha", [("gamma", [])])]
    assert [node["post_count"] for node in walk(kept)] == [2, 2]
    assert every_page(client, "/domains?min_posts=3") == []


def test_a_heading_top_level_in_most_posts_stays_top_level(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    folder = tmp_path / "log"
    folder.mkdir()
    for day in range(1, 4):
        write(folder, f"2024-01-0{day}-p.md", f"## Next steps\n* step {day}\n")
    write(folder, "2024-01-09-q.md", "## Lessons\n### Next steps\n* nested once\n")
    ingest(folder)
    tree = every_page(client, "/domains")
    assert shape(tree) == [("next-steps", []), ("lessons", [])]
    assert tree[0]["post_count"] == 4


def test_default_drops_one_post_headings_of_a_big_log_but_keeps_named_domains(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    folder = tmp_path / "blog"
    folder.mkdir()
    (folder / "domains.yml").write_text("genai: [GenAI, LLMs]\n")
    for day in range(1, 22):
        write(
            folder, f"2024-01-{day:02d}-post.md", f"## Notes\n* note {day}\n## Only in {day}\n* x\n"
        )
    write(folder, "2024-02-01-llms.md", "## LLMs\n* named in the aliases file, one post\n")
    ingest(folder)

    default = client.get("/domains").json()
    assert [node["slug"] for node in default["items"]] == ["notes", "genai"]
    assert default["total"] == 2
    # Asked for, `min_posts` holds for every domain, named ones included.
    assert [node["slug"] for node in client.get("/domains?min_posts=2").json()["items"]] == [
        "notes"
    ]
    everything = client.get("/domains", params={"min_posts": 1, "limit": 200}).json()
    assert everything["total"] == 23
    assert everything["items"][0] == {
        "slug": "notes",
        "name": "Notes",
        "headings": ["Notes"],
        "entry_count": 21,
        "post_count": 21,
        "first_date": "2024-01-01",
        "last_date": "2024-01-21",
        "children": [],
    }


def test_drafts_count_only_when_asked(client: TestClient, ingest: Ingest) -> None:
    ingest(REPO / "content")
    published = {node["slug"]: node for node in walk(client.get("/domains").json()["items"])}
    assert client.get("/domains", params={"include_drafts": True}).status_code == 401
    drafts = client.get("/domains", params={"include_drafts": True}, headers=PREVIEW)
    drafts = drafts.json()["items"]
    everything = {node["slug"]: node for node in walk(drafts)}
    ml, ml_drafts = published["machine-learning"], everything["machine-learning"]
    assert ml_drafts["post_count"] > ml["post_count"]
    assert ml_drafts["last_date"] > ml["last_date"]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("min_posts=0", "min_posts"),
        ("min_posts=two", "min_posts"),
        ("limit=0", "limit"),
        ("cursor=bogus", "cursor"),
    ],
)
def test_invalid_paging_and_filters_are_problems(
    client: TestClient, query: str, param: str
) -> None:
    answer = client.get(f"/domains?{query}")
    assert answer.status_code == 422
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert [error["param"] for error in answer.json()["errors"]] == [param]


def test_a_cursor_belongs_to_its_filter(client: TestClient, ingest: Ingest) -> None:
    ingest(REPO / "content")
    cursor = client.get("/domains", params={"limit": 1}).json()["next"].split("cursor=")[1]
    answer = client.get("/domains", params={"limit": 1, "min_posts": 3, "cursor": cursor})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["param"] == "cursor"
