"""What a database holds, as tables for a terminal: domains, tags and link hosts.

Every figure comes from the same query functions the API's /domains, /tags and /hosts
answer from, so the tables and the API never disagree: the domains are the ones /domains
lists without parameters (headings found in one post only are left out of a log of more
than 20 posts, unless the aliases file names them), in the same order.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine

from app.db import DatabaseNotReady, open_current
from app.queries.changes import current_version
from app.queries.entries import EntryFilters
from app.queries.taxonomy import domain_tree, host_counts, tag_counts


class StatsError(Exception):
    """The database cannot be read: missing, not a learnlog database, or unreachable."""


@dataclass(slots=True)
class Stats:
    """The figures `learnlog stats` shows."""

    content_version: int
    domains: list[dict[str, Any]]
    tags: list[tuple[str, int]]
    hosts: list[tuple[str, int]]

    @property
    def empty(self) -> bool:
        """True when no entry is stored (nothing ingested yet, or everything removed)."""
        return not self.domains and not self.tags and not self.hosts


def open_database(url: str) -> Engine:
    """An engine on an existing, current learnlog database; raise StatsError otherwise."""
    try:
        return open_current(url)
    except DatabaseNotReady as error:
        raise StatsError(str(error)) from None


def collect(engine: Engine, *, include_drafts: bool) -> Stats:
    """Read the domain tree, tag counts and host counts in one transaction."""
    filters = EntryFilters(include_drafts=include_drafts)
    with engine.connect() as conn, conn.begin():
        return Stats(
            content_version=current_version(conn),
            domains=domain_tree(conn, include_drafts=include_drafts),
            tags=tag_counts(conn, filters=filters),
            hosts=host_counts(conn, filters=filters),
        )


def render(stats: Stats, *, limit: int) -> RenderableType:
    """The three tables, each cut at `limit` rows with a note of how many more there are."""
    return Group(
        _domain_table(stats.domains, limit),
        _count_table("Tags", "tag", "entries", stats.tags, limit),
        _count_table("Hosts", "host", "links", stats.hosts, limit),
    )


def _domain_table(tree: list[dict[str, Any]], limit: int) -> Table:
    """Domains as an indented tree, in the API's order: most posts first at each level."""
    rows = list(_flatten(tree, 0))
    table = Table(title="Domains", title_justify="left")
    table.add_column("domain")
    table.add_column("entries", justify="right")
    table.add_column("first", justify="right")
    table.add_column("last", justify="right")
    table.add_column("posts", justify="right")
    for depth, node in rows[:limit]:
        table.add_row(
            Text("  " * depth + node["slug"]),
            str(node["entry_count"]),
            _day(node["first_date"]),
            _day(node["last_date"]),
            str(node["post_count"]),
        )
    _more(table, len(rows) - limit)
    return table


def _flatten(nodes: list[dict[str, Any]], depth: int) -> Any:
    """(depth, node) pairs of a domain tree, parents before children, in the tree's order."""
    for node in nodes:
        yield depth, node
        yield from _flatten(node["children"], depth + 1)


def _count_table(
    title: str, name: str, unit: str, counts: list[tuple[str, int]], limit: int
) -> Table:
    """A two-column table of names and counts, most used first."""
    table = Table(title=title, title_justify="left")
    table.add_column(name)
    table.add_column(unit, justify="right")
    for value, count in counts[:limit]:
        table.add_row(Text(value), str(count))
    _more(table, len(counts) - limit)
    return table


def _more(table: Table, hidden: int) -> None:
    """A last row saying how many rows `--limit` left out."""
    if hidden > 0:
        table.add_row(Text(f"… {hidden} more", style="dim"), *[""] * (len(table.columns) - 1))


def _day(value: object) -> str:
    """A date column as YYYY-MM-DD ('' when undated)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value)[:10] if value else ""
