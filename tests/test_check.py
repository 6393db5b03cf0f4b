"""`learnlog check`: lint logs without a database, agreeing with what ingest would do."""

import json
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.lint import RULES
from tests.conftest import CORPORA, REPO, Ingest
from tests.ingest.test_odd_folders import release_fifos

runner = CliRunner()

GOOD = """\
---
title: Good
date: 2024-01-07
---

## Machine Learning

* [Ferret](https://arxiv.org/abs/2310.07704) grounds any region.
"""


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty content folder; the command runs from its parent with default settings."""
    folder = tmp_path / "logs"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    for name in ("CONTENT_DIR", "CONTENT_DIRS", "ALIASES_FILE", "MAX_FILE_BYTES"):
        monkeypatch.delenv(f"LEARNLOG_{name}", raising=False)
    return folder


def check(*args: str) -> tuple[int, list[str]]:
    """Run `learnlog check` and return its exit status and output lines."""
    result = runner.invoke(cli, ["check", *args])
    return result.exit_code, result.output.splitlines()


def test_bundled_content_passes() -> None:
    status, lines = check(str(REPO / "content"))
    posts = list((REPO / "content").rglob("*.md"))
    assert status == 0, lines
    assert lines[-1].startswith(f"{len(posts)} files checked: 0 errors, ")
    assert not [line for line in lines if ": error: " in line]


def test_broken_front_matter_fails_naming_file_and_line(logs: Path) -> None:
    (logs / "good.md").write_text(GOOD)
    (logs / "bad.md").write_text("---\ntitle: Fine\ntags: [oops\ndate: 2024-01-01\n---\n* x\n")
    status, lines = check("logs")
    assert status == 1
    errors = [line for line in lines if ": error: " in line]
    assert errors == [
        "logs/bad.md:3: error: invalid YAML front matter: "
        "did not find expected ',' or ']' (while parsing a flow sequence) [ingest]"
    ]
    assert lines[-1] == "2 files checked: 1 error, 0 warnings"


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("---\n- a\n- b\n---\n", 1, "front matter must be a mapping of keys to values, not a list"),
        ("---\njust text\n---\n", 1, "front matter must be a mapping of keys to values, not a str"),
        ("---\ntitle: x\n\n* never closed\n", 1, "unterminated YAML front matter"),
        ("+++\ntitle = \n+++\n", 2, "invalid TOML front matter"),
        (b"* caf\xe9\n* line 2\n", 1, "not UTF-8 text: invalid byte 0xe9"),
        (b"---\ntitle: x\n---\n\n* a\x00b\n", 5, "not UTF-8 text: NUL byte"),
    ],
)
def test_what_ingest_fails_is_an_error(
    logs: Path, content: str | bytes, line: int, reason: str
) -> None:
    data = content.encode() if isinstance(content, str) else content
    (logs / "2024-01-07-post.md").write_bytes(data)
    status, lines = check("logs")
    assert status == 1
    assert lines[0].startswith(f"logs/2024-01-07-post.md:{line}: error: {reason}")


def test_oversized_files_and_escaping_symlinks_are_errors(
    logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEARNLOG_MAX_FILE_BYTES", "100")
    (logs / "big.md").write_text("* " + "x" * 200 + "\n")
    outside = tmp_path / "secret.md"
    outside.write_text(GOOD)
    (logs / "link.md").symlink_to(outside)
    status, lines = check("logs")
    assert status == 1
    assert lines[:2] == [
        "logs/big.md: error: too large: 203 bytes, the limit is 100 bytes [ingest]",
        "logs/link.md: error: symbolic link leads outside the content folder [ingest]",
    ]


def test_dates_duplicates_and_unlinked_entries_are_warnings(logs: Path) -> None:
    (logs / "2024-02-30-notes.md").write_text(
        "## Reading\n"
        "* [Paper](https://arxiv.org/abs/2310.07704) first mention\n"
        "* [Thought] a note of my own needs no link\n"
        "* Apple LLMs:\n"
        "  * [Ferret](https://arxiv.org/pdf/2310.07704.pdf) again\n"
        "  * [Flash](https://example.org/flash) and a [second](https://example.org/flash)\n"
        "* a bare remark\n"
        "  * with a sub-remark\n"
        "* [Docs](https://example.org/guide#install) and later\n"
        "* [other part](https://example.org/guide#usage) of the same page\n"
    )
    (logs / "2023-12-24-log.md").write_text("---\ndate: 2023-13-45\n---\n* [a](https://a.io)\n")
    status, lines = check("logs")
    assert status == 0  # warnings never fail
    assert lines == [
        "logs/2023-12-24-log.md:1: warning: front matter date '2023-13-45' is not a valid date "
        "[ingest]",
        "logs/2024-02-30-notes.md: warning: file name date 2024-02-30 is no real date [file-date]",
        "logs/2024-02-30-notes.md: warning: no date in the front matter or the file name: "
        "the post is undated [ingest]",
        "logs/2024-02-30-notes.md:5: warning: https://arxiv.org/pdf/2310.07704.pdf is linked "
        "already on line 2 as https://arxiv.org/abs/2310.07704 [duplicate-url]",
        "logs/2024-02-30-notes.md:7: warning: entry has no link: a bare remark [no-link]",
        "logs/2024-02-30-notes.md:8: warning: entry has no link: with a sub-remark [no-link]",
        "2 files checked: 0 errors, 6 warnings",
    ]


def test_ingest_warnings_are_reported(logs: Path) -> None:
    deep = "".join("  " * depth + f"* level {depth}\n" for depth in range(12))
    (logs / "2024-01-07-deep.md").write_text(
        f"---\ntitle: a\ntitle: b\ndate: 2024-01-08\n---\n{deep}"
    )
    (logs / "sub").mkdir()
    (logs / "sub" / "2024-01-07-deep.md").write_text(GOOD)
    status, lines = check("logs", "--ignore", "no-link")
    assert status == 0
    # The suffix comes from each file's own path (its absolute folder included).
    slugs = [re.sub(r"deep-[0-9a-f]{6}'", "deep-…'", line) for line in lines]
    assert slugs == [
        "logs/2024-01-07-deep.md: warning: slug '2024-01-07-deep-…': several files ask "
        "for the same slug (2024-01-07-deep.md, sub/2024-01-07-deep.md) [slug-collision]",
        "logs/2024-01-07-deep.md:1: warning: date in the file name (2024-01-07) disagrees with "
        "the front matter date (2024-01-08); the front matter wins [ingest]",
        "logs/2024-01-07-deep.md:3: warning: front matter key 'title' appears twice; "
        "the last value wins [ingest]",
        "logs/2024-01-07-deep.md:14: warning: list nested deeper than 8 levels: deeper items "
        "were folded into their deepest kept ancestor [ingest]",
        "logs/sub/2024-01-07-deep.md: warning: slug '2024-01-07-deep-…': several files "
        "ask for the same slug (2024-01-07-deep.md, sub/2024-01-07-deep.md) [slug-collision]",
        "2 files checked: 0 errors, 5 warnings",
    ]
    assert lines[0] != lines[4].replace("sub/", "", 1)  # two different suffixes


def test_uncovered_headings_only_when_an_aliases_file_applies(
    logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (logs / "2024-01-07-log.md").write_text(
        "## Machine Learning\n### Gen AI\n* [a](https://a.io)\n## LLMs\n* [b](https://b.io)\n"
    )
    assert check("logs")[1] == ["1 file checked: 0 errors, 0 warnings"]

    (logs / "domains.yml").write_text("genai: [GenAI, LLMs]\nmachine-learning:\n")
    status, lines = check("logs")
    assert status == 0
    assert lines == [
        "logs/2024-01-07-log.md:2: warning: heading 'Gen AI' is not a domain of the aliases "
        "file (did you mean genai?) [uncovered-heading]",
        "1 file checked: 0 errors, 1 warning",
    ]

    elsewhere = tmp_path / "aliases.yml"
    elsewhere.write_text("genai: [Gen AI, LLMs]\n")
    monkeypatch.setenv("LEARNLOG_ALIASES_FILE", str(elsewhere))
    assert check("logs")[1][0].startswith(
        "logs/2024-01-07-log.md:1: warning: heading 'Machine Learning' is not a domain"
    )

    elsewhere.write_text("- just\n- a list\n")
    status, lines = check("logs")
    assert status == 1
    assert lines[0] == (
        f"{elsewhere}:1: error: aliases file must map a domain slug to a list of headings [ingest]"
    )


def test_file_arguments_check_only_those_files(logs: Path, tmp_path: Path) -> None:
    (logs / "2024-01-07-a.md").write_text("* no link here\n")
    (logs / "2024-01-14-b.md").write_text("---\ntitle: a: b\n---\n")
    (logs / "notes.txt").write_text("not a post")
    (logs / ".hidden").mkdir()
    (logs / ".hidden" / "x.md").write_text("---\n[broken\n---\n")
    status, lines = check("logs/2024-01-07-a.md", "logs/notes.txt", str(logs / ".hidden" / "x.md"))
    assert status == 0
    assert lines == [
        "logs/2024-01-07-a.md:1: warning: entry has no link: no link here [no-link]",
        "1 file checked: 0 errors, 1 warning",
    ]
    status, lines = check("logs/2024-01-14-b.md")
    assert status == 1
    assert lines[0].startswith("logs/2024-01-14-b.md:2: error: invalid YAML front matter")


def test_a_file_in_the_configured_folder_gets_its_collisions_and_aliases(
    logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEARNLOG_CONTENT_DIR", "logs")
    (logs / "domains.yml").write_text("genai: [GenAI]\n")
    (logs / "a").mkdir()
    (logs / "b").mkdir()
    (logs / "a" / "2024-01-07-log.md").write_text("## Gen AI\n* [x](https://x.io)\n")
    (logs / "b" / "2024-01-07-log.md").write_text(GOOD)
    status, lines = check("logs/a/2024-01-07-log.md")
    assert status == 0
    assert [line.rsplit("[", 1)[-1] for line in lines[:-1]] == [
        "slug-collision]",
        "uncovered-heading]",
    ]
    assert lines[-1] == "1 file checked: 0 errors, 2 warnings"


def test_default_is_the_configured_folder(logs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (logs / "bad.md").write_text("---\n: [\n---\n")
    monkeypatch.setenv("LEARNLOG_CONTENT_DIR", "logs")
    status, lines = check()
    assert status == 1
    assert lines[0].startswith("logs/bad.md:2: error:")
    monkeypatch.setenv("LEARNLOG_CONTENT_DIR", "missing")
    result = runner.invoke(cli, ["check"])
    assert result.exit_code == 2
    assert "missing: no such file or folder" in result.output


def test_json_strict_ignore_and_usage_errors(logs: Path) -> None:
    (logs / "2024-01-07-a.md").write_text("* no link here\n")
    result = runner.invoke(cli, ["check", "logs", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "files": 1,
        "errors": 0,
        "warnings": 1,
        "findings": [
            {
                "path": "logs/2024-01-07-a.md",
                "line": 1,
                "severity": "warning",
                "rule": "no-link",
                "message": "entry has no link: no link here",
            }
        ],
    }
    assert check("logs", "--strict")[0] == 1
    assert check("logs", "--strict", "--ignore", "no-link") == (
        0,
        ["1 file checked: 0 errors, 0 warnings"],
    )
    status, lines = check("logs", "--ignore", "typo")
    assert status == 2
    assert "no rule named typo" in lines[-1]
    assert check("nowhere")[0] == 2


def test_help_names_every_rule_and_has_an_example() -> None:
    result = runner.invoke(cli, ["check", "--help"])
    text = " ".join(result.output.split())
    assert "Example: learnlog check" in text
    for rule in RULES:
        assert rule in text


def test_check_and_ingest_agree(logs: Path, ingest: Ingest) -> None:
    shutil.copytree(REPO / "content", logs, dirs_exist_ok=True)
    (logs / "2024-07-01-bad.md").write_text("---\ntitle: x\ndate: [\n---\n")
    (logs / "2024-07-02-latin1.md").write_bytes(b"* caf\xe9\n")
    (logs / "undated.md").write_text("---\ntitle: t\n---\n* [a](https://a.io)\n")
    (logs / "2024-07-03-list.md").write_text("---\n- a\n---\n")
    (logs / "2024-07-04-twice.md").write_text("---\ndate: 2024-07-05\ntags: a\ntags: b\n---\n")
    (logs / "x").mkdir()
    (logs / "x" / "undated.md").write_text("* [a](https://a.io)\n")
    os.symlink("/etc/hostname", logs / "escape.md")

    summary = ingest(logs)
    result = runner.invoke(cli, ["check", "logs", "--format", "json"])
    findings = json.loads(result.output)["findings"]

    def where(path: str) -> str:
        return path.removeprefix("logs/")

    errors = {
        (where(f["path"]), f["line"], f["message"]) for f in findings if f["severity"] == "error"
    }
    assert errors == {(p.path, p.line, p.reason) for p in summary.failures}
    assert len(errors) == 4
    warnings = {
        (where(f["path"]), f["line"], f["message"])
        for f in findings
        if f["severity"] == "warning" and f["rule"] in ("ingest", "slug-collision")
    }
    assert warnings == {(p.path, p.line, p.reason) for p in summary.warnings}
    assert len(warnings) >= 5


@pytest.mark.parametrize("corpus", ["seedblog", "jekyll-18f", "logseq-docs"])
def test_real_corpora_check_without_crashing(corpus: str) -> None:
    if not (CORPORA / corpus).is_dir():
        pytest.skip(f"{CORPORA / corpus} is not here")
    status, lines = check(str(CORPORA / corpus))
    assert status == 0, [line for line in lines if ": error: " in line]
    files = len(list((CORPORA / corpus).rglob("*.md"))) + len(
        list((CORPORA / corpus).rglob("*.markdown"))
    )
    assert lines[-1].startswith(f"{files} files checked: 0 errors, ")


def test_check_reports_fifos_bad_names_loops_and_control_characters(logs: Path) -> None:
    (logs / "good.md").write_text(GOOD)
    os.mkfifo(logs / "x.md")
    with open(os.fsencode(logs) + b"/caf\xe9.md", "wb") as post:
        post.write(b"* x\n")
    os.symlink("loop.md", logs / "loop.md")
    (logs / "new\nline.md").write_text(GOOD)
    result: list[tuple[int, list[str]]] = []
    worker = threading.Thread(target=lambda: result.append(check("logs")), daemon=True)
    worker.start()
    worker.join(120)
    if worker.is_alive():
        release_fifos(logs)  # the read stuck on the FIFO gets its end of file
        worker.join(30)
        pytest.fail("`learnlog check` hung on a FIFO")
    status, lines = result[0]
    assert status == 1
    assert [line for line in lines if ": error: " in line] == [
        "logs/caf\\xe9.md: error: file name is not valid UTF-8: rename it to read it [ingest]",
        "logs/loop.md: error: symbolic link loop: it leads back to itself, never to a file "
        "[ingest]",
        "logs/x.md: error: not a regular file: a named pipe (FIFO); only regular files are "
        "read [ingest]",
    ]
    assert not [line for line in lines if line.startswith("line.md")]  # never split
    assert lines[-1].startswith("5 files checked: 3 errors")


def test_check_names_a_fifo_given_as_a_file(logs: Path) -> None:
    os.mkfifo(logs / "x.md")
    status, lines = check("logs/x.md")
    assert status == 1
    assert lines[0] == (
        "logs/x.md: error: not a regular file: a named pipe (FIFO); only regular files are "
        "read [ingest]"
    )


def test_a_front_matter_url_linked_again_in_the_text_is_no_duplicate(logs: Path) -> None:
    (logs / "2024-02-01-tool.md").write_text(
        "---\nrepo: https://github.com/a/tool\n---\n"
        "* [tool](https://github.com/a/tool) is out\n"
        "* [tool again](https://github.com/a/tool) in a second entry\n"
    )
    status, lines = check("logs")
    assert status == 0
    assert [line for line in lines if "duplicate-url" in line] == [
        "logs/2024-02-01-tool.md:5: warning: https://github.com/a/tool is linked already on "
        "line 4 [duplicate-url]"
    ]
