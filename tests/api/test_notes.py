"""A small Obsidian vault through ingest and the API: wikilinks, embeds, callouts, comments,
highlights, backlinks, the graph, and resolution that follows the folder."""

import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Ingest

VAULT = Path(__file__).resolve().parent.parent / "fixtures" / "notes" / "vault"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A copy of the fixture vault (tests add and remove notes)."""
    folder = tmp_path / "vault"
    shutil.copytree(VAULT, folder)
    return folder


def _all(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list route, page after page."""
    items: list[dict[str, Any]] = []
    url: str | None = path
    query: dict[str, Any] | None = {**params, "limit": 200}
    while url:
        answer = client.get(url, params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items += body["items"]
        url, query = body["next"], None
    return items


def test_vault_links_resolve_and_render(client: TestClient, ingest: Ingest, vault: Path) -> None:
    summary = ingest(vault)
    assert summary.dialect is not None
    assert summary.dialect.name == "obsidian"
    a_entries = _all(client, "/entries", post="a")
    texts = [entry["text"] for entry in a_entries]
    assert texts, "A has entries"
    for text in texts:
        assert "[[" not in text
        assert "%%" not in text
        assert "[!" not in text
        assert "==" not in text
    assert any("the bee" in text for text in texts)
    callout = next(e for e in a_entries if e["entry_kind"] == "callout")
    assert callout["text"] == "Title"
    children = [e for e in a_entries if e["parent_id"] == callout["id"]]
    assert [c["text"] for c in children] == ["a bullet inside the callout", "B again, inside"]
    hot = next(e for e in a_entries if "hot" in e["text"])
    assert "<mark>hot</mark>" in hot["html"]
    assert "^a-block" not in hot["text"]
    assert {"obsidian", "topic-nested"} <= set(
        next(e for e in a_entries if "Tags" in e["text"])["tags"]
    )

    backlinks = _all(client, "/posts/b/backlinks")
    assert {entry["post"]["slug"] for entry in backlinks} == {"a"}
    assert all(entry["id"] in {e["id"] for e in a_entries} for entry in backlinks)

    links = _all(client, "/links", post="a")
    unresolved = [link for link in links if link["resolved"] is False]
    assert [link["url"] for link in unresolved] == ["Missing"]
    assert [link["url"] for link in _all(client, "/links", resolved="false")] == ["Missing"]
    part = next(link for link in links if link["url"] == "sub/C#Part")
    assert part["target"] == {"slug": "c", "title": "C", "section": "part", "entry_id": None}
    block = next(link for link in links if link["url"] == "sub/C#^c-block")
    assert block["target"]["entry_id"] is not None
    assert block["target"]["entry_id"] in {e["id"] for e in _all(client, "/entries", post="c")}
    images = [link for link in links if link["link_kind"] == "image"]
    assert [(link["url"], link["embed"]) for link in images] == [("pic.png", True)] * 2
    relative = next(link for link in links if link["url"] == "sub/C.md#part")
    assert relative["target"]["slug"] == "c"
    alias = next(link for link in _all(client, "/links", post="b") if link["url"] == "Alpha")
    assert alias["target"]["slug"] == "a"

    html = client.get("/posts/a").json()["html"]
    assert 'href="/posts/b"' in html
    assert 'href="/posts/c#part"' in html
    assert "internal-link unresolved" in html
    assert "secret" not in html
    assert 'data-callout="note"' in html


def test_secret_comment_is_nowhere(client: TestClient, ingest: Ingest, vault: Path) -> None:
    ingest(vault)
    assert _all(client, "/search", q="secret") == []
    assert _all(client, "/entries", q="secret") == []
    for entry in _all(client, "/entries"):
        assert "secret" not in entry["text"]
        assert "secret" not in entry["html"]
    for slug in ("a", "b", "c"):
        assert "secret" not in client.get(f"/posts/{slug}").text


def test_resolution_follows_the_folder(client: TestClient, ingest: Ingest, vault: Path) -> None:
    ingest(vault)
    version = client.get("/changes", params={"since": 0}).json()["version"]
    etag = client.get("/posts/a").headers["etag"]

    (vault / "Missing.md").write_text("Now it exists.\n", encoding="utf-8")
    summary = ingest(vault)
    assert (summary.added, summary.updated) == (1, 0)  # A was not re-parsed
    assert _all(client, "/links", resolved="false") == []
    assert {e["post"]["slug"] for e in _all(client, "/posts/missing/backlinks")} == {"a"}
    changes = client.get("/changes", params={"since": version}).json()
    assert {post["slug"] for post in changes["updated"]} == {"a"}
    fresh = client.get("/posts/a", headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert 'href="/posts/missing"' in fresh.json()["html"]

    # Renaming B moves its name: links to it go unresolved, without re-parsing A.
    (vault / "B.md").rename(vault / "Bee.md")
    summary = ingest(vault)
    assert (summary.added, summary.updated, summary.deleted) == (1, 0, 1)
    unresolved = {link["url"] for link in _all(client, "/links", resolved="false")}
    assert unresolved == {"B"}
    (vault / "Missing.md").unlink()
    ingest(vault)
    unresolved = {link["url"] for link in _all(client, "/links", resolved="false")}
    assert unresolved == {"B", "Missing"}


def test_graph_matches_backlinks(client: TestClient, ingest: Ingest, vault: Path) -> None:
    ingest(vault)
    assert_graph_matches_backlinks(client)


def assert_graph_matches_backlinks(client: TestClient) -> dict[str, Any]:
    """Every node's incoming edges name exactly the posts of its backlinks."""
    answer = client.get("/graph")
    assert answer.status_code == 200, answer.text
    graph = answer.json()
    assert (
        client.get("/graph", headers={"If-None-Match": answer.headers["etag"]}).status_code == 304
    )
    slugs = {node["slug"] for node in graph["nodes"]}
    incoming: dict[str, set[str]] = {slug: set() for slug in slugs}
    counts: dict[str, int] = dict.fromkeys(slugs, 0)
    for edge in graph["edges"]:
        assert edge["source"] in slugs
        assert edge["target"] in slugs
        incoming[edge["target"]].add(edge["source"])
        counts[edge["target"]] += edge["count"]
    for node in graph["nodes"]:
        citing = _all(client, f"/posts/{node['slug']}/backlinks")
        assert {entry["post"]["slug"] for entry in citing} == incoming[node["slug"]], node
        assert node["links_in"] == counts[node["slug"]]
        assert len(citing) <= node["links_in"]
    return graph


def test_public_notes_never_lead_to_drafts(client: TestClient, ingest: Ingest, vault: Path) -> None:
    (vault / "Plans.md").write_text("---\ndraft: true\n---\nLinks to [[B]].\n", encoding="utf-8")
    (vault / "B.md").write_text("# B\n\nSee [[Plans]].\n", encoding="utf-8")
    ingest(vault)
    assert 'href="/posts/plans"' not in client.get("/posts/b").json()["html"]
    unresolved = {link["url"] for link in _all(client, "/links", resolved="false")}
    assert "Plans" in unresolved
    assert "plans" not in {e["post"]["slug"] for e in _all(client, "/posts/b/backlinks")}
    assert client.get("/posts/plans/backlinks").status_code == 404
