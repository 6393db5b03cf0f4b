"""Swagger UI at /docs works in a real headless browser with no network beyond loopback.

A `learnlog serve` subprocess fills a temporary SQLite database with the seed post; Debian's
Chromium, driven by Playwright, opens /docs with every non-loopback request aborted, and runs
GET /entries through "Try it out". Locally the test skips without Chromium or Playwright;
in CI (CI set) it fails instead, since CI must run it.
"""

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.browser import UI_TIMEOUT_MS, chromium, require_browser
from tests.conftest import SEED
from tests.servers import LOOPBACK, learnlog_server

if TYPE_CHECKING:
    from playwright.sync_api import Route

# Swagger UI gives each operation the element id `operations-<tag>-<operationId>`.
OPERATIONS = {
    "entries": ("listEntries", "getEntry"),
    "posts": ("listPosts", "getPost"),
    "vocabularies": ("listDomains", "listTags", "listCategories", "listHosts", "listLinks"),
    "health": ("health", "ready"),
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real `learnlog serve` on a free loopback port over a fresh seeded SQLite database."""
    require_browser()
    content = tmp_path / "content"
    content.mkdir()
    shutil.copyfile(SEED, content / SEED.name)
    database = f"sqlite:///{tmp_path / 'docs.db'}"
    env = {"LEARNLOG_CONTENT_DIR": str(content)}
    with learnlog_server(database, tmp_path / "server.log", env=env) as base_url:
        yield base_url


def test_swagger_ui_works_offline(server: str) -> None:
    """/docs loads from the server alone, lists every operation and runs GET /entries."""
    from playwright.sync_api import expect

    blocked: list[str] = []

    def only_loopback(route: "Route") -> None:
        """Let requests to the server through; abort and record any other."""
        url = route.request.url
        if urlsplit(url).hostname == LOOPBACK:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    with chromium() as browser:
        page = browser.new_page()
        page.route("**/*", only_loopback)
        page.goto(f"{server}/docs", wait_until="load", timeout=UI_TIMEOUT_MS)

        expect(page).to_have_title(re.compile("learnlog"), timeout=UI_TIMEOUT_MS)
        for tag, operations in OPERATIONS.items():
            for operation in operations:
                expect(page.locator(f"#operations-{tag}-{operation}")).to_be_visible(
                    timeout=UI_TIMEOUT_MS
                )
        list_entries = page.locator("#operations-entries-listEntries")
        expect(list_entries.locator(".opblock-summary-path")).to_have_text(
            "/entries", timeout=UI_TIMEOUT_MS
        )

        list_entries.locator(".opblock-summary").click(timeout=UI_TIMEOUT_MS)
        list_entries.get_by_role("button", name="Try it out").click(timeout=UI_TIMEOUT_MS)
        list_entries.get_by_role("button", name="Execute").click(timeout=UI_TIMEOUT_MS)

        status = list_entries.locator(".live-responses-table tr.response .response-col_status")
        expect(status).to_have_text("200", timeout=UI_TIMEOUT_MS)
        body = list_entries.locator(
            ".live-responses-table tr.response .response-col_description pre"
        )
        expect(body.first).to_contain_text('"total"', timeout=UI_TIMEOUT_MS)

    assert blocked == [], f"/docs tried to reach beyond the server: {blocked}"
