"""Front-matter URLs as links, excerpts rendered like entries, and terms shown by their
names in their own script, on both engines."""

from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.conftest import PREVIEW
from tests.conftest import Ingest

PROJECT = """---
title: A project
date: 2024-03-01
repo: https://github.com/example/tool
home: https://tool.example.org/
mirrors:
  - https://mirror.example.net/tool
  - not an address
description: "*demo* uses [the guide](https://tool.example.org/guide) & <b>more</b>"
tags: [日本語, Machine Learning]
categories: [Ünïcode, 中文]
---
## GenAI
* [Paper](https://arxiv.org/abs/2310.07704) read it
* see https://github.com/example/tool again
"""

OTHER = """---
title: Another
date: 2024-04-01
tags: [日本語]
---
## Systems
* a [note](https://example.com/note)
"""


def _write(folder: Path) -> Path:
    (folder / "2024-03-01-project.md").write_text(PROJECT)
    (folder / "2024-04-01-other.md").write_text(OTHER)
    return folder


def test_front_matter_urls_are_links_of_the_post(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    ingest(_write(tmp_path))
    items = client.get("/links", params={"origin": "front_matter"}).json()["items"]
    found = {(item["text"], item["url"]) for item in items}
    assert found == {
        ("repo", "https://github.com/example/tool"),
        ("home", "https://tool.example.org/"),
        ("mirrors", "https://mirror.example.net/tool"),
        ("the guide", "https://tool.example.org/guide"),  # written in the excerpt
    }
    repo = next(item for item in items if item["text"] == "repo")
    assert repo["entry_id"] is None
    assert repo["origin"] == "front_matter"
    assert repo["link_kind"] == "code"
    assert repo["post"]["slug"] == "2024-03-01-project"
    assert repo["date"] == "2024-03-01"

    body = client.get("/links", params={"origin": "body"}).json()["items"]
    assert {item["origin"] for item in body} == {"body"}
    assert len(body) == 3
    both = client.get("/links").json()
    assert both["total"] == 7
    # A domain or a search selects entries: front-matter links belong to none.
    in_genai = client.get("/links", params={"domain": "genai"}).json()["items"]
    assert {item["origin"] for item in in_genai} == {"body"}
    # Post-level filters select them through their post.
    tagged = client.get("/links", params={"tag": "machine-learning"}).json()["items"]
    assert {item["origin"] for item in tagged} == {"body", "front_matter"}
    later = client.get("/links", params={"from": "2024-03-15", "origin": "front_matter"})
    assert later.json()["items"] == []


def test_urls_count_front_matter_values(client: TestClient, ingest: Ingest, tmp_path: Path) -> None:
    ingest(_write(tmp_path))
    items = client.get("/urls").json()["items"]
    tool = next(item for item in items if item["url_key"] == "https://github.com/example/tool")
    assert (tool["times"], tool["entries"]) == (2, 1)
    assert tool["first_date"] == "2024-03-01"
    only_front = client.get("/urls", params={"origin": "front_matter"}).json()["items"]
    assert {item["url_key"] for item in only_front} == {
        "https://github.com/example/tool",
        "https://tool.example.org",
        "https://mirror.example.net/tool",
        "https://tool.example.org/guide",
    }
    mirror = next(i for i in only_front if i["url_key"].startswith("https://mirror"))
    assert (mirror["entries"], mirror["domains"]) == (0, [])


def test_an_unknown_origin_is_invalid(client: TestClient) -> None:
    for path in ("/links", "/urls"):
        answer = client.get(path, params={"origin": "sidebar"})
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["errors"][0]["param"] == "origin"


def test_excerpts_are_text_and_html(client: TestClient, ingest: Ingest, tmp_path: Path) -> None:
    ingest(_write(tmp_path))
    post = client.get("/posts/2024-03-01-project").json()
    assert post["excerpt"] == "demo uses the guide & more"
    html = post["excerpt_html"]
    assert "<em>demo</em>" in html
    assert '<a href="https://tool.example.org/guide"' in html
    assert "&amp;" in html
    listed = client.get("/posts").json()["items"]
    other = next(item for item in listed if item["slug"] == "2024-04-01-other")
    assert (other["excerpt"], other["excerpt_html"]) == (None, None)
    # Feeds summarise a post with its excerpt as text, as JSON Feed asks.
    feed = client.get("/feeds/posts.json").json()
    summaries = {item["title"]: item.get("summary") for item in feed["items"]}
    assert summaries["A project"] == "demo uses the guide & more"


def test_excerpt_html_carries_no_script(client: TestClient, ingest: Ingest, tmp_path: Path) -> None:
    (tmp_path / "2024-01-01-x.md").write_text(
        '---\nexcerpt: "hi <script>alert(1)</script> [x](javascript:alert(2))"\n---\n# X\n'
    )
    ingest(tmp_path)
    html = client.get("/posts/2024-01-01-x").json()["excerpt_html"]
    assert "<script" not in html
    assert 'href="javascript' not in html  # left as text, never a link


def test_tags_and_categories_show_their_names(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    ingest(_write(tmp_path))
    tags = {item["name"]: item for item in client.get("/tags").json()["items"]}
    assert tags["ri-ben-yu"]["label"] == "日本語"
    assert tags["machine-learning"]["label"] == "Machine Learning"
    # The slug is still what filters take.
    entries = client.get("/entries", params={"tag": "ri-ben-yu"}).json()["items"]
    assert len(entries) == 3
    categories = {item["name"]: item["label"] for item in client.get("/categories").json()["items"]}
    assert categories == {"unicode": "Ünïcode", "zhong-wen": "中文"}


def test_a_term_keeps_its_name_across_re_ingests(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    folder = _write(tmp_path)
    ingest(folder)
    (folder / "2024-04-01-other.md").write_text(OTHER.replace("## Systems", "## Systems!"))
    ingest(folder)
    tags = {item["name"]: item["label"] for item in client.get("/tags").json()["items"]}
    assert tags["ri-ben-yu"] == "日本語"
    # Drafts' tags are named too, for those who may see them.
    (folder / "2024-05-01-draft.md").write_text("---\ntags: [Ελληνικά]\ndraft: true\n---\n* x\n")
    ingest(folder)
    named = client.get("/tags", params={"include_drafts": "true"}, headers=PREVIEW).json()
    assert {item["label"] for item in named["items"]} >= {"Ελληνικά", "日本語"}


def test_domains_are_named_by_their_most_used_heading(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    for day, heading in (("01", "日本語"), ("02", "日本語"), ("03", "Rì Běn Yǔ")):
        (tmp_path / f"2024-01-{day}-n.md").write_text(f"## {heading}\n* entry\n")
    ingest(tmp_path)
    (domain,) = client.get("/domains").json()["items"]
    assert domain["slug"] == "ri-ben-yu"
    assert domain["name"] == "日本語"
    assert sorted(domain["headings"]) == ["Rì Běn Yǔ", "日本語"]
