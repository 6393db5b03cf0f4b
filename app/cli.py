"""The `learnlog` command: thin wrappers over the ingest pipeline, the API and migrations."""

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.settings import Settings

if TYPE_CHECKING:
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
    Exit status: 0 when every file was ingested, 1 when any failed (warnings do not count).
    """
    from app.db import SchemaBehindError, ensure_schema, make_engine
    from app.ingest.pipeline import run_ingest

    settings = _settings(database_url)
    root = directory if directory is not None else settings.content_dir
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
    with progress:
        task = progress.add_task("files", total=None)
        summary = run_ingest(
            engine,
            root,
            max_file_bytes=settings.max_file_bytes,
            aliases_file=settings.resolved_aliases_file(root),
            workers=settings.ingest_workers,
            include_drafts=drafts,
            on_start=lambda total: progress.update(task, total=total),
            on_file=lambda _path, _outcome: progress.advance(task),
        )
    engine.dispose()
    _print_summary(summary)
    if summary.failed:
        raise typer.Exit(1)


def _print_summary(summary: "RunSummary") -> None:
    """The table at the end of an ingest, then every failure and warning with its place."""
    table = Table(title=f"ingest run {summary.run_id}: {summary.root}", title_justify="left")
    counts = summary.counts()
    for column in counts:
        table.add_column(column.replace("_", " "), justify="right")
    table.add_row(*(str(value) for value in counts.values()))
    console.print(table)
    for problem in summary.failures:
        where = f"{problem.path}:{problem.line}" if problem.line else problem.path
        console.print(f"[red]failed[/red]  {where}: {problem.reason}", highlight=False)
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
) -> None:
    """Serve the JSON API (and its docs at /docs); a new, empty database is filled first.

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
    if migrate_first:
        run_migrations(settings.database_url)
        engine = make_engine(settings.database_url)
        with engine.connect() as conn:
            empty = conn.execute(select(func.count()).select_from(POSTS)).scalar_one() == 0
        engine.dispose()
        if empty and settings.content_dir.is_dir():
            console.print(f"empty database: ingesting {settings.content_dir} first")
            # Files that failed are listed by the ingest; serve what did go in.
            with contextlib.suppress(typer.Exit):
                ingest(settings.content_dir, settings.database_url, drafts=True)
    if reload:
        # The reloader imports the app in a new process, which reads settings from the
        # environment: pass the command-line database URL on that way.
        os.environ["LEARNLOG_DATABASE_URL"] = settings.database_url
        uvicorn.run("app.main:create_app", factory=True, host=host, port=port, reload=True)
    else:
        uvicorn.run(create_app(settings), host=host, port=port)


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
