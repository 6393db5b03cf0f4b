"""Find the Markdown files under a content folder and read them as normalised text."""

import errno
import hashlib
import os
import stat
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from app.ingest.problems import ParseError, SourceVanished, escaped, undecodable

MARKDOWN_SUFFIXES = {".md", ".markdown"}

# Invisible characters that change no meaning (zero-width space, word joiner, stray BOMs)
# are dropped and no-break spaces become plain spaces, so a file and its clean twin give
# the same rows. (str.replace per character is far faster than str.translate.)
_REPLACEMENTS = (("\u200b", ""), ("\u2060", ""), ("\ufeff", ""), ("\u00a0", " "), ("\u202f", " "))


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A Markdown file found under the content folder."""

    path: str  # relative, with forward slashes: the post's identity within its folder
    absolute: Path
    # (size, mtime in ns) when queued for reading: another one afterwards means it changed.
    found: tuple[int, int] | None = None

    def changed_since_found(self) -> bool:
        """True when the file's size or modification time is no longer what `found` says."""
        try:
            info = self.absolute.stat()
        except OSError:
            return self.found is not None
        return self.found is not None and (info.st_size, info.st_mtime_ns) != self.found


@dataclass(frozen=True, slots=True)
class SourceText:
    """A file's normalised text, the hash of that text, and the hash of the raw bytes."""

    text: str
    content_hash: str
    bytes_hash: str


def discover(root: Path) -> tuple[list[SourceFile], list[tuple[str, str]]]:
    """Markdown files under `root` in path order, and (path, reason) for entries refused.

    Hidden files and folders are skipped; symbolic links are followed only when they
    stay inside `root`. Only regular files are taken: a FIFO, socket or device named
    `*.md`, a name that is not UTF-8, a link loop or a folder that cannot be listed is
    refused with its reason, never raised, so one odd entry cannot end a run. Paths are
    shown escaped (`caf\\xe9.md`, `a\\nb.md`). Only a missing or unreadable `root` raises.
    """
    root = root.resolve()
    found: dict[str, SourceFile] = {}
    refused: list[tuple[str, str]] = []
    pending = [("", str(root))]
    while pending:
        prefix, directory = pending.pop()
        try:
            listing = os.scandir(directory)
        except FileNotFoundError:
            if not prefix:
                raise
            continue  # a subfolder deleted since it was listed holds no posts now
        except OSError as error:
            if not prefix:
                raise
            refused.append((prefix[:-1], f"cannot read folder: {_why(error)}"))
            continue
        try:
            with listing:
                for item in listing:
                    _sort(item, prefix, root, found, refused, pending)
        except OSError as error:  # the listing broke off (an I/O error, a lost mount)
            if not prefix:
                raise
            refused.append((prefix[:-1], f"cannot read folder: {_why(error)}"))
    refused.sort()
    return [found[path] for path in sorted(found)], refused


def _sort(
    item: os.DirEntry[str],
    prefix: str,
    root: Path,
    found: dict[str, SourceFile],
    refused: list[tuple[str, str]],
    pending: list[tuple[str, str]],
) -> None:
    """File one folder entry as a post, a folder to list, a refusal, or nothing."""
    name = item.name
    if name.startswith("."):
        return
    relative = prefix + escaped(name)
    markdown = os.path.splitext(name)[1].lower() in MARKDOWN_SUFFIXES
    # The file type comes from the listing itself (no extra system call) unless a
    # symbolic link or an unusual file makes a stat necessary.
    if item.is_symlink():
        kind, reason = _link_kind(Path(item.path), root)
    elif item.is_dir(follow_symlinks=False):
        kind, reason = "folder", ""
    elif item.is_file(follow_symlinks=False):
        kind, reason = "file", ""
    else:
        kind, reason = _special_kind(item)
    if kind == "gone":  # vanished since the listing
        return
    if kind == "refused":
        # A link that leaves the folder (or loops) is refused whatever its name: it may
        # stand for a folder of posts.
        if markdown or reason in (_OUTSIDE, _LOOP):
            refused.append((relative, reason))
    elif undecodable(name):
        if markdown or kind == "folder":
            what = "folder" if kind == "folder" else "file"
            refused.append((relative, f"{what} name is not valid UTF-8: rename it to read it"))
    elif kind == "folder":
        if not item.is_symlink():  # a link back inside would list files twice
            pending.append((relative + "/", item.path))
    elif markdown:
        if relative in found:  # only escaping can make two names one
            refused.append((relative, "file name is the same as another's once escaped"))
        else:
            found[relative] = SourceFile(relative, Path(item.path))


_OUTSIDE = "symbolic link leads outside the content folder"
_LOOP = "symbolic link loop: it leads back to itself, never to a file"

_SPECIAL = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _special_kind(item: os.DirEntry[str]) -> tuple[str, str]:
    """("refused", why) for a FIFO, socket or device; ("gone", "") when it vanished."""
    try:
        mode = item.stat(follow_symlinks=False).st_mode
    except FileNotFoundError:
        return "gone", ""
    except OSError as error:
        return "refused", f"cannot read file: {_why(error)}"
    return _kind_of_mode(mode)


def _kind_of_mode(mode: int) -> tuple[str, str]:
    """("file" | "folder" | "refused", why) for a stat mode."""
    if stat.S_ISREG(mode):
        return "file", ""
    if stat.S_ISDIR(mode):
        return "folder", ""
    return "refused", not_regular(mode)


def not_regular(mode: int) -> str:
    """Why a file of this (non-regular) mode is never read."""
    for test, kind in _SPECIAL:
        if test(mode):
            return f"not a regular file: {kind}; only regular files are read"
    return "not a regular file; only regular files are read"


def _link_kind(path: Path, root: Path) -> tuple[str, str]:
    """What a symbolic link leads to: a loop, outside, nowhere (a file that fails), or a kind."""
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink() and not _inside(path, root):
            return "refused", _OUTSIDE
        # Still listed, pointing nowhere: reading it says so (and keeps the stored post).
        return ("file", "") if path.is_symlink() else ("gone", "")
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "refused", _LOOP
        return "refused", f"cannot read file: {_why(error)}"
    if not _inside(path, root):
        return "refused", _OUTSIDE
    return _kind_of_mode(info.st_mode)


def _why(error: OSError) -> str:
    """The system's reason for an OSError, without the path it names."""
    if error.errno == errno.ELOOP:
        return "symbolic link loop"
    return error.strerror or str(error)


def fingerprinted(source: SourceFile) -> SourceFile:
    """`source` with its current size and mtime, to notice a change before it is read."""
    try:
        info = source.absolute.stat()
    except OSError:  # reading it will say why
        return source
    return replace(source, found=(info.st_size, info.st_mtime_ns))


def _inside(path: Path, root: Path) -> bool:
    """True when `path` resolves to somewhere under `root`."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def read_source(source: SourceFile, max_bytes: int) -> SourceText:
    """Read, decode and normalise a file; raise ParseError for files that are not text."""
    return normalise(read_bytes(source, max_bytes))


def read_bytes(source: SourceFile, max_bytes: int) -> bytes:
    """A file's bytes; raise ParseError when it is gone, unreadable or over the limit."""
    try:
        return read_regular_file(source.absolute, max_bytes)
    except FileNotFoundError:
        if source.absolute.is_symlink():  # still there, pointing nowhere
            raise ParseError("cannot read file: its symbolic link leads nowhere") from None
        raise SourceVanished("skipped: the file vanished before it could be read") from None
    except OSError as exc:
        raise ParseError(f"cannot read file: {_why(exc)}") from None


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, never blocking; ParseError for anything else or too large.

    Opened without blocking and checked on the open descriptor: a FIFO swapped in for a
    post after discovery would otherwise wait forever for a writer, with the ingest lock
    held. OSError (FileNotFoundError among them) is left to the caller.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    with os.fdopen(descriptor, "rb") as stream:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ParseError(not_regular(info.st_mode))
        if info.st_size > max_bytes:
            raise ParseError(f"too large: {info.st_size} bytes, the limit is {max_bytes} bytes")
        # One byte past the limit tells a file that grew since the check from one that fits.
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ParseError(f"too large: over {max_bytes} bytes, the limit is {max_bytes} bytes")
    return data


def hash_bytes(data: bytes) -> str:
    """The hash of raw file bytes: the cheap first check that a file did not change."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def normalise(data: bytes) -> SourceText:
    """Decode UTF-8 (BOM allowed), unify line ends, drop invisible characters, NFC, hash."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ParseError(f"not UTF-8 text: NUL byte at byte offset {nul}", _line_at(data, nul))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"not UTF-8 text: invalid byte 0x{data[exc.start]:02x} at byte offset {exc.start}",
            _line_at(data, exc.start),
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():
        for invisible, replacement in _REPLACEMENTS:
            if invisible in text:
                text = text.replace(invisible, replacement)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
    return SourceText(text, digest, hash_bytes(data))


def _line_at(data: bytes, offset: int) -> int:
    """1-based line of a byte offset."""
    return data.count(b"\n", 0, offset) + 1
