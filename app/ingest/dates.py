"""Post dates: from front matter values in any usual spelling, or from the file name.

The calendar date is always the one the author wrote, in the author's own zone; the
timestamp is that moment in UTC (a time without a zone is taken as UTC).
"""

import datetime as dt
import re
from dataclasses import dataclass

from dateutil import parser as dateutil_parser
from dateutil import tz

# Zone abbreviations that appear in real front matter; dateutil cannot guess these.
_TZINFOS = {
    "UTC": tz.UTC,
    "GMT": tz.UTC,
    "Z": tz.UTC,
    "EST": tz.tzoffset("EST", -5 * 3600),
    "EDT": tz.tzoffset("EDT", -4 * 3600),
    "CST": tz.tzoffset("CST", -6 * 3600),
    "CDT": tz.tzoffset("CDT", -5 * 3600),
    "MST": tz.tzoffset("MST", -7 * 3600),
    "MDT": tz.tzoffset("MDT", -6 * 3600),
    "PST": tz.tzoffset("PST", -8 * 3600),
    "PDT": tz.tzoffset("PDT", -7 * 3600),
    "CET": tz.tzoffset("CET", 3600),
    "CEST": tz.tzoffset("CEST", 2 * 3600),
    "BST": tz.tzoffset("BST", 3600),
    "IST": tz.tzoffset("IST", 5 * 3600 + 1800),
}
_DEFAULT = dt.datetime(2000, 1, 1)
_NAME_DATE = re.compile(r"(\d{4}|\d{2})[-_](\d{1,2})[-_](\d{1,2})(?=$|[-_ .])")


@dataclass(frozen=True, slots=True)
class PostDate:
    """A calendar date as written and the moment it names, in UTC."""

    day: dt.date
    moment: dt.datetime


def parse_date_value(value: object) -> PostDate:
    """Read a front matter date value; raise ValueError when it names no real date."""
    if isinstance(value, dt.datetime):
        return _from_datetime(value)
    if isinstance(value, dt.date):
        return _from_datetime(dt.datetime.combine(value, dt.time()))
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f"not a date: {value!r}")
    text = str(value).strip()
    if not text:
        raise ValueError("empty date")
    try:
        return _from_datetime(dt.datetime.fromisoformat(text))
    except ValueError:
        pass
    try:
        parsed = dateutil_parser.parse(text, default=_DEFAULT, tzinfos=_TZINFOS)
    except (ValueError, OverflowError, dateutil_parser.ParserError) as exc:
        raise ValueError(f"not a date: {text!r}") from exc
    return _from_datetime(parsed)


def _from_datetime(moment: dt.datetime) -> PostDate:
    """Keep the local calendar date; convert the instant to UTC."""
    if moment.tzinfo is None:
        return PostDate(moment.date(), moment.replace(tzinfo=dt.UTC))
    return PostDate(moment.date(), moment.astimezone(dt.UTC))


def date_from_filename(stem: str) -> dt.date | None:
    """The date a Jekyll-style name starts with: `2015-6-4-x`, `23-12-24-x`, `2021_01_05`."""
    found = _NAME_DATE.match(stem)
    if not found:
        return None
    year, month, day = (int(part) for part in found.groups())
    if len(found.group(1)) == 2:
        year += 2000
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def filename_date_prefix_length(stem: str) -> int:
    """How many leading characters of `stem` are its date prefix (0 when there is none)."""
    found = _NAME_DATE.match(stem)
    return found.end() if found and date_from_filename(stem) else 0
