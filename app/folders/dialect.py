"""Which tool wrote a folder (Jekyll, Hugo, Pelican, Obsidian, Logseq, or plain Markdown)."""

import itertools
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from app.folders.config import FolderConfig
from app.folders.names import MARKERS, PARENTS_LOOKED_AT

# Content sniffing reads the start of this many files: enough to see a folder's habits.
_SAMPLE_FILES = 200
_SAMPLE_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class Dialect:
    """A folder's dialect and why it was chosen, in words for the ingest summary."""

    name: str
    reason: str


def detect(root: Path, config: FolderConfig, markdown: list[Path]) -> Dialect:
    """The dialect `learnlog.toml` sets, else the one the folder's markers or content show.

    `markdown` lists the folder's Markdown files (as discovery found them).
    """
    if config.dialect:
        return Dialect(config.dialect, "set in learnlog.toml")
    root = root.resolve()
    for folder in [root, *itertools.islice(root.parents, PARENTS_LOOKED_AT)]:
        for marker, dialect in MARKERS:
            if (folder / marker).exists():
                place = marker if folder == root else str(folder / marker)
                return Dialect(dialect, f"{place} found")
    return _from_content(root, markdown[:_SAMPLE_FILES])


def _from_content(root: Path, sample: list[Path]) -> Dialect:
    """Guess from folder names and the syntax the files use."""
    if root.name == "_posts" or (root / "_posts").is_dir():
        return Dialect("jekyll", "a _posts folder")
    if (root / "pages").is_dir() and (root / "journals").is_dir():
        return Dialect("logseq", "pages/ and journals/ folders")
    wikilinks = callouts = shortcodes = outlines = pelican = 0
    for path in sample:
        head = _head(path)
        wikilinks += "[[" in head
        callouts += "> [!" in head
        shortcodes += "{{<" in head or "{{%" in head
        outlines += ":: " in head and head.lstrip().startswith("-")
        pelican += head.startswith(("Title:", "title:")) and "\nDate:" in head[:2048]
    if pelican > len(sample) / 2:
        return Dialect("pelican", f"Pelican `Title:` headers in {pelican} files")
    if outlines and outlines >= wikilinks / 2:
        return Dialect("logseq", f"outlines with key:: value properties in {outlines} files")
    if wikilinks or callouts:
        return Dialect(
            "obsidian", f"[[wikilinks]] in {wikilinks} files, > [!callouts] in {callouts} files"
        )
    if shortcodes:
        return Dialect("hugo", f"{{{{< shortcodes >}}}} in {shortcodes} files")
    return Dialect("plain", "no tool's markers or syntax found")


def _head(path: Path) -> str:
    """The start of a regular file as text; "" for anything else (never blocks on a FIFO)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return ""
        return os.read(descriptor, _SAMPLE_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(descriptor)
