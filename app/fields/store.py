"""Reading declared fields back: the schema in force and each post's `data`."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from app.fields.schema import FieldSchema, json_value, merged
from app.models import FIELD_SCHEMAS, POST_FIELDS


def schema_in_force(conn: Connection) -> FieldSchema:
    """The fields declared by the folders' last ingests, together (empty when none)."""
    rows = conn.execute(select(FIELD_SCHEMAS.c.declared).order_by(FIELD_SCHEMAS.c.root)).all()
    return merged([FieldSchema.from_dict(row.declared or {}) for row in rows])


def post_data(
    conn: Connection, post_ids: Iterable[int], schema: FieldSchema
) -> dict[int, dict[str, Any]]:
    """{post id: {field: typed value}} for the posts' declared fields, in one query."""
    ids = list(post_ids)
    found: dict[int, dict[str, Any]] = defaultdict(dict)
    if not ids or not schema:
        return found
    f = POST_FIELDS.c
    query = (
        select(
            f.post_id,
            f.name,
            f.value_text,
            f.value_number,
            f.value_date,
            f.value_moment,
            f.value_bool,
        )
        .where(f.post_id.in_(ids))
        .order_by(f.post_id, f.name, f.position)
    )
    for row in conn.execute(query):
        spec = schema.fields.get(row.name)
        if spec is None:  # declared by a folder whose schema a later ingest replaced
            continue
        value = json_value(spec, getattr(row, f"value_{spec.column}"))
        if spec.is_list:
            found[row.post_id].setdefault(row.name, []).append(value)
        else:
            found[row.post_id][row.name] = value
    return found
