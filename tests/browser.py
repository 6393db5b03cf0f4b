"""Debian's Chromium driven by Playwright, for the browser tests (never a downloaded browser).

Locally a browser test skips without Chromium or Playwright; in CI (CI set) it fails,
since CI must run it.
"""

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium tries to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
UI_TIMEOUT_MS = 15_000


def _missing(reason: str) -> NoReturn:
    """Skip locally when the browser stack is missing; fail in CI, which must run this."""
    message = (
        f"{reason}: the browser tests need Debian's chromium (apt-get install chromium) "
        "and the playwright package (pip install playwright)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require_browser() -> None:
    """Chromium and Playwright are installed (call before starting any server)."""
    if not CHROMIUM.is_file():
        _missing(f"{CHROMIUM} not found")
    if importlib.util.find_spec("playwright") is None:
        _missing("the playwright module is not installed")


@contextlib.contextmanager
def chromium() -> Iterator["Browser"]:
    """Headless Chromium for the block."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()
