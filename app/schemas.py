"""The API contract: every response shape, with a description on every field."""

import datetime as dt
from contextvars import ContextVar
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, computed_field

from app.vocabulary import FacetName, Interval, LinkOrigin, LinkOutcome

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """The list envelope every collection shares.

    Routes answer with a named subclass (`PostPage`, not `Page[PostSummary]`): OpenAPI
    would otherwise call the schema `Page_PostSummary_`, and so would generated clients.
    """

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
        description="paper, code, model, video, social, email, internal (a link to another "
        "note: wikilink, embed, block reference, relative link), image (an embedded image), "
        "attachment (a linked file that is no note) or article.",
        examples=["paper"],
    )


# The edit URL template of the app answering the current request (set per request).
EDIT_URL_TEMPLATE: ContextVar[str | None] = ContextVar("edit_url_template", default=None)


class SourceRef(BaseModel):
    """Where something was written."""

    path: str = Field(
        description="Path inside its content folder.", examples=["2023-12-24-learning-logs.md"]
    )
    line: int = Field(description="1-based line in that file.", examples=[18])

    @computed_field(  # type: ignore[prop-decorator]
        description="Where to edit it, from LEARNLOG_EDIT_URL_TEMPLATE (null when unset).",
        examples=["https://github.com/you/logs/edit/main/2023-12-24-learning-logs.md#L18"],
    )
    @property
    def edit_url(self) -> str | None:
        template = EDIT_URL_TEMPLATE.get()
        if template is None:
            return None
        return template.format(path=quote(self.path), line=self.line)


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


class FacetCount(BaseModel):
    """One value of a facet with the number of matching entries having it."""

    value: str | int | None = Field(
        description="A domain slug, tag, category, host or link kind; for `year` the year as "
        "a number, null counting the undated entries.",
        examples=["arxiv.org"],
    )
    count: int = Field(
        description="Matching entries having this value, each entry counted once.", examples=[2]
    )


class EntryPage(Page[EntryOut]):
    """The /entries envelope: a page of entries, plus facet counts when asked for."""

    facets: dict[FacetName, list[FacetCount]] = Field(
        default_factory=dict,
        # Left out, rather than null, unless asked for; the other envelope keys never are.
        exclude_if=lambda value: not value,
        description="Present only with `facets=`: for each facet asked for, its top 50 values "
        "over all entries matching the filters (every page, not this one), most common first "
        "then by value.",
        examples=[
            {
                "host": [
                    {"value": "arxiv.org", "count": 2},
                    {"value": "huggingface.co", "count": 1},
                ],
                "link_kind": [{"value": "paper", "count": 2}, {"value": "article", "count": 1}],
            }
        ],
    )


class SectionOut(BaseModel):
    """A section of a post with its entries and subsections."""

    heading: str = Field(description="Heading text ('' for the preamble).")
    domain: str | None = Field(description="Domain slug (aliases applied); null for the preamble.")
    level: int = Field(description="Heading level as written (0 for the preamble).")
    line: int = Field(description="Line of the heading.")
    entries: list[EntryOut] = Field(description="Entries directly in this section.")
    sections: list["SectionOut"] = Field(description="Nested sections.")


class PostData(BaseModel):
    """The post's declared fields (`[fields.NAME]` in learnlog.toml), validated and typed.

    Fields a post lacks (or holds an invalid value of) are left out. `learnlog openapi
    FOLDER` types each declared field here; this generic document allows any.
    """

    model_config = ConfigDict(extra="allow")


class PostSummary(BaseModel):
    """A post in a list."""

    slug: str = Field(description="Public slug.", examples=["2023-12-24-learning-logs"])
    title: str = Field(description="Title.", examples=["Learning Logs: 2023-12-24"])
    date: dt.date | None = Field(description="Calendar date as written; null when undated.")
    published_at: dt.datetime | None = Field(description="The post's moment in UTC.")
    excerpt: str | None = Field(
        description="Excerpt, summary or description from the front matter, as plain text "
        "(its Markdown read as entries' is, then removed)."
    )
    excerpt_html: str | None = Field(
        description="The excerpt rendered and sanitized as entries' HTML is.",
        examples=['<p><em>demo</em> uses <a href="https://example.com">x</a></p>\n'],
    )
    tags: list[str] = Field(description="Tags from the front matter.")
    categories: list[str] = Field(description="Categories from the front matter.")
    is_draft: bool = Field(description="True for drafts (listed only with include_drafts).")
    entry_count: int = Field(description="Number of entries.")
    source: SourceRef = Field(description="Where the post lives.")
    data: PostData = Field(
        description="Declared fields, typed (learnlog.toml `[fields.NAME]`); empty without."
    )


class PostDetail(PostSummary):
    """A whole post: front matter, rendered HTML, and the section tree with entries."""

    front_matter: dict[str, Any] = Field(description="Every front matter key as written.")
    html: str = Field(description="Sanitized HTML of the body.")
    sections: list[SectionOut] = Field(description="Top-level sections, each with its tree.")


class DomainOut(BaseModel):
    """A domain with its subdomains."""

    slug: str = Field(description="Domain slug.", examples=["genai"])
    name: str = Field(
        description="Its heading as most posts write it, in its own script (the slug is ASCII).",
        examples=["GenAI"],
    )
    headings: list[str] = Field(description="Heading spellings seen for it.", examples=[["GenAI"]])
    entry_count: int = Field(description="Entries in this domain, subdomains included.")
    post_count: int = Field(
        description="Posts with entries in this domain, subdomains included.", examples=[6]
    )
    first_date: dt.date | None = Field(description="Date of its oldest dated entry.")
    last_date: dt.date | None = Field(description="Date of its newest dated entry.")
    children: list["DomainOut"] = Field(
        description="Kept domains nested under it (the same `min_posts` rule), most posts first."
    )


class CountOut(BaseModel):
    """A name with how many times it occurs."""

    name: str = Field(description="Tag, category or host.", examples=["thought"])
    count: int = Field(description="Entries (tags), posts (categories) or links (hosts).")


class TermCountOut(CountOut):
    """A tag or category with how many times it occurs, and the name its slug stands for."""

    name: str = Field(
        description="Slug of the tag or category: what the `tag` and `category` filters take.",
        examples=["ri-ben-yu"],
    )
    label: str = Field(
        description="The tag or category as first written in front matter, in its own script "
        "(tags found only in entry text, such as `[Thought]`, show their slug).",
        examples=["日本語"],
    )


class LinkCheckOut(BaseModel):
    """The latest check of a link's address (`learnlog links check`)."""

    outcome: LinkOutcome = Field(
        description="ok: 2xx at the address itself; redirected: 2xx after redirects to "
        "another address; broken: a dead link (final answer 4xx, or endless redirects); "
        "error: the server failed (5xx); timeout: no answer in time; unreachable: no HTTP "
        "answer at all (unknown host, connection refused, TLS failure).",
        examples=["broken"],
    )
    http_status: int | None = Field(
        description="Status of the final answer; null without one.", examples=[404]
    )
    final_url: str | None = Field(
        description="Address of the final answer, after redirects; null without one.",
        examples=["https://arxiv.org/abs/2310.07704"],
    )
    checked_at: dt.datetime = Field(description="When the address was probed (UTC).")
    error: str | None = Field(
        description="Why there was no usable answer (timeouts, connection failures, "
        "endless redirects); null otherwise.",
        examples=["ConnectError: [Errno 111] Connection refused"],
    )


class LinkTarget(BaseModel):
    """Where an internal link resolved: a post, and a section or entry of it for an anchor."""

    slug: str = Field(description="Slug of the post it leads to.", examples=["b"])
    title: str = Field(description="That post's title.", examples=["B"])
    section: str | None = Field(
        description="Domain slug of the heading it names (`[[Note#Heading]]`); null without.",
        examples=["part"],
    )
    entry_id: int | None = Field(
        description="The entry it names (`[[Note#^block]]`, Logseq `((uuid))`); null without."
    )


class LinkDetail(LinkOut):
    """A link with where it was found."""

    id: int = Field(description="Stable link id.")
    entry_id: int | None = Field(
        description="Entry the link sits in; null for links in headings and in front matter."
    )
    origin: LinkOrigin = Field(
        description="Where the link was written: body (the Markdown), or front_matter (a URL "
        "given as a front-matter value, such as `repo:` or Logseq `url::`; its text is the "
        "key, its line the key's).",
        examples=["body"],
    )
    post: PostRef = Field(description="The post it is in.")
    date: dt.date | None = Field(description="The post's date.")
    check: LinkCheckOut | None = Field(
        description="The latest check of the link's address (shared by every spelling of "
        "it); null until `learnlog links check` probed it, and for mailto and relative links."
    )
    embed: bool = Field(default=False, description="True for an embed (`![[...]]`).")
    resolved: bool | None = Field(
        default=None,
        description="For internal links: whether the note (and anchor) it names exists in "
        "the folder; null for other links.",
    )
    target: LinkTarget | None = Field(
        default=None,
        description="Where an internal link resolved; null when unresolved, for other links, "
        "and when it leads to a draft the caller may not see.",
    )


class GraphNode(BaseModel):
    """A post of the link graph."""

    slug: str = Field(description="Public slug.", examples=["a"])
    title: str = Field(description="Title.", examples=["A"])
    date: dt.date | None = Field(description="Calendar date; null when undated.")
    domains: list[str] = Field(
        description="Domain slugs of its top-level headings (aliases applied).",
        examples=[["machine-learning"]],
    )
    links_out: int = Field(description="Resolved internal links from its entries to nodes.")
    links_in: int = Field(description="Resolved internal links from nodes' entries to it.")


class GraphEdge(BaseModel):
    """Resolved internal links from one post's entries to another post."""

    source: str = Field(description="Slug of the citing post.", examples=["a"])
    target: str = Field(description="Slug of the cited post.", examples=["b"])
    count: int = Field(description="How many links.", examples=[2])


class Graph(BaseModel):
    """The link graph of the matching posts (edges only between them)."""

    nodes: list[GraphNode] = Field(description="Matching posts, newest first.")
    edges: list[GraphEdge] = Field(description="Source, then target, in slug order.")


class HostHealthOut(BaseModel):
    """One host: its links over the matching entries, and how their addresses answered."""

    host: str = Field(description="Host, lowercased, without `www.`.", examples=["arxiv.org"])
    links: int = Field(description="Links to the host.", examples=[12])
    urls: int = Field(description="Distinct addresses among them (normalized).", examples=[10])
    checked: int = Field(description="Links whose address has a check result.", examples=[12])
    ok: int = Field(description="Links whose address answered 2xx itself.", examples=[9])
    redirected: int = Field(description="Links answered 2xx after redirects.", examples=[1])
    broken: int = Field(description="Dead links: final answer 4xx.", examples=[2])
    error: int = Field(description="Links whose server answered 5xx.", examples=[0])
    timeout: int = Field(description="Links whose address did not answer in time.", examples=[0])
    unreachable: int = Field(
        description="Links whose address gave no HTTP answer at all.", examples=[0]
    )
    last_checked_at: dt.datetime | None = Field(
        description="When an address of the host was last probed; null if never."
    )


class TimelineBucket(BaseModel):
    """One period holding at least one matching entry."""

    period_start: dt.date = Field(
        description="First day of the period (a Monday for weeks).", examples=["2023-12-01"]
    )
    entries: int = Field(description="Matching entries dated in the period.", examples=[9])
    links: int = Field(description="Links in those entries.", examples=[6])


class Timeline(BaseModel):
    """Matching entries and their links per period, oldest period first."""

    interval: Interval = Field(description="Length of each period.", examples=["month"])
    buckets: list[TimelineBucket] = Field(
        description="Periods with at least one matching dated entry, in chronological order."
    )


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


class SearchHit(BaseModel):
    """One search result: the entry (or post) with its relevance and a highlighted snippet."""

    score: float = Field(
        description="Relevance; higher is better, comparable within one answer only."
    )
    snippet: str = Field(
        description="The best matching passage: escaped text with `<mark>` around the "
        "matched words, safe for `innerHTML`.",
        examples=["What's up with <mark>Mixtral</mark>? Its the first 8 …"],
    )
    entry: EntryOut | None = Field(default=None, description="The entry (with `type=entry`).")
    post: PostSummary | None = Field(default=None, description="The post (with `type=post`).")


class ChangedPost(BaseModel):
    """A post stored or re-stored after the version asked about."""

    id: int = Field(description="Stable post id.")
    slug: str = Field(description="Current slug (fetch `/posts/{slug}`).")
    source_path: str = Field(description="Path of the file, relative to the content folder.")
    content_version: int = Field(description="Version of its latest change.")


class DeletedPostOut(BaseModel):
    """A post whose file went away after the version asked about."""

    id: int = Field(description="Stable id the post had.")
    slug: str = Field(description="The slug it had.")
    source_path: str = Field(description="Path the file had.")
    content_version: int = Field(description="Version of the deletion.")


class ChangesOut(BaseModel):
    """What changed between two content versions."""

    since: int = Field(description="The version asked about.")
    version: int = Field(description="The current version: pass it as `since` next time.")
    added: list[ChangedPost] = Field(description="Posts that did not exist at `since`.")
    updated: list[ChangedPost] = Field(description="Posts that existed and changed.")
    deleted: list[DeletedPostOut] = Field(description="Posts removed since then.")


class UrlOut(BaseModel):
    """One cited address, with how often and when it was logged."""

    url: str = Field(description="One spelling of the address as written in a post.")
    url_key: str = Field(
        description="The normalized address all its spellings share.",
        examples=["https://arxiv.org/abs/2310.07704"],
    )
    host: str | None = Field(description="Host without `www.`.")
    link_kind: str = Field(description="paper, code, model, video, social, email, ...")
    times: int = Field(description="How many links point at it.")
    entries: int = Field(description="How many entries cite it.")
    first_date: dt.date | None = Field(description="Date of the first post citing it.")
    last_date: dt.date | None = Field(description="Date of the latest post citing it.")
    domains: list[str] = Field(description="Domains of the entries citing it.")


class RelatedReason(BaseModel):
    """Why an entry was picked as related."""

    kind: Literal["same_url", "shared_tag", "similar_text"] = Field(
        description="Cites the same URL, shares an inline tag, or says similar things."
    )
    detail: str = Field(
        description="The URL, the tag, or the matching passage (escaped text with `<mark>`)."
    )


class RelatedEntry(BaseModel):
    """An entry related to the one asked about, with every reason it was picked."""

    entry: EntryOut = Field(description="The related entry.")
    reasons: list[RelatedReason] = Field(description="Strongest first.")


class PostPage(Page[PostSummary]):
    """A page of posts (`/posts`)."""


class SearchHitPage(Page[SearchHit]):
    """A page of search results (`/search`)."""


class RelatedEntryPage(Page[RelatedEntry]):
    """Entries related to one entry (`/entries/{entry_id}/related`)."""


class DomainPage(Page[DomainOut]):
    """A page of top-level domains, each with its subtree (`/domains`)."""


class LandingLinks(BaseModel):
    """Where to go from the API's root."""

    docs: str = Field(description="Interactive API documentation (Swagger UI).")
    openapi: str = Field(description="The OpenAPI document.")
    entries: str = Field(description="Every entry, newest first.")
    posts: str = Field(description="Every post, newest first.")
    domains: str = Field(description="Domains, most posts first.")
    reader: str | None = Field(
        description="The reader web app; null unless the server runs with `--reader`."
    )


class Landing(BaseModel):
    """What answers at `/`: the API's name, version and first links."""

    name: str = Field(description="The API's name.", examples=["learnlog"])
    version: str = Field(description="The running learnlog version.", examples=["0.1.0"])
    links: LandingLinks = Field(description="Absolute URLs of the main resources.")


class CountPage(Page[CountOut]):
    """Names with their counts (`/hosts`)."""


class TermCountPage(Page[TermCountOut]):
    """Tags or categories with their counts and names (`/tags`, `/categories`)."""


class LinkPage(Page[LinkDetail]):
    """A page of links (`/links`)."""


class HostHealthPage(Page[HostHealthOut]):
    """Link health per host (`/hosts/health`)."""


class UrlPage(Page[UrlOut]):
    """A page of cited addresses (`/urls`)."""


class RunProblem(BaseModel):
    """A file an ingest run failed on or warned about."""

    severity: Literal["error", "warning"] = Field(description="error: the file was not stored.")
    path: str = Field(description="Path inside the content folder.")
    line: int | None = Field(description="1-based line, when the problem has one.")
    reason: str = Field(description="What went wrong, in words.")


class RunOut(BaseModel):
    """One ingest run: when, its outcome counts, and its problems."""

    id: int = Field(description="Run id.")
    root: str = Field(description="Content folder the run read.")
    started_at: dt.datetime = Field(description="When the run started, in UTC.")
    finished_at: dt.datetime | None = Field(description="Null while the run is going.")
    status: str = Field(
        description="running, ok, failed (some files failed), error, or interrupted (its "
        "process died before it finished; marked by the next run)."
    )
    added: int = Field(description="Files stored for the first time.")
    updated: int = Field(description="Files whose post was replaced because they changed.")
    unchanged: int = Field(description="Files skipped because neither they nor the parser changed.")
    deleted: int = Field(description="Posts removed because their file went away.")
    skipped_drafts: int = Field(description="Drafts left out (ingest with --no-drafts).")
    failed: int = Field(description="Files that could not be stored (see `problems`).")
    warnings: int = Field(description="Warnings recorded (see `problems`); they do not fail a run.")
    content_version: int = Field(description="Content version when the run finished.")
    problems: list[RunProblem] = Field(description="Failures and warnings, per file.")


class IngestStarted(BaseModel):
    """An ingest the API started; follow `href` for its outcome."""

    run_id: int = Field(description="Id of the run, as listed by /admin/runs.")
    status: Literal["running"] = Field(default="running", description="Always running here.")
    href: str = Field(description="Where the run's outcome will be.", examples=["/admin/runs/7"])
