"""Atom and JSON Feed syndication through HTTP, read as a feed reader would, on both engines.

Atom goes through feedparser. No released feedparser reads JSON Feed, so JSON Feeds are
checked against the rules of the JSON Feed 1.1 specification instead.
"""

import datetime as dt
from pathlib import Path
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import preview_for
from tests.conftest import SEED, Ingest

Params = dict[str, Any] | list[tuple[str, Any]]

SEED_DAY = dt.datetime(2023, 12, 24, tzinfo=dt.UTC)
FEEDS = ["/feeds/entries.atom", "/feeds/entries.json", "/feeds/posts.atom", "/feeds/posts.json"]

# Every top-level and item key JSON Feed 1.1 defines.
JSON_FEED_KEYS = {
    "version",
    "title",
    "home_page_url",
    "feed_url",
    "description",
    "user_comment",
    "next_url",
    "icon",
    "favicon",
    "authors",
    "language",
    "expired",
    "hubs",
    "items",
}
JSON_ITEM_KEYS = {
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "image",
    "banner_image",
    "date_published",
    "date_modified",
    "authors",
    "tags",
    "language",
    "attachments",
}

UPDATED_POST = """---
title: Notes with an update
date: 2024-02-03 10:30:00 +02:00
updated: 2024-02-10
tags: [rag]
---

## GenAI
* An entry from a post edited after publication ([paper](https://arxiv.org/abs/2401.00001)).
"""

# No date anywhere, raw HTML, and control characters that XML cannot carry.
ODD_POST = (
    "## GenAI\n"
    '* Raw HTML <script>alert("x")</script> and <img src="x" onerror="alert(1)"> in an entry.\n'
    "* A form feed \x0c and a bell \x07 in the text.\n"
)


def atom(client: TestClient, path: str, params: Params | None = None) -> Any:
    """GET an Atom feed and parse it like a reader would (HTML left as served)."""
    response = client.get(path, params=params, headers=preview_for(params))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml"
    parsed = feedparser.parse(
        response.content,
        response_headers={"content-type": response.headers["content-type"]},
        sanitize_html=False,
    )
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def json_feed(client: TestClient, path: str, params: Params | None = None) -> dict[str, Any]:
    """GET a JSON Feed and check it against the JSON Feed 1.1 rules."""
    response = client.get(path, params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/feed+json"
    body: dict[str, Any] = response.json()
    assert body["version"] == "https://jsonfeed.org/version/1.1"
    assert set(body) <= JSON_FEED_KEYS
    assert isinstance(body["title"], str)
    assert body["title"]
    assert body["feed_url"].startswith("http://testserver/")
    assert isinstance(body["items"], list)
    for item in body["items"]:
        assert set(item) <= JSON_ITEM_KEYS
        assert isinstance(item["id"], str)
        assert item["id"]
        assert isinstance(item.get("content_html", item.get("content_text")), str)
        assert item["url"].startswith("http://testserver/")
        assert all(isinstance(tag, str) for tag in item.get("tags", []))
        for key in ("date_published", "date_modified"):
            if key in item:
                assert moment(item[key]).tzinfo is not None  # RFC 3339 needs an offset
        assert None not in item.values()  # the spec has no nulls: absent means unknown
    return body


def moment(text: str) -> dt.datetime:
    """An RFC 3339 timestamp."""
    return dt.datetime.fromisoformat(text)


def parsed_time(value: Any) -> dt.datetime:
    """A feedparser *_parsed struct (UTC) as an aware datetime."""
    return dt.datetime(*value[:6], tzinfo=dt.UTC)


def listed(client: TestClient, path: str, params: Params) -> list[dict[str, Any]]:
    """Every item the JSON list endpoint returns for `params`."""
    body = client.get(path, params={**dict(params), "limit": 200}).json()
    assert body["next"] is None
    items: list[dict[str, Any]] = body["items"]
    return items


def test_entries_feeds_hold_each_listed_entry_once(seeded: TestClient) -> None:
    entries = listed(seeded, "/entries", {"domain": "genai"})
    assert len(entries) == 6
    links = [f"http://testserver/entries/{entry['id']}" for entry in entries]

    parsed = atom(seeded, "/feeds/entries.atom", {"domain": "genai"})
    assert parsed.feed.title == "learnlog entries: domain genai"
    assert [item.link for item in parsed.entries] == links
    assert len({item.id for item in parsed.entries}) == 6
    assert all(item.id.startswith("tag:") for item in parsed.entries)
    by_text = {entry["text"]: item for entry, item in zip(entries, parsed.entries, strict=True)}
    ferret = by_text[next(text for text in by_text if text.startswith("Ferret"))]
    assert ferret.title.startswith("Ferret from Apple, 7B/13B multi-modal LLM")
    assert ferret.title.endswith("…")
    assert len(ferret.title) <= 80
    assert '<a href="https://arxiv.org/pdf/2310.07704.pdf">Ferret</a>' in ferret.content[0].value
    assert ferret.content[0].type == "text/html"
    thought = by_text["[Thought] 2024 will be the year of smaller, more domain-focused LLMs?"]
    assert thought.title == "[Thought] 2024 will be the year of smaller, more domain-focused LLMs?"
    assert [tag.term for tag in thought.tags] == ["thought"]

    body = json_feed(seeded, "/feeds/entries.json", {"domain": "genai"})
    assert body["title"] == "learnlog entries: domain genai"
    assert [item["url"] for item in body["items"]] == links
    assert [item["id"] for item in body["items"]] == [item.id for item in parsed.entries]
    assert [item["content_html"] for item in body["items"]] == [e["html"] for e in entries]
    json_ferret = next(item for item in body["items"] if item["title"].startswith("Ferret"))
    assert json_ferret["external_url"] == "https://arxiv.org/pdf/2310.07704.pdf"
    apple = next(item for item in body["items"] if item["title"] == "Apple LLMs:")
    assert "external_url" not in apple  # no link of its own


def test_item_links_open_the_item(seeded: TestClient) -> None:
    for item in atom(seeded, "/feeds/entries.atom").entries:
        assert seeded.get(item.link).json()["id"] == int(item.link.rsplit("/", 1)[1])
    for item in json_feed(seeded, "/feeds/posts.json")["items"]:
        assert seeded.get(item["url"]).json()["title"] == item["title"]


def test_seed_dates(seeded: TestClient) -> None:
    parsed = atom(seeded, "/feeds/entries.atom")
    assert parsed_time(parsed.feed.updated_parsed) == SEED_DAY
    for item in parsed.entries:
        assert parsed_time(item.published_parsed) == SEED_DAY
        assert parsed_time(item.updated_parsed) == SEED_DAY
    for item in json_feed(seeded, "/feeds/entries.json")["items"]:
        assert moment(item["date_published"]) == SEED_DAY
        assert moment(item["date_modified"]) == SEED_DAY


def test_update_dates_from_front_matter_and_newest_first(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    (seed_dir / "notes.md").write_text(UPDATED_POST)
    ingest(seed_dir)
    published = dt.datetime(2024, 2, 3, 8, 30, tzinfo=dt.UTC)
    edited = dt.datetime(2024, 2, 10, tzinfo=dt.UTC)

    for path in ("/feeds/entries.atom", "/feeds/posts.atom"):
        parsed = atom(seeded, path, {"domain": "genai"})
        assert parsed_time(parsed.feed.updated_parsed) == edited  # the newest item, not "now"
        newest, *older = parsed.entries
        assert parsed_time(newest.published_parsed) == published
        assert parsed_time(newest.updated_parsed) == edited
        assert older
        assert all(parsed_time(item.updated_parsed) == SEED_DAY for item in older)

    for path in ("/feeds/entries.json", "/feeds/posts.json"):
        newest, *older = json_feed(seeded, path, {"domain": "genai"})["items"]
        assert moment(newest["date_published"]) == published
        assert moment(newest["date_modified"]) == edited
        assert all(moment(item["date_modified"]) == SEED_DAY for item in older)


def test_posts_feeds_hold_each_listed_post_once(seeded: TestClient) -> None:
    posts = listed(seeded, "/posts", {"domain": "genai"})
    assert [post["slug"] for post in posts] == ["2023-12-24-learning-logs"]

    parsed = atom(seeded, "/feeds/posts.atom", {"domain": "genai"})
    assert parsed.feed.title == "learnlog posts: domain genai"
    (item,) = parsed.entries
    assert item.title == "Learning Logs: 2023-12-24"
    assert item.link == "http://testserver/posts/2023-12-24-learning-logs"
    assert item.summary == "Testing out a new format to share what I read on a weekly basis"
    assert "<h2>Machine Learning</h2>" in item.content[0].value
    assert parsed_time(item.published_parsed) == SEED_DAY

    (json_item,) = json_feed(seeded, "/feeds/posts.json", {"domain": "genai"})["items"]
    assert json_item["id"] == item.id
    assert json_item["title"] == "Learning Logs: 2023-12-24"
    assert json_item["url"] == item.link
    assert "<h2>Machine Learning</h2>" in json_item["content_html"]
    assert moment(json_item["date_published"]) == SEED_DAY

    assert atom(seeded, "/feeds/posts.atom", {"domain": "astrology"}).entries == []


def test_ids_survive_requests_and_a_reingest(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    def ids() -> tuple[str, list[str], list[str], list[str]]:
        parsed = atom(seeded, "/feeds/entries.atom")
        entries = [item.id for item in parsed.entries]
        posts = [item.id for item in atom(seeded, "/feeds/posts.atom").entries]
        json_ids = [item["id"] for item in json_feed(seeded, "/feeds/entries.json")["items"]]
        return parsed.feed.id, entries, posts, json_ids

    first = ids()
    assert len(first[1]) == 9
    assert first[2]
    assert first[3] == first[1]  # one id per entry, whichever format
    assert ids() == first

    post = seed_dir / SEED.name
    post.unlink()
    ingest(seed_dir)
    assert atom(seeded, "/feeds/entries.atom").entries == []
    post.write_bytes(SEED.read_bytes())
    ingest(seed_dir)
    assert ids() == first


def test_feed_identity_follows_the_filters(seeded: TestClient) -> None:
    both = [("domain", "genai"), ("tag", "thought")]
    one = atom(seeded, "/feeds/entries.atom", both).feed
    same = atom(seeded, "/feeds/entries.atom", [*reversed(both), ("limit", 3)]).feed
    other = atom(seeded, "/feeds/entries.atom", {"domain": "genai"}).feed
    assert one.id == same.id
    assert one.id != other.id
    assert one.title == "learnlog entries: domain genai, tag thought"
    words = {"q": "mixtral", "from": "2023-12-01", "include_drafts": "true"}
    assert atom(seeded, "/feeds/posts.atom", words).feed.title == (
        'learnlog posts: from 2023-12-01, matching "mixtral", drafts included'
    )
    assert atom(seeded, "/feeds/entries.atom").feed.title == "learnlog entries"
    self_link = next(link.href for link in one.links if link.rel == "self")
    assert self_link == "http://testserver/feeds/entries.atom?domain=genai&tag=thought"


def test_limit_keeps_the_newest(seeded: TestClient, ingest: Ingest, seed_dir: Path) -> None:
    (seed_dir / "2024-02-01-newer.md").write_text("## GenAI\n* newer entry\n")
    ingest(seed_dir)
    (item,) = atom(seeded, "/feeds/entries.atom", {"limit": 1}).entries
    assert item.title == "newer entry"
    assert len(json_feed(seeded, "/feeds/entries.json", {"limit": 3})["items"]) == 3
    assert len(json_feed(seeded, "/feeds/entries.json")["items"]) == 10  # default 50 holds all


def test_empty_result_is_an_empty_feed(seeded: TestClient) -> None:
    parsed = atom(seeded, "/feeds/entries.atom", {"domain": "astrology"})
    assert parsed.entries == []
    assert parsed.feed.title == "learnlog entries: domain astrology"
    body = json_feed(seeded, "/feeds/entries.json", {"domain": "astrology"})
    assert body["items"] == []


def test_content_is_safe_and_odd_text_stays_readable(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    (seed_dir / "odd-things.md").write_text(ODD_POST)
    ingest(seed_dir)
    query = {"post": "odd-things"}
    assert len(listed(seeded, "/entries", query)) == 2
    odd = atom(seeded, "/feeds/entries.atom", query).entries[1]  # XML-proof despite \x0c
    assert odd.title == "A form feed and a bell in the text."
    assert "published" not in odd  # undated: no publication date is invented
    assert odd.updated_parsed is not None

    for path in ("/feeds/entries.atom", "/feeds/posts.atom"):
        for item in atom(seeded, path).entries:
            html = item.content[0].value.lower()
            assert "<script" not in html
            assert "onerror" not in html
    for path in ("/feeds/entries.json", "/feeds/posts.json"):
        for json_item in json_feed(seeded, path)["items"]:
            assert "<script" not in json_item["content_html"].lower()
            assert "onerror" not in json_item["content_html"].lower()


@pytest.mark.parametrize("path", FEEDS)
@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("from=2024-13-01", "from"),
        ("from=2024-02-01&to=2024-01-01", "from"),
        ("include_drafts=maybe", "include_drafts"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
    ],
)
def test_bad_parameters_are_problems(seeded: TestClient, path: str, query: str, param: str) -> None:
    response = seeded.get(f"{path}?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert param in [error["param"] for error in body["errors"]]


@pytest.mark.parametrize("path", FEEDS)
def test_etag_revalidation(seeded: TestClient, ingest: Ingest, seed_dir: Path, path: str) -> None:
    first = seeded.get(path, params={"domain": "genai"})
    etag = first.headers["ETag"]
    assert "must-revalidate" in first.headers["Cache-Control"]
    again = seeded.get(path, params={"domain": "genai"}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert seeded.get(path, params={"domain": "other-ml"}).headers["ETag"] != etag
    (seed_dir / "2024-02-01-new.md").write_text("## GenAI\n* new\n")
    ingest(seed_dir)
    after = seeded.get(path, params={"domain": "genai"}, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert after.headers["content-type"] == first.headers["content-type"]


def test_openapi_documents_the_feeds(seeded: TestClient) -> None:
    spec = seeded.get("/openapi.json").json()
    for path, operation_id, media_type in [
        ("/feeds/entries.atom", "entriesAtomFeed", "application/atom+xml"),
        ("/feeds/entries.json", "entriesJsonFeed", "application/feed+json"),
        ("/feeds/posts.atom", "postsAtomFeed", "application/atom+xml"),
        ("/feeds/posts.json", "postsJsonFeed", "application/feed+json"),
    ]:
        operation = spec["paths"][path]["get"]
        assert operation["operationId"] == operation_id
        assert operation["description"]
        assert list(operation["responses"]["200"]["content"]) == [media_type]
        problem = operation["responses"]["422"]["content"]
        assert list(problem) == ["application/problem+json"]
        assert {"type", "title", "status", "detail"} <= set(
            problem["application/problem+json"]["schema"]["properties"]
        )
        names = {param["name"] for param in operation["parameters"]}
        assert {"domain", "tag", "from", "to", "q", "limit"} <= names


def test_external_url_is_the_first_web_link(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    (seed_dir / "2024-02-01-links.md").write_text(
        "## GenAI\n"
        "* See [last week](2023-12-24-learning-logs.md) and [a paper](https://arxiv.org/abs/2401.2).\n"
        "* Write to [me](mailto:me@example.com).\n"
    )
    ingest(seed_dir)
    items = json_feed(seeded, "/feeds/entries.json", {"post": "2024-02-01-links"})["items"]
    assert [item.get("external_url") for item in items] == ["https://arxiv.org/abs/2401.2", None]
