"""The `learnlog` command through Typer's runner."""

import shutil
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import REPO

runner = CliRunner()


def test_ingest_bundled_content_reports_every_post(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(cli, ["ingest", str(REPO / "content"), "--database-url", url])
    assert result.exit_code == 0, result.output
    posts = list((REPO / "content").rglob("*.md"))
    assert f"│ {len(posts):>5} │" in result.output  # the "added" column
    again = runner.invoke(cli, ["ingest", str(REPO / "content"), "--database-url", url])
    assert again.exit_code == 0
    assert "│     0 │" in again.output


def test_ingest_exits_1_and_names_the_failed_file(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "good.md").write_text("## A\n* fine\n")
    (folder / "bad.md").write_text("---\ntitle: [oops\n---\n* x\n")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(cli, ["ingest", str(folder), "--database-url", url])
    assert result.exit_code == 1
    assert "bad.md:2: invalid YAML front matter" in result.output


def test_warnings_do_not_fail_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "undated.md").write_text("## A\n* fine\n")
    result = runner.invoke(
        cli, ["ingest", str(folder), "--database-url", f"sqlite:///{tmp_path / 'w.db'}"]
    )
    assert result.exit_code == 0
    assert "warning undated.md" in result.output


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["ingest", str(tmp_path / "nope"), "--database-url", "sqlite://"])
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope'}: no such folder" in result.output


def test_migrate_then_ingest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert runner.invoke(cli, ["migrate", "--database-url", url]).exit_code == 0
    shutil.copytree(REPO / "content", tmp_path / "content")
    assert (
        runner.invoke(cli, ["ingest", str(tmp_path / "content"), "--database-url", url]).exit_code
        == 0
    )


def _commands(group: TyperGroup, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command of the CLI, subcommands of groups included, as argument tuples."""
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", _commands(typer.main.get_command(cli)), ids=" ".join)  # type: ignore[arg-type]
def test_every_command_is_documented_with_an_example(command: tuple[str, ...]) -> None:
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: learnlog " + " ".join(command) in " ".join(result.output.split())


def test_names_that_look_like_markup_are_printed_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "a[b] [bold]x.md").write_text("---\ndate: [\n---\n")
    (folder / "fine.md").write_text("* fine\n")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(cli, ["ingest", str(folder), "--database-url", url])
    assert result.exit_code == 1, result.output
    assert "failed  a[b] [bold]x.md:" in result.output


@pytest.mark.parametrize("command", [["serve"], ["ingest"], ["stats"]])
def test_an_invalid_setting_exits_2_naming_it_without_echoing_it(command: list[str]) -> None:
    result = runner.invoke(cli, command, env={"LEARNLOG_ADMIN_TOKEN": "tooshort12"})
    assert result.exit_code == 2
    assert "LEARNLOG_ADMIN_TOKEN" in result.output
    assert "tooshort12" not in result.output
    assert "Traceback" not in result.output
