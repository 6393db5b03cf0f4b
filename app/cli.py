"""The `learnlog` command: thin wrappers over the ingest pipeline, the API and migrations."""

import contextlib
import functools
import signal
import sys
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from app.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from app.ingest.pipeline import RunSummary

cli = typer.Typer(
    help="learnlog: a headless content API for Markdown learning logs.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True, soft_wrap=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL (default: LEARNLOG_DATABASE_URL or sqlite:///learnlog.db).",
        show_default=False,
    ),
]


def _settings(database_url: str | None) -> Settings:
    """Settings from the environment, with command-line overrides applied."""
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


@cli.command()
def ingest(
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of Markdown logs (default: LEARNLOG_CONTENT_DIR or ./content)."
        ),
    ] = None,
    database_url: DatabaseOption = None,
    drafts: Annotated[
        bool,
        typer.Option(
            "--drafts/--no-drafts",
            help="Store draft posts (served only with include_drafts=true); "
            "--no-drafts leaves them out of the database.",
        ),
    ] = True,
) -> None:
    """Load a folder of Markdown logs into the database; only changed files are parsed.

    Example: learnlog ingest content/ --database-url sqlite:///learnlog.db
    Exit status: 0 when every file was ingested, 1 when any failed (warnings do not count),
    2 when the run could not start (another ingest holding the database among the reasons).
    """
    from app.db import SchemaBehindError, ensure_schema, make_engine
    from app.ingest.lock import IngestBusy
    from app.ingest.pipeline import run_ingest

    settings = _settings(database_url)
    roots = [directory] if directory is not None else settings.folders()
    for root in roots:
        if not root.is_dir():
            console.print(f"[red]error:[/red] {root} is not a folder")
            raise typer.Exit(2)
    engine = make_engine(settings.database_url)
    try:
        ensure_schema(engine)
    except SchemaBehindError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None

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
        for root in roots:  # one run per folder
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
                )
            _print_summary(summary)
            failed = failed or bool(summary.failed)
    except IngestBusy as busy:
        console.print(f"[red]error:[/red] {busy}; try again when it has finished")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if failed:
        raise typer.Exit(1)


def _set_total(progress: Progress, task: TaskID, total: int) -> None:
    progress.update(task, total=total)


def _advance(progress: Progress, task: TaskID, _path: str, _outcome: object) -> None:
    progress.advance(task)


def _print_failures(summary: "RunSummary") -> None:
    """Every file that failed, with the place and the reason."""
    for problem in summary.failures:
        where = f"{problem.path}:{problem.line}" if problem.line else problem.path
        console.print(f"[red]failed[/red]  {where}: {problem.reason}", highlight=False)


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
        console.print(f"[yellow]warning[/yellow] {where}: {problem.reason}", highlight=False)
    console.print(
        f"content version {summary.content_version}, {summary.seconds:.2f} s", highlight=False
    )


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[
        bool, typer.Option(help="Restart when the code changes (development).")
    ] = False,
    migrate_first: Annotated[
        bool,
        typer.Option(
            "--migrate/--no-migrate",
            help="Apply migrations before serving (turn off when `learnlog migrate` ran already).",
        ),
    ] = True,
    database_url: DatabaseOption = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Re-ingest the content folder (LEARNLOG_CONTENT_DIR) whenever a Markdown "
            "file in it, or the aliases file, is saved, added or removed.",
        ),
    ] = False,
) -> None:
    """Serve the JSON API (and its docs at /docs); a new, empty database is filled first.

    With --watch, saved posts reach the API within a second or two.

    Example: learnlog serve --port 8000, then open http://127.0.0.1:8000/docs
    """
    import os

    import uvicorn
    from sqlalchemy import func, select

    from app.db import make_engine
    from app.db import migrate as run_migrations
    from app.main import create_app
    from app.models import POSTS

    settings = _settings(database_url)
    folders = [folder for folder in settings.folders() if folder.is_dir()]
    if watch and len(folders) < len(settings.folders()):
        missing = ", ".join(str(f) for f in settings.folders() if f not in folders)
        console.print(f"[red]error:[/red] not a folder to watch: {missing}")
        raise typer.Exit(2)
    if migrate_first:
        run_migrations(settings.database_url)
        engine = make_engine(settings.database_url)
        with engine.connect() as conn:
            empty = conn.execute(select(func.count()).select_from(POSTS)).scalar_one() == 0
        engine.dispose()
        if empty and folders:
            console.print(f"empty database: ingesting {', '.join(map(str, folders))} first")
            for folder in folders:
                # Files that failed are listed by the ingest; serve what did go in.
                with contextlib.suppress(typer.Exit):
                    ingest(folder, settings.database_url, drafts=True)
    watching = _watching(settings) if watch else contextlib.nullcontext()
    with watching:
        if reload:
            # The reloader imports the app in a new process, which reads settings from the
            # environment: pass the command-line database URL on that way.
            os.environ["LEARNLOG_DATABASE_URL"] = settings.database_url
            uvicorn.run("app.main:create_app", factory=True, host=host, port=port, reload=True)
        else:
            uvicorn.run(create_app(settings), host=host, port=port)


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

    settings = _settings(database_url)
    to_stdout = str(output) == "-"
    if to_stdout and export_format is ExportFormat.sqlite:
        console.print("[red]error:[/red] --format sqlite needs a file to write, not -")
        raise typer.Exit(2)
    try:
        engine = source_engine(settings.database_url)
    except ExportError as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
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
def migrate(database_url: DatabaseOption = None) -> None:
    """Apply database migrations up to the latest revision.

    Example: learnlog migrate --database-url postgresql://postgres@127.0.0.1/learnlog
    """
    from app.db import migrate as run_migrations

    settings = _settings(database_url)
    run_migrations(settings.database_url)
    console.print("database is at the latest revision")


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
