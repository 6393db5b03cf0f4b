"""The reader (app/reader) in a real browser, over the public API, on each engine.

The API runs in uvicorn on one loopback port; the reader's files are served by a plain
static file server on another, so every request crosses origins as it would for any
frontend (the `?api=` address, CORS). Debian's Chromium, driven by Playwright, clicks
through it like a person and the assertions read what is on screen. The last tests check
`learnlog serve --reader`: the API serving the reader itself under its own CSP.
Locally the browser tests skip without Chromium or Playwright; in CI (CI set) they fail.
"""

import datetime as dt
import functools
import html
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from app.reader import reader_files
from app.security import API_POLICY, READER_POLICY
from app.settings import Settings
from tests.browser import UI_TIMEOUT_MS, chromium
from tests.conftest import SEED, Ingest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Route

LOOPBACK = "127.0.0.1"
STARTUP_SECONDS = 30.0
SCREENSHOT_DIR = "LEARNLOG_SCREENSHOT_DIR"

# The generated weeks: enough Databases entries to need three pages of the default 20.
WEEKS = 9
ITEMS_PER_WEEK = 5  # each week's last item has one nested child: 6 Databases entries a week
DATABASES_ENTRIES = WEEKS * (ITEMS_PER_WEEK + 1)
SEED_SLUG = SEED.stem


@pytest.fixture(scope="module")
def browser() -> Iterator["Browser"]:
    """Headless Chromium, launched once for the module."""
    with chromium() as launched:
        yield launched


def write_weeks(folder: Path) -> None:
    """Weekly logs with Databases and Systems sections; every entry text is unique."""
    for week in range(1, WEEKS + 1):
        day = dt.date(2024, 1, 7) + dt.timedelta(weeks=week)
        lines = [
            "---",
            f'title: "Week {week} notes"',
            f"date: {day.isoformat()}",
            "tags: [storage]",
            "---",
            "",
            "## Databases",
            "",
        ]
        for item in range(1, ITEMS_PER_WEEK + 1):
            lines.append(
                f"* Storage note {week}.{item}: compaction in engine {item} "
                f"([code](https://github.com/example/engine-{week}-{item}))"
            )
        lines.append(
            f"  * Follow-up {week}: read the [paper](https://arxiv.org/abs/2401.{week:05d})"
        )
        lines += ["", "## Systems", "", f"* Scheduler note {week}: nothing about storage", ""]
        (folder / f"{day.isoformat()}-week-{week}.md").write_text("\n".join(lines))


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A content folder: the seed post and the generated weeks."""
    folder = tmp_path / "content"
    folder.mkdir()
    shutil.copyfile(SEED, folder / SEED.name)
    write_weeks(folder)
    return folder


def _listening_socket() -> socket.socket:
    """A socket bound to a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    return sock


@contextmanager
def serving_api(app: FastAPI) -> Iterator[str]:
    """Run `app` in uvicorn on a thread; yield its base URL, stop it afterwards."""
    sock = _listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the API server did not start")
            time.sleep(0.05)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class _QuietFiles(SimpleHTTPRequestHandler):
    """Static files without a log line per request."""

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing."""


@contextmanager
def serving_files(folder: Path) -> Iterator[str]:
    """Serve `folder` over HTTP on a thread (another origin than the API); yield its URL."""
    handler = functools.partial(_QuietFiles, directory=str(folder))
    server = ThreadingHTTPServer((LOOPBACK, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def api(engine: Engine, ingest: Ingest, content: Path) -> Iterator[str]:
    """The API over the ingested content folder, on its own port."""
    ingest(content)
    with serving_api(create_app(Settings(database_url=_url(engine)))) as base_url:
        yield base_url


class Watched:
    """A browser tab that records uncaught errors, console errors and off-loopback requests."""

    def __init__(self, page: "Page") -> None:
        self.page = page
        self.errors: list[str] = []
        self.console_errors: list[str] = []
        self.blocked: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        page.route("**/*", self._only_loopback)

    def _console(self, message: "ConsoleMessage") -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _only_loopback(self, route: "Route") -> None:
        if urlsplit(route.request.url).hostname == LOOPBACK:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()


@pytest.fixture
def tab(browser: "Browser") -> Iterator[Watched]:
    """A fresh desktop-sized tab; afterwards, no script error and nothing beyond loopback."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    watched = Watched(context.new_page())
    yield watched
    context.close()
    assert watched.errors == [], f"script errors: {watched.errors}"
    assert watched.blocked == [], f"the reader tried to reach beyond loopback: {watched.blocked}"


@pytest.fixture
def reader(api: str, content: Path) -> Iterator[str]:
    """The reader's address on its own origin, pointed at the API with `?api=`."""
    with serving_files(reader_files()) as base_url:
        yield f"{base_url}/index.html?api={quote(api, safe='')}"


def every_item(api: str, path: str) -> list[dict[str, Any]]:
    """All items of a list, following `next` like any client (the API's own answer)."""
    items: list[dict[str, Any]] = []
    url: str | None = f"{api}{path}"
    with httpx.Client(timeout=10, trust_env=False) as client:
        while url:
            page = client.get(url).raise_for_status().json()
            items += page["items"]
            url = page["next"]
    return items


def screenshot_path(tmp_path: Path, name: str) -> Path:
    """Where to save a screenshot: LEARNLOG_SCREENSHOT_DIR when set, else the test's tmp."""
    folder = Path(os.environ.get(SCREENSHOT_DIR) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def test_domain_filter_pages_through_every_entry_once(
    tab: Watched, reader: str, api: str, engine: Engine, tmp_path: Path
) -> None:
    """Picking a domain lists its entries; More follows `next` until each was shown once."""
    from playwright.sync_api import expect

    page = tab.page
    page.goto(reader)
    expect(page.get_by_role("heading", name="Entries", exact=True)).to_be_visible()
    domains = page.get_by_role("navigation", name="Domains")
    domains.get_by_role("link", name=re.compile(r"^Databases")).click()

    expect(page.get_by_role("heading", name="Entries in Databases")).to_be_visible()
    status = page.get_by_text(re.compile(r"^Showing \d+"))
    expect(status).to_have_text(f"Showing 20 of {DATABASES_ENTRIES} entries")
    entries = page.locator("#entries > li")
    first = entries.first
    expect(first.get_by_role("link", name="Week 9 notes")).to_be_visible()
    expect(first.get_by_role("link", name=re.compile(r"github\.com\s*code"))).to_be_visible()
    expect(first.get_by_role("link", name="#storage")).to_be_visible()
    page.screenshot(path=screenshot_path(tmp_path, f"reader-{engine.dialect.name}.png"))

    more = page.get_by_role("button", name="More", exact=True)
    shown = 20
    while more.is_visible():
        more.click()
        shown = min(shown + 20, DATABASES_ENTRIES)
        expect(entries).to_have_count(shown)
    expect(status).to_have_text(f"Showing {shown} of {DATABASES_ENTRIES} entries (all of them)")

    expected = [entry["text"] for entry in every_item(api, "/entries?domain=databases")]
    assert len(expected) == DATABASES_ENTRIES == len(set(expected))
    assert entries.locator(".body").all_inner_texts() == expected
    assert not tab.console_errors


TOPICS = 25  # top-level domains: more than the first page of /domains holds


def test_domains_sidebar_shows_the_first_page_and_loads_more(
    tab: Watched, engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    """The sidebar lists the first page of /domains; More domains adds the next one."""
    from playwright.sync_api import expect

    folder = tmp_path / "topics"
    folder.mkdir()
    for day in (1, 2):
        # Every topic is in both posts: they tie on posts and are listed by slug.
        sections = [f"## Topic {n:02d}\n* note {day}.{n}\n" for n in range(1, TOPICS + 1)]
        (folder / f"2024-03-0{day}-topics.md").write_text("\n".join(sections))
    ingest(folder)
    with (
        serving_api(create_app(Settings(database_url=_url(engine)))) as api,
        serving_files(reader_files()) as files,
    ):
        page = tab.page
        page.goto(f"{files}/index.html?api={quote(api, safe='')}")
        sidebar = page.get_by_role("navigation", name="Domains")
        links = sidebar.get_by_role("link", name=re.compile(r"^Topic"))
        expect(links).to_have_count(20)
        listed = httpx.get(f"{api}/domains", trust_env=False).json()
        assert listed["total"] == TOPICS
        assert listed["next"] is not None
        names = [item["headings"][0] for item in listed["items"]]
        assert names == [f"Topic {n:02d}" for n in range(1, 21)]
        assert [text.split("\n")[0] for text in links.all_inner_texts()] == names

        more = sidebar.get_by_role("button", name="More domains")
        more.click()
        expect(links).to_have_count(TOPICS)
        expect(more).to_be_hidden()
        # A domain of the second page filters the list like any other.
        sidebar.get_by_role("link", name=re.compile(r"^Topic 25")).click()
        expect(page.get_by_role("heading", name="Entries in Topic 25")).to_be_visible()
    assert not tab.console_errors


def test_post_view_shows_the_rendered_post_and_back_returns(
    tab: Watched, reader: str, api: str
) -> None:
    """A post's title opens it with the API's HTML rendered; Back shows the list again."""
    from playwright.sync_api import expect

    page = tab.page
    page.goto(f"{reader}#/?q=ferret")
    expect(page.get_by_role("heading", name="Search results for “ferret”")).to_be_visible()
    page.get_by_role("link", name="Learning Logs: 2023-12-24").first.click()

    expect(page.get_by_role("heading", name="Learning Logs: 2023-12-24", level=2)).to_be_visible()
    post = httpx.get(f"{api}/posts/{SEED_SLUG}", trust_env=False).json()
    assert post["title"] == "Learning Logs: 2023-12-24"
    body = page.locator("#post-body")
    # The API's HTML, rendered: its headings and links are real elements on screen.
    expect(body.get_by_role("heading", name="Machine Learning", level=2)).to_be_visible()
    expect(body.get_by_role("heading", name="GenAI", level=3)).to_be_visible()
    ferret = body.get_by_role("link", name="Ferret")
    expect(ferret).to_have_attribute("href", "https://arxiv.org/pdf/2310.07704.pdf")
    expect(page.get_by_text(post["excerpt"])).to_be_visible()
    assert "<h3>GenAI</h3>" in post["html"]

    page.go_back()
    expect(page.get_by_role("heading", name="Search results for “ferret”")).to_be_visible()
    page.go_forward()
    expect(page.get_by_role("heading", name="Learning Logs: 2023-12-24", level=2)).to_be_visible()
    assert not tab.console_errors


def test_search_shows_the_hits_and_an_empty_state(tab: Watched, reader: str, api: str) -> None:
    """A search lists the API's hits with the matched word marked; no hits says so."""
    from playwright.sync_api import expect

    page = tab.page
    page.goto(reader)
    search = page.get_by_role("searchbox", name="Search")
    search.fill("compaction")
    page.get_by_role("button", name="Apply").click()

    expect(page.get_by_role("heading", name="Search results for “compaction”")).to_be_visible()
    hits = every_item(api, "/search?q=compaction")
    assert len(hits) == WEEKS * ITEMS_PER_WEEK
    shown = page.locator("#entries > li")
    while page.get_by_role("button", name="More", exact=True).is_visible():
        count = shown.count()
        page.get_by_role("button", name="More", exact=True).click()
        expect(shown).not_to_have_count(count)
    expect(page.get_by_text(re.compile(r"^Showing \d+"))).to_have_text(
        f"Showing {len(hits)} entries (all hits)"
    )
    expected = [html.unescape(re.sub(r"</?mark>", "", hit["snippet"])) for hit in hits]
    assert shown.locator(".body").all_inner_texts() == expected
    expect(shown.first.locator("mark")).to_have_text("compaction")
    assert "#/?q=compaction" in page.url

    search.fill("zebra")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="Search results for “zebra”")).to_be_visible()
    expect(page.get_by_text("Nothing found.")).to_be_visible()
    expect(shown).to_have_count(0)
    assert every_item(api, "/search?q=zebra") == []


def test_date_range_and_its_problems(tab: Watched, reader: str, api: str) -> None:
    """A 422 from the API reaches the person (detail, each parameter); a valid range filters."""
    from playwright.sync_api import expect

    page = tab.page
    page.goto(reader)
    page.get_by_label("From", exact=True).fill("2024-03-01")
    page.get_by_label("To", exact=True).fill("2024-01-01")
    page.get_by_role("button", name="Apply").click()

    problem = httpx.get(f"{api}/entries?from=2024-03-01&to=2024-01-01", trust_env=False)
    assert problem.status_code == 422
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Invalid parameter")
    expect(alert).to_contain_text(problem.json()["detail"])
    (error,) = problem.json()["errors"]
    expect(alert.get_by_role("listitem")).to_have_text(f"{error['param']}: {error['message']}")

    # A valid range, from a link: the weeks of 4 and 11 February.
    page.goto(f"{reader}#/?domain=databases&from=2024-02-01&to=2024-02-15")
    expect(page.get_by_role("heading", name=re.compile("^Entries in Databases"))).to_be_visible()
    expect(page.get_by_label("From", exact=True)).to_have_value("2024-02-01")
    fortnight = every_item(api, "/entries?domain=databases&from=2024-02-01&to=2024-02-15")
    assert {entry["date"] for entry in fortnight} == {"2024-02-04", "2024-02-11"}
    expect(page.get_by_text(re.compile(r"^Showing \d+"))).to_have_text(
        f"Showing {len(fortnight)} of {len(fortnight)} entries (all of them)"
    )
    dates = page.locator("#entries > li time").all_inner_texts()
    assert dates == [entry["date"] for entry in fortnight]


def test_unreachable_api_is_explained(tab: Watched, content: Path) -> None:
    """With nothing at the API address, the reader says so instead of staying blank."""
    from playwright.sync_api import expect

    with _listening_socket() as sock:  # bound, not listening: connections are refused
        nowhere = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
        with serving_files(reader_files()) as base_url:
            tab.page.goto(f"{base_url}/index.html?api={quote(nowhere, safe='')}")
            alert = tab.page.get_by_role("alert").first
            expect(alert).to_contain_text("Cannot reach the API")
            expect(alert).to_contain_text(nowhere)


@pytest.fixture
def reader_app(engine: Engine, ingest: Ingest, content: Path) -> FastAPI:
    """The app as `learnlog serve --reader` builds it, over the ingested content."""
    ingest(content)
    return create_app(Settings(database_url=_url(engine), reader=True))


def test_serve_reader_mounts_the_page_with_its_policy(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve --reader` answers the page and its modules under the reader's CSP at /reader/."""
    served: list[FastAPI] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    command = ["serve", "--reader", "--no-migrate", "--database-url", _url(engine)]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    (app,) = served
    with TestClient(app) as client:
        page = client.get("/reader/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "<title>learnlog reader</title>" in page.text
        assert page.headers["content-security-policy"] == READER_POLICY
        module = client.get("/reader/main.js")
        assert module.headers["content-type"].startswith("text/javascript")
        assert module.headers["content-security-policy"] == READER_POLICY
        missing = client.get("/reader/nothing.js")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert client.get("/entries").headers["content-security-policy"] == API_POLICY
        assert (
            client.get("/reader", follow_redirects=False).headers["location"].endswith("/reader/")
        )


def test_reader_is_off_unless_asked_for(engine: Engine) -> None:
    """Without --reader, /reader/ is an ordinary 404."""
    with TestClient(create_app(Settings(database_url=_url(engine)))) as client:
        answer = client.get("/reader/")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_served_reader_works_under_its_policy(tab: Watched, reader_app: FastAPI) -> None:
    """From the API's own origin the reader lists and pages entries with no CSP violation."""
    from playwright.sync_api import expect

    page = tab.page
    with serving_api(reader_app) as api:
        answer = page.goto(f"{api}/reader/#/?domain=databases")
        assert answer is not None
        assert answer.headers["content-security-policy"] == READER_POLICY
        expect(page.get_by_role("heading", name="Entries in Databases")).to_be_visible()
        status = page.get_by_text(re.compile(r"^Showing \d+"))
        expect(status).to_have_text(f"Showing 20 of {DATABASES_ENTRIES} entries")
        page.get_by_role("button", name="More", exact=True).click()
        expect(status).to_have_text(f"Showing 40 of {DATABASES_ENTRIES} entries")
        expect(page.get_by_text(f"API: {api}")).to_be_visible()
    assert tab.console_errors == [], "a CSP violation or failed load shows up here"
