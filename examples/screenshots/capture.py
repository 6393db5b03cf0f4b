"""Take the README's screenshots: the reader with filtered entries, and the API's /docs.

Serves the repository's `content/` folder with `learnlog serve --reader` (a fresh SQLite
database in a temporary folder) and photographs it with Debian's Chromium through
Playwright; nothing beyond 127.0.0.1 is contacted.

Usage: python examples/screenshots/capture.py
Writes examples/reader/screenshot.png, examples/screenshots/docs.png and
examples/screenshots/reader-phone.png.
"""

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, Route, expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = "127.0.0.1"
TIMEOUT_MS = 15_000


def port() -> int:
    """8000 (what the README's commands use) when free, else any free loopback port."""
    for wanted in (8000, 0):
        with socket.socket() as sock:
            try:
                sock.bind((LOOPBACK, wanted))
            except OSError:
                continue
            found: int = sock.getsockname()[1]
            return found
    raise RuntimeError("no free port on the loopback interface")


def wait_until_healthy(base: str, server: "subprocess.Popen[bytes]", log: Path) -> None:
    """Poll /healthz until it answers 200; fail with the server's log if it never does."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"learnlog serve did not start:\n{log.read_text()}")


def only_loopback(route: Route) -> None:
    """Let requests to the server through; refuse every other."""
    if urlsplit(route.request.url).hostname == LOOPBACK:
        route.continue_()
    else:
        route.abort()


def reader_shots(page: Page, base: str) -> None:
    """The reader filtered to one domain, on a desktop screen."""
    page.goto(f"{base}/reader/#/?domain=genai")
    expect(page.get_by_role("heading", name="Entries in GenAI")).to_be_visible()
    expect(page.get_by_text("Showing 20 of")).to_be_visible()
    page.screenshot(path=REPO / "examples" / "reader" / "screenshot.png")


def phone_shot(page: Page, base: str) -> None:
    """The reader searching, on a phone-sized screen."""
    page.goto(f"{base}/reader/#/?q=mixtral")
    expect(page.get_by_role("heading", name="Search results for “mixtral”")).to_be_visible()
    expect(page.get_by_text("Showing")).to_be_visible()
    page.screenshot(path=REPO / "examples" / "screenshots" / "reader-phone.png")


def docs_shot(page: Page, base: str) -> None:
    """Swagger UI at /docs with its operations listed."""
    page.goto(f"{base}/docs")
    expect(page.locator("#operations-entries-listEntries")).to_be_visible()
    page.screenshot(path=REPO / "examples" / "screenshots" / "docs.png")


def main() -> int:
    """Serve the demo content, take the screenshots, stop the server."""
    with tempfile.TemporaryDirectory() as scratch:
        base = f"http://{LOOPBACK}:{port()}"
        command = [
            sys.executable, "-m", "app.cli", "serve", "--reader",
            "--host", LOOPBACK, "--port", base.rsplit(":", 1)[1],
            "--database-url", f"sqlite:///{Path(scratch) / 'demo.db'}",
        ]  # fmt: skip
        env = {"LEARNLOG_CONTENT_DIR": str(REPO / "content"), "PATH": ""}
        log = Path(scratch) / "serve.log"
        with log.open("wb") as sink:
            server = subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=sink)
        try:
            wait_until_healthy(base, server, log)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                desktop = browser.new_page(viewport={"width": 1280, "height": 860})
                desktop.set_default_timeout(TIMEOUT_MS)
                desktop.route("**/*", only_loopback)
                reader_shots(desktop, base)
                docs_shot(desktop, base)
                phone = browser.new_page(
                    viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
                )
                phone.set_default_timeout(TIMEOUT_MS)
                phone.route("**/*", only_loopback)
                phone_shot(phone, base)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    sys.stdout.write("wrote examples/reader/screenshot.png and examples/screenshots/*.png\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
