"""Split a post into metadata and body, for every header dialect real blogs use.

YAML `---` and TOML `+++` go through python-frontmatter's handlers; Pelican `Key: value`
blocks and Logseq `key:: value` properties get handlers of the same shape here. A block
that a handler recognises but cannot read is a ParseError with the file line, never
empty metadata.
"""

import datetime as dt
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

from app.ingest.problems import ParseError, Problem

# Front matter is small; a structure bigger than this is an alias bomb or a mistake.
MAX_METADATA_NODES = 20_000

_YamlBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_YamlBase):  # type: ignore[misc]
    """Safe YAML that keeps timestamps as the text the author wrote and notes duplicate keys."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _YamlBase.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[str, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, remembering keys that appear twice (the last one wins)."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                self.duplicate_keys.append((str(key), key_node.start_mark.line))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


class _TomlHandler(BaseHandler):
    """TOML `+++` front matter read with the standard library's tomllib."""

    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)

    def load(self, fm: str, **kwargs: object) -> Any:
        """Parse the TOML block."""
        return tomllib.loads(fm)


_PELICAN_LINE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):[ \t]*(.*)")
_LOGSEQ_LINE = re.compile(r"(?:[-*][ \t]+)?([A-Za-z][A-Za-z0-9_-]*)::[ \t]*(.*)")
_PELICAN_KEYS = {"title", "date"}


@dataclass(slots=True)
class FrontMatter:
    """Metadata (JSON-safe, keys as written), the body, and the file line the body starts on."""

    format: str
    data: dict[str, Any]
    body: str
    body_line: int
    warnings: list[Problem] = field(default_factory=list)


def split_front_matter(text: str) -> FrontMatter:
    """Recognise the header dialect of `text` and split it off; raise ParseError if unreadable."""
    for fmt, boundary, loader in _DELIMITED:
        if boundary.match(text):
            return _split_delimited(text, fmt, boundary, loader)
    for fmt, pattern in (("logseq", _LOGSEQ_LINE), ("pelican", _PELICAN_LINE)):
        result = _split_key_lines(text, fmt, pattern)
        if result is not None:
            return result
    return FrontMatter("none", {}, text, 1)


def _load_yaml(block: str, first_line: int) -> tuple[Any, list[Problem]]:
    """Parse a YAML block with the strict loader; errors carry their file line."""
    loader = _StrictLoader(block)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        # An unclosed bracket is detected at the end of the block; the line it opened on
        # (the context) is the one the author needs to look at.
        mark = exc.context_mark or exc.problem_mark
        line = first_line + mark.line if mark is not None else first_line
        detail = f"{exc.problem} ({exc.context})" if exc.context else exc.problem
        raise ParseError(f"invalid YAML front matter: {detail or exc}", line) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"invalid YAML front matter: {exc}", first_line) from None
    finally:
        loader.dispose()
    warnings = [
        Problem(f"front matter key {key!r} appears twice; the last value wins", first_line + ln)
        for key, ln in loader.duplicate_keys
    ]
    return data, warnings


def _load_toml(block: str, first_line: int) -> tuple[Any, list[Problem]]:
    """Parse a TOML block through the TOML handler."""
    try:
        return _TOML.load(block), []
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = first_line + int(found.group(1)) - 1 if found else first_line
        raise ParseError(f"invalid TOML front matter: {exc}", line) from None


_TOML = _TomlHandler()
_DELIMITED: list[tuple[str, re.Pattern[str], Callable[[str, int], tuple[Any, list[Problem]]]]] = [
    ("yaml", YAMLHandler.FM_BOUNDARY, _load_yaml),
    ("toml", _TomlHandler.FM_BOUNDARY, _load_toml),
]


def _split_delimited(
    text: str,
    fmt: str,
    boundary: re.Pattern[str],
    loader: Callable[[str, int], tuple[Any, list[Problem]]],
) -> FrontMatter:
    """Split a `---`/`+++` block off `text` and parse it."""
    opening = boundary.match(text)
    assert opening is not None
    closing = boundary.search(text, opening.end())
    if closing is None:
        raise ParseError(f"unterminated {fmt.upper()} front matter: no closing delimiter", 1)
    # The boundary pattern may swallow blank lines; count lines from the offsets instead.
    block_start = text.index("\n", opening.start()) + 1 if "\n" in text else len(text)
    block = text[block_start : closing.start()]
    first_line = text.count("\n", 0, block_start) + 1
    try:
        data, warnings = loader(block, first_line)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            kind = type(data).__name__
            raise ParseError(f"front matter must be a mapping of keys to values, not a {kind}", 1)
        data = json_safe(data)
    except RecursionError:  # the loaders and json_safe recurse once per level
        raise ParseError(
            "front matter nested too deeply to read (or a YAML alias inside its own anchor)", 1
        ) from None
    body_start = closing.end()
    if body_start < len(text) and text[body_start] == "\n":
        body_start += 1
    body_line = text.count("\n", 0, body_start) + 1
    return FrontMatter(fmt, data, text[body_start:], body_line, warnings)


def _split_key_lines(text: str, fmt: str, pattern: re.Pattern[str]) -> FrontMatter | None:
    """Read a leading block of `key: value` (Pelican) or `key:: value` (Logseq) lines."""
    data: dict[str, Any] = {}
    lines = text.split("\n")
    index = 0
    last_key: str | None = None
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            break
        found = pattern.fullmatch(line.rstrip())
        if found:
            last_key = found.group(1)
            data[last_key] = found.group(2).strip()
        elif fmt == "pelican" and last_key is not None and line[:1] in (" ", "\t"):
            data[last_key] = f"{data[last_key]} {line.strip()}"
        else:
            break
        index += 1
    if not data:
        return None
    if fmt == "pelican":
        # Only a block that names a title or a date is metadata; "Note: ..." is prose.
        if index < len(lines) and lines[index].strip():
            return None
        if not _PELICAN_KEYS & {key.lower() for key in data}:
            return None
    body = "\n".join(lines[index:])
    return FrontMatter(fmt, data, body, index + 1)


def json_safe(value: Any) -> Any:
    """Convert YAML/TOML values to JSON-safe ones, refusing structures past the size budget."""
    budget = [MAX_METADATA_NODES]

    def convert(item: Any) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise ParseError(
                f"front matter expands to more than {MAX_METADATA_NODES} values "
                "(YAML aliases nested too deeply?)",
                1,
            )
        if isinstance(item, str):
            return item.replace("\x00", "\ufffd")  # a YAML/TOML escape; PostgreSQL refuses NUL
        if isinstance(item, dict):
            return {str(key).replace("\x00", "\ufffd"): convert(val) for key, val in item.items()}
        if isinstance(item, list | tuple | set):
            return [convert(val) for val in item]
        if isinstance(item, dt.date | dt.time):
            return item.isoformat()
        if isinstance(item, bytes):
            return item.decode("utf-8", "replace").replace("\x00", "\ufffd")
        if isinstance(item, float) and not math.isfinite(item):  # NaN and infinities are not JSON
            return None
        return item

    return convert(value)


_KEY_LINE = re.compile(r"""^(?:[-*][ \t]+)?["']?([A-Za-z_][A-Za-z0-9_-]*)["']?[ \t]*(?:::|:|=)""")


def key_lines(text: str) -> dict[str, int]:
    """{top-level front-matter key: its line in the file}, for reports naming a key's line.

    Reads the lines of the header block (YAML, TOML, Pelican or Logseq) without parsing
    values: a key is a name at the start of a line followed by `:`, `::` or `=`.
    """
    lines = text.split("\n", 400)[:400]
    found: dict[str, int] = {}
    if not lines:
        return found
    delimited = lines[0].strip() in ("---", "+++")
    start = 1 if delimited else 0
    for number, line in enumerate(lines[start:], start + 1):
        if delimited and line.strip() in ("---", "+++", "..."):
            break
        if not delimited and not line.strip():
            break
        match = _KEY_LINE.match(line)
        if match and match.group(1) not in found:
            found[match.group(1)] = number
    return found
