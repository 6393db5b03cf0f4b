"""/urls: cited addresses grouped however they were spelled, on both engines."""

from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import Ingest


def test_spellings_of_one_address_are_one_url(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    (tmp_path / "2024-01-01-a.md").write_text(
        "## GenAI\n* [Ferret](https://arxiv.org/pdf/2310.07704.pdf) first look\n"
        "* [blog](https://example.com/post/?utm_source=feed) a blog\n"
    )
    (tmp_path / "2024-02-01-b.md").write_text(
        "## Systems\n* [Ferret again](http://www.arxiv.org/abs/2310.07704v2) second look\n"
    )
    ingest(tmp_path)
    items = client.get("/urls").json()["items"]
    ferret = items[0]
    assert ferret["url_key"] == "https://arxiv.org/abs/2310.07704"
    assert (ferret["times"], ferret["entries"]) == (2, 2)
    assert (ferret["first_date"], ferret["last_date"]) == ("2024-01-01", "2024-02-01")
    assert ferret["domains"] == ["genai", "systems"]
    assert ferret["link_kind"] == "paper"
    blog = items[1]
    assert blog["url_key"] == "https://example.com/post"
    assert blog["times"] == 1

    filtered = client.get("/urls", params={"domain": "systems"}).json()["items"]
    assert [(item["url_key"], item["times"]) for item in filtered] == [
        ("https://arxiv.org/abs/2310.07704", 1)
    ]


def test_url_pages_follow_next(client: TestClient, ingest: Ingest, tmp_path: Path) -> None:
    lines = "\n".join(f"* [n{n}](https://example.com/{n}) note" for n in range(5))
    (tmp_path / "2024-01-01-a.md").write_text(f"## A\n{lines}\n")
    ingest(tmp_path)
    seen: list[str] = []
    url: str | None = "/urls?limit=2"
    while url:
        body = client.get(url).json()
        seen.extend(item["url_key"] for item in body["items"])
        url = body["next"]
    assert sorted(seen) == [f"https://example.com/{n}" for n in range(5)]
