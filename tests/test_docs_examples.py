"""Every `$ curl` example in README.md and docs/*.md, run against the bundled content.

An example is a fenced block whose first line starts with `$ curl`. Each `$ ` line in it
is a command; the lines up to the next command are the output the page shows. Commands
run in process (no server, no network): the bundled `content/` is ingested into a fresh
SQLite database by `learnlog ingest`, and the curl command line is translated into a
request to the app, with curl's own headers (no `Accept-Encoding` unless `--compressed`).

What a page shows is compared with the real answer:
- JSON structurally, ids included. A bare `...` inside JSON elides: in a list, the items
  after those shown; in an object, the keys not shown (`{...}` is any object). A string
  ending in `...` shows a prefix of the value. Keys in MASKED_KEYS are never compared.
- Other bodies line by line; a line `...` stands for any number of lines.
- With `-i` (or `-I`, a HEAD request), the status line and the headers the page shows
  (a value ending in `...` shows a prefix); headers in MASKED_HEADERS are never compared.
- `| jq PATH` (a plain path such as `.facets` or `.items[0].links`) keeps that part.

An HTML comment `<!-- example: NAME -->` on the line before a block runs it on the
named site instead of the plain one: `reader` (served with the reader on) or
`link-health` (the bundled content with link-check results stored, see
LINK_CHECK_RESULTS).

When the API changes, regenerate what the pages show (elisions and masked values kept):

    python -m tests.test_docs_examples --update
"""

import argparse
import dataclasses
import datetime as dt
import difflib
import json
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
CONTENT = REPO / "content"
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BASE_URL = "http://127.0.0.1:8000"

# Values that change by nature: moments, relevance scores, timings.
MASKED_KEYS = frozenset(
    {
        "ingested_at",
        "generated_at",
        "checked_at",
        "last_checked_at",
        "started_at",
        "finished_at",
        "score",
        "elapsed_ms",
        "seconds",
    }
)
# Headers that change by nature: the ETag holds the content version, Date the moment.
MASKED_HEADERS = frozenset({"etag", "date", "x-request-id"})

# The `link-health` site: these addresses of the bundled content get these results;
# every other address is `ok` (200).
LINK_CHECK_RESULTS: dict[str, tuple[str, int | None, str | None, str | None]] = {
    "https://arxiv.org/pdf/2312.11514.pdf": (
        "broken",
        404,
        "https://arxiv.org/pdf/2312.11514.pdf",
        None,
    ),
    "https://www.guardrailsai.com/": ("redirected", 200, "https://guardrailsai.com/", None),
    "https://www.databricks.com/blog/Integrating-NVIDIA-TensorRT-LLM": (
        "timeout",
        None,
        None,
        "no answer within 5.0 s",
    ),
}

ELLIPSIS = "\u2026elided\u2026"  # what a bare `...` in shown JSON becomes
SITES = ("plain", "reader", "link-health")
WIDTH = 92


@dataclasses.dataclass
class Example:
    """One `$ curl` command on a page, with the output shown after it."""

    page: Path
    line: int  # of the command, 1-based
    command: str
    output: list[str]
    site: str
    end: int  # the line after the output, 1-based

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def find_examples(pages: list[Path]) -> tuple[list[Example], list[str]]:
    """The curl examples of the pages, and the `$ curl` lines that are not checkable."""
    examples: list[Example] = []
    stray: list[str] = []
    for page in pages:
        lines = page.read_text(encoding="utf-8").splitlines()
        index = 0
        while index < len(lines):
            fence = re.match(r"\s*(```+|~~~+)", lines[index])
            if not fence:
                index += 1
                continue
            start = index + 1
            end = start
            while end < len(lines) and not lines[end].strip().startswith(fence.group(1)):
                end += 1
            block = lines[start:end]
            before = next((ln for ln in reversed(lines[:index]) if ln.strip()), "")
            site_mark = re.fullmatch(r"\s*<!--\s*example:\s*([\w-]+)\s*-->\s*", before)
            site = site_mark.group(1) if site_mark else "plain"
            if block and block[0].startswith("$ curl"):
                commands = [i for i, ln in enumerate(block) if ln.startswith("$ ")]
                for n, i in enumerate(commands):
                    stop = commands[n + 1] if n + 1 < len(commands) else len(block)
                    examples.append(
                        Example(
                            page=page,
                            line=start + i + 1,
                            command=block[i][2:],
                            output=block[i + 1 : stop],
                            site=site,
                            end=start + stop + 1,
                        )
                    )
            else:
                stray += [
                    f"{page.relative_to(REPO)}:{start + i + 1}: {ln}"
                    for i, ln in enumerate(block)
                    if ln.startswith("$ curl")
                ]
            index = end + 1
    return examples, stray


# --- shown JSON with elisions -------------------------------------------------------------


def parse_shown_json(text: str) -> Any:
    """Shown JSON, with each bare `...` turned into the ELLIPSIS marker; raises ValueError."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            match = re.compile(r'"(?:[^"\\]|\\.)*"').match(text, i)
            if not match:
                raise ValueError("unterminated string")
            out.append(match.group())
            i = match.end()
            continue
        if text.startswith("...", i):
            marker = json.dumps(ELLIPSIS)
            out.append(f"{marker}: 0" if stack and stack[-1] == "{" else marker)
            i += 3
            continue
        if char in "[{":
            stack.append(char)
        elif char in "]}" and stack:
            stack.pop()
        out.append(char)
        i += 1
    return json.loads("".join(out))


def project(shown: Any, actual: Any, key: str | None = None) -> Any:
    """The actual value in the shape the page shows: its elisions and masked values kept.

    The page is right exactly when this gives back what it shows.
    """
    if key in MASKED_KEYS and shown not in (None, ""):
        return shown
    if isinstance(actual, dict):
        if isinstance(shown, dict) and ELLIPSIS in shown:
            kept = {k: project(shown[k], actual[k], k) for k in shown if k in actual}
            return {**kept, ELLIPSIS: 0}
        shown = shown if isinstance(shown, dict) else {}
        return {k: project(shown.get(k), v, k) for k, v in actual.items()}
    if isinstance(actual, list):
        shown_items = shown if isinstance(shown, list) else []
        elided = bool(shown_items) and shown_items[-1] == ELLIPSIS
        if elided:
            shown_items = shown_items[:-1]
            actual = actual[: len(shown_items)]
        items = [
            project(shown_items[i] if i < len(shown_items) else None, item)
            for i, item in enumerate(actual)
        ]
        return [*items, ELLIPSIS] if elided else items
    if isinstance(shown, str) and isinstance(actual, str) and shown.endswith("..."):
        prefix = shown[:-3]
        if actual.startswith(prefix):
            return shown
        return actual[: len(prefix)] + "..." if len(actual) > len(prefix) else actual
    return actual


def format_json(value: Any, indent: int = 0) -> str:
    """JSON as the pages show it: on one line when it fits, else one item a line."""
    flat = _flat(value)
    if len(flat) + indent <= WIDTH or not isinstance(value, dict | list) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, list):
        rows = [pad + format_json(item, indent + 2) for item in value]
        return "[\n" + ",\n".join(rows) + "\n" + " " * indent + "]"
    rows = []
    for k, v in value.items():
        if k == ELLIPSIS:
            rows.append(pad + "...")
            continue
        head = f"{pad}{json.dumps(k, ensure_ascii=False)}: "
        rows.append(head + format_json(v, indent + 2))
    return "{\n" + ",\n".join(rows) + "\n" + " " * indent + "}"


def _flat(value: Any) -> str:
    if value == ELLIPSIS:
        return "..."
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    if isinstance(value, dict):
        if list(value) == [ELLIPSIS]:
            return "{...}"
        parts = [
            "..." if k == ELLIPSIS else f"{json.dumps(k, ensure_ascii=False)}: {_flat(v)}"
            for k, v in value.items()
        ]
        return "{" + ", ".join(parts) + "}"
    return json.dumps(value, ensure_ascii=False)


def lines_match(shown: list[str], actual: list[str]) -> bool:
    """Text compared line by line; a shown line `...` stands for any number of lines."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n" for line in shown
    )
    return re.fullmatch(pattern, "".join(f"{line}\n" for line in actual)) is not None


# --- running a curl command ---------------------------------------------------------------


@dataclasses.dataclass
class Curl:
    """What a curl command line asks for."""

    method: str
    url: str
    headers: dict[str, str]
    include_headers: bool
    jq: str | None


def parse_curl(command: str) -> Curl:
    """The request a `curl ...` command line makes (the options the pages use)."""
    words = shlex.split(command)
    jq = None
    if "|" in words:
        pipe = words.index("|")
        words, rest = words[:pipe], words[pipe + 1 :]
        if len(rest) != 2 or rest[0] != "jq":
            raise ValueError(f"only `| jq PATH` may follow curl: {command}")
        jq = rest[1]
    assert words[0] == "curl"
    method, url, headers, include = "GET", None, {}, False
    args = iter(words[1:])
    for word in args:
        if word in {"-s", "-S", "-sS", "--silent"}:
            continue
        if word in {"-i", "-si", "-is"}:
            include = True
        elif word in {"-I", "-sI", "-Is", "--head"}:
            include, method = True, "HEAD"
        elif word in {"-H", "--header"}:
            name, _, value = next(args).partition(":")
            headers[name.strip().lower()] = value.strip()
        elif word in {"-X", "--request"}:
            method = next(args)
        elif word == "--compressed":
            headers["accept-encoding"] = "gzip, deflate"
        elif word.startswith("-"):
            raise ValueError(f"curl option {word} is not understood by this test: {command}")
        else:
            url = word
    if url is None or not url.startswith(BASE_URL):
        raise ValueError(f"the URL must start with {BASE_URL}: {command}")
    return Curl(method, url, headers, include, jq)


def jq_path(value: Any, path: str) -> Any:
    """A plain jq path: `.`, `.key`, `.key[0].other`."""
    for key, index in re.findall(r"\.(\w+)|\[(\d+)\]", path):
        value = value[key] if key else value[int(index)]
    return value


def run(client: TestClient, curl: Curl) -> httpx2.Response:
    """Send the request as curl would: its own headers, no redirect followed."""
    headers = {"user-agent": "curl/8.5.0", "accept": "*/*", **curl.headers}
    request = client.build_request(curl.method, curl.url, headers=headers)
    if "accept-encoding" not in curl.headers:
        del request.headers["accept-encoding"]
    return client.send(request, follow_redirects=False)


def render(example: Example, response: httpx2.Response, curl: Curl) -> list[str]:
    """The output the page should show: the real answer, in the shape the page shows."""
    shown = example.output
    out: list[str] = []
    body_shown = shown
    if curl.include_headers:
        blank = shown.index("") if "" in shown else len(shown)
        head, body_shown = shown[:blank], shown[blank + 1 :]
        reason = response.reason_phrase
        out.append(f"HTTP/1.1 {response.status_code} {reason}")
        for line in head[1:]:
            name = line.split(":", 1)[0].strip().lower()
            if line.strip() == "..." or name in MASKED_HEADERS:
                out.append(line)
            elif name in response.headers:
                for value in response.headers.get_list(name):
                    prefix = line.split(":", 1)[1].strip().removesuffix("...")
                    elided = line.endswith("...") and value.startswith(prefix)
                    out.append(line if elided else f"{name}: {value}")
        if curl.method == "HEAD" or not body_shown:
            return out
        out.append("")
    text = response.text
    try:
        actual: Any = response.json()
    except ValueError:
        actual_lines = text.splitlines()
        return out + (body_shown if lines_match(body_shown, actual_lines) else actual_lines)
    if curl.jq:
        actual = jq_path(actual, curl.jq)
    try:
        shown_value = parse_shown_json("\n".join(body_shown))
    except ValueError:
        shown_value = None
    if shown_value == {ELLIPSIS: 0} or shown_value == [ELLIPSIS]:
        shown_value = None  # a page must show something of the answer
    if shown_value is not None and project(shown_value, actual) == shown_value:
        return out + body_shown  # right as shown: keep the page's own layout
    return out + format_json(project(shown_value, actual)).splitlines()


# --- the sites the examples run on --------------------------------------------------------


def build_sites(workdir: Path, stack: ExitStack) -> dict[str, TestClient]:
    """A client per site, over databases filled from a copy of the bundled content."""
    from app.cli import cli
    from app.main import create_app
    from app.settings import Settings

    folder = workdir / "content"
    shutil.copytree(CONTENT, folder, ignore=shutil.ignore_patterns(".learnlog"))
    runner = CliRunner()
    urls = {}
    for name in ("plain", "link-health"):
        url = f"sqlite:///{workdir / f'{name}.db'}"
        result = runner.invoke(
            cli,
            ["ingest", str(folder), "--database-url", url],
            env={"LEARNLOG_INGEST_WORKERS": "1"},
        )
        assert result.exit_code == 0, result.output
        urls[name] = url
    store_link_checks(urls["link-health"])
    clients = {}
    for site in SITES:
        url = urls["link-health" if site == "link-health" else "plain"]
        settings = Settings(database_url=url, content_dir=folder, reader=site == "reader")
        client = TestClient(create_app(settings), base_url=BASE_URL)
        clients[site] = stack.enter_context(client)
    return clients


def store_link_checks(url: str) -> None:
    """Results of a link check of every http(s) address: LINK_CHECK_RESULTS, else ok."""
    from app.db import make_engine
    from app.linkcheck.probe import ProbeResult
    from app.linkcheck.store import bump_content_version, due_addresses, save_results
    from app.vocabulary import LinkOutcome

    engine = make_engine(url)
    moment = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
    due = due_addresses(engine, hosts=(), max_age=dt.timedelta(0), force=True, now=moment)
    results = []
    for target in due.targets:
        outcome, status, final, error = LINK_CHECK_RESULTS.get(
            target.url, ("ok", 200, target.url, None)
        )
        results.append(
            ProbeResult(
                url_key=target.url_key,
                url=target.url,
                outcome=LinkOutcome(outcome),
                http_status=status,
                final_url=final,
                checked_at=moment,
                elapsed_ms=10,
                error=error,
            )
        )
    save_results(engine, results)
    bump_content_version(engine)
    engine.dispose()


# --- the configuration table --------------------------------------------------------------

TABLE_START = "<!-- settings table: generated from app/settings.py by --update -->"
TABLE_END = "<!-- end of settings table -->"


def settings_table() -> list[str]:
    """The README's configuration table: one row per field of Settings, in its order."""
    from pydantic_core import PydanticUndefined

    from app.settings import Settings

    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if default is PydanticUndefined and field.default_factory is not None:
            default = field.default_factory()  # type: ignore[call-arg]
        if default is None:
            shown = "unset"
        elif default == "":
            shown = "empty"
        elif isinstance(default, list | dict):
            shown = f"`{json.dumps(default, default=str)}`"
        elif isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        else:
            shown = f"`{default}`"
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `LEARNLOG_{name.upper()}` | {shown} | {meaning} |")
    return rows


def with_settings_table(text: str) -> str:
    """The README's text with its configuration table regenerated."""
    start, end = text.index(TABLE_START), text.index(TABLE_END)
    table = "\n".join(settings_table())
    return f"{text[: start + len(TABLE_START)]}\n{table}\n{text[end:]}"


# --- the tests ----------------------------------------------------------------------------

EXAMPLES, STRAY = find_examples(PAGES)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    """The sites, built once for every example."""
    with ExitStack() as stack:
        yield build_sites(tmp_path_factory.mktemp("docs"), stack)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_shows_the_real_answer(example: Example, sites: dict[str, TestClient]) -> None:
    assert example.site in sites, f"unknown site {example.site!r}"
    curl = parse_curl(example.command)
    expected = render(example, run(sites[example.site], curl), curl)
    diff = "\n".join(
        difflib.unified_diff(example.output, expected, "page", "API", lineterm="", n=2)
    )
    assert expected == example.output, (
        f"{example.name}: the page differs from the API's answer "
        f"(python -m tests.test_docs_examples --update rewrites it):\n{diff}"
    )


def test_every_curl_example_is_checked() -> None:
    assert STRAY == [], "a `$ curl` line must open its fenced block to be checked"
    pages = {e.page.name for e in EXAMPLES}
    assert "README.md" in pages
    assert len(EXAMPLES) >= 10


def test_readme_is_a_short_page_with_the_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme) <= 16_000
    assert "python -m pytest" in readme  # .ci/run runs exactly this command


def test_configuration_table_lists_every_setting() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert with_settings_table(readme) == readme, (
        "the README's configuration table differs from app/settings.py "
        "(python -m tests.test_docs_examples --update rewrites it)"
    )


def test_typescript_quotes_are_in_the_example_client() -> None:
    usage = (REPO / "examples" / "typescript" / "src" / "usage.ts").read_text(encoding="utf-8")
    missing = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"```ts\n(.*?)```", text, flags=re.DOTALL):
            # A quote may skip parts of the file between its paragraphs, never change one.
            missing += [
                f"{page.relative_to(REPO)}: {part.splitlines()[0]}"
                for part in block.strip().split("\n\n")
                if part.strip() not in usage
            ]
    assert missing == []


def test_relative_links_lead_to_files() -> None:
    broken = []
    for page in PAGES:
        prose = re.sub(r"`[^`\n]*`", "", page.read_text(encoding="utf-8"))  # code shows syntax
        for target in re.findall(r"\]\(([^)\s]+)\)", prose):
            if re.match(r"[a-z]+:|#", target):
                continue
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(REPO)}: {target}")
    assert broken == []


# --- regenerating the pages ---------------------------------------------------------------


def update_pages() -> int:
    """Rewrite every example's output from the real API; print what changed."""
    changed = 0
    with tempfile.TemporaryDirectory() as workdir, ExitStack() as stack:
        clients = build_sites(Path(workdir), stack)
        by_page: dict[Path, list[Example]] = {}
        for example in EXAMPLES:
            by_page.setdefault(example.page, []).append(example)
        for page, examples in by_page.items():
            lines = page.read_text(encoding="utf-8").splitlines()
            for example in sorted(examples, key=lambda e: e.line, reverse=True):
                curl = parse_curl(example.command)
                fresh = render(example, run(clients[example.site], curl), curl)
                if fresh != example.output:
                    changed += 1
                    sys.stdout.write(f"updated {example.name}\n")
                    lines[example.line : example.end - 1] = fresh
            page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    if with_settings_table(text) != text:
        readme.write_text(with_settings_table(text), encoding="utf-8")
        sys.stdout.write("updated the configuration table of README.md\n")
    sys.stdout.write(f"{changed} of {len(EXAMPLES)} examples updated\n")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the pages' outputs")
    if parser.parse_args().update:
        sys.exit(update_pages())
    sys.exit(pytest.main([__file__, "-q"]))
