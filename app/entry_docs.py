"""Entry documents: one entry's answer, mostly stored as JSON by the ingest, served as-is.

A page of /entries then costs one read of its rows instead of five joins, and little
JSON encoding. The ingest stores, per entry, `doc`: the members of the answer around its
text and HTML (`"section"`, `"entry_kind"` | `"tags"`, `"links"`, `"parent_id"`) as two
JSON fragments without braces, and `domain_path`: the heading slugs of its section path. What can
change without the entry's file changing is added when serving: the post's slug and
title (slugs move when collisions come and go), the domains (heading slugs pass through
the aliases file) and the edit URL (a setting). `Splicer` must give exactly what
`app.schemas.EntryOut` gives for the same entry; a test compares the two.
"""

import datetime as dt
from typing import Any
from urllib.parse import quote

import orjson

# Separates heading slugs in `entries.domain_path` (slugs never contain it).
PATH_SEPARATOR = "/"
# Separates the two fragments of `entries.doc` (JSON escapes it inside strings).
DOC_SEPARATOR = "\x1e"


def build_doc(
    *,
    section: str,
    kind: str,
    tags: list[str],
    post_tags: list[str],
    links: list[dict[str, Any]],
    parent_id: int | None,
) -> str:
    """The stored fragments of one entry (tags: its own, then its post's, each once).

    Two JSON fragments joined by DOC_SEPARATOR: the members before the entry's text
    and HTML, and those after; text and HTML stay in their own columns, not copied.
    """
    own = sorted(set(tags))
    merged = own + [tag for tag in sorted(set(post_tags)) if tag not in own]
    head = orjson.dumps({"section": section, "entry_kind": kind}).decode()[1:-1]
    tail = orjson.dumps({"tags": merged, "links": links, "parent_id": parent_id}).decode()
    return head + DOC_SEPARATOR + tail[1:-1]


def domain_path(heading_slugs: list[str]) -> str:
    """The stored heading slug path, outermost first."""
    return PATH_SEPARATOR.join(heading_slugs)


class Splicer:
    """Turns stored rows into answer JSON, caching the pieces many entries share."""

    def __init__(
        self,
        posts: dict[int, tuple[str, str, str]],
        aliases: dict[str, str],
        edit_url_template: str | None,
    ) -> None:
        self.posts = posts
        self.aliases = aliases
        self.template = edit_url_template
        self._post_json: dict[int, tuple[bytes, bytes, str]] = {}
        self._domains_json: dict[str, bytes] = {}

    def entry(
        self,
        entry_id: int,
        date: dt.date | None,
        post_id: int,
        line: int,
        path: str,
        doc: str,
        text: str,
        html: str,
    ) -> bytes:
        """One entry as /entries answers it, members in the order of EntryOut's fields."""
        post, source_path, raw_path = self._post(post_id)
        head, _, tail = doc.partition(DOC_SEPARATOR)
        domains = self._domains_json.get(path)
        if domains is None:
            slugs = [self.aliases.get(s, s) for s in path.split(PATH_SEPARATOR) if s]
            domains = self._domains_json[path] = orjson.dumps(slugs)
        day = b'"' + date.isoformat().encode() + b'"' if date else b"null"
        edit = b"null"
        if self.template:
            edit = orjson.dumps(self.template.format(path=quote(raw_path), line=line))
        return b"".join(
            (
                b'{"id":%d,"post":%s,"date":%s,"domains":%s,' % (entry_id, post, day, domains),
                head.encode(),
                b',"text":%s,"html":%s,' % (orjson.dumps(text), orjson.dumps(html)),
                tail.encode(),
                b',"source":{"path":%s,"line":%d,"edit_url":%s}}' % (source_path, line, edit),
            )
        )

    def _post(self, post_id: int) -> tuple[bytes, bytes, str]:
        found = self._post_json.get(post_id)
        if found is None:
            slug, title, path = self.posts[post_id]
            found = (orjson.dumps({"slug": slug, "title": title}), orjson.dumps(path), path)
            self._post_json[post_id] = found
        return found
