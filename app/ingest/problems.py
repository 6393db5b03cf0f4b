"""What a parse can report: a fatal ParseError or non-fatal warnings, both with a line."""

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
