"""Syndication feeds: a page of entries or posts as Atom 1.0 or as JSON Feed 1.1.

Pure functions from query rows to documents; app/api/routes/feeds.py fetches the rows.
Ids are tag: URIs (RFC 4151) made from the stable entry and post ids and from the
filters, and no date comes from the clock: the same content always gives the same feed,
so a reader never sees an item twice and a cached copy revalidates.
"""

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]
from pydantic import BaseModel, Field

from app import __version__
from app.ingest.dates import parse_date_value
from app.queries.entries import EntryFilters

ATOM_MEDIA_TYPE = "application/atom+xml"
JSON_FEED_MEDIA_TYPE = "application/feed+json"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

# The prefix of every id: a constant, never the request's host, so that ids stay the same
# whichever address the API is reached at.
TAG_PREFIX = "tag:learnlog,2023:"
TITLE_LENGTH = 80
UNTITLED = "(untitled)"
WEB_SCHEMES = ("https://", "http://")
# Front matter keys that blog engines use for "last edited" (Jekyll, Hugo, Pelican ...).
UPDATED_KEYS = (
    "updated",
    "last_modified_at",
    "lastmod",
    "modified",
    "last_modified",
    "date_modified",
    "updated_at",
)
# Atom requires a feed date; a feed without items has nothing newer than this.
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# XML 1.0 cannot carry most control characters, which a Markdown file may still hold.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Resource = Literal["entries", "posts"]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry or post, in the terms both feed formats share."""

    id: str
    title: str
    url: str
    content_html: str
    updated: dt.datetime
    published: dt.datetime | None = None
    external_url: str | None = None
    summary: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed of one resource under one set of filters, newest item first."""

    id: str
    title: str
    self_url: str
    list_url: str
    items: list[FeedItem]

    @property
    def updated(self) -> dt.datetime:
        """The newest item's update time: the feed changes when an item does, not per request."""
        return max((item.updated for item in self.items), default=EPOCH)


class JsonFeedItem(BaseModel):
    """One item of a JSON Feed 1.1 document."""

    id: str = Field(description="Permanent id of the item (a tag: URI).")
    url: str = Field(description="API URL of the entry or post.")
    external_url: str | None = Field(
        default=None, description="The page the entry is about: its first link."
    )
    title: str = Field(description="Post title, or the start of the entry's text.")
    content_html: str = Field(description="Sanitized HTML of the entry or post.")
    summary: str | None = Field(default=None, description="The post's excerpt.")
    date_published: dt.datetime | None = Field(
        default=None, description="The post's moment (RFC 3339); absent when undated."
    )
    date_modified: dt.datetime | None = Field(
        default=None, description="Last change: the front matter's update time, else published."
    )
    tags: list[str] | None = Field(default=None, description="Tags of the entry or post.")


class JsonFeed(BaseModel):
    """A JSON Feed 1.1 document (https://jsonfeed.org/version/1.1)."""

    version: str = Field(default=JSON_FEED_VERSION, description="The JSON Feed version URL.")
    title: str = Field(description="What the feed holds: the resource and its filters.")
    feed_url: str = Field(description="The URL this feed was read from.")
    items: list[JsonFeedItem] = Field(description="Newest first.")


def entry_feed(
    rows: Iterable[Mapping[str, Any]],
    post_facts: Mapping[int, Mapping[str, Any]],
    *,
    filters: EntryFilters,
    base_url: str,
    self_url: str,
) -> Feed:
    """A feed of hydrated entry rows; `post_facts` holds front matter and load time per post."""
    items = [_entry_item(row, post_facts.get(row["post_id"], {}), base_url) for row in rows]
    return _feed("entries", filters, base_url, self_url, items)


def post_feed(
    rows: Iterable[Mapping[str, Any]],
    post_facts: Mapping[int, Mapping[str, Any]],
    *,
    filters: EntryFilters,
    base_url: str,
    self_url: str,
) -> Feed:
    """A feed of post rows; `post_facts` holds front matter, load time and HTML per post."""
    items = [_post_item(row, post_facts.get(row["id"], {}), base_url) for row in rows]
    return _feed("posts", filters, base_url, self_url, items)


def atom_bytes(feed: Feed) -> bytes:
    """The feed as an Atom 1.0 document (UTF-8 XML)."""
    fg = FeedGenerator()
    fg.id(_xml(feed.id))
    fg.title(_xml(feed.title) or UNTITLED)
    fg.updated(feed.updated)
    fg.link(href=_xml(feed.self_url), rel="self", type=ATOM_MEDIA_TYPE)
    fg.link(href=_xml(feed.list_url), rel="alternate")
    # Atom requires an author for the feed or for every entry; the logs name none reliably.
    fg.author(name="learnlog")
    fg.generator("learnlog", version=__version__)
    for item in feed.items:
        entry = fg.add_entry(order="append")
        entry.id(item.id)
        entry.title(_xml(item.title) or UNTITLED)
        entry.updated(item.updated)
        if item.published is not None:
            entry.published(item.published)
        # One link only: feedgen 1.0 writes entry links without their `rel`, which makes
        # every link an alternate, and Atom allows one alternate per type.
        entry.link(href=_xml(item.url))
        entry.content(_xml(item.content_html), type="html")
        if item.summary:
            entry.summary(_xml(item.summary))
        for tag in item.tags:
            entry.category(term=_xml(tag))
    document: bytes = fg.atom_str(pretty=True)
    return document


def json_feed(feed: Feed) -> JsonFeed:
    """The feed as a JSON Feed 1.1 model."""
    return JsonFeed(
        title=feed.title,
        feed_url=feed.self_url,
        items=[
            JsonFeedItem(
                id=item.id,
                url=item.url,
                external_url=item.external_url,
                title=item.title,
                content_html=item.content_html,
                summary=item.summary,
                date_published=item.published,
                date_modified=item.updated,
                tags=list(item.tags) or None,
            )
            for item in feed.items
        ],
    )


def feed_title(resource: Resource, filters: EntryFilters) -> str:
    """`learnlog entries`, followed by the filters in words: `learnlog entries: domain genai`."""
    parts = []
    for name, values in _grouped_params(filters):
        if name == "q":
            parts.append(f'matching "{values[0]}"')
        elif name == "include_drafts":
            parts.append("drafts included")
        else:
            parts.append(f"{name.replace('_', ' ')} {' or '.join(values)}")
    return f"learnlog {resource}: {', '.join(parts)}" if parts else f"learnlog {resource}"


def _feed(
    resource: Resource,
    filters: EntryFilters,
    base_url: str,
    self_url: str,
    items: list[FeedItem],
) -> Feed:
    """Wrap items with the feed's id, title and links, all derived from the filters."""
    query = urlencode(_filter_params(filters), quote_via=quote, safe="")
    suffix = f"?{query}" if query else ""
    return Feed(
        id=f"{TAG_PREFIX}feeds/{resource}{suffix}",
        title=feed_title(resource, filters),
        self_url=self_url,
        list_url=f"{base_url}{resource}{suffix}",
        items=items,
    )


def _grouped_params(filters: EntryFilters) -> list[tuple[str, list[str]]]:
    """The filters as (parameter, sorted values), in a fixed order: the same filter, one id."""
    grouped: list[tuple[str, list[str]]] = [
        (name, sorted(values))
        for name, values in (
            ("domain", filters.domain),
            ("tag", filters.tag),
            ("category", filters.category),
            ("post", filters.post),
            ("host", filters.host),
            ("link_kind", filters.link_kind),
        )
        if values
    ]
    for name, bound in (("from", filters.date_from), ("to", filters.date_to)):
        if bound is not None:
            grouped.append((name, [bound.isoformat()]))
    if filters.q:
        grouped.append(("q", [filters.q]))
    if filters.include_drafts:
        grouped.append(("include_drafts", ["true"]))
    return grouped


def _filter_params(filters: EntryFilters) -> list[tuple[str, str]]:
    """The filters as query parameters, in their canonical order."""
    return [(name, value) for name, values in _grouped_params(filters) for value in values]


def _entry_item(row: Mapping[str, Any], facts: Mapping[str, Any], base_url: str) -> FeedItem:
    """A hydrated entry row as a feed item, titled by the start of its text."""
    published = _published(row["date"], row["published_at"])
    # Relative and mailto: links name no page a reader could open on its own.
    external = (link["url"] for link in row["links"] if link["url"].startswith(WEB_SCHEMES))
    return FeedItem(
        id=f"{TAG_PREFIX}entries/{row['id']}",
        title=_headline(row["text"]) or row["section"] or row["post"]["title"],
        url=f"{base_url}entries/{row['id']}",
        content_html=row["html"],
        updated=_updated(published, facts),
        published=published,
        external_url=next(external, None),
        tags=tuple(row["tags"]),
    )


def _post_item(row: Mapping[str, Any], facts: Mapping[str, Any], base_url: str) -> FeedItem:
    """A post row (with its HTML in `facts`) as a feed item."""
    published = _published(row["date"], row["published_at"])
    return FeedItem(
        id=f"{TAG_PREFIX}posts/{row['id']}",
        title=row["title"],
        url=f"{base_url}posts/{quote(row['slug'], safe='')}",
        content_html=facts.get("html") or "",
        updated=_updated(published, facts),
        published=published,
        summary=row["excerpt"],
        tags=tuple(row["tags"]),
    )


def _headline(text: str) -> str:
    """The start of an entry's text on one line, cut at a word near TITLE_LENGTH characters."""
    line = " ".join(_NOT_XML.sub(" ", text).split())
    if len(line) <= TITLE_LENGTH:
        return line
    cut = line[: TITLE_LENGTH - 1]
    space = cut.rfind(" ")
    if space > TITLE_LENGTH // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def _utc(moment: dt.datetime) -> dt.datetime:
    """A stored moment in UTC (the database may hand it back without a zone)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _published(day: dt.date | None, moment: dt.datetime | None) -> dt.datetime | None:
    """The post's moment, else its calendar date at 00:00 UTC, else None (undated)."""
    if moment is not None:
        return _utc(moment)
    if day is not None:
        return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return None


def _updated(published: dt.datetime | None, facts: Mapping[str, Any]) -> dt.datetime:
    """When an item last changed: the front matter's update time if later, else published.

    An undated post has no publication time; the moment it was loaded is the best answer
    there is, and it stays the same until the file changes.
    """
    edited = _front_matter_update(facts.get("front_matter"))
    if published is not None:
        return max(published, edited) if edited is not None else published
    if edited is not None:
        return edited
    loaded = facts.get("ingested_at")
    return _utc(loaded) if isinstance(loaded, dt.datetime) else EPOCH


def _front_matter_update(front_matter: Any) -> dt.datetime | None:
    """The first readable update time among UPDATED_KEYS (keys as written, any case)."""
    if not isinstance(front_matter, Mapping):
        return None
    by_key = {str(key).lower(): value for key, value in front_matter.items()}
    for key in UPDATED_KEYS:
        value = by_key.get(key)
        if value is None or value == "":
            continue
        try:
            return parse_date_value(value).moment
        except (ValueError, OverflowError):
            continue  # an unreadable update time is ignored rather than failing the feed
    return None


def _xml(text: str) -> str:
    """`text` without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", text)
