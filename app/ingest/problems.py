"""What a parse can report: a fatal ParseError or non-fatal warnings, both with a line."""

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """A warning (or, in a run, a failure) about one file."""

    reason: str
    line: int | None = None


class ParseError(Exception):
    """A file that cannot become a post; `line` is 1-based in the file when known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason if line is None else f"line {line}: {reason}")
        self.reason = reason
        self.line = line

    def __reduce__(self) -> tuple[type["ParseError"], tuple[str, int | None]]:
        """Keep the class and both fields when the error crosses a process boundary."""
        return (type(self), (self.reason, self.line))


class SourceVanished(ParseError):
    """A file that disappeared between discovery and reading: skipped, not failed."""


# Written out rather than shown: a newline or an escape sequence in a file name would
# split or recolour the line that reports it (Unicode line and paragraph separators too).
_SHOWN_AS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escaped(name: str) -> str:
    """`name` printable on one line: control characters and undecodable bytes as escapes.

    Bytes that are not UTF-8 come from the file system as lone surrogates
    (`os.fsdecode`'s surrogateescape) and are shown as the byte they stand for: `caf\\xe9.md`.
    """
    if name.isprintable():
        return name
    return "".join(_escape_character(character) for character in name)


def _escape_character(character: str) -> str:
    """One character as shown in a name (unchanged unless it is a control or a stray byte)."""
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the raw byte code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    if character in _SHOWN_AS:
        return _SHOWN_AS[character]
    if unicodedata.category(character) in ("Cc", "Cs", "Zl", "Zp"):
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return character


def undecodable(name: str) -> bool:
    """True when a name from the file system holds bytes that are not UTF-8."""
    return not name.isascii() and any(0xDC80 <= ord(character) <= 0xDCFF for character in name)
