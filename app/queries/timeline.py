"""Read-side SQL for the timeline: matching entries and their links per period."""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, distinct, func, select

from app.models import ENTRIES, LINKS
from app.queries.entries import EntryFilters, domain_aliases, entry_conditions
from app.vocabulary import Interval


@dataclass(frozen=True, slots=True)
class Bucket:
    """One period with at least one matching entry."""

    period_start: dt.date
    entries: int
    links: int


def period_start(day: dt.date, interval: Interval) -> dt.date:
    """First day of the period holding `day`; weeks are ISO weeks, starting on Monday."""
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "year":
        return day.replace(month=1, day=1)
    return day


def timeline(conn: Connection, *, filters: EntryFilters, interval: Interval) -> list[Bucket]:
    """Dated entries matching `filters` and their links, per period, oldest first.

    SQL groups by calendar day (a few thousand days at most) and Python folds days into
    weeks, months or years: date arithmetic differs between SQLite and PostgreSQL.
    """
    where = entry_conditions(filters, domain_aliases(conn))
    matching = (
        select(ENTRIES.c.id, ENTRIES.c.date)
        .where(ENTRIES.c.date.is_not(None), *where)
        .subquery("matching")
    )
    # The outer join repeats an entry once per link, hence the distinct count of entries;
    # counting the link's entry_id lets the (entry_id, host, kind) index answer alone.
    per_day = (
        select(matching.c.date, func.count(distinct(matching.c.id)), func.count(LINKS.c.entry_id))
        .select_from(matching.outerjoin(LINKS, LINKS.c.entry_id == matching.c.id))
        .group_by(matching.c.date)
        .order_by(matching.c.date)
    )
    periods: dict[dt.date, list[int]] = {}
    for day, entries, links in conn.execute(per_day):
        # Days arrive in order, so periods are created in chronological order too.
        totals = periods.setdefault(period_start(day, interval), [0, 0])
        totals[0] += entries
        totals[1] += links
    return [Bucket(start, entries, links) for start, (entries, links) in periods.items()]
