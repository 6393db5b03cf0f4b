"""Entry documents: one entry's answer fields, stored as JSON by the ingest, served as-is.

A page of /entries then costs one read of its rows instead of five joins. What can change
without the entry's file changing stays out of the document and is added when serving:
the post's slug and title (slugs move when collisions come and go), the domains (heading
slugs pass through the aliases file) and the edit URL (a setting). `entry_answer` must
give exactly what `app.schemas.EntryOut` gives for the same entry; a test compares them.
"""

import datetime as dt
from typing import Any
from urllib.parse import quote

import orjson


def build_doc(
    *,
    section: str,
    kind: str,
    text: str,
    html: str,
    tags: list[str],
    post_tags: list[str],
    links: list[dict[str, Any]],
    parent_id: int | None,
    line: int,
    heading_slugs: list[str],
) -> str:
    """The stored document of one entry (tags: its own, then its post's, each once)."""
    own = sorted(set(tags))
    merged = own + [tag for tag in sorted(set(post_tags)) if tag not in own]
    return orjson.dumps(
        {
            "section": section,
            "entry_kind": kind,
            "text": text,
            "html": html,
            "tags": merged,
            "links": links,
            "parent_id": parent_id,
            "line": line,
            "headings": heading_slugs,
        }
    ).decode()


def entry_answer(
    *,
    entry_id: int,
    date: dt.date | None,
    doc: dict[str, Any],
    post: tuple[str, str, str],
    aliases: dict[str, str],
    edit_url_template: str | None,
) -> dict[str, Any]:
    """One entry as /entries answers it, keys in the order of EntryOut's fields."""
    slug, title, path = post
    line = doc["line"]
    edit_url = edit_url_template.format(path=quote(path), line=line) if edit_url_template else None
    return {
        "id": entry_id,
        "post": {"slug": slug, "title": title},
        "date": date.isoformat() if date else None,
        "domains": [aliases.get(heading, heading) for heading in doc["headings"]],
        "section": doc["section"],
        "entry_kind": doc["entry_kind"],
        "text": doc["text"],
        "html": doc["html"],
        "tags": doc["tags"],
        "links": doc["links"],
        "parent_id": doc["parent_id"],
        "source": {"path": path, "line": line, "edit_url": edit_url},
    }
