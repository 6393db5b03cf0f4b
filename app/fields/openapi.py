"""The OpenAPI document typed for one folder's declared fields (`learnlog openapi FOLDER`).

The served document cannot know the fields of folders not yet ingested, so it declares
`data` as an open object; generated clients type it from this one instead: each field
with its JSON type (an enum's values, a date's format), and its filters as parameters.
"""

import copy
from typing import Any

from app.fields.query import ORDERED_OPS, ORDERED_TYPES, PREFIX
from app.fields.schema import FieldSchema, FieldSpec

_JSON_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "url": {"type": "string", "format": "uri"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}
# The operations whose items carry `data` or filter on it.
_FILTERED = {
    "/posts",
    "/entries",
    "/feeds/entries.atom",
    "/feeds/entries.json",
    "/feeds/posts.atom",
    "/feeds/posts.json",
}


def value_schema(spec: FieldSpec) -> dict[str, Any]:
    """The JSON Schema of one value of `spec` (a list of them for list fields)."""
    one = (
        {"type": "string", "enum": list(spec.values)}
        if spec.type == "enum"
        else dict(_JSON_TYPES[spec.type])
    )
    typed = {"type": "array", "items": one} if spec.is_list else one
    if spec.description:
        typed["description"] = spec.description
    return typed


def typed_document(document: dict[str, Any], schema: FieldSchema) -> dict[str, Any]:
    """A copy of `document` with `PostData` typed and `data.*` filters declared."""
    typed = copy.deepcopy(document)
    data = typed["components"]["schemas"]["PostData"]
    data["properties"] = {name: value_schema(spec) for name, spec in schema.fields.items()}
    data["additionalProperties"] = False
    for path in _FILTERED:
        operation = typed["paths"].get(path, {}).get("get")
        if operation is not None:
            operation.setdefault("parameters", []).extend(_filter_parameters(schema))
    return typed


def _filter_parameters(schema: FieldSchema) -> list[dict[str, Any]]:
    """Query parameters for the declared fields' filters."""
    parameters = []
    for name, spec in schema.fields.items():
        one = value_schema(FieldSpec(name, spec.type, values=spec.values))
        ops: list[tuple[str, dict[str, Any], str]] = [
            ("", {"type": "array", "items": one}, "equals (any of several when repeated)"),
            ("in", {"type": "string"}, "any of a comma-separated list"),
            ("exists", {"type": "boolean"}, "has a valid value (true) or not (false)"),
        ]
        if spec.type in ORDERED_TYPES:
            ops += [(op, one, op) for op in ORDERED_OPS]
        for op, param_schema, meaning in ops:
            parameters.append(
                {
                    "name": PREFIX + name + (f".{op}" if op else ""),
                    "in": "query",
                    "required": False,
                    "schema": param_schema,
                    "description": f"`{name}` {meaning}.",
                }
            )
    return parameters
