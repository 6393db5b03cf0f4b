"""`GET /`: the API's name, version and links, as JSON or (for a browser) HTML."""

from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import __version__
from app.api.routes.landing import wants_html
from app.main import create_app
from app.settings import Settings

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


class Links(HTMLParser):
    """The targets of a page's `<a href>`s."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Collect each link's target."""
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.found.append(href)


def test_root_answers_json_linking_to_the_main_resources(client: TestClient) -> None:
    answer = client.get("/")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert "Accept" in answer.headers["Vary"]
    body = answer.json()
    assert body == {
        "name": "learnlog",
        "version": __version__,
        "links": {
            "docs": "http://testserver/docs",
            "openapi": "http://testserver/openapi.json",
            "entries": "http://testserver/entries",
            "posts": "http://testserver/posts",
            "domains": "http://testserver/domains",
            "reader": None,
        },
    }
    # Every link it gives leads somewhere.
    for url in body["links"].values():
        if url is not None:
            assert client.get(url).status_code == 200, url


def test_a_browser_gets_a_page_with_the_same_links(client: TestClient) -> None:
    answer = client.get("/", headers={"Accept": BROWSER})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert f"learnlog {__version__}" in answer.text
    parser = Links()
    parser.feed(answer.text)
    links = client.get("/").json()["links"]
    assert parser.found == [url for url in links.values() if url is not None]


def test_the_reader_is_linked_when_it_is_served(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    with TestClient(create_app(Settings(database_url=url, reader=True))) as client:
        reader = client.get("/").json()["links"]["reader"]
        assert reader == "http://testserver/reader/"
        assert client.get(reader).status_code == 200
        assert reader in client.get("/", headers={"Accept": BROWSER}).text


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("", False),
        ("*/*", False),
        ("application/json", False),
        (BROWSER, True),
        ("text/html", True),
        ("text/html;q=0.5, application/json", False),
        ("application/json;q=0.1, text/html;q=0.2", True),
        ("text/html;q=nonsense", False),
    ],
)
def test_html_only_when_preferred_to_json(accept: str, html: bool) -> None:
    assert wants_html(accept) is html
