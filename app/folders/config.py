"""`learnlog.toml` at a content folder's root: what belongs to the content, not the deployment."""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.fields.schema import NAME, RESERVED, FieldSchema, spec_from_table

CONFIG_NAME = "learnlog.toml"

DIALECTS = ("plain", "jekyll", "hugo", "pelican", "obsidian", "logseq")

_KEYS = {"name", "dialect", "domains", "strict", "fields", "site_url"}


class FolderConfigError(ValueError):
    """The configuration file cannot be used: says which file, where and why."""

    def __init__(self, path: Path, reason: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, slots=True)
class FolderConfig:
    """The settings of one content folder; every field is optional in the file."""

    name: str | None = None
    dialect: str | None = None
    # Domain slug -> heading spellings, as in domains.yml; None when the file has no table.
    domains: dict[str, list[str]] | None = None
    # Declared front-matter fields (`[fields.NAME]`) and `strict`: empty when none.
    schema: FieldSchema = field(default_factory=FieldSchema)
    # The published site's address (`https://example.org/blog`, no trailing slash): makes
    # template links such as `{{ site.baseurl }}/x` absolute. "" keeps them root-relative.
    site_url: str = ""


def load_config(root: Path) -> FolderConfig:
    """Read `learnlog.toml` from `root`; an absent file gives the defaults.

    Raises FolderConfigError for a file that is not TOML or holds keys of the wrong type.
    """
    path = root / CONFIG_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return FolderConfig()
    except (OSError, UnicodeDecodeError) as error:
        raise FolderConfigError(path, f"cannot read it: {error}") from None
    except tomllib.TOMLDecodeError as error:
        # tomllib says "... (at line 3, column 7)": keep its words, report the line apart.
        message = str(error)
        line = None
        if "(at line " in message:
            message, _, place = message.partition(" (at line ")
            line = int(place.split(",")[0])
        raise FolderConfigError(path, f"not valid TOML: {message}", line) from None
    config = _validated(path, data)
    schema = _schema(path, data)
    return FolderConfig(config.name, config.dialect, config.domains, schema, _site_url(path, data))


def _table_line(path: Path, header: str) -> int | None:
    """The line of `[header]` in the file (TOML values carry no positions)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for number, text in enumerate(lines, 1):
        if text.strip().replace(" ", "") == f"[{header}]":
            return number
    return None


def _schema(path: Path, data: dict[str, Any]) -> FieldSchema:
    """`strict` and the `[fields.NAME]` tables, checked; FolderConfigError names the field."""
    strict = data.get("strict", False)
    if not isinstance(strict, bool):
        raise FolderConfigError(path, "`strict` must be true or false")
    tables = data.get("fields", {})
    if not isinstance(tables, dict):
        raise FolderConfigError(path, "`fields` must hold `[fields.NAME]` tables")
    fields = {}
    for name, table in tables.items():
        line = _table_line(path, f"fields.{name}")
        if not isinstance(table, dict):
            raise FolderConfigError(path, f"`fields.{name}` must be a table", line)
        if name in RESERVED:
            raise FolderConfigError(
                path,
                f"field `{name}` shadows a front-matter key the ingest reads itself; "
                "choose another name",
                line,
            )
        if not NAME.match(name):
            raise FolderConfigError(
                path,
                f"field name {name!r}: lowercase letters, digits and _ (starting with a letter)",
                line,
            )
        try:
            fields[name] = spec_from_table(name, table)
        except ValueError as error:
            raise FolderConfigError(path, f"`fields.{name}`: {error}", line) from None
    return FieldSchema(fields=fields, strict=strict)


def _site_url(path: Path, data: dict[str, Any]) -> str:
    """`site_url`: an http(s) address with a host and no query or fragment."""
    value = data.get("site_url", "")
    if not isinstance(value, str):
        raise FolderConfigError(path, '`site_url` must be a string such as "https://example.org"')
    value = value.strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or any(char.isspace() for char in value)
    ):
        raise FolderConfigError(
            path,
            f"`site_url` must be the site's http(s) address such as "
            f'"https://example.org/blog", not {value!r}',
        )
    return value.rstrip("/")


def _validated(path: Path, data: dict[str, Any]) -> FolderConfig:
    """Check the keys this version reads; other tables are left for later versions."""
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise FolderConfigError(path, "`name` must be a non-empty string")
    dialect = data.get("dialect")
    if dialect is not None and dialect not in DIALECTS:
        raise FolderConfigError(
            path, f"`dialect` must be one of {', '.join(DIALECTS)}, not {dialect!r}"
        )
    domains = data.get("domains")
    if domains is not None:
        if not isinstance(domains, dict):
            raise FolderConfigError(path, "`[domains]` must map a domain to a list of headings")
        spellings: dict[str, list[str]] = {}
        for domain, headings in domains.items():
            listed = headings if isinstance(headings, list) else [headings]
            if not all(isinstance(heading, str) for heading in listed):
                raise FolderConfigError(
                    path, f"`domains.{domain}` must be a heading or a list of headings"
                )
            spellings[domain] = listed
        domains = spellings
    return FolderConfig(name=name.strip() if name else None, dialect=dialect, domains=domains)


def default_name(root: Path) -> str:
    """The name a folder takes in post identities when first ingested: learnlog.toml's
    `name`, else the folder's own name (an unusable learnlog.toml counts as absent)."""
    try:
        configured = load_config(root).name
    except FolderConfigError:
        configured = None
    return configured or root.resolve().name or "content"
