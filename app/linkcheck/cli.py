"""`learnlog links`: check the addresses the logs cite, and report their health per host."""

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.cli_options import DatabaseOption, choose_database
from app.settings import Settings
from app.vocabulary import LinkOutcome

if TYPE_CHECKING:
    from sqlalchemy import Engine

links_cli = typer.Typer(
    help="Link health: probe every address the logs cite, and report per host.",
    no_args_is_help=True,
)
console = Console(stderr=True, soft_wrap=True)

_OUTCOME_STYLE = {
    LinkOutcome.ok: "green",
    LinkOutcome.redirected: "cyan",
    LinkOutcome.broken: "red",
    LinkOutcome.error: "magenta",
    LinkOutcome.timeout: "yellow",
    LinkOutcome.unreachable: "yellow",
}

HostOption = Annotated[
    list[str] | None,
    typer.Option(
        "--host",
        help="Only links to this host (no `www.`); repeat for several.",
        show_default=False,
    ),
]


def _engine(settings: Settings) -> "Engine":
    """The database, migrated when brand new; exit 2 when its schema is behind."""
    from app.db import SchemaBehindError, ensure_schema, make_engine

    engine = make_engine(settings.database_url)
    try:
        ensure_schema(engine)
    except SchemaBehindError as exc:
        engine.dispose()
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    return engine


@links_cli.command()
def check(
    database_url: DatabaseOption = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=1024,
            help="Requests in flight at most [default: LEARNLOG_LINK_CHECK_CONCURRENCY or 16].",
            show_default=False,
        ),
    ] = None,
    per_host: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Requests in flight to one host [default: LEARNLOG_LINK_CHECK_PER_HOST or 2].",
            show_default=False,
        ),
    ] = None,
    per_host_delay: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=3600,
            help="Seconds between the starts of two requests to one host "
            "[default: LEARNLOG_LINK_CHECK_PER_HOST_DELAY or 0.5].",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            max=600,
            help="Seconds to connect, and to wait for an answer "
            "[default: LEARNLOG_LINK_CHECK_TIMEOUT or 5].",
            show_default=False,
        ),
    ] = None,
    max_age: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Hours a result stays fresh: addresses checked more recently are skipped "
            "[default: LEARNLOG_LINK_CHECK_MAX_AGE or 24].",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Probe fresh addresses too (ignore --max-age).")
    ] = False,
    host: HostOption = None,
) -> None:
    """Probe every distinct http(s) address in the links and store what it answered.

    HEAD first (GET when the server refuses HEAD), redirects followed; each address is
    classed ok, redirected, broken (4xx), error (5xx), timeout or unreachable. The API
    serves the results on /links (`check`, `status=`) and /hosts/health.

    Example: learnlog links check --host arxiv.org --timeout 10
    """
    from app.linkcheck.probe import ProbeOptions
    from app.linkcheck.run import run_check
    from app.linkcheck.store import host_filter

    settings = choose_database(database_url, None, folders_needed=False).settings
    options = ProbeOptions(
        concurrency=concurrency or settings.link_check_concurrency,
        per_host=per_host or settings.link_check_per_host,
        per_host_delay=per_host_delay
        if per_host_delay is not None
        else (settings.link_check_per_host_delay),
        timeout=timeout or settings.link_check_timeout,
    )
    hours = max_age if max_age is not None else settings.link_check_max_age
    engine = _engine(settings)
    progress = Progress(
        TextColumn("[bold]links"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    try:
        with progress:
            task = progress.add_task("addresses", total=None)
            summary = run_check(
                engine,
                options=options,
                hosts=host_filter(host or []),
                max_age=dt.timedelta(hours=hours),
                force=force,
                on_start=lambda total: progress.update(task, total=total),
                on_result=lambda _result: progress.advance(task),
            )
    finally:
        engine.dispose()

    table = Table(title="link check", title_justify="left")
    table.add_column("outcome")
    table.add_column("addresses", justify="right")
    for outcome in LinkOutcome:
        style = _OUTCOME_STYLE[outcome]
        table.add_row(f"[{style}]{outcome.value}[/{style}]", str(summary.outcomes[outcome]))
    console.print(table)
    console.print(
        f"probed {summary.probed} of {summary.addresses} addresses "
        f"({summary.fresh} checked within {hours:g} h skipped) in {summary.seconds:.2f} s"
        + (f", {summary.rate:.1f}/s" if summary.probed else ""),
        highlight=False,
    )


@links_cli.command()
def report(database_url: DatabaseOption = None, host: HostOption = None) -> None:
    """Per host: links, how many were checked, and how their addresses answered.

    Counts links (drafts included), so an address cited twice counts twice; hosts with
    the most broken links come first.

    Example: learnlog links report --database-url sqlite:///learnlog.db
    """
    from app.linkcheck.store import host_filter
    from app.queries.entries import EntryFilters
    from app.queries.link_health import host_health

    engine = _engine(choose_database(database_url, None, folders_needed=False).settings)
    try:
        with engine.connect() as conn:
            filters = EntryFilters(host=tuple(host_filter(host or [])), include_drafts=True)
            rows = host_health(conn, filters=filters)
    finally:
        engine.dispose()
    # No vertical rules: nine columns fit an 80-column terminal.
    table = Table(
        title="link health per host",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 1),
        pad_edge=False,
        collapse_padding=True,
    )
    # Numbers keep their headers whole on a narrow terminal; long host names fold.
    widest = max((len(row["host"]) for row in rows), default=4)
    table.add_column("host", overflow="fold", min_width=min(widest, 20))
    for name in ("links", "checked", *(outcome.value for outcome in LinkOutcome)):
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for row in rows:
        table.add_row(
            row["host"],
            str(row["links"]),
            str(row["checked"]),
            *(str(row[outcome.value]) for outcome in LinkOutcome),
        )
    console.print(table)
    if not rows:
        console.print("no http(s) links stored" + (" for these hosts" if host else ""))
