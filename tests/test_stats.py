"""`learnlog stats`: the domain tree, tags and hosts of a database, as terminal tables."""

import re
import sqlite3
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import REPO, Ingest

runner = CliRunner()


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _stats(url: str, *options: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["stats", "--database-url", url, *options], terminal_width=120)
    return result.exit_code, result.output


def _rows(output: str, title: str) -> list[list[str]]:
    """The cells of each body row of the table called `title`."""
    block = output.split(f"{title}\n", 1)[1]
    rows = []
    for line in block.splitlines():
        if line.startswith("└"):
            break
        if line.startswith("│"):
            rows.append([cell.rstrip() for cell in line.strip("│").split("│")])
    return [[cell.strip() if i else cell[1:] for i, cell in enumerate(row)] for row in rows]


def test_tables_show_the_domain_tree_tags_and_hosts(engine: Engine, ingest: Ingest) -> None:
    ingest(REPO / "content")
    status, output = _stats(_url(engine))
    assert status == 0, output
    domains = _rows(output, "Domains")
    names = [row[0] for row in domains]
    # Sub-domains are indented under their parent; the biggest domain comes first.
    assert names[0] == "machine-learning"
    assert "  genai" in names
    assert names.index("  genai") > names.index("machine-learning")
    ml = domains[0]
    assert int(ml[1]) >= int(domains[names.index("  genai")][1])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", ml[2])
    assert ml[2] <= ml[3]
    hosts = {row[0]: int(row[1]) for row in _rows(output, "Hosts")}
    assert hosts["arxiv.org"] == max(hosts.values())
    tags = [row[0] for row in _rows(output, "Tags")]
    assert "llm" in tags


def test_domains_are_the_ones_the_api_lists_by_default(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    blog = tmp_path / "blog"
    blog.mkdir()
    (blog / "domains.yml").write_text("genai: [GenAI, LLMs]\n")
    for day in range(1, 22):
        body = f"## Notes\n* note {day}\n## Only in {day}\n* once\n"
        (blog / f"2024-01-{day:02d}-post.md").write_text(body)
    (blog / "2024-02-01-llms.md").write_text("## LLMs\n* named in the aliases file\n")
    ingest(blog)
    status, output = _stats(_url(engine), "--limit", "1000")
    assert status == 0, output
    # A heading found in one post of a 22-post log is left out, unless the aliases name it.
    assert [(row[0], row[4]) for row in _rows(output, "Domains")] == [
        ("notes", "21"),
        ("genai", "1"),
    ]


def test_limit_cuts_each_table_and_counts_the_rest(engine: Engine, ingest: Ingest) -> None:
    ingest(REPO / "content")
    _, full = _stats(_url(engine), "--limit", "1000")
    status, output = _stats(_url(engine), "--limit", "2")
    assert status == 0
    for title in ("Domains", "Tags", "Hosts"):
        everything = _rows(full, title)
        cut = _rows(output, title)
        assert cut[:2] == everything[:2]
        assert cut[2][0] == f"… {len(everything) - 2} more"


def test_drafts_count_only_when_asked(engine: Engine, ingest: Ingest) -> None:
    ingest(REPO / "content")
    _, published = _stats(_url(engine), "--limit", "1000")
    _, everything = _stats(_url(engine), "--limit", "1000", "--drafts")
    last = {row[0]: row[3] for row in _rows(published, "Domains")}
    with_drafts = {row[0]: row[3] for row in _rows(everything, "Domains")}
    assert last["machine-learning"] < with_drafts["machine-learning"]  # the June draft


def test_empty_database_says_so(engine: Engine) -> None:
    status, output = _stats(_url(engine))
    assert status == 0
    assert "no entries yet: run `learnlog ingest` first" in output


def test_missing_or_foreign_database_is_a_clear_error(tmp_path: Path) -> None:
    status, output = _stats(f"sqlite:///{tmp_path / 'nope.db'}")
    assert status == 2
    assert "nope.db: no such database file" in output
    assert not (tmp_path / "nope.db").exists()

    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    status, output = _stats(f"sqlite:///{foreign}")
    assert status == 2
    assert "no learnlog tables" in output


def test_stats_is_documented_with_an_example() -> None:
    result = runner.invoke(cli, ["stats", "--help"])
    assert "Example: learnlog stats" in " ".join(result.output.split())
