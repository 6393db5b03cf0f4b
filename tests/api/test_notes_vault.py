"""A generated vault the size of a real one (hundreds of notes in folders, with aliases,
embeds, callouts, and links to headings and blocks), written as Obsidian's help pages
document the syntax: nearly every wikilink resolves, no entry text keeps `[[` or a
callout marker outside code, and notes without a title take their file name."""

import random
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_notes import assert_graph_matches_backlinks
from tests.conftest import Ingest

FOLDERS = ["", "Projects", "Projects/Archive", "Areas/Health", "Areas/Money", "Reading", "Daily"]
WORDS = ["graph", "note", "vault", "idea", "link", "tab", "open", "close", "read", "learn"]


def build_vault(root: Path, notes: int = 320, seed: int = 7) -> dict[str, str]:
    """Write the vault; return {note name: expected title} for notes without a title."""
    rng = random.Random(seed)
    (root / ".obsidian").mkdir(parents=True)
    names = []
    for number in range(notes):
        words = rng.sample(WORDS, 2)
        style = number % 3
        name = (
            f"{words[0].title()} {words[1]} {number}"
            if style == 0
            else f"{words[0]}-{words[1]}_{number}"
        )
        names.append((rng.choice(FOLDERS), name))
    untitled: dict[str, str] = {}
    for index, (folder, name) in enumerate(names):
        others = [names[rng.randrange(notes)] for _ in range(6)]
        lines = []
        if index % 4 == 0:
            lines += ["---", f"aliases: [alias {index}]", "tags: [vault]", "---"]
        if index % 5 == 0:
            lines += [f"# {name} heading", ""]
        elif index % 5 == 1:
            lines += ["## Open a new tab", ""]
            untitled[name] = name
        else:
            untitled[name] = name
        target = others[0][1]
        lines += [
            f"Intro linking [[{target}]] and [[{others[1][1]}|a friendly name]].",
            "",
            "## Details",
            "",
            f"- See [[{others[2][0]}/{others[2][1]}#Details]]"
            f" and [[{others[3][1]}#^blk{index % 7}]]",
            f"- Alias link [[alias {4 * (index % (notes // 4))}]]"
            f" and tag #topic/{WORDS[index % 5]}",
            f"- Embedded ![[{others[4][1]}]] and ![[diagram {index}.png|300]] ^blk{index % 7}",
            f"- A [markdown link]({others[5][1].replace(' ', '%20')}.md) %%private {index}%%",
            "",
            f"> [!tip]{'-' if index % 2 else ''} Tip {index}",
            f"> - bullet inside with [[{target}]]",
            "> - and ==highlighted== text",
            "",
            "```",
            "[[not a link]] in code",
            "```",
        ]
        if index % 10 == 0:
            lines += ["", f"A link to a note that does not exist: [[Nowhere {index}]]"]
        path = root / folder / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return untitled


def _all(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = path
    query: dict[str, Any] | None = {**params, "limit": 200}
    while url:
        body = client.get(url, params=query).json()
        items += body["items"]
        url, query = body["next"], None
    return items


def test_generated_vault(client: TestClient, ingest: Ingest, tmp_path: Path) -> None:
    untitled = build_vault(tmp_path / "vault")
    summary = ingest(tmp_path / "vault", workers=2)
    assert summary.failed == 0
    internal = _all(client, "/links", link_kind="internal")
    resolved = [link for link in internal if link["resolved"]]
    assert len(resolved) / len(internal) >= 0.9
    for entry in _all(client, "/entries"):
        if (
            entry["entry_kind"] in ("paragraph", "item", "callout")
            and "in code" not in entry["text"]
        ):
            assert "[[" not in entry["text"], entry
            assert not entry["text"].startswith("[!"), entry
            assert "%%" not in entry["text"], entry
            assert "private" not in entry["text"], entry
    titles = {post["title"] for post in _all(client, "/posts")}
    assert set(untitled.values()) <= titles
    assert "Open a new tab" not in titles
    assert_graph_matches_backlinks(client)
