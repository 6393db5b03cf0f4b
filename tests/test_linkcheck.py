"""`learnlog links check` against a small HTTP server on 127.0.0.1 started by the test."""

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select
from typer.testing import CliRunner

from app.cli import cli
from app.models import LINK_CHECKS, STATE
from tests.conftest import Ingest

runner = CliRunner()

# Seconds the `/hang` path keeps a connection open without answering (longer than any
# timeout a test gives the checker; the server lets go sooner when the test ends).
HANG = 30.0


@dataclass
class LinkServer:
    """What the loopback server answered: requests per (method, path) and concurrency."""

    base: str
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        """An address on this server."""
        return f"{self.base}{path}"

    def total(self) -> int:
        """Requests answered (or held) so far."""
        with self.lock:
            return sum(self.requests.values())


def _handler(server: LinkServer) -> type[BaseHTTPRequestHandler]:
    """A handler class answering the paths the tests link to."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Stay quiet."""

        def do_HEAD(self) -> None:
            self._answer("HEAD")

        def do_GET(self) -> None:
            self._answer("GET")

        def _answer(self, method: str) -> None:
            path = self.path.split("?")[0]
            with server.lock:
                server.requests[method, path] += 1
                server.in_flight += 1
                server.most_in_flight = max(server.most_in_flight, server.in_flight)
            try:
                answer = self._decide(method, path)
            finally:
                # Counted out before the answer is written: once the client has read it,
                # its next request may arrive before this thread would get to run again.
                with server.lock:
                    server.in_flight -= 1
            if answer is None:
                self.close_connection = True
                return
            status, headers = answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            body = b"" if method == "HEAD" else b"hello"
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(body)

        def _decide(self, method: str, path: str) -> tuple[int, dict[str, str]] | None:
            """The status and headers for `path`, or None to hang up without answering."""
            if path == "/hang":
                server.stop.wait(HANG)
                return None
            if path.startswith("/slow/"):
                # Long enough that requests to this host overlap if the checker lets them.
                time.sleep(0.05)
            if path == "/moved":
                return 301, {"Location": "/ok"}
            if path == "/gone":
                return 404, {}
            if path == "/fail":
                return 500, {}
            if path == "/no-head" and method == "HEAD":
                return 405, {}
            return 200, {}

    return Handler


@pytest.fixture
def link_server() -> Iterator[LinkServer]:
    """An HTTP server on 127.0.0.1 (any free port) in a thread, for the checker to probe."""
    placeholder = LinkServer(base="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(placeholder))
    httpd.daemon_threads = True
    placeholder.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield placeholder
    placeholder.stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_links_post(folder: Path, server: LinkServer, refused: int) -> dict[str, str]:
    """A post citing each case once; returns {case: url as written}."""
    urls = {
        "ok": server.url("/ok"),
        "moved": server.url("/moved"),
        "gone": server.url("/gone"),
        "fail": server.url("/fail"),
        "hang": server.url("/hang"),
        "no-head": server.url("/no-head"),
        "refused": f"http://127.0.0.1:{refused}/nothing",
    }
    lines = ["---", "title: Links", "date: 2024-05-01", "---", "## Reading"]
    lines += [f"* [{case}]({url})" for case, url in urls.items()]
    # Another spelling of /ok (fragment, trailing slash): one address, probed once.
    lines += [f"* [ok again]({server.url('/ok/#top')})"]
    lines += ["* [mail](mailto:someone@example.org) and [local](other-post.md)"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2024-05-01-links.md").write_text("\n".join(lines) + "\n")
    return urls


def database_url(engine: Engine) -> str:
    """The URL the CLI needs to reach the test database."""
    return engine.url.render_as_string(hide_password=False)


def check(engine: Engine, *options: str) -> str:
    """Run `learnlog links check` on the test database; return its output."""
    result = runner.invoke(
        cli,
        [
            "links",
            "check",
            "--database-url",
            database_url(engine),
            "--timeout",
            "0.5",
            "--per-host-delay",
            "0",
            *options,
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output


def table_rows(output: str) -> list[list[str]]:
    """The cells of each row of the Rich tables in `output` (the header row included)."""
    lines = [line.strip().replace("┃", "│") for line in output.splitlines()]
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in lines
        if line.startswith("│")
    ]


def report_rows(output: str) -> list[list[str]]:
    """The header and rows of the `links report` table (columns set apart by spaces)."""
    lines = output.splitlines()
    start = next(n for n, line in enumerate(lines) if "unreachable" in line)
    rows = [lines[start].split()]
    rows += [line.split() for line in lines[start + 2 :] if line.strip() and "─" not in line]
    return [row for row in rows if not row[0].startswith("no")]


def stored(engine: Engine) -> dict[str, dict[str, object]]:
    """Stored results by the URL probed."""
    with engine.connect() as conn:
        rows = conn.execute(select(LINK_CHECKS)).mappings().all()
    return {row["url"]: dict(row) for row in rows}


@pytest.fixture
def no_checks(engine: Engine) -> Iterator[Engine]:
    """The test database with no results before or after the test (PostgreSQL is shared)."""
    with engine.begin() as conn:
        conn.execute(delete(LINK_CHECKS))
    yield engine
    with engine.begin() as conn:
        conn.execute(delete(LINK_CHECKS))


def test_every_case_is_classified_and_stored(
    no_checks: Engine, ingest: Ingest, link_server: LinkServer, tmp_path: Path
) -> None:
    urls = write_links_post(tmp_path / "logs", link_server, closed_port())
    ingest(tmp_path / "logs")
    output = check(no_checks)

    results = stored(no_checks)
    assert set(results) == set(urls.values())  # mailto and relative links are never probed
    verdicts = {case: results[url]["outcome"] for case, url in urls.items()}
    assert verdicts == {
        "ok": "ok",
        "moved": "redirected",
        "gone": "broken",
        "fail": "error",
        "hang": "timeout",
        "no-head": "ok",
        "refused": "unreachable",
    }
    assert results[urls["moved"]]["http_status"] == 200
    assert results[urls["moved"]]["final_url"] == link_server.url("/ok")
    assert results[urls["gone"]]["http_status"] == 404
    assert results[urls["fail"]]["http_status"] == 500
    assert results[urls["hang"]]["http_status"] is None
    assert "refused" in str(results[urls["refused"]]["error"]).lower()
    # HEAD first; GET only where HEAD was refused. Both spellings of /ok: one HEAD (plus
    # the one at the end of the redirect).
    assert link_server.requests["HEAD", "/ok"] == 2
    assert link_server.requests["GET", "/ok"] == 0
    assert link_server.requests["HEAD", "/no-head"] == 1
    assert link_server.requests["GET", "/no-head"] == 1
    assert link_server.requests["GET", "/gone"] == 0
    assert "probed 7 of 7 addresses" in output
    assert table_rows(output)[1:] == [
        ["ok", "2"],
        ["redirected", "1"],
        ["broken", "1"],
        ["error", "1"],
        ["timeout", "1"],
        ["unreachable", "1"],
    ]


def test_a_second_run_within_max_age_probes_nothing_and_force_probes_again(
    no_checks: Engine, ingest: Ingest, link_server: LinkServer, tmp_path: Path
) -> None:
    urls = write_links_post(tmp_path / "logs", link_server, closed_port())
    ingest(tmp_path / "logs")
    check(no_checks)
    first = stored(no_checks)
    answered = link_server.total()

    again = check(no_checks)
    assert link_server.total() == answered
    assert "probed 0 of 7 addresses (7 checked within 24 h skipped)" in again
    assert stored(no_checks) == first

    check(no_checks, "--force")
    assert link_server.total() > answered
    assert link_server.requests["HEAD", "/gone"] == 2
    refreshed = stored(no_checks)
    assert all(refreshed[url]["checked_at"] > first[url]["checked_at"] for url in urls.values())

    # max-age 0: nothing is fresh.
    before = link_server.requests["HEAD", "/gone"]
    check(no_checks, "--max-age", "0")
    assert link_server.requests["HEAD", "/gone"] == before + 1


def test_host_option_limits_the_run(
    no_checks: Engine, ingest: Ingest, link_server: LinkServer, tmp_path: Path
) -> None:
    write_links_post(tmp_path / "logs", link_server, closed_port())
    ingest(tmp_path / "logs")
    output = check(no_checks, "--host", "elsewhere.test")
    assert "probed 0 of 0 addresses" in output
    assert link_server.total() == 0
    assert stored(no_checks) == {}
    check(no_checks, "--host", "WWW.127.0.0.1")
    assert len(stored(no_checks)) == 7


def test_per_host_limit_holds(
    no_checks: Engine, ingest: Ingest, link_server: LinkServer, tmp_path: Path
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    entries = "\n".join(f"* [{n}]({link_server.url(f'/slow/{n}')})" for n in range(24))
    (folder / "2024-05-02-many.md").write_text(f"## Many\n{entries}\n")
    ingest(folder)
    check(no_checks, "--concurrency", "16", "--per-host", "2")
    assert (
        sum(n for (_, path), n in link_server.requests.items() if path.startswith("/slow/")) == 24
    )
    # Never more than two at once to the one host, and the two lanes did overlap.
    assert link_server.most_in_flight == 2

    link_server.most_in_flight = 0
    check(no_checks, "--force", "--per-host", "1")
    assert link_server.most_in_flight == 1


def test_results_advance_the_content_version(
    no_checks: Engine, ingest: Ingest, link_server: LinkServer, tmp_path: Path
) -> None:
    write_links_post(tmp_path / "logs", link_server, closed_port())
    ingest(tmp_path / "logs")

    def version() -> int:
        with no_checks.connect() as conn:
            return int(conn.execute(select(STATE.c.version)).scalar_one())

    before = version()
    check(no_checks)
    assert version() == before + 1
    check(no_checks)  # nothing probed, nothing written
    assert version() == before + 1


def test_report_lists_each_host_with_its_outcomes(
    no_checks: Engine, ingest: Ingest, link_server: LinkServer, tmp_path: Path
) -> None:
    write_links_post(tmp_path / "logs", link_server, closed_port())
    ingest(tmp_path / "logs")
    before = runner.invoke(cli, ["links", "report", "--database-url", database_url(no_checks)])
    assert before.exit_code == 0, before.output
    header, *rows = report_rows(before.output)
    assert header == [
        "host",
        "links",
        "checked",
        "ok",
        "redirected",
        "broken",
        "error",
        "timeout",
        "unreachable",
    ]
    assert rows == [["127.0.0.1", "8", "0", "0", "0", "0", "0", "0", "0"]]
    check(no_checks)
    after = runner.invoke(cli, ["links", "report", "--database-url", database_url(no_checks)])
    assert report_rows(after.output)[1:] == [["127.0.0.1", "8", "8", "3", "1", "1", "1", "1", "1"]]
    elsewhere = runner.invoke(
        cli,
        ["links", "report", "--host", "elsewhere.test", "--database-url", database_url(no_checks)],
    )
    assert report_rows(elsewhere.output) == [header]
    assert "no http(s) links stored for these hosts" in elsewhere.output


@pytest.mark.parametrize("command", ["check", "report"])
def test_links_commands_are_documented_with_an_example(command: str) -> None:
    result = runner.invoke(cli, ["links", command, "--help"])
    assert result.exit_code == 0
    assert f"Example: learnlog links {command}" in " ".join(result.output.split())
