"""Which stored content folder a folder on disk is: by its configured name, its location,
or (moved, renamed, mounted elsewhere) by the posts it holds."""

from pathlib import Path

from app.ingest.sync import Writer


class OtherFolderError(RuntimeError):
    """The database holds another folder's posts, and this run must not mix them in."""


def resolve_folder(
    writer: Writer,
    root: Path,
    *,
    configured_name: str | None,
    paths: list[str],
    exclusive: bool,
) -> str:
    """The name `root` is stored under; a new, unique name for a folder never seen.

    A folder is the stored one of the same name (learnlog.toml `name`), else the one last
    read from the same location, else the one that already holds most of its paths and
    whose old location is gone (it moved). `exclusive` (the folder's own database, which
    moves and is copied along with it): the old location may still exist, and posts of
    any other folder raise OtherFolderError.
    """
    location = str(root)
    known = writer.folders()
    name = configured_name or next(
        (stored for stored, where in known.items() if where == location), None
    )
    if name is None:
        candidates = {
            stored: where
            for stored, where in known.items()
            if exclusive or not Path(where).is_dir()  # a folder served beside this one
        }
        name = _moved_from(writer, candidates, paths) or _unique(root.name or "content", known)
    if exclusive:
        others = {
            other: count for other, count in writer.folders_with_posts().items() if other != name
        }
        if others:
            held = ", ".join(
                f"{count} posts of {known.get(other, other)}" for other, count in others.items()
            )
            raise OtherFolderError(
                f"the database holds {held}, not of {location}; serve that folder, pass "
                "--database-url to use another database, or delete this one to start afresh"
            )
    return name


def _moved_from(writer: Writer, known: dict[str, str], paths: list[str]) -> str | None:
    """The stored folder holding most (more than half) of `paths`, if one does."""
    wanted = set(paths)
    best, best_overlap = None, 0
    for name in known:
        overlap = len(wanted & writer.stored_posts(name).keys())
        if overlap > best_overlap:
            best, best_overlap = name, overlap
    return best if wanted and best_overlap * 2 > len(wanted) else None


def _unique(base: str, known: dict[str, str]) -> str:
    """`base`, or `base-2`, `base-3` ... when another folder has that name already."""
    name, number = base, 1
    while name in known:
        number += 1
        name = f"{base}-{number}"
    return name
