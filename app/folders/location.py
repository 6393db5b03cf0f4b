"""Where a content folder's own database lives, and whether a path is a folder to serve."""

import hashlib
import os
from pathlib import Path

import platformdirs
from sqlalchemy.engine import URL

from app.folders.names import DATABASE_FOLDER, DATABASE_NAME
from app.ingest.discover import MARKDOWN_SUFFIXES
from app.settings import Settings

# Written beside the database so a folder kept in git never commits it; a template the
# user keeps in the same folder (`.learnlog/template.md`) is not ignored.
_GITIGNORE = """\
# learnlog's database for this folder: rebuilt from the Markdown by `learnlog ingest`.
learnlog.db
learnlog.db-*
*.ingest-lock
"""


class FolderError(ValueError):
    """A path given as a content folder cannot be one: says which path and why."""


def checked_folder(path: Path) -> Path:
    """`path` resolved, when it is an existing folder holding Markdown; else FolderError."""
    if not path.exists():
        raise FolderError(f"{path}: no such folder")
    if not path.is_dir():
        raise FolderError(f"{path}: not a folder")
    if not _holds_markdown(path):
        raise FolderError(f"{path}: no Markdown files (.md, .markdown) in this folder")
    return path.resolve()


def _holds_markdown(root: Path) -> bool:
    """True as soon as one Markdown file is found below `root` (hidden folders skipped)."""
    for _folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if not name.startswith(".")]
        if any(os.path.splitext(name)[1].lower() in MARKDOWN_SUFFIXES for name in files):
            return True
    return False


def default_database(folder: Path) -> Path:
    """The database file of `folder`: inside it, else (read-only) in the user's data folder."""
    folder = folder.resolve()
    inside = folder / DATABASE_FOLDER
    if _writable(inside if inside.is_dir() else folder):
        inside.mkdir(exist_ok=True)
        ignore = inside / ".gitignore"
        if not ignore.exists():
            ignore.write_text(_GITIGNORE, encoding="utf-8")
        return inside / DATABASE_NAME
    # One file per folder location, named so a user can tell which is which.
    digest = hashlib.blake2b(str(folder).encode(), digest_size=4).hexdigest()
    data = Path(platformdirs.user_data_dir("learnlog", appauthor=False))
    data.mkdir(parents=True, exist_ok=True)
    return data / f"{folder.name or 'root'}-{digest}.db"


def _writable(folder: Path) -> bool:
    """Whether files can be created in `folder` (tried, not guessed from mode bits)."""
    probe = folder / f".learnlog-probe-{os.getpid()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError:
        return False
    return True


def database_url(settings: Settings) -> str:
    """The database URL the settings name, else the first content folder's own database."""
    if settings.database_url:
        return settings.database_url
    own = default_database(checked_folder(settings.folders()[0]))
    # Quoted: a folder named `C#?%20` is a path, not a query string or an escape.
    return URL.create("sqlite", database=str(own)).render_as_string()
