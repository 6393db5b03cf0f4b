"""The `learnlog` command: thin wrappers over the ingest pipeline, the API and migrations."""

import contextlib
import datetime as dt
import functools
import logging
import signal
import sys
import time
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from app.cli_options import (
    DatabaseChoice,
    DatabaseOption,
    FolderArgument,
    choose_database,
    command_settings,
)
from app.linkcheck.cli import links_cli
from app.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

    from app.ingest.pipeline import RunSummary
    from app.ingest.unchanged import Before

cli = typer.Typer(
    help="learnlog: a headless content API for Markdown learning logs.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True, soft_wrap=True)


@cli.command()
def ingest(
    folder: FolderArgument = None,
    database_url: DatabaseOption = None,
    drafts: Annotated[
        bool,
        typer.Option(
            "--drafts/--no-drafts",
            help="Store draft posts (served only with include_drafts=true); "
            "--no-drafts leaves them out of the database.",
        ),
    ] = True,
    full_check: Annotated[
        bool,
        typer.Option(
            "--full-check",
            help="Read and hash every file even when the folder looks unchanged since the "
            "last clean run (for FAT drives and network mounts, whose file times can mislead).",
        ),
    ] = False,
) -> None:
    """Load a folder of Markdown logs into the database; only changed files are parsed.

    Without --database-url (or LEARNLOG_DATABASE_URL) the folder gets a database of its
    own, FOLDER/.learnlog/learnlog.db, whose path is printed first. A folder unchanged since
    the last clean run is recorded as such without reading its files (but for --full-check).

    Example: learnlog ingest ~/blog/_posts
    Exit status: 0 when every file was ingested, 1 when any failed (warnings do not count),
    2 when the run could not start (no such folder, another ingest holding the database,
    a database holding another folder's posts ...).
    """
    del full_check  # this command always reads every file: app/__main__.py is the shortcut
    choice = choose_database(database_url, folder)
    if _ingest_folders(choice, drafts=drafts):
        raise typer.Exit(1)


def _ingest_folders(choice: DatabaseChoice, *, drafts: bool, busy_ok: bool = False) -> bool:
    """Ingest every configured folder in turn; True when any file failed. Exit 2 when a
    run cannot start (unless `busy_ok` and only because another ingest is running)."""
    from sqlalchemy.exc import OperationalError

    from app.db import SchemaBehindError, ensure_schema, make_engine
    from app.folders.config import FolderConfigError
    from app.ingest.folder import OtherFolderError
    from app.ingest.lock import IngestBusy, ingest_lock

    engine = make_engine(choice.url)
    progress = Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    failed = False
    try:
        # The lock covers the first migration too: two first runs never migrate at once.
        with ingest_lock(engine):
            ensure_schema(engine)
            failed = _run_each_folder(choice, engine, progress, drafts=drafts)
    except SchemaBehindError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except IngestBusy as busy:
        if busy_ok:
            console.print(f"{busy}: serving what the database holds", highlight=False)
            return False
        console.print(f"[red]error:[/red] {busy}; try again when it has finished")
        raise typer.Exit(2) from None
    except (FolderConfigError, OtherFolderError) as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    except OperationalError as error:  # nothing to connect to: say so, without a traceback
        reason = str(error.orig or error).strip().splitlines()[0]
        console.print(f"[red]error:[/red] cannot use the database: {reason}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    return failed


def _run_each_folder(
    choice: DatabaseChoice, engine: "Engine", progress: Progress, *, drafts: bool
) -> bool:
    """One run per configured folder, the lock held; True when any file failed."""
    from app.ingest.pipeline import run_ingest

    settings = choice.settings
    failed = False
    database = _sqlite_file(engine)
    single = len(settings.folders()) == 1
    for root in settings.folders():
        before = None
        if database is not None and single:
            before = _before_run(root, database, own=choice.own, include_drafts=drafts)
        with progress:
            task = progress.add_task("files", total=None)
            summary = run_ingest(
                engine,
                root,
                max_file_bytes=settings.max_file_bytes,
                aliases_file=settings.resolved_aliases_file(root),
                workers=settings.ingest_workers,
                include_drafts=drafts,
                on_start=functools.partial(_set_total, progress, task),
                on_file=functools.partial(_advance, progress, task),
                exclusive=choice.own,
                keep_runs=settings.keep_runs,
                keep_failed_runs=settings.keep_failed_runs,
                locked=True,
            )
        _print_summary(summary)
        if database is not None:
            _keep_manifest(engine, database, summary, before, settings)
        failed = failed or bool(summary.failed)
    return failed


def _sqlite_file(engine: "Engine") -> str | None:
    """The database's file as its URL names it, when it is a plain SQLite file (the only
    kind with manifests: app/ingest/unchanged.py)."""
    name = engine.url.database
    if engine.dialect.name != "sqlite" or engine.url.query or not name:
        return None
    return None if name == ":memory:" or name.startswith("file:") else name


def _before_run(root: Path, database: str, *, own: bool, include_drafts: bool) -> "Before | None":
    """The folder and the run's circumstances as it begins (None if they cannot be read)."""
    from app.ingest.unchanged import before_run

    try:
        return before_run(root.resolve(), database, own=own, include_drafts=include_drafts)
    except OSError:
        return None


def _keep_manifest(
    engine: "Engine",
    database: str,
    summary: "RunSummary",
    before: "Before | None",
    settings: Settings,
) -> None:
    """After a clean run, record the folder's manifest, so that the next `learnlog ingest`
    of an unchanged folder answers at once; after any other run, forget it. A manifest
    that cannot be written costs the next run its shortcut, never this run its result."""
    import sqlite3

    from app.db import schema_revision
    from app.ingest.unchanged import Manifest, forget, record

    clean = not summary.failures and not summary.warnings
    try:
        if before is None or not clean or not before.settled:
            forget(database, summary.root)
            return
        record(
            database,
            Manifest(
                location=summary.root,
                folder=summary.folder,
                before=before,
                schema_revision=schema_revision(engine) or "",
                content_version=summary.content_version,
                unchanged=summary.added + summary.updated + summary.unchanged,
                skipped_drafts=summary.skipped_drafts,
                keep_runs=settings.keep_runs,
                keep_failed_runs=settings.keep_failed_runs,
                report="\n".join(_first_look(summary)),
            ),
        )
    except (sqlite3.Error, OSError) as error:
        logging.getLogger(__name__).debug("no manifest kept for %s: %s", summary.root, error)


def _set_total(progress: Progress, task: TaskID, total: int) -> None:
    progress.update(task, total=total)


def _advance(progress: Progress, task: TaskID, _path: str, _outcome: object) -> None:
    progress.advance(task)


def _print_failures(summary: "RunSummary") -> None:
    """Every file that failed, with the place and the reason."""
    for problem in summary.failures:
        where = f"{problem.path}:{problem.line}" if problem.line else problem.path
        console.print(
            f"[red]failed[/red]  {escape(where)}: {escape(problem.reason)}", highlight=False
        )


def _print_summary(summary: "RunSummary") -> None:
    """The table at the end of an ingest, then every failure and warning with its place."""
    table = Table(title=f"ingest run {summary.run_id}: {summary.root}", title_justify="left")
    counts = summary.counts()
    for column in counts:
        table.add_column(column.replace("_", " "), justify="right")
    table.add_row(*(str(value) for value in counts.values()))
    console.print(table)
    _print_failures(summary)
    for problem in summary.warnings:
        where = f"{problem.path}:{problem.line}" if problem.line else problem.path
        console.print(
            f"[yellow]warning[/yellow] {escape(where)}: {escape(problem.reason)}", highlight=False
        )
    console.print(
        f"content version {summary.content_version}, {summary.seconds:.2f} s", highlight=False
    )
    for line in _first_look(summary):
        console.print(line, highlight=False)


def _first_look(summary: "RunSummary") -> list[str]:
    """What the folder holds, so a user knows what the API will show."""
    posts = sum(summary.front_matter_styles.values())
    styles = ", ".join(
        f"{count} {style or 'none'}"
        for style, count in sorted(summary.front_matter_styles.items(), key=lambda i: -i[1])
    )
    dialect = summary.dialect
    lines = [
        f"folder {summary.folder!r}: {posts} posts (front matter: {styles or 'none'})",
        f"dialect {dialect.name} ({dialect.reason})" if dialect else "",
        f"{summary.undated} posts have no date: they are left out of date filters"
        if summary.undated
        else "",
    ]
    return [line for line in lines if line]


@cli.command()
def serve(
    folder: FolderArgument = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[
        bool, typer.Option(help="Restart when the code changes (development).")
    ] = False,
    migrate_first: Annotated[
        bool,
        typer.Option(
            "--migrate/--no-migrate",
            help="Apply migrations and ingest the folder before serving (--no-migrate: a "
            "replica serving a database that `learnlog migrate` and `learnlog ingest` fill).",
        ),
    ] = True,
    database_url: DatabaseOption = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Re-ingest the folder whenever a Markdown file in it, or the aliases "
            "file, is saved, added or removed.",
        ),
    ] = False,
    reader: Annotated[
        bool,
        typer.Option(
            "--reader",
            help="Also serve the reader, a browser app over the API, at /reader/ "
            "(LEARNLOG_READER=true does the same).",
        ),
    ] = False,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log one line per request (client, method, path without its query, status); "
            "--no-access-log when a proxy in front logs them already.",
        ),
    ] = True,
) -> None:
    """Serve a folder of Markdown logs as a JSON API (docs at /docs), ingesting it first.

    Without --database-url (or LEARNLOG_DATABASE_URL) the folder gets a database of its
    own, FOLDER/.learnlog/learnlog.db; only files changed since the last run are parsed.
    With --watch, saved posts reach the API within a second or two.

    Example: learnlog serve ~/blog/_posts, then open http://127.0.0.1:8000/docs
    Exit status 2 when the folder or the database cannot be used.
    """
    import os

    import uvicorn

    from app.asgi.protocol import OneWriteProtocol
    from app.db import DatabaseNotReady, open_current
    from app.main import create_app

    # A replica (--no-migrate) with a database URL reads no folder unless told to watch one.
    needs_folders = migrate_first or watch or folder is not None or not database_url
    choice = choose_database(database_url, folder, folders_needed=needs_folders)
    settings = choice.settings
    if reader:
        settings = settings.model_copy(update={"reader": True})
    if migrate_first:
        _migrate(choice.url)
        # Files that failed are listed by the ingest; serve what did go in.
        _ingest_folders(choice, drafts=True, busy_ok=True)
    try:
        open_current(choice.url).dispose()
    except DatabaseNotReady as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    watching = _watching(settings) if watch else contextlib.nullcontext()
    with watching:
        if reload:
            # The reloader imports the app in a new process, which reads settings from the
            # environment: pass the command line's choices on that way.
            os.environ["LEARNLOG_DATABASE_URL"] = settings.database_url
            os.environ["LEARNLOG_READER"] = "true" if settings.reader else "false"
            uvicorn.run(
                "app.main:create_app",
                factory=True,
                host=host,
                port=port,
                reload=True,
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
                access_log=access_log,
                loop=SERVER_LOOP,
                http=OneWriteProtocol,
            )
        else:
            uvicorn.run(
                create_app(settings),
                host=host,
                port=port,
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
                access_log=access_log,
                loop=SERVER_LOOP,
                http=OneWriteProtocol,
            )


# How long an idle connection stays open. Longer than a client keeps one for reuse (5 s
# for httpx and requests, 60 s behind nginx or a cloud load balancer): at uvicorn's own
# 5 s, the server closed connections just as clients sent their next request on them, and
# those requests failed with no answer (a read error on the client, nothing in our log).
KEEP_ALIVE_SECONDS = 75
# asyncio's own event loop, even where uvloop is installed: under a full core, uvloop left
# some connections unanswered for 1.4-1.7 s (wrk's p99 on uncached /entries pages, while
# every request took under 25 ms in the app) where asyncio's p99 stayed under 200 ms at
# the same throughput. The HTTP parser is httptools (a dependency; uvicorn picks it).
SERVER_LOOP = "asyncio"


def _migrate(url: str) -> None:
    """Apply migrations; exit 2 with the database's own reason when it cannot be reached."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from app.db import SCHEMA_HEAD, make_engine, schema_revision
    from app.db import migrate as run_migrations
    from app.ingest.lock import IngestBusy, ingest_lock

    engine = make_engine(url)
    deadline = time.monotonic() + _MIGRATION_WAIT_SECONDS
    try:
        while True:
            try:
                if schema_revision(engine) != SCHEMA_HEAD:
                    # Under the ingest lock: a second first run waits, then finds nothing.
                    with ingest_lock(engine, wait=_MIGRATION_WAIT_SECONDS):
                        run_migrations(url)
                break
            except OperationalError as error:
                # SQLite answers "locked" at once, without waiting, where waiting could
                # deadlock (a read snapshot that must become a write): try again.
                if "database is locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(_LOCKED_RETRY_SECONDS)
    except IngestBusy as busy:
        console.print(f"[red]error:[/red] cannot migrate: {busy}; try again when it has finished")
        raise typer.Exit(2) from None
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        hint = ""
        if "does not exist" in reason and url.startswith("postgres"):
            hint = " (create it first: createdb, or CREATE DATABASE in psql)"
        console.print(f"[red]error:[/red] cannot migrate the database: {reason}{hint}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


# A migration waits this long for an ingest holding the database to finish.
_MIGRATION_WAIT_SECONDS = 600
_LOCKED_RETRY_SECONDS = 0.2


@contextlib.contextmanager
def _watching(settings: Settings) -> "Iterator[None]":
    """Re-ingest on every change while the block runs; stop cleanly when it ends."""
    from app.watch import ContentWatcher

    # Uvicorn shuts down gracefully on SIGTERM and then raises the signal again; exiting
    # through Python (not the default handler) lets the watcher finish a run in progress.
    signal.signal(signal.SIGTERM, _exit_quietly)
    with contextlib.ExitStack() as watchers:
        for folder in settings.folders():  # one watcher per folder; the ingest lock queues them
            console.print(f"watching {folder} for changes", highlight=False)
            watchers.enter_context(
                ContentWatcher(
                    settings, on_run=_print_rerun, on_trouble=_print_trouble, root=folder
                )
            )
        yield


def _exit_quietly(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM after a graceful shutdown: leave with status 0, running `finally` blocks."""
    raise SystemExit(0)


def _print_rerun(summary: "RunSummary") -> None:
    """One line per run of the watcher, then each file that failed."""
    console.print(
        f"re-ingested: {summary.added} added, {summary.updated} updated, "
        f"{summary.deleted} deleted, {summary.failed} failed; "
        f"content version {summary.content_version} ({summary.seconds:.2f} s)",
        highlight=False,
    )
    _print_failures(summary)


def _print_trouble(message: str) -> None:
    """Something the watcher could not do; it keeps watching."""
    console.print(f"[yellow]watch:[/yellow] {message}", highlight=False)


class ExportFormat(StrEnum):
    """What `learnlog export` writes."""

    ndjson = "ndjson"
    sqlite = "sqlite"


@cli.command()
def export(
    export_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="ndjson: one JSON object a line; sqlite: a copy of the database file.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="File to write (replaced when it exists); - writes ndjson to standard output.",
            show_default=False,
        ),
    ],
    database_url: DatabaseOption = None,
    drafts: Annotated[
        bool,
        typer.Option(
            "--drafts/--no-drafts",
            help="Put draft posts, their entries and links in the ndjson too "
            "(a sqlite copy always holds everything).",
        ),
    ] = False,
) -> None:
    """Export the content for static hosting, from one snapshot of the database.

    ndjson: one JSON object a line, its fields named as in the API. First the
    header {"type": "export", "schema": 1, "content_version", "generated_at",
    "include_drafts"}; then "post" lines (a /posts item plus front_matter and
    html), "entry" lines (an /entries item) and "link" lines (a /links item;
    entry_id is null for a link in a heading), each line with its "type".

    sqlite: the whole database as one SQLite file (VACUUM INTO from SQLite,
    a table-by-table copy from PostgreSQL), ready for `learnlog serve`.

    Example: learnlog export --format ndjson --output site/learnlog.ndjson
    """
    from app.export import ExportError, replacing, source_engine, write_ndjson, write_sqlite

    settings = choose_database(database_url, None, folders_needed=False).settings
    to_stdout = str(output) == "-"
    if to_stdout and export_format is ExportFormat.sqlite:
        console.print("[red]error:[/red] --format sqlite needs a file to write, not -")
        raise typer.Exit(2)
    try:
        engine = source_engine(settings.database_url)
    except ExportError as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    try:
        if export_format is ExportFormat.sqlite:
            version = write_sqlite(engine, output)
            size = output.stat().st_size / 1_000_000
            console.print(
                f"wrote {output} ({size:.1f} MB) at content version {version}", highlight=False
            )
            return
        template = settings.edit_url_template
        if to_stdout:
            out = sys.stdout.buffer
            counts = write_ndjson(engine, out, include_drafts=drafts, edit_url_template=template)
            out.flush()
        else:
            with replacing(output) as partial, partial.open("wb", buffering=1 << 20) as file:
                counts = write_ndjson(
                    engine, file, include_drafts=drafts, edit_url_template=template
                )
    finally:
        engine.dispose()
    console.print(
        f"exported {counts.posts} posts, {counts.entries} entries and {counts.links} links "
        f"at content version {counts.content_version}" + ("" if to_stdout else f" to {output}"),
        highlight=False,
    )


@cli.command()
def migrate(folder: FolderArgument = None, database_url: DatabaseOption = None) -> None:
    """Apply database migrations up to the latest revision.

    Example: learnlog migrate --database-url postgresql://postgres@127.0.0.1/learnlog
    """
    choice = choose_database(database_url, folder, folders_needed=False)
    _migrate(choice.url)
    console.print("database is at the latest revision")


@cli.command()
def openapi(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="A content folder: its learnlog.toml's declared fields type `data` and "
            "add their filters.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write (replaced when it exists); standard output without it.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the API's OpenAPI document as JSON, without a server or a database.

    The same document as /openapi.json serves, for generating clients at build time;
    with FOLDER, `data` is typed from the fields its learnlog.toml declares.
    Example: learnlog openapi content --output openapi.json
    """
    import json

    from app.fields.openapi import typed_document
    from app.folders.config import FolderConfigError, load_config
    from app.main import create_app

    spec = create_app(command_settings(None)).openapi()
    if folder is not None:
        try:
            schema = load_config(folder).schema
        except FolderConfigError as error:
            console.print(f"[red]error:[/red] {error}", highlight=False)
            raise typer.Exit(2) from None
        spec = typed_document(spec, schema)
    document = json.dumps(spec, indent=2, ensure_ascii=False)
    if output is None:
        sys.stdout.write(document + "\n")
        return
    try:
        output.write_text(document + "\n", encoding="utf-8")
    except OSError as error:
        console.print(f"[red]error:[/red] cannot write {output}: {error.strerror}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"wrote {output}", highlight=False)


# `learnlog links check` and `learnlog links report` (app/linkcheck/cli.py).
cli.add_typer(links_cli, name="links")


class CheckFormat(StrEnum):
    """How `learnlog check` reports."""

    text = "text"
    json = "json"


@cli.command()
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Folders and Markdown files to check (default: the configured content "
            "folders). A file is checked as part of the configured folder holding it, "
            "else of the folder it sits in.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text: one line per finding; json: for tools.")
    ] = CheckFormat.text,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 on warnings too, not only on errors.")
    ] = False,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            help="Leave out the findings of a rule (repeatable): ingest, slug-collision, "
            "file-date, duplicate-url, uncovered-heading, no-link, unresolved-link.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Lint Markdown logs without a database: what ingest would fail or warn about, and more.

    Files are read by the ingest's own discovery and parser. Errors (exit 1): anything
    that makes ingest fail a file: front matter that does not parse or is no mapping,
    unterminated front matter, bytes that are not UTF-8, files over LEARNLOG_MAX_FILE_BYTES,
    symbolic links leading out of the folder, an unreadable aliases file. Warnings (exit 0
    unless --strict): every warning ingest records (undated posts, invalid dates, file
    name and front matter dates that disagree, slug collisions, folded deep lists,
    duplicate front matter keys ...), file names with impossible dates, an address linked
    from two entries of one post, list entries with no link (entries starting with a
    marker such as [Thought] never count, nor items under or above a linked one), and,
    when an aliases file applies (domains.yml in the folder, or LEARNLOG_ALIASES_FILE),
    headings that are neither a domain of that file nor one of its spellings.

    One line per finding, `path:line: error|warning: message [rule]`, then a summary.
    Exit status: 0 clean or warnings only, 1 on any error (or warning with --strict),
    2 when a path does not exist.

    Example: learnlog check content/ --ignore no-link
    """
    from app.lint import LintUsageError, lint

    settings = command_settings(None)
    try:
        report = lint(paths or [], settings, ignore=ignore or ())
    except LintUsageError as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    if output_format is CheckFormat.json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        for finding in report.findings:
            sys.stdout.write(f"{finding}\n")
        sys.stdout.write(report.summary() + "\n")
    if report.errors or (strict and report.warnings):
        raise typer.Exit(1)


@cli.command()
def new(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Content folder (default: LEARNLOG_CONTENT_DIR or ./content).",
            show_default=False,
        ),
    ] = None,
    day: Annotated[
        dt.datetime | None,
        typer.Option(
            "--date",
            formats=["%Y-%m-%d"],
            help="The post's date (default: today).",
            show_default=False,
        ),
    ] = None,
    title: Annotated[
        str | None,
        typer.Option(
            "--title",
            help='Post title (default: "Learning Logs: <date>"); it names the file too '
            "when the folder's file names carry words after the date.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a new log from a template, named like the folder's posts; print its path.

    The name follows the newest dated post (its subfolder, date spelling, words and
    extension), e.g. content/2024-06-02-learning-logs.md. The template is
    .learnlog/template.md in the content folder when it exists (ingest skips hidden
    folders), else a built-in weekly log with title, date, category, tags and `##`
    domain headings. Placeholders: $date (YYYY-MM-DD), $title, $title_yaml (quoted for
    front matter), $slug. An existing file is never overwritten (exit 1).

    Example: learnlog new --dir content --title "Retrieval notes"
    """
    from app.new_post import NewPostError, write_new_post

    root = directory if directory is not None else command_settings(None).folders()[0]
    if not root.is_dir():
        console.print(f"[red]error:[/red] {root} is not a folder", highlight=False)
        raise typer.Exit(2)
    try:
        path = write_new_post(root, day=day.date() if day else dt.date.today(), title=title)
    except NewPostError as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(1) from None
    sys.stdout.write(f"{path}\n")


@cli.command()
def stats(
    database_url: DatabaseOption = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Rows per table (the rest are counted).")
    ] = 20,
    drafts: Annotated[bool, typer.Option("--drafts", help="Count draft posts too.")] = False,
) -> None:
    """Show what the database holds: the domain tree, tags and link hosts, with counts.

    Domains nest as on /domains, with entry counts (sub-domains included) and first and
    last dates; tags count entries, hosts count links. The figures are the API's.

    Example: learnlog stats --limit 10
    """
    from app.stats import StatsError, collect, open_database, render

    settings = choose_database(database_url, None, folders_needed=False).settings
    try:
        engine = open_database(settings.database_url)
    except StatsError as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    try:
        figures = collect(engine, include_drafts=drafts)
    finally:
        engine.dispose()
    out = Console(soft_wrap=True)
    if figures.empty:
        out.print("the database holds no entries yet: run `learnlog ingest` first")
        return
    out.print(render(figures, limit=limit))


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
