"""Read-side SQL for /entries/{id}/related: entries citing the same URL, sharing an inline
tag, or saying similar things, each with the reasons it was picked."""

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, false, select

from app.models import ENTRIES, ENTRY_TAGS, LINKS
from app.queries.entries import entries_by_id
from app.queries.search import ranked
from app.search_syntax import similarity_query

Reason = dict[str, str]


def related_entries(
    conn: Connection, entry: dict[str, Any], aliases: dict[str, str], *, limit: int
) -> list[tuple[dict[str, Any], list[Reason]]]:
    """Up to `limit` published entries related to `entry`, strongest reasons first.

    Same URL (a link with the same normalized address) ranks above a shared inline tag,
    which ranks above text similarity (full-text match on the entry's most telling
    words); within a reason, newest first (similarity: best match first). An entry
    picked for several reasons is listed once with all of them.
    """
    e = ENTRIES.c
    own_id = entry["id"]
    others = [e.id != own_id, e.is_draft == false()]
    newest = (e.date.desc().nulls_last(), e.post_id.desc(), e.position)
    reasons: dict[int, list[Reason]] = defaultdict(list)

    keys = select(LINKS.c.url_key).where(LINKS.c.entry_id == own_id, LINKS.c.url_key != "")
    same_url = (
        select(e.id, LINKS.c.url)
        .select_from(LINKS.join(ENTRIES, e.id == LINKS.c.entry_id))
        .where(LINKS.c.url_key.in_(keys), *others)
        .order_by(*newest)
        .limit(limit * 4)
    )
    for entry_id, url in conn.execute(same_url):
        if not any(r["detail"] == url for r in reasons[entry_id]):
            reasons[entry_id].append({"kind": "same_url", "detail": url})

    tags = select(ENTRY_TAGS.c.tag).where(ENTRY_TAGS.c.entry_id == own_id)
    shared_tag = (
        select(e.id, ENTRY_TAGS.c.tag)
        .select_from(ENTRY_TAGS.join(ENTRIES, e.id == ENTRY_TAGS.c.entry_id))
        .where(ENTRY_TAGS.c.tag.in_(tags), *others)
        .order_by(*newest)
        .limit(limit * 4)
    )
    for entry_id, tag in conn.execute(shared_tag):
        reasons[entry_id].append({"kind": "shared_tag", "detail": tag})

    query = similarity_query(entry["text"])
    if query is not None:
        for hit in ranked(conn, "entries", query, others, limit=limit, offset=0):
            reasons[hit.id].append({"kind": "similar_text", "detail": hit.snippet})

    rank = {"same_url": 0, "shared_tag": 1, "similar_text": 2}
    order = sorted(reasons, key=lambda i: rank[reasons[i][0]["kind"]])[:limit]
    found = entries_by_id(conn, order, aliases)
    return [(found[i], reasons[i]) for i in order if i in found]
