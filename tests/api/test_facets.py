"""Facet counts on /entries through HTTP, on SQLite and PostgreSQL."""

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Ingest

TAGGED_POST = """---
title: Tagged
date: 2024-01-10
tags: [reading]
categories: [notes, learning]
---
## Machine Learning
* [Thought] straight under the parent domain
### GenAI
* [Reading] a book the post is tagged with too
* plain [one](https://arxiv.org/abs/1) and [two](https://arxiv.org/abs/2)
"""


def facets(client: TestClient, **params: Any) -> dict[str, list[dict[str, Any]]]:
    """The `facets` object of an /entries answer."""
    response = client.get("/entries", params=params)
    assert response.status_code == 200, response.text
    found: dict[str, list[dict[str, Any]]] = response.json()["facets"]
    return found


def pairs(values: list[dict[str, Any]]) -> list[tuple[Any, int]]:
    """[(value, count), ...] in the order given."""
    return [(item["value"], item["count"]) for item in values]


def test_counts_cover_every_page_not_just_this_one(seeded: TestClient) -> None:
    response = seeded.get(
        "/entries", params={"domain": "genai", "limit": 1, "facets": "host,link_kind"}
    )
    body = response.json()
    assert len(body["items"]) == 1
    assert body["next"] is not None
    assert pairs(body["facets"]["host"]) == [
        ("arxiv.org", 2),
        ("guardrailsai.com", 1),
        ("huggingface.co", 1),
    ]
    assert body["facets"]["link_kind"][0] == {"value": "paper", "count": 2}
    # The next page answers the same counts: the cursor narrows the items, not the facets.
    second = seeded.get(body["next"]).json()
    assert second["items"] != body["items"]
    assert second["facets"] == body["facets"]


def test_facets_only_when_asked_for(seeded: TestClient) -> None:
    plain = seeded.get("/entries", params={"limit": 1}).json()
    assert set(plain) == {"items", "next", "total"}
    assert plain["total"] is None  # null keys of the envelope are still sent
    assert set(seeded.get("/posts").json()) == {"items", "next", "total"}
    asked = seeded.get("/entries", params={"facets": "year"}).json()
    assert set(asked) == {"items", "next", "total", "facets"}
    assert list(asked["facets"]) == ["year"]


def test_comma_separated_and_repeated_mean_the_same(seeded: TestClient) -> None:
    commas = facets(seeded, facets="tag,category,tag")
    repeated = seeded.get("/entries", params=[("facets", "tag"), ("facets", " Category ")])
    assert list(commas) == ["tag", "category"]
    assert repeated.json()["facets"] == commas


def test_every_facet_of_the_seed(seeded: TestClient) -> None:
    found = facets(seeded, facets="domain,tag,category,host,link_kind,year")
    assert pairs(found["domain"]) == [
        ("genai", 6),
        ("machine-learning", 6),
        ("industry-business", 1),
        ("other-ml", 1),
    ]
    assert pairs(found["tag"]) == [("thought", 1)]
    assert pairs(found["category"]) == [("learning", 9)]
    assert pairs(found["year"]) == [(2023, 9)]
    hosts = dict(pairs(found["host"]))
    assert hosts["arxiv.org"] == 2
    assert hosts["databricks.com"] == 1
    assert sum(count for _, count in pairs(found["link_kind"])) >= 6


def test_facets_combine_with_filters(seeded: TestClient) -> None:
    thought = facets(seeded, tag="thought", facets="domain,host")
    assert pairs(thought["domain"]) == [("genai", 1), ("machine-learning", 1)]
    assert thought["host"] == []
    arxiv = facets(seeded, host="arxiv.org", facets="domain,link_kind")
    assert pairs(arxiv["domain"]) == [("genai", 2), ("machine-learning", 2)]
    assert pairs(arxiv["link_kind"]) == [("paper", 2)]
    mixtral = facets(seeded, q="mixtral", facets="domain")
    assert pairs(mixtral["domain"]) == [
        ("genai", 1),
        ("industry-business", 1),
        ("machine-learning", 1),
    ]
    nothing = facets(seeded, domain="astrology", facets="domain,year")
    assert nothing == {"domain": [], "year": []}


def test_parents_count_sub_domains_and_tags_count_each_entry_once(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    (seed_dir / "2024-01-10-tagged.md").write_text(TAGGED_POST)
    ingest(seed_dir)
    found = facets(seeded, facets="domain,tag,category,host,year")
    domains = dict(pairs(found["domain"]))
    assert (domains["machine-learning"], domains["genai"]) == (9, 8)
    # Three entries inherit `reading`; the one also marked [Reading] counts once.
    assert pairs(found["tag"]) == [("reading", 3), ("thought", 2)]
    assert pairs(found["category"]) == [("learning", 12), ("notes", 3)]
    assert dict(pairs(found["host"]))["arxiv.org"] == 3  # two links in one entry count once
    assert pairs(found["year"]) == [(2023, 9), (2024, 3)]
    assert pairs(facets(seeded, category="notes", facets="tag")["tag"]) == [
        ("reading", 3),
        ("thought", 1),
    ]


def test_domains_go_through_the_aliases(seeded: TestClient, ingest: Ingest, seed_dir: Path) -> None:
    (seed_dir / "domains.yml").write_text("genai:\n  - LLMs\n")
    (seed_dir / "2024-03-01-llms.md").write_text(
        "## LLMs\n* Mamba [paper](https://arxiv.org/abs/2312.00752)\n"
        "## GenAI\n### LLMs\n* under both spellings\n"
    )
    ingest(seed_dir)
    found = dict(pairs(facets(seeded, facets="domain")["domain"]))
    assert "llms" not in found
    assert found["genai"] == 8  # the nested entry has genai twice on its path: counted once
    by_alias = facets(seeded, domain="llms", facets="domain")
    assert pairs(by_alias["domain"]) == [("genai", 8), ("machine-learning", 6)]


def test_undated_entries_count_under_null_year(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    (seed_dir / "notes.md").write_text("## GenAI\n* no date anywhere\n")
    ingest(seed_dir)
    assert pairs(facets(seeded, facets="year")["year"]) == [(2023, 9), (None, 1)]


def test_at_most_fifty_values_most_common_first_then_by_value(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    items = "".join(f"* site {n} [link](https://h{n:02}.example.com/)\n" for n in range(60))
    (seed_dir / "2024-01-01-many-hosts.md").write_text(f"## Links\n{items}")
    ingest(seed_dir)
    hosts = pairs(facets(seeded, facets="host")["host"])
    assert len(hosts) == 50
    assert hosts[0] == ("arxiv.org", 2)
    assert [count for _, count in hosts[1:]] == [1] * 49
    assert [value for value, _ in hosts[1:]] == sorted(value for value, _ in hosts[1:])


def test_unknown_facet_is_a_422_naming_facets(seeded: TestClient) -> None:
    for params in (
        {"facets": "bogus"},
        {"facets": "host,bogus"},
        [("facets", "host"), ("facets", "x")],
    ):
        response = seeded.get("/entries", params=params)
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == 422
        assert [error["param"] for error in body["errors"]] == ["facets"]
        assert "domain, tag, category, host, link_kind, year" in body["errors"][0]["message"]


def test_openapi_documents_facets_on_entries_only(seeded: TestClient) -> None:
    spec = seeded.get("/openapi.json").json()
    parameters = {p["name"]: p for p in spec["paths"]["/entries"]["get"]["parameters"]}
    assert "link_kind" in parameters["facets"]["description"]
    schemas = spec["components"]["schemas"]
    entries_ref = spec["paths"]["/entries"]["get"]["responses"]["200"]["content"]
    name = entries_ref["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert schemas[name]["properties"]["facets"]["description"]
    assert "facets" not in schemas[name].get("required", [])
    posts_ref = spec["paths"]["/posts"]["get"]["responses"]["200"]["content"]
    posts_name = posts_ref["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "facets" not in schemas[posts_name]["properties"]
    assert {"value", "count"} <= set(schemas["FacetCount"]["properties"])
