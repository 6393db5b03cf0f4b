"""The API contract: every response shape, with a description on every field."""

import datetime as dt
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """The list envelope every collection shares."""

    items: list[T] = Field(description="This page of results.")
    next: str | None = Field(
        description="URL of the next page (also in the `Link: rel=next` header); null on the last."
    )
    total: int | None = Field(
        description="Number of results over all pages; null when there are more than 10,000."
    )


class PostRef(BaseModel):
    """The post an entry or link belongs to."""

    slug: str = Field(description="Public slug of the post.", examples=["2023-12-24-learning-logs"])
    title: str = Field(description="Post title.", examples=["Learning Logs: 2023-12-24"])


class LinkOut(BaseModel):
    """A link inside an entry."""

    url: str = Field(description="Target URL.", examples=["https://arxiv.org/pdf/2310.07704.pdf"])
    text: str = Field(description="Anchor text.", examples=["Ferret"])
    host: str | None = Field(
        description="Host, lowercased, without `www.`.", examples=["arxiv.org"]
    )
    link_kind: str = Field(
        description="paper, code, model, video, social, email, internal or article.",
        examples=["paper"],
    )


class SourceRef(BaseModel):
    """Where something was written."""

    path: str = Field(
        description="Path inside its content folder.", examples=["2023-12-24-learning-logs.md"]
    )
    line: int = Field(description="1-based line in that file.", examples=[18])


class EntryOut(BaseModel):
    """One list item or paragraph."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 4503599627370497,
                    "post": {
                        "slug": "2023-12-24-learning-logs",
                        "title": "Learning Logs: 2023-12-24",
                    },
                    "date": "2023-12-24",
                    "domains": ["machine-learning", "genai"],
                    "section": "GenAI",
                    "entry_kind": "item",
                    "text": "Ferret from Apple, 7B/13B multi-modal LLM which enables any-form "
                    "referring and grounding into a single model.",
                    "html": '<a href="https://arxiv.org/pdf/2310.07704.pdf">Ferret</a> from Apple, '
                    "7B/13B multi-modal LLM ...",
                    "tags": [],
                    "links": [
                        {
                            "url": "https://arxiv.org/pdf/2310.07704.pdf",
                            "text": "Ferret",
                            "host": "arxiv.org",
                            "link_kind": "paper",
                        }
                    ],
                    "parent_id": 4503599627370496,
                    "source": {"path": "2023-12-24-learning-logs.md", "line": 18},
                }
            ]
        }
    )

    id: int = Field(description="Stable id (unchanged while the file and position are).")
    post: PostRef = Field(description="The post the entry is in.")
    date: dt.date | None = Field(description="The post's calendar date; null when undated.")
    domains: list[str] = Field(description="Domain slugs of the section path, outermost first.")
    section: str = Field(description="Heading text of the entry's section ('' for the preamble).")
    entry_kind: str = Field(description="item, paragraph, table or html.")
    text: str = Field(description="Plain text, without the text of child entries.")
    html: str = Field(description="Sanitized HTML of the entry, safe for innerHTML.")
    tags: list[str] = Field(description="Inline markers of the entry plus its post's tags.")
    links: list[LinkOut] = Field(description="Links in the entry, in order.")
    parent_id: int | None = Field(description="Id of the enclosing list entry, if nested.")
    source: SourceRef = Field(description="Where the entry was written.")


class SectionOut(BaseModel):
    """A section of a post with its entries and subsections."""

    heading: str = Field(description="Heading text ('' for the preamble).")
    domain: str | None = Field(description="Domain slug (aliases applied); null for the preamble.")
    level: int = Field(description="Heading level as written (0 for the preamble).")
    line: int = Field(description="Line of the heading.")
    entries: list[EntryOut] = Field(description="Entries directly in this section.")
    sections: list["SectionOut"] = Field(description="Nested sections.")


class PostSummary(BaseModel):
    """A post in a list."""

    slug: str = Field(description="Public slug.", examples=["2023-12-24-learning-logs"])
    title: str = Field(description="Title.", examples=["Learning Logs: 2023-12-24"])
    date: dt.date | None = Field(description="Calendar date as written; null when undated.")
    published_at: dt.datetime | None = Field(description="The post's moment in UTC.")
    excerpt: str | None = Field(description="Excerpt or summary from the front matter.")
    tags: list[str] = Field(description="Tags from the front matter.")
    categories: list[str] = Field(description="Categories from the front matter.")
    is_draft: bool = Field(description="True for drafts (listed only with include_drafts).")
    entry_count: int = Field(description="Number of entries.")
    source: SourceRef = Field(description="Where the post lives.")


class PostDetail(PostSummary):
    """A whole post: front matter, rendered HTML, and the section tree with entries."""

    front_matter: dict[str, Any] = Field(description="Every front matter key as written.")
    html: str = Field(description="Sanitized HTML of the body.")
    sections: list[SectionOut] = Field(description="Top-level sections, each with its tree.")


class DomainOut(BaseModel):
    """A domain with its subdomains."""

    slug: str = Field(description="Domain slug.", examples=["genai"])
    headings: list[str] = Field(description="Heading spellings seen for it.", examples=[["GenAI"]])
    entry_count: int = Field(description="Entries in this domain, subdomains included.")
    first_date: dt.date | None = Field(description="Date of its oldest dated entry.")
    last_date: dt.date | None = Field(description="Date of its newest dated entry.")
    children: list["DomainOut"] = Field(description="Domains nested under it.")


class CountOut(BaseModel):
    """A name with how many times it occurs."""

    name: str = Field(description="Tag, category or host.", examples=["thought"])
    count: int = Field(description="Entries (tags), posts (categories) or links (hosts).")


class LinkDetail(LinkOut):
    """A link with where it was found."""

    id: int = Field(description="Stable link id.")
    entry_id: int | None = Field(description="Entry the link sits in; null for links in headings.")
    post: PostRef = Field(description="The post it is in.")
    date: dt.date | None = Field(description="The post's date.")


class Health(BaseModel):
    """Liveness or readiness."""

    status: str = Field(description="ok, or what is wrong.", examples=["ok"])
    content_version: int | None = Field(default=None, description="Current content version.")
    schema_revision: str | None = Field(default=None, description="Database schema revision.")


class Problem(BaseModel):
    """An RFC 9457 problem document (content type application/problem+json)."""

    type: str = Field(description="Problem type URI.", examples=["/problems/invalid-parameter"])
    title: str = Field(
        description="Short summary of the problem type.", examples=["Invalid parameter"]
    )
    status: int = Field(description="HTTP status.", examples=[422])
    detail: str = Field(
        description="What went wrong, for a person.", examples=["limit: must be 1-200"]
    )
    errors: list[dict[str, str]] | None = Field(
        default=None, description="For invalid input: each bad parameter and why."
    )
