"""Serving one's own folder: its own database, identity that survives a move, learnlog.toml."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from app.cli import cli
from app.db import alembic_config, make_engine, migrate
from app.folders.config import FolderConfig
from app.folders.dialect import detect
from app.ingest.discover import discover
from app.ingest.folder import OtherFolderError
from app.models import FOLDERS, POSTS, current_version
from tests.conftest import CORPORA, REPO, Ingest, postgres_url_or_skip
from tests.servers import LOOPBACK, _wait_until_healthy, free_port

runner = CliRunner()


def _posts(engine: Engine) -> dict[str, tuple[int, str]]:
    """source path -> (post id, slug)."""
    with engine.connect() as conn:
        rows = conn.execute(select(POSTS.c.source_path, POSTS.c.id, POSTS.c.slug)).all()
    return {path: (post_id, slug) for path, post_id, slug in rows}


def _version(engine: Engine) -> int:
    with engine.connect() as conn:
        return current_version(conn)


def _entry_ids(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT id FROM entries")).scalars())


def _blog(folder: Path) -> Path:
    """A small folder of posts, one with the same name in a subfolder."""
    (folder / "notes").mkdir(parents=True)
    (folder / "2024-01-01-log.md").write_text(
        "---\ntitle: One\n---\n## GenAI\n* [a](https://a.io)\n"
    )
    (folder / "2024-01-08-log.md").write_text("## GenAI\n* b\n  * c\n")
    (folder / "notes" / "2024-01-01-log.md").write_text("* d\n")
    return folder


def test_moving_a_folder_keeps_every_id_slug_and_the_version(
    tmp_path: Path, engine: Engine, ingest: Ingest
) -> None:
    first = _blog(tmp_path / "A")
    ingest(first)
    posts, entries, version = _posts(engine), _entry_ids(engine), _version(engine)

    (tmp_path / "elsewhere").mkdir()
    moved = first.rename(tmp_path / "elsewhere" / "B")
    summary = ingest(moved)

    assert (summary.added, summary.deleted, summary.updated) == (0, 0, 0)
    assert summary.unchanged == 3
    assert _posts(engine) == posts
    assert _entry_ids(engine) == entries
    assert _version(engine) == version
    with engine.connect() as conn:
        assert conn.execute(select(FOLDERS.c.name, FOLDERS.c.location)).all() == [
            ("A", str(moved.resolve()))
        ]


def test_ids_do_not_depend_on_where_the_folder_lives(tmp_path: Path) -> None:
    """Two clones in different places give the same ids (the README's examples rely on it)."""
    databases = []
    for place in ("one", "two/deeper"):
        folder = _blog(tmp_path / place / "logs")
        url = f"sqlite:///{tmp_path / place / 'x.db'}"
        assert runner.invoke(cli, ["ingest", str(folder), "--database-url", url]).exit_code == 0
        databases.append(make_engine(url))
    assert _posts(databases[0]) == _posts(databases[1])
    assert _entry_ids(databases[0]) == _entry_ids(databases[1])
    for database in databases:
        database.dispose()


def test_a_folder_served_beside_another_is_not_taken_for_it_moved(
    tmp_path: Path, engine: Engine, ingest: Ingest
) -> None:
    """Same file names in two existing folders sharing one database: two folders."""
    ingest(_blog(tmp_path / "x" / "logs"))
    summary = ingest(_blog(tmp_path / "y" / "logs"))
    assert summary.added == 3
    assert summary.folder == "logs-2"
    assert len(_posts(engine)) == 3  # keyed by path within a folder: 6 rows, 3 paths
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM posts")).scalar_one() == 6


def test_the_folders_own_database_refuses_another_folders_posts(
    tmp_path: Path, engine: Engine, ingest: Ingest
) -> None:
    ingest(_blog(tmp_path / "mine"), exclusive=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "unrelated.md").write_text("* x\n")
    with pytest.raises(OtherFolderError, match=r"3 posts of .*mine"):
        ingest(other, exclusive=True)
    assert len(_posts(engine)) == 3  # nothing stored was lost


def test_learnlog_toml_names_the_folder_and_its_domains(
    tmp_path: Path, engine: Engine, ingest: Ingest
) -> None:
    folder = _blog(tmp_path / "whatever")
    (folder / "learnlog.toml").write_text(
        'name = "my-log"\ndialect = "obsidian"\n\n[domains]\nllm = ["GenAI", "LLMs"]\n'
    )
    summary = ingest(folder)
    assert summary.folder == "my-log"
    assert summary.dialect is not None
    assert (summary.dialect.name, summary.dialect.reason) == ("obsidian", "set in learnlog.toml")
    with engine.connect() as conn:
        aliases = dict(conn.execute(text("SELECT slug, domain FROM domain_aliases")).all())
        dialect = conn.execute(select(FOLDERS.c.dialect)).scalar_one()
    assert aliases == {"genai": "llm", "llms": "llm"}
    assert dialect == "obsidian"


def test_a_bad_learnlog_toml_is_a_clear_error(tmp_path: Path) -> None:
    folder = _blog(tmp_path / "logs")
    (folder / "learnlog.toml").write_text('name = "x"\ndialect = \n')
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(cli, ["ingest", str(folder), "--database-url", url])
    assert result.exit_code == 2
    assert f"{folder / 'learnlog.toml'}:2: not valid TOML" in result.output


@pytest.mark.parametrize(
    ("corpus", "dialect"),
    [
        ("jekyll-18f", "jekyll"),
        ("seedblog/_posts", "jekyll"),
        ("logseq-docs", "logseq"),
        ("twir/content", "pelican"),
    ],
)
def test_dialect_detection_on_real_folders(corpus: str, dialect: str) -> None:
    root = CORPORA / corpus
    found = detect(root, FolderConfig(), [source.absolute for source in discover(root)[0]])
    assert found.name == dialect


def test_dialect_from_markers_and_syntax(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / "a.md").write_text("plain\n")
    assert detect(vault, FolderConfig(), [vault / "a.md"]).name == "obsidian"
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("See [[Other note]].\n\n> [!tip] Hi\n")
    assert detect(notes, FolderConfig(), [notes / "a.md"]).name == "obsidian"
    (notes / "a.md").write_text("{{< figure src=x >}}\n")
    assert detect(notes, FolderConfig(), [notes / "a.md"]).name == "hugo"
    (notes / "a.md").write_text("# Just Markdown\n")
    assert detect(notes, FolderConfig(), [notes / "a.md"]).name == "plain"


def test_the_first_look_says_what_the_folder_holds(tmp_path: Path) -> None:
    folder = _blog(tmp_path / "logs")
    (folder / "undated.md").write_text("* no date anywhere\n")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(cli, ["ingest", str(folder), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "folder 'logs': 4 posts (front matter: 3 none, 1 yaml)" in result.output
    assert "dialect plain (no tool's markers or syntax found)" in result.output
    assert "1 posts have no date" in result.output


def test_a_folder_gets_its_own_database_with_a_gitignore(tmp_path: Path) -> None:
    folder = _blog(tmp_path / "logs")
    result = runner.invoke(cli, ["ingest", str(folder)], env={"LEARNLOG_DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    database = folder / ".learnlog" / "learnlog.db"
    assert f"database: {database}" in result.output
    assert database.is_file()
    ignored = (folder / ".learnlog" / ".gitignore").read_text().splitlines()
    assert "learnlog.db" in ignored
    assert "*.ingest-lock" in ignored
    # Stats read the same database without being told where it is.
    stats = runner.invoke(cli, ["stats"], env={"LEARNLOG_CONTENT_DIR": str(folder)})
    assert stats.exit_code == 0, stats.output
    assert "genai" in stats.output


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_serving_a_missing_folder_exits_2_naming_it(tmp_path: Path, how: str) -> None:
    missing = tmp_path / "no" / "such"
    args = ["serve", str(missing)] if how == "argument" else ["serve"]
    env = {"LEARNLOG_CONTENT_DIR": str(missing), "LEARNLOG_DATABASE_URL": ""}
    result = runner.invoke(cli, args, env=env)
    assert result.exit_code == 2
    assert f"{missing}: no such folder" in result.output


@pytest.mark.parametrize("command", ["serve", "ingest"])
def test_a_folder_without_markdown_exits_2(tmp_path: Path, command: str) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "notes.txt").write_text("not markdown")
    result = runner.invoke(
        cli, [command, str(tmp_path / "empty")], env={"LEARNLOG_DATABASE_URL": ""}
    )
    assert result.exit_code == 2
    assert f"{tmp_path / 'empty'}: no Markdown files" in result.output
    assert not (tmp_path / "empty" / ".learnlog").exists()


def test_migrating_a_missing_postgresql_database_says_to_create_it() -> None:
    url = postgres_url_or_skip().rsplit("/", 1)[0] + "/learnlog_no_such_database"
    result = runner.invoke(cli, ["migrate", "--database-url", url])
    assert result.exit_code == 2
    assert 'database "learnlog_no_such_database" does not exist' in result.output
    assert "create it first" in result.output
    assert "Traceback" not in result.output


def test_a_replica_on_an_unmigrated_database_exits_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(cli, ["serve", "--no-migrate", "--database-url", url])
    assert result.exit_code == 2
    assert "no such database file" in result.output


def test_a_database_from_before_folder_names_keeps_its_ids(tmp_path: Path) -> None:
    """Migration 0005 turns stored absolute paths into folder names; ids and slugs stay."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    folder = _blog(tmp_path / "blog")
    assert runner.invoke(cli, ["ingest", str(folder), "--database-url", url]).exit_code == 0
    engine = make_engine(url)
    posts = _posts(engine)
    # Back to how a database of the previous version holds it: absolute paths.
    command.downgrade(alembic_config(url), "0004")
    with engine.connect() as conn:
        assert set(conn.execute(text("SELECT root FROM posts")).scalars()) == {str(folder)}
    migrate(url)
    with engine.connect() as conn:
        assert set(conn.execute(text("SELECT root FROM posts")).scalars()) == {"blog"}
    moved = folder.rename(tmp_path / "moved")
    result = runner.invoke(cli, ["ingest", str(moved), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert _posts(engine) == posts
    engine.dispose()


@contextmanager
def _serving(folder: Path, home: Path, log: Path) -> Iterator[httpx.Client]:
    """`learnlog serve FOLDER` as a user runs it: no database named, a fresh HOME."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEARNLOG_")}
    env["HOME"] = str(home)
    command = [sys.executable, "-m", "app.cli", "serve", str(folder), "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=home, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink
        )
    base_url = f"http://{LOOPBACK}:{port}"
    try:
        _wait_until_healthy(base_url, process, log)
        with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as client:
            yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serving_two_folders_in_turn_never_mixes_them(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    blog = shutil.copytree(CORPORA / "jekyll-18f", tmp_path / "jekyll-18f")
    seed = shutil.copytree(CORPORA / "seedblog", tmp_path / "seedblog") / "_posts"
    bundled = {path.stem for path in (REPO / "content").glob("*.md")}

    with _serving(blog, home, tmp_path / "blog.log") as client:
        answer = client.get("/posts", params={"limit": 200, "count": "true"}).json()
        assert answer["total"] == 504
        slugs = {item["slug"] for item in answer["items"]}
        assert not slugs & bundled
        assert client.get("/posts/2023-12-24-learning-logs").status_code == 404
    assert (
        "database: " + str(blog / ".learnlog" / "learnlog.db")
        in (tmp_path / "blog.log").read_text()
    )

    with _serving(seed, home, tmp_path / "seed.log") as client:
        answer = client.get("/posts", params={"limit": 200, "count": "true"}).json()
        assert answer["total"] == 16
        titles = {item["title"] for item in answer["items"]}
        assert "Learning Logs: 2023-12-24" in titles
        assert not any("18F" in title for title in titles)
