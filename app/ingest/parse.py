"""Parse one post: normalised text in, ParsedPost out (or ParseError). Pure: no I/O.

Front matter keys learnlog uses (title, date, tags, categories, excerpt, draft state) are
read case-insensitively and validated here; every key the author wrote is kept as JSON.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

from app.ingest import PARSER_VERSION
from app.ingest.body import ParsedEntry, ParsedLink, ParsedSection, fold_deep_lists, parse_body
from app.ingest.dates import date_from_filename, filename_date_prefix_length, parse_date_value
from app.ingest.front_matter import key_lines, split_front_matter
from app.ingest.identity import slug_of
from app.ingest.links import host_of, is_storable, kind_of, link_facts, url_key
from app.ingest.problems import Problem
from app.notes.names import logseq_page_name, note_names
from app.render import block_rules_by_first_char, new_markdown, render

if TYPE_CHECKING:
    from app.ingest.rows import PostRows

__all__ = ["PARSER_VERSION", "ParsedPost", "parse_post"]

DRAFT_FOLDERS = {"_drafts", "draft", "drafts"}
_FALSE = {"false", "no", "off", "0"}
_TRUE = {"true", "yes", "on", "1"}


@dataclass(slots=True)
class ParsedPost:
    """Everything one file yields, ready for the database."""

    title: str
    date: dt.date | None
    published_at: dt.datetime | None
    date_text: str | None
    # The excerpt as plain text, and rendered as entries are.
    excerpt: str | None
    is_draft: bool
    front_matter: dict[str, Any]
    front_matter_format: str
    tags: list[str]
    categories: list[str]
    html: str
    body_line: int
    sections: list[ParsedSection]
    entries: list[ParsedEntry]
    links: list[ParsedLink]
    folded: int = 0
    warnings: list[Problem] = field(default_factory=list)
    # (name key, rank) pairs internal links find this post by (app/notes/names.py).
    names: list[tuple[str, int]] = field(default_factory=list)
    # Site-engine syntax removed from the text (the run warns about each name once).
    removed_syntax: list[str] = field(default_factory=list)
    excerpt_html: str | None = None
    # {slug: the name as first written} of `tags` and `categories`.
    tag_names: dict[str, str] = field(default_factory=dict)
    category_names: dict[str, str] = field(default_factory=dict)
    # The post's rows when the process that parsed it built them (app/ingest/rows.py):
    # its sections, entries, links and names are then in them, no longer here.
    rows: "PostRows | None" = None


# Dialects whose files are notes (their file names are titles).
_PARSER_DIALECTS = {"obsidian", "logseq"}


@lru_cache(maxsize=8)
def _markdown(dialect: str = "plain", site_url: str = "") -> MarkdownIt:
    """The parser this process uses for `dialect` and the site's URL (built once;
    instances are reusable)."""
    return block_rules_by_first_char(fold_deep_lists(new_markdown(dialect, site_url)), dialect)


def parse_post(text: str, path: str, dialect: str = "plain", site_url: str = "") -> ParsedPost:
    """Parse normalised `text` of the file at relative `path` in a folder of `dialect`
    (a site's template links made absolute with `site_url` when given);
    raise ParseError if impossible."""
    fm = split_front_matter(text)
    meta = {key.lower(): value for key, value in fm.data.items()}
    warnings = list(fm.warnings)
    body = parse_body(_markdown(dialect, site_url), fm.body, fm.body_line, path, dialect)
    warnings.extend(body.warnings)

    stem = PurePosixPath(path).stem
    day, moment, date_text = _post_date(meta, stem, warnings)
    if not text.strip():
        warnings.append(Problem("empty file: stored as an empty post"))
    title = (
        _text_value(meta.get("title"))
        or body.opening_title
        or _title_from_name(path, stem, dialect)
    )
    md = _markdown(dialect, site_url)
    excerpt_key = next((k for k in fm.data if str(k).lower() in _EXCERPT_KEYS and fm.data[k]), None)
    excerpt, excerpt_html, excerpt_links = _excerpt(
        md, _text_value(fm.data[excerpt_key]) if excerpt_key is not None else None
    )
    tags = _terms(meta.get("tags"), split_spaces=False)
    categories = _categories(meta)
    return ParsedPost(
        title=title,
        date=day,
        published_at=moment,
        date_text=date_text,
        excerpt=excerpt,
        excerpt_html=excerpt_html,
        is_draft=_is_draft(meta, path),
        front_matter=fm.data,
        front_matter_format=fm.format,
        tags=list(tags),
        tag_names=tags,
        categories=list(categories),
        category_names=categories,
        html=body.html,
        body_line=fm.body_line,
        sections=body.sections,
        entries=body.entries,
        # After the body's links, so that theirs keep their positions (and ids).
        links=[
            *body.links,
            *_front_matter_links(fm.data, text),
            *_placed(excerpt_links, excerpt_key, text),
        ],
        folded=body.folded,
        warnings=warnings,
        names=note_names(path, dialect, meta),
        removed_syntax=body.removed_syntax,
    )


def _post_date(
    meta: dict[str, Any], stem: str, warnings: list[Problem]
) -> tuple[dt.date | None, dt.datetime | None, str | None]:
    """Front matter date first (as in Jekyll), else the file name; warn on disagreement."""
    from_name = date_from_filename(stem)
    raw = meta.get("date")
    if raw is not None and raw != "":
        try:
            parsed = parse_date_value(raw)
        except ValueError:
            warnings.append(Problem(f"front matter date {raw!r} is not a valid date", 1))
        else:
            if from_name is not None and from_name != parsed.day:
                warnings.append(
                    Problem(
                        f"date in the file name ({from_name.isoformat()}) disagrees with the "
                        f"front matter date ({parsed.day.isoformat()}); the front matter wins",
                        1,
                    )
                )
            return parsed.day, parsed.moment, str(raw)
    if from_name is not None:
        moment = dt.datetime.combine(from_name, dt.time(), tzinfo=dt.UTC)
        return from_name, moment, None
    warnings.append(Problem("no date in the front matter or the file name: the post is undated"))
    return None, None, None


def _text_value(value: Any) -> str | None:
    """A front matter value as one line of text, or None when it is empty or not text."""
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    if value is None or isinstance(value, dict):
        return None
    text = " ".join(str(value).split())
    return text or None


def _title_from_name(path: str, stem: str, dialect: str) -> str:
    """The file name as written (`Open-Tabs` stays so; a Logseq `a___b` is `a/b`); outside
    note apps a Jekyll-style dated name loses its date and its hyphens:
    `2015-6-4-mongo-vs-rethink` -> `mongo vs rethink`."""
    # In a note app the file name is the title, a daily note's date included.
    prefix = 0 if dialect in _PARSER_DIALECTS else filename_date_prefix_length(stem)
    if dialect == "logseq":
        name = logseq_page_name(path)
    elif prefix and stem[prefix:]:
        name = unquote(stem[prefix:]).replace("-", " ").replace("_", " ")
    else:
        name = unquote(stem)
    return " ".join(name.split()) or stem


def _terms(value: Any, *, split_spaces: bool) -> dict[str, str]:
    """{slug: name as written} of tags or categories from a list, a comma string or
    (Jekyll) a space separated string; the first spelling of a slug names it."""
    if value is None or isinstance(value, bool | dict):
        return {}
    items: list[Any] = value if isinstance(value, list) else [value]
    terms: dict[str, str] = {}
    for item in items:
        if isinstance(item, list | dict):
            continue
        text = str(item)
        pieces = text.split(",") if "," in text else text.split() if split_spaces else [text]
        for piece in pieces:
            name = " ".join(piece.strip().strip("#").replace("[[", "").replace("]]", "").split())
            slug = slug_of(name)
            if slug and slug not in terms:
                terms[slug] = name
    return terms


def _categories(meta: dict[str, Any]) -> dict[str, str]:
    """`categories` may be space separated (Jekyll); a singular `category` is one value."""
    found = _terms(meta.get("categories"), split_spaces=True)
    for slug, name in _terms(meta.get("category"), split_spaces=False).items():
        found.setdefault(slug, name)
    return found


# Characters that may make an excerpt more than plain text: Markdown, HTML, entities,
# template syntax, a bare URL (linkify). An excerpt without any is served as written.
_MARKUP = re.compile(r"[*_`\\[\]<>&!~{}|#]|://|www\.")


# Front-matter keys read as the post's excerpt, in order of preference.
_EXCERPT_KEYS = ("excerpt", "summary", "description")


def _excerpt(md: MarkdownIt, text: str | None) -> tuple[str | None, str | None, list[ParsedLink]]:
    """The excerpt as plain text, as sanitized HTML and its links, read by the body's
    parser as one paragraph (an excerpt is one line: `# ` or `1. ` at its start is no
    heading or list). A reader of the page sees its links, so they are the post's too."""
    if text is None:
        return None, None, []
    if not _MARKUP.search(text):
        return text, f"<p>{escapeHtml(text)}</p>\n", []
    env: dict[str, object] = {}
    tokens = md.parseInline(text, env)
    inline = tokens[0].children or [] if tokens else []
    plain = " ".join(_inline_text(inline).split())
    opening = Token("paragraph_open", "p", 1, block=True)
    closing = Token("paragraph_close", "p", -1, block=True)
    return plain or None, render(md, [opening, *tokens, closing]), _inline_links(inline)


def _inline_links(children: list[Token]) -> list[ParsedLink]:
    """Storable links of inline tokens, each with its anchor text (no entry, no line yet)."""
    links: list[ParsedLink] = []
    anchor: tuple[str, list[Token]] | None = None
    for child in children:
        if child.type == "link_open":
            anchor = (str(child.attrs.get("href", "")), [])
        elif child.type == "link_close" and anchor is not None:
            url, inside = anchor
            anchor = None
            if is_storable(url):
                host, kind, key = link_facts(url)
                text = " ".join(_inline_text(inside).split()) or url
                links.append(ParsedLink(None, url, text, host, kind, 1, key))
        elif anchor is not None:
            anchor[1].append(child)
    return links


def _placed(links: list[ParsedLink], key: str | None, text: str) -> list[ParsedLink]:
    """Links of the front-matter value under `key`, on that key's line."""
    if not links or key is None:
        return []
    line = key_lines(text).get(key, 1)
    for link in links:
        link.line = line
        link.origin = "front_matter"
    return links


def _inline_text(children: list[Token]) -> str:
    """The text a reader sees of inline tokens (as an entry's text is read)."""
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline", "image", "wikilink", "note_tag"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


# Keys learnlog reads as something else (an excerpt's links are part of its HTML).
_NOT_LINK_KEYS = {"title", "date", "excerpt", "summary", "description", "tags", "categories"}
_IMAGE_KEYS = {"image", "cover", "thumbnail", "banner", "featured_image", "og_image", "hero"}
_IMAGE_PATH = re.compile(r"\.(?:png|jpe?g|gif|webp|svg|avif)$", re.IGNORECASE)


def _front_matter_links(data: dict[str, Any], text: str) -> list[ParsedLink]:
    """URLs given as top-level front-matter values (`repo:`, `url::`, a list of them):
    links of the post, with no entry, the key as their text and the key's line."""
    links: list[ParsedLink] = []
    lines: dict[str, int] | None = None
    for key, value in data.items():
        if not isinstance(key, str) or key.lower() in _NOT_LINK_KEYS:
            continue
        values = value if isinstance(value, list) else [value]
        urls = [url for item in values if (url := _absolute_url(item)) is not None]
        if not urls:
            continue
        if lines is None:
            lines = key_lines(text)
        for url in urls:
            host = host_of(url)
            image = key.lower() in _IMAGE_KEYS or _IMAGE_PATH.search(url.partition("?")[0])
            kind = "image" if image else kind_of(url, host)
            links.append(
                ParsedLink(
                    None,
                    url,
                    key,
                    host,
                    kind,
                    lines.get(key, 1),
                    url_key(url),
                    origin="front_matter",
                )
            )
    return links


def _absolute_url(value: Any) -> str | None:
    """`value` when it is one absolute http(s) URL with a host, else None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url[:8].lower().startswith(("http://", "https://")) or any(c.isspace() for c in url):
        return None
    return url if host_of(url) is not None else None


def _is_draft(meta: dict[str, Any], path: str) -> bool:
    """Under a drafts folder, or marked `published: false`, `draft: true` or `status: draft`."""
    if DRAFT_FOLDERS & set(PurePosixPath(path).parts[:-1]):
        return True
    published = str(meta.get("published", "")).strip().lower()
    draft = str(meta.get("draft", "")).strip().lower()
    status = str(meta.get("status", "")).strip().lower()
    return published in _FALSE or draft in _TRUE or status == "draft"
