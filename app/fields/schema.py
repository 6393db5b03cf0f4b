"""The schema an author declares in `learnlog.toml` (`[fields.NAME]`), and validation.

A field's values are checked at ingest and stored typed, one row per value in
`post_fields`, in the column of its kind: text (string, url, enum), number (integer,
number), date, moment (datetime, as naive UTC) or boolean. Lists store one row per item.
"""

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime", "url", "enum"]
SCALAR_TYPES: tuple[FieldType, ...] = (
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "datetime",
    "url",
    "enum",
)
# The column each type's values are stored in.
Column = Literal["text", "number", "date", "moment", "bool"]
COLUMN_OF: dict[str, Column] = {
    "string": "text",
    "url": "text",
    "enum": "text",
    "integer": "number",
    "number": "number",
    "date": "date",
    "datetime": "moment",
    "boolean": "bool",
}
# Front-matter keys the ingest reads itself: a declared field must not shadow them.
RESERVED = frozenset(
    {
        "title",
        "date",
        "tags",
        "tag",
        "categories",
        "category",
        "draft",
        "published",
        "publish_at",
        "excerpt",
        "summary",
        "description",
        "aliases",
        "alias",
        "slug",
        "updated",
        "lastmod",
        "modified",
    }
)
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_TEXT = 1000
# Integers beyond 2**53 lose precision in a double, the number column's type.
MAX_SAFE_INTEGER = 2**53


class FieldError(ValueError):
    """A value that does not match its declaration: the reason, without the field's name."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One declared field."""

    name: str
    type: FieldType
    is_list: bool = False
    required: bool = False
    default: Any = None
    description: str | None = None
    values: tuple[str, ...] = ()

    @property
    def column(self) -> Column:
        """The `post_fields` column its values live in."""
        return COLUMN_OF[self.type]

    def as_dict(self) -> dict[str, Any]:
        """The declaration as stored in the database (and compared between runs)."""
        return {
            "type": self.type,
            "list": self.is_list,
            "required": self.required,
            "default": self.default,
            "description": self.description,
            "values": list(self.values),
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> "FieldSpec":
        """A declaration read back from the database."""
        return cls(
            name=name,
            type=data["type"],
            is_list=bool(data.get("list")),
            required=bool(data.get("required")),
            default=data.get("default"),
            description=data.get("description"),
            values=tuple(data.get("values") or ()),
        )

    def coerce(self, value: Any) -> Any:
        """The typed value (a list for list fields), or FieldError saying why not."""
        if not self.is_list:
            return self.coerce_one(value)
        items = value if isinstance(value, list) else None
        if items is None:
            raise FieldError(f"expected a list of {self.type}, got {_shown(value)}")
        typed = []
        for number, item in enumerate(items, 1):
            try:
                typed.append(self.coerce_one(item))
            except FieldError as error:
                raise FieldError(f"item {number}: {error}") from None
        return typed

    def coerce_one(self, value: Any) -> Any:
        """One scalar value typed, or FieldError."""
        kind = self.type
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise FieldError(f"expected an integer, got {_shown(value)}")
            if abs(value) > MAX_SAFE_INTEGER:
                raise FieldError(f"integer {value} is out of range (at most 2^53)")
            return value
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FieldError(f"expected a number, got {_shown(value)}")
            if not math.isfinite(value) or abs(value) > 1e300:
                raise FieldError(f"number {value} is out of range")
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise FieldError(f"expected true or false, got {_shown(value)}")
            return value
        if not isinstance(value, str):
            raise FieldError(f"expected {_article(kind)}, got {_shown(value)}")
        if len(value) > MAX_TEXT:
            raise FieldError(f"longer than {MAX_TEXT} characters")
        if kind == "date":
            return parse_date(value)
        if kind == "datetime":
            return parse_moment(value)
        if kind == "url":
            parts = urlsplit(value.strip())
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise FieldError(f"expected an http(s) URL, got {_shown(value)}")
            return value.strip()
        if kind == "enum" and value not in self.values:
            raise FieldError(f"{_shown(value)} is not one of {', '.join(self.values)}")
        return value


def parse_date(text: str) -> dt.date:
    """A calendar date `YYYY-MM-DD`, or FieldError."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise FieldError(f"expected a date (YYYY-MM-DD), got {_shown(text)}") from None


def parse_moment(text: str) -> dt.datetime:
    """An ISO 8601 datetime as naive UTC (no zone means UTC), or FieldError."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(f"expected a datetime (ISO 8601), got {_shown(text)}") from None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:
            raise FieldError(f"{_shown(text)} falls outside years 1-9999 in UTC") from None
    return moment


def _shown(value: Any) -> str:
    """A value as a reason quotes it (short)."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _article(kind: str) -> str:
    return {"url": "a URL", "enum": "one of the declared values"}.get(kind, f"a {kind}")


@dataclass(frozen=True, slots=True)
class Violation:
    """One field of one post that does not match its declaration."""

    field: str
    reason: str
    line: int | None


@dataclass(slots=True)
class Checked:
    """A post's typed values by field (declared and present, or defaulted) and violations."""

    values: dict[str, Any] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FieldSchema:
    """The declared fields of a folder (or the union over folders, as the API serves it)."""

    fields: dict[str, FieldSpec] = field(default_factory=dict)
    strict: bool = False

    def __bool__(self) -> bool:
        return bool(self.fields)

    def as_dict(self) -> dict[str, Any]:
        """The schema as stored in the database."""
        return {
            "strict": self.strict,
            "fields": {name: spec.as_dict() for name, spec in sorted(self.fields.items())},
        }

    def digest(self) -> str:
        """Changes whenever the declarations do: a new schema re-validates every post."""
        text = json.dumps(self.as_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FieldSchema":
        """A schema read back from the database."""
        fields = {
            name: FieldSpec.from_dict(name, spec) for name, spec in data.get("fields", {}).items()
        }
        return cls(fields=fields, strict=bool(data.get("strict")))

    def check(self, front_matter: Mapping[str, Any], lines: Mapping[str, int]) -> Checked:
        """Validate a post's front matter: its typed values and what is wrong, with lines."""
        checked = Checked()
        for name, spec in self.fields.items():
            if name not in front_matter or front_matter[name] is None:
                if spec.default is not None:
                    checked.values[name] = spec.coerce(spec.default)
                elif spec.required:
                    checked.violations.append(Violation(name, "required but missing", None))
                continue
            try:
                checked.values[name] = spec.coerce(front_matter[name])
            except FieldError as error:
                checked.violations.append(Violation(name, str(error), lines.get(name)))
        return checked


def merged(schemas: list[FieldSchema]) -> FieldSchema:
    """The fields of several folders together (the first declaration of a name wins)."""
    fields: dict[str, FieldSpec] = {}
    for schema in schemas:
        for name, spec in schema.fields.items():
            fields.setdefault(name, spec)
    return FieldSchema(fields=fields, strict=any(s.strict for s in schemas))


def stored_rows(
    post_id: int, values: Mapping[str, Any], schema: FieldSchema
) -> list[dict[str, Any]]:
    """The `post_fields` rows of one post's typed values."""
    rows = []
    for name, value in values.items():
        spec = schema.fields[name]
        items = value if spec.is_list else [value]
        for position, item in enumerate(items):
            row: dict[str, Any] = {
                "post_id": post_id,
                "name": name,
                "position": position,
                "value_text": None,
                "value_number": None,
                "value_date": None,
                "value_moment": None,
                "value_bool": None,
            }
            row[f"value_{spec.column}"] = item
            rows.append(row)
    return rows


def json_value(spec: FieldSpec, value: Any) -> Any:
    """A stored value as the API answers it (integers as integers, dates as ISO text)."""
    if value is None:
        return None
    if spec.type == "integer":
        return int(value)
    if spec.type == "number":
        return float(value)
    if spec.type == "boolean":
        return bool(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def spec_from_table(name: str, table: Mapping[str, Any]) -> FieldSpec:
    """A `[fields.NAME]` table as a FieldSpec; ValueError names what is wrong."""
    unknown = set(table) - {"type", "required", "default", "description", "values", "items"}
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
    kind = table.get("type")
    is_list = kind == "list"
    if is_list:
        kind = table.get("items")
        if kind not in SCALAR_TYPES:
            raise ValueError(f"`items` must be one of {', '.join(SCALAR_TYPES)}")
    elif kind not in SCALAR_TYPES:
        raise ValueError(f"`type` must be one of {', '.join(SCALAR_TYPES)} or list")
    values = table.get("values", [])
    if kind == "enum":
        if not values or not all(isinstance(v, str) and v for v in values):
            raise ValueError("an enum needs `values = [...]`, a list of strings")
    elif "values" in table:
        raise ValueError("`values` belongs to enum fields only")
    required = table.get("required", False)
    if not isinstance(required, bool):
        raise ValueError("`required` must be true or false")
    description = table.get("description")
    if description is not None and not isinstance(description, str):
        raise ValueError("`description` must be a string")
    default = table.get("default")
    if isinstance(default, dt.date | dt.datetime):
        default = default.isoformat()
    spec = FieldSpec(
        name=name,
        type=kind,
        is_list=is_list,
        required=required,
        default=default,
        description=description,
        values=tuple(values),
    )
    if default is not None:
        try:
            spec.coerce(default)
        except FieldError as error:
            raise ValueError(f"`default`: {error}") from None
    return spec
