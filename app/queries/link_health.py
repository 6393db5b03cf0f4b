"""Read-side SQL for link health: each link's latest check, the status filter, per-host counts."""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, distinct, false, func, or_, select

from app.models import ENTRIES, LINK_CHECKS, LINKS
from app.queries.entries import EntryFilters, domain_aliases, entry_conditions
from app.vocabulary import LinkOutcome, LinkStatus

# The check members of a /links item, selected under prefixed names and nested by `nest_check`.
_CHECK_FIELDS = ("outcome", "http_status", "final_url", "checked_at", "error")


def check_columns() -> list[ColumnElement[Any]]:
    """The columns of a link's latest check (all null when it has none)."""
    return [LINK_CHECKS.c[name].label(f"check_{name}") for name in _CHECK_FIELDS]


def check_joined() -> ColumnElement[bool]:
    """The ON clause joining a link to the check of its address."""
    return LINK_CHECKS.c.url_key == LINKS.c.url_key


def status_condition(statuses: Sequence[LinkStatus]) -> ColumnElement[bool]:
    """Links whose address has any of these outcomes (or no result, for `unchecked`).

    Reads the columns of `link_checks` outer-joined on `check_joined()`.
    """
    outcomes = [status.value for status in statuses if status is not LinkStatus.unchecked]
    parts: list[ColumnElement[bool]] = []
    if outcomes:
        parts.append(LINK_CHECKS.c.outcome.in_(outcomes))
    if LinkStatus.unchecked in statuses:
        parts.append(LINK_CHECKS.c.url_key.is_(None))
    return or_(false(), *parts)


def nest_check(row: dict[str, Any]) -> None:
    """Move a row's `check_*` members into `row["check"]` (None when never checked)."""
    check = {name: row.pop(f"check_{name}") for name in _CHECK_FIELDS}
    row["check"] = check if check["outcome"] is not None else None


def host_health(conn: Connection, *, filters: EntryFilters) -> list[dict[str, Any]]:
    """Per host: links over entries matching `filters`, and how their addresses answered.

    Hosts with the most broken links come first, then the most linked. Host and kind
    select the links themselves, as on /links.
    """
    link, check = LINKS.c, LINK_CHECKS.c
    where = entry_conditions(replace(filters, host=(), link_kind=()), domain_aliases(conn))
    if filters.host:
        where.append(link.host.in_(filters.host))
    if filters.link_kind:
        where.append(link.kind.in_(filters.link_kind))
    links = func.count().label("links")
    per_outcome = {
        outcome.value: func.count(case((check.outcome == outcome.value, 1))).label(outcome.value)
        for outcome in LinkOutcome
    }
    query = (
        select(
            link.host,
            links,
            func.count(distinct(link.url_key)).label("urls"),
            func.count(check.url_key).label("checked"),
            *per_outcome.values(),
            func.max(check.checked_at).label("last_checked_at"),
        )
        .select_from(
            LINKS.join(ENTRIES, ENTRIES.c.id == link.entry_id).outerjoin(
                LINK_CHECKS, check_joined()
            )
        )
        .where(link.host.is_not(None), *where)
        .group_by(link.host)
        .order_by(per_outcome[LinkOutcome.broken.value].desc(), links.desc(), link.host)
    )
    return [dict(row._mapping) for row in conn.execute(query)]
