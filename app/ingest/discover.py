"""Find the Markdown files under a content folder and read them as normalised text."""

import hashlib
import os
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from app.ingest.problems import ParseError, SourceVanished

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
    """Markdown files under `root` in path order, and (path, reason) for files refused.

    Hidden files and folders are skipped; symbolic links are followed only when they
    stay inside `root`.
    """
    root = root.resolve()
    found: list[SourceFile] = []
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
        with listing:
            for item in listing:
                name = item.name
                if name.startswith("."):
                    continue
                relative = prefix + name
                if item.is_symlink() and not _inside(Path(item.path), root):
                    refused.append((relative, "symbolic link leads outside the content folder"))
                elif item.is_dir():
                    if not item.is_symlink():  # a link back inside would list files twice
                        pending.append((relative + "/", item.path))
                elif os.path.splitext(name)[1].lower() in MARKDOWN_SUFFIXES:
                    found.append(SourceFile(relative, Path(item.path)))
    found.sort(key=lambda source: source.path)
    refused.sort()
    return found, refused


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
        size = source.absolute.stat().st_size
        if size > max_bytes:
            raise ParseError(f"too large: {size} bytes, the limit is {max_bytes} bytes")
        data = source.absolute.read_bytes()
    except FileNotFoundError:
        if source.absolute.is_symlink():  # still there, pointing nowhere
            raise ParseError("cannot read file: its symbolic link leads nowhere") from None
        raise SourceVanished("skipped: the file vanished before it could be read") from None
    except OSError as exc:
        raise ParseError(f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise ParseError(f"too large: {len(data)} bytes, the limit is {max_bytes} bytes")
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
