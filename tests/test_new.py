"""`learnlog new`: a post from a template, named the way the folder names its posts."""

import datetime as dt
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.ingest.discover import normalise
from app.ingest.parse import parse_post
from tests.conftest import CORPORA, REPO

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_configured_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run from an empty working folder with default settings."""
    monkeypatch.chdir(tmp_path)
    for name in ("CONTENT_DIR", "CONTENT_DIRS"):
        monkeypatch.delenv(f"LEARNLOG_{name}", raising=False)


def new(*args: str) -> tuple[int, str]:
    """Run `learnlog new` and return its exit status and output."""
    result = runner.invoke(cli, ["new", *args])
    return result.exit_code, result.output


def test_writes_a_dated_post_named_like_the_bundled_content(tmp_path: Path) -> None:
    shutil.copytree(REPO / "content", tmp_path / "content")
    status, output = new("--date", "2024-06-02")
    assert status == 0, output
    assert output == "content/2024-06-02-learning-logs.md\n"
    text = (tmp_path / output.strip()).read_text()
    post = parse_post(normalise(text.encode()).text, "2024-06-02-learning-logs.md")
    assert post.title == "Learning Logs: 2024-06-02"
    assert post.date == dt.date(2024, 6, 2)
    assert post.categories == ["learning"]
    assert [(s.level, s.heading) for s in post.sections] == [
        (2, "Machine Learning"),
        (3, "GenAI"),
        (2, "Industry / Business"),
    ]
    assert not post.warnings
    assert runner.invoke(cli, ["check", output.strip()]).exit_code == 0


def test_a_title_names_the_file_and_is_quoted_in_front_matter(tmp_path: Path) -> None:
    shutil.copytree(REPO / "content", tmp_path / "content")
    status, output = new("--dir", "content", "--date", "2024-06-03", "--title", 'RAG: "hybrid" #2')
    assert status == 0, output
    path = tmp_path / "content" / "2024-06-03-rag-hybrid-2.md"
    assert output == "content/2024-06-03-rag-hybrid-2.md\n"
    post = parse_post(path.read_text(), path.name)
    assert post.title == 'RAG: "hybrid" #2'


def test_today_by_default(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    before = dt.date.today()
    status, output = new()
    after = dt.date.today()
    assert status == 0
    assert output.strip() in {
        f"content/{day.isoformat()}-learning-logs.md" for day in (before, after)
    }


def test_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    assert new("--date", "2024-06-02")[0] == 0
    written = tmp_path / "content" / "2024-06-02-learning-logs.md"
    written.write_text("my notes\n")
    status, output = new("--date", "2024-06-02")
    assert status == 1
    assert "content/2024-06-02-learning-logs.md exists already" in " ".join(output.split())
    assert written.read_text() == "my notes\n"


@pytest.mark.parametrize(
    ("corpus", "expected"),
    [
        ("seedblog", "_posts/2024-06-02-learning-logs.markdown"),
        ("logseq-docs", "journals/2024_06_02.md"),
        ("twir", "content/2024-06-02-this-week-in-rust.md"),
    ],
)
def test_follows_the_folder_convention(tmp_path: Path, corpus: str, expected: str) -> None:
    if not (CORPORA / corpus).is_dir():
        pytest.skip(f"{CORPORA / corpus} is not here")
    folder = tmp_path / corpus
    # Only the names matter: the same tree of (empty) files.
    for source in (CORPORA / corpus).rglob("*"):
        if source.is_file():
            target = folder / source.relative_to(CORPORA / corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
    status, output = new("--dir", str(folder), "--date", "2024-06-02")
    assert status == 0, output
    assert output.strip() == str(folder / expected)


def test_unpadded_two_digit_names_and_a_template_file(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    (folder / ".learnlog").mkdir(parents=True)
    (folder / "23-1-5-week.md").write_text("* x\n")
    (folder / "23-2-9-week.md").write_text("* x\n")
    (folder / ".learnlog" / "template.md").write_text(
        "---\ntitle: $title_yaml\ndate: $date\n---\n# $title ($slug) costs $5\n"
    )
    status, output = new("--dir", "logs", "--date", "2024-03-07", "--title", "Week ten")
    assert status == 0, output
    assert output == "logs/24-3-7-week-ten.md\n"
    assert (folder / "24-3-7-week-ten.md").read_text() == (
        '---\ntitle: "Week ten"\ndate: 2024-03-07\n---\n# Week ten (week-ten) costs $5\n'
    )
    # The template itself is never a post.
    checked = runner.invoke(cli, ["check", "logs"]).output.splitlines()[-1]
    assert checked.startswith("3 files checked: 0 errors")


def test_a_template_that_gives_broken_front_matter_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    (folder / ".learnlog").mkdir(parents=True)
    (folder / ".learnlog" / "template.md").write_text("---\ntitle: $title\n---\n")
    status, output = new("--dir", "logs", "--date", "2024-03-07")
    assert status == 1
    assert "template.md: the filled-in template is no readable post: line 2: invalid YAML" in (
        " ".join(output.split())
    )
    assert list(folder.iterdir()) == [folder / ".learnlog"]


def test_missing_folder_and_bad_date_are_usage_errors(tmp_path: Path) -> None:
    assert new("--dir", "nowhere")[0] == 2
    (tmp_path / "content").mkdir()
    assert new("--date", "2024-02-30")[0] == 2


def test_help_has_an_example() -> None:
    result = runner.invoke(cli, ["new", "--help"])
    assert "Example: learnlog new" in " ".join(result.output.split())
