"""The names a note answers to, and the keys an internal link looks them up by.

Resolution (the ingest's SQL step, and `learnlog check` in memory) picks, for a link, the
note whose name equals the link's `near` key (a path relative to the citing note), else
the one of lowest rank among those named by its `target` key, then the shortest path,
then the first path in order: Obsidian's rules (exact path, else the unique note of that
name, else the shortest path; `aliases` count last). Names compare case-insensitively.
"""

import datetime as dt
import posixpath
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from app.notes.syntax import NOTE_EXTENSIONS

# Ranks of a note's names: its path in the folder, its file name (or a path suffix, or a
# Logseq page name or title), an alias from its front matter.
RANK_PATH = 0
RANK_NAME = 1
RANK_ALIAS = 2

_BLOG_DIALECTS = frozenset({"jekyll", "hugo", "pelican"})


def name_key(text: str) -> str:
    """How names compare: NFC, case-folded, runs of spaces as one."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _without_extension(path: str) -> str:
    lowered = path.lower()
    for suffix in NOTE_EXTENSIONS:
        if lowered.endswith(suffix):
            return path[: -len(suffix)]
    return path


def logseq_page_name(path: str) -> str:
    """A Logseq page's name from its file: `pages/a___b%3F.md` -> `a/b?`."""
    stem = posixpath.basename(_without_extension(path))
    return unquote(stem.replace("___", "/"))


def _journal_names(stem: str) -> list[str]:
    """`2023_01_05` -> `Jan 5th, 2023` (Logseq's default journal title) and `2023-01-05`."""
    try:
        day = dt.date.fromisoformat(stem.replace("_", "-"))
    except ValueError:
        return []
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(day.day % 10, "th")
    if 10 < day.day % 100 < 14:
        suffix = "th"
    return [f"{day:%b} {day.day}{suffix}, {day.year}", day.isoformat()]


def _listed(value: Any) -> list[str]:
    """A front-matter list (YAML list, comma string, Logseq `[[a]], [[b]]`) as names."""
    items = value if isinstance(value, list) else str(value).split(",") if value else []
    names = []
    for item in items:
        if isinstance(item, list | dict) or item is None:
            continue
        text = str(item).strip().strip("#").replace("[[", "").replace("]]", "").strip()
        if text:
            names.append(text)
    return names


def note_names(path: str, dialect: str, meta: dict[str, Any]) -> list[tuple[str, int]]:
    """(name key, rank) pairs of the note at `path`; `meta` has lower-cased front-matter keys."""
    found: dict[str, int] = {}

    def add(name: str, rank: int) -> None:
        key = name_key(name)
        if key and found.get(key, 99) > rank:
            found[key] = rank

    bare = _without_extension(path)
    add(bare, RANK_PATH)
    if dialect in _BLOG_DIALECTS:
        return list(found.items())  # blogs link by relative path only
    if dialect == "logseq":
        add(logseq_page_name(path), RANK_PATH)
        for name in _journal_names(posixpath.basename(bare)):
            add(name, RANK_NAME)
        title = meta.get("title")
        if isinstance(title, str) and title.strip():
            add(title, RANK_PATH)
    else:
        parts = bare.split("/")
        for start in range(1, len(parts)):
            add("/".join(parts[start:]), RANK_NAME)
    for alias in _listed(meta.get("aliases")) + _listed(meta.get("alias")):
        add(alias, RANK_ALIAS)
    return list(found.items())


@dataclass(frozen=True, slots=True)
class LinkKeys:
    """What resolution looks a link up by: `near` first, then `target`."""

    target: str
    near: str | None


def wikilink_keys(target: str, source_path: str, dialect: str) -> LinkKeys:
    """Keys of `[[target]]` written in the note at `source_path` (`""`: the note itself)."""
    if not target:
        return LinkKeys(name_key(_without_extension(source_path)), None)
    if dialect == "logseq":
        return LinkKeys(name_key(target), None)
    written = _without_extension(target.strip())
    if written.startswith(("./", "../")):
        return LinkKeys(name_key(_joined(source_path, written)), None)
    return LinkKeys(name_key(written.lstrip("/")), None)


def path_link_keys(url: str, source_path: str, dialect: str) -> LinkKeys | None:
    """Keys of a relative Markdown link to a note (`../x.md#part`), or None for other targets."""
    path = unquote(url.partition("#")[0].partition("?")[0]).strip()
    if not path or path.endswith("/"):
        return None
    bare = _without_extension(path)
    extension = posixpath.splitext(posixpath.basename(path))[1]
    if bare == path and (dialect not in ("obsidian", "logseq") or extension):
        return None  # not a note: an image, a page of the site, a folder
    near = name_key(_joined(source_path, bare))
    if path.startswith("/"):
        return LinkKeys(name_key(bare.lstrip("/")), None)
    return LinkKeys(name_key(bare), near)


def _joined(source_path: str, relative: str) -> str:
    """`relative` read from the folder of `source_path`, normalised (never above the root)."""
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(source_path), relative))
    return joined.lstrip("./") if joined.startswith("../") else joined


class NameIndex:
    """Notes by name, for resolving links in memory with the same rules as the SQL step."""

    def __init__(self) -> None:
        self._names: dict[str, list[tuple[int, int, str]]] = defaultdict(list)

    def add(self, path: str, names: Iterable[tuple[str, int]]) -> None:
        """Register the note at `path` under its names."""
        for key, rank in names:
            self._names[key].append((rank, len(path), path))

    def resolve(self, keys: LinkKeys) -> str | None:
        """The path of the note a link with `keys` points to, or None."""
        if keys.near is not None and self._names.get(keys.near):
            return min(self._names[keys.near])[2]
        candidates = self._names.get(keys.target)
        return min(candidates)[2] if candidates else None
