"""Start a new log: fill a template and write it where, and as, the folder's posts are named.

The file name follows the newest dated post in the content folder (outside drafts): its
subfolder (`_posts/`, `journals/` ...), its date spelling (`2024-01-05`, `24-1-5`,
`2024_01_05`), the words after the date and its extension. A folder with no dated posts
gets `YYYY-MM-DD-learning-logs.md`.

The template is `.learnlog/template.md` in the content folder when it exists (a hidden
folder, so ingest never takes the template for a post), else a built-in one modelled on
the weekly learning log. Placeholders, written `$name` or `${name}`: `$date`
(YYYY-MM-DD), `$title`, `$title_yaml` (the title as a quoted YAML string, for front
matter) and `$slug`; anything else, `$` signs included, is left as written.
"""

import datetime as dt
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from string import Template

from app.ingest.dates import date_from_filename, filename_date_prefix_length
from app.ingest.discover import discover, normalise
from app.ingest.identity import slug_of
from app.ingest.parse import DRAFT_FOLDERS, parse_post
from app.ingest.problems import ParseError

TEMPLATE_FILE = Path(".learnlog") / "template.md"

BUILT_IN_TEMPLATE = """\
---
layout: post
title: $title_yaml
date: $date
category: learning
tags: []
excerpt: ""
---

<!-- One bullet per thing worth remembering: * [What it is](https://...) and what you learned.
     Start a bullet with [Thought] for a note of your own. -->

## Machine Learning

### GenAI

## Industry / Business
"""

# A date prefix: year, separator, month, day (the shape dates.py reads).
_PREFIX = re.compile(r"(\d{4}|\d{2})([-_])(\d{1,2})[-_](\d{1,2})")


class NewPostError(Exception):
    """The post cannot be written (it exists, or the template makes an unreadable post)."""


@dataclass(frozen=True, slots=True)
class NameStyle:
    """How the folder names its posts."""

    folder: str  # relative to the content folder, "" for the folder itself
    two_digit_year: bool
    separator: str
    padded: bool
    words: str  # what follows the date in the stem, e.g. "-learning-logs" (may be empty)
    extension: str

    def file_name(self, day: dt.date, title_slug: str | None) -> str:
        """The file name for a post of `day`; a title replaces the usual words, if any."""
        year = f"{day.year % 100:02d}" if self.two_digit_year else f"{day.year:04d}"
        month, mday = f"{day.month}", f"{day.day}"
        if self.padded:
            month, mday = month.zfill(2), mday.zfill(2)
        words = self.words
        if title_slug and words:
            words = words[0] + title_slug if words[0] in "-_ ." else "-" + title_slug
        return f"{year}{self.separator}{month}{self.separator}{mday}{words}{self.extension}"


DEFAULT_STYLE = NameStyle("", False, "-", True, "-learning-logs", ".md")


def name_style(root: Path) -> NameStyle:
    """The naming convention of the newest dated post under `root` (drafts aside)."""
    dated: list[tuple[dt.date, str]] = []
    words: Counter[str] = Counter()
    for source in discover(root)[0]:
        path = PurePosixPath(source.path)
        if DRAFT_FOLDERS & set(path.parts[:-1]):
            continue
        day = date_from_filename(path.stem)
        if day is not None:
            dated.append((day, source.path))
            words[path.stem[filename_date_prefix_length(path.stem) :]] += 1
    if not dated:
        return DEFAULT_STYLE
    newest = PurePosixPath(max(dated)[1])
    found = _PREFIX.match(newest.stem)
    assert found is not None  # date_from_filename matched the same shape
    year, separator, month, mday = found.groups()
    rest = newest.stem[filename_date_prefix_length(newest.stem) :]
    # The usual words win over a one-off name (`-learning-logs` over `-retrieval-notes`).
    usual, count = words.most_common(1)[0]
    return NameStyle(
        folder=str(newest.parent) if str(newest.parent) != "." else "",
        two_digit_year=len(year) == 2,
        separator=separator,
        padded=len(month) == 2 and len(mday) == 2,
        words=usual if count > 1 else rest,
        extension=newest.suffix,
    )


def render_post(template: str, *, day: dt.date, title: str) -> str:
    """Fill the placeholders of `template`."""
    return Template(template).safe_substitute(
        date=day.isoformat(),
        title=title,
        title_yaml=json.dumps(title, ensure_ascii=False),
        slug=slug_of(title),
    )


def write_new_post(root: Path, *, day: dt.date, title: str | None = None) -> Path:
    """Write the post for `day` under `root` and return its path; raise NewPostError."""
    style = name_style(root)
    title_slug = slug_of(title) if title else None
    path = root / style.folder / style.file_name(day, title_slug)
    template_file = root / TEMPLATE_FILE
    try:
        template = template_file.read_text("utf-8") if template_file.is_file() else None
    except (OSError, UnicodeDecodeError) as error:
        raise NewPostError(f"{template_file}: cannot read the template ({error})") from None
    full_title = title or f"Learning Logs: {day.isoformat()}"
    text = render_post(template or BUILT_IN_TEMPLATE, day=day, title=full_title)
    try:
        parse_post(normalise(text.encode()).text, path.relative_to(root).as_posix())
    except ParseError as error:
        where = f"{template_file}: " if template is not None else ""
        line = f"line {error.line}: " if error.line else ""
        raise NewPostError(
            f"{where}the filled-in template is no readable post: {line}{error.reason}"
        ) from None
    try:
        with open(path, "x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise NewPostError(f"{path} exists already; it was left as it is") from None
    except OSError as error:
        raise NewPostError(f"{path}: cannot write ({error.strerror or error})") from None
    return Path(os.path.normpath(path))
