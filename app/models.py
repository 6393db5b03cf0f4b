"""SQL tables (SQLModel). Table models are storage only; the API contract lives in schemas."""

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    select,
)
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _id_column() -> Any:
    """A primary key whose value the ingest derives from identity (never autoincrement)."""
    return Column(BigInteger, primary_key=True, autoincrement=False)


def _fk(target: str, *, nullable: bool = False, index: bool = True) -> Any:
    """A BIGINT foreign key that disappears with the row it points at."""
    return Column(
        BigInteger,
        ForeignKey(target, ondelete="CASCADE"),
        nullable=nullable,
        index=index,
    )


class ContentState(SQLModel, table=True):
    """The single row holding the content version and what the last aliases file was."""

    __tablename__ = "content_state"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0)
    aliases_hash: str = Field(default="", max_length=64)
    updated_at: dt.datetime | None = None
    # Signs cursors (hex of 32 random bytes): one per database, so that every API process
    # on it accepts the others' cursors. Set by migration 0006, or on first need.
    cursor_secret: str | None = Field(default=None, max_length=64)


class ContentFolder(SQLModel, table=True):
    """A content folder, known by a name that survives moving it; posts are keyed by it."""

    __tablename__ = "folders"

    name: str = Field(
        sa_column=Column(Text, primary_key=True),
        description="The folder's name in post identities (learnlog.toml `name`, else the "
        "folder's own name when first ingested).",
    )
    location: str = Field(
        sa_column=Column(Text, nullable=False),
        description="Absolute path the folder was last ingested from.",
    )
    dialect: str = Field(default="plain", max_length=16)
    updated_at: dt.datetime


class Post(SQLModel, table=True):
    """One Markdown file."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("root", "source_path"),
        Index("ix_posts_date_id", "date", "id"),
    )

    id: int = Field(sa_column=_id_column())
    # The content folder's name (`folders.name`), never its location: moving it changes no id.
    root: str = Field(sa_column=Column(Text, nullable=False))
    source_path: str = Field(sa_column=Column(Text, nullable=False))
    slug: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    title: str = Field(sa_column=Column(Text, nullable=False))
    date: dt.date | None = None
    published_at: dt.datetime | None = Field(default=None, index=True)
    # Set while a post waits for its moment (a future date or `publish_at`): it is stored
    # as a draft until the publishing loop makes it public then.
    publish_at: dt.datetime | None = Field(default=None, index=True)
    date_text: str | None = Field(default=None, sa_column=Column(Text))
    excerpt: str | None = Field(default=None, sa_column=Column(Text))
    excerpt_html: str | None = Field(
        default=None,
        sa_column=Column(Text),
        description="The excerpt rendered and sanitized as entries are (`excerpt` is its text).",
    )
    is_draft: bool = Field(default=False, index=True)
    front_matter: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    front_matter_format: str = Field(max_length=16)
    html: str = Field(sa_column=Column(Text, nullable=False))
    body_text: str = Field(
        default="",
        sa_column=Column(Text, nullable=False, server_default=""),
        description="Plain text of the post (title, headings, entries): what post search reads.",
    )
    line: int = Field(description="Line where the body starts.")
    content_hash: str = Field(max_length=64, description="Hash of the normalised text.")
    source_hash: str = Field(max_length=64, description="Hash of the file's bytes.")
    parser_version: int
    content_version: int = Field(index=True)
    created_version: int = Field(
        default=0,
        sa_column=Column(Integer, nullable=False, server_default="0", index=True),
        description="Content version that first stored this post.",
    )
    ingested_at: dt.datetime


class Section(SQLModel, table=True):
    """A heading and what follows it; position 0 is the implicit preamble."""

    __tablename__ = "sections"

    id: int = Field(sa_column=_id_column())
    post_id: int = Field(sa_column=_fk("posts.id"))
    parent_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    position: int
    level: int
    heading: str = Field(sa_column=Column(Text, nullable=False))
    slug: str | None = Field(default=None, max_length=255)
    line: int


class SectionPath(SQLModel, table=True):
    """Each section with the heading slug of itself and every ancestor (domain filters)."""

    __tablename__ = "section_paths"
    __table_args__ = (Index("ix_section_paths_slug_section_id", "slug", "section_id"),)

    section_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True
        )
    )
    depth: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    slug: str = Field(max_length=255)


class Entry(SQLModel, table=True):
    """One list item or paragraph: the unit a reader wants."""

    __tablename__ = "entries"
    __table_args__ = (
        # The sort order plus every column a filter checks: a page walks only this index.
        Index("ix_entries_sort", "date", "post_id", "position", "section_id", "is_draft", "id"),
        Index("ix_entries_post_id_position", "post_id", "position"),
    )

    id: int = Field(sa_column=_id_column())
    post_id: int = Field(sa_column=_fk("posts.id", index=False))
    section_id: int = Field(sa_column=_fk("sections.id"))
    parent_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    position: int = Field(description="Order of the entry within its post.")
    depth: int
    kind: str = Field(max_length=16)
    text: str = Field(sa_column=Column(Text, nullable=False))
    html: str = Field(sa_column=Column(Text, nullable=False))
    doc: str = Field(
        default="",
        sa_column=Column(Text, nullable=False, server_default=""),
        description="The entry's stored answer members, a JSON fragment (app/entry_docs.py).",
    )
    domain_path: str = Field(
        default="",
        sa_column=Column(Text, nullable=False, server_default=""),
        description="Heading slugs of the section path, outermost first, '/'-separated.",
    )
    line: int
    # Copied from the post so date filters and sorting never need a join.
    date: dt.date | None = None
    published_at: dt.datetime | None = None
    is_draft: bool = Field(default=False)


class Link(SQLModel, table=True):
    """A link found in a post, with the entry it sits in (none for links in headings)."""

    __tablename__ = "links"
    __table_args__ = (
        # Host and kind filters probe this per entry (and deletes cascade through entry_id).
        Index("ix_links_entry_id_host_kind", "entry_id", "host", "kind"),
        # `/links?origin=` walks one origin in page order.
        Index("ix_links_origin_id", "origin", "id"),
    )

    id: int = Field(sa_column=_id_column())
    post_id: int = Field(sa_column=_fk("posts.id"))
    entry_id: int | None = Field(
        default=None, sa_column=_fk("entries.id", nullable=True, index=False)
    )
    position: int
    url: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    host: str | None = Field(default=None, max_length=255, index=True)
    kind: str = Field(max_length=16, index=True)
    url_key: str = Field(
        default="",
        sa_column=Column(Text, nullable=False, server_default="", index=True),
        description="The URL normalized so that spellings of one address compare equal.",
    )
    origin: str = Field(
        default="body",
        sa_column=Column(String(16), nullable=False, server_default="body"),
        description="Where the link was written: body, or front_matter (a URL value).",
    )
    line: int


class NoteName(SQLModel, table=True):
    """A name an internal link may use for a post: its path, file name, page name or alias.

    `rank` orders a name's posts (0 path, 1 name, 2 alias); `path_len` and `path` break ties
    as Obsidian does (the shortest path wins). See app/notes/names.py.
    """

    __tablename__ = "note_names"
    __table_args__ = (Index("ix_note_names_root_name", "root", "name"),)

    post_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    )
    name: str = Field(sa_column=Column(Text, primary_key=True))
    root: str = Field(sa_column=Column(Text, nullable=False))
    rank: int
    path_len: int
    path: str = Field(sa_column=Column(Text, nullable=False))


class NoteLink(SQLModel, table=True):
    """An internal link (wikilink, embed, block reference, relative link to a note) and
    where it resolved; the resolution step at the end of each ingest run keeps it current."""

    __tablename__ = "note_links"
    __table_args__ = (Index("ix_note_links_root_target", "root", "target"),)

    link_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("links.id", ondelete="CASCADE"), primary_key=True)
    )
    post_id: int = Field(sa_column=_fk("posts.id"))
    root: str = Field(sa_column=Column(Text, nullable=False))
    target: str = Field(
        sa_column=Column(Text, nullable=False),
        description="Name key looked up ('' for a block reference: its anchor alone names it).",
    )
    near: str | None = Field(
        default=None,
        sa_column=Column(Text),
        description="Path key relative to the citing note, tried first.",
    )
    anchor: str | None = Field(
        default=None, sa_column=Column(Text), description="Heading slug, or ^block-id."
    )
    embed: bool = Field(default=False)
    # No foreign keys: a vanished target must be noticed (and its citing posts re-versioned)
    # by the resolution step, not nulled silently by a cascade.
    target_post_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, index=True)
    )
    target_section_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    target_entry_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, index=True)
    )


class EntryBlock(SQLModel, table=True):
    """An entry's block id (`^id`, Logseq `id::`) and block properties, for entries with one."""

    __tablename__ = "entry_blocks"
    __table_args__ = (Index("ix_entry_blocks_root_block_id", "root", "block_id"),)

    entry_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    )
    post_id: int = Field(sa_column=_fk("posts.id"))
    root: str = Field(sa_column=Column(Text, nullable=False))
    block_id: str | None = Field(default=None, sa_column=Column(Text))
    properties: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class Tag(SQLModel, table=True):
    """A case-folded tag slug and the name it stands for."""

    __tablename__ = "tags"

    slug: str = Field(primary_key=True, max_length=255)
    name: str | None = Field(
        default=None,
        sa_column=Column(Text),
        description="The tag as first written, in its own script (the slug is ASCII).",
    )


class PostTag(SQLModel, table=True):
    """Tags from a post's front matter (its entries inherit them)."""

    __tablename__ = "post_tags"
    __table_args__ = (Index("ix_post_tags_tag_post_id", "tag", "post_id"),)

    post_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(sa_column=Column(String(255), ForeignKey("tags.slug"), primary_key=True))


class EntryTag(SQLModel, table=True):
    """Inline markers such as `[Thought]` at the start of an entry."""

    __tablename__ = "entry_tags"
    __table_args__ = (Index("ix_entry_tags_tag_entry_id", "tag", "entry_id"),)

    entry_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(sa_column=Column(String(255), ForeignKey("tags.slug"), primary_key=True))


class Category(SQLModel, table=True):
    """A front matter category slug, kept apart from tags, and the name it stands for."""

    __tablename__ = "categories"

    slug: str = Field(primary_key=True, max_length=255)
    name: str | None = Field(
        default=None,
        sa_column=Column(Text),
        description="The category as first written, in its own script (the slug is ASCII).",
    )


class PostCategory(SQLModel, table=True):
    """Categories of a post."""

    __tablename__ = "post_categories"
    __table_args__ = (Index("ix_post_categories_category_post_id", "category", "post_id"),)

    post_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    )
    category: str = Field(
        sa_column=Column(String(255), ForeignKey("categories.slug"), primary_key=True)
    )


class DomainAlias(SQLModel, table=True):
    """A heading slug that means another domain (from the aliases file)."""

    __tablename__ = "domain_aliases"

    slug: str = Field(primary_key=True, max_length=255)
    domain: str = Field(max_length=255, index=True)


class PostField(SQLModel, table=True):
    """A declared front-matter field's typed value (one row per item of a list field).

    Each type has its column and a (name, value, post_id) index, so a filter on a field
    reads one index range, as a tag filter does.
    """

    __tablename__ = "post_fields"
    __table_args__ = (
        Index("ix_post_fields_name_value_text_post_id", "name", "value_text", "post_id"),
        Index("ix_post_fields_name_value_number_post_id", "name", "value_number", "post_id"),
        Index("ix_post_fields_name_value_date_post_id", "name", "value_date", "post_id"),
        Index("ix_post_fields_name_value_moment_post_id", "name", "value_moment", "post_id"),
        Index("ix_post_fields_name_value_bool_post_id", "name", "value_bool", "post_id"),
    )

    post_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    )
    name: str = Field(sa_column=Column(String(64), primary_key=True))
    position: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    value_text: str | None = Field(default=None, sa_column=Column(Text))
    value_number: float | None = Field(default=None, sa_column=Column(Double))
    value_date: dt.date | None = Field(default=None, sa_column=Column(Date))
    # Naive UTC: both engines compare it the same way.
    value_moment: dt.datetime | None = Field(default=None, sa_column=Column(DateTime))
    value_bool: bool | None = Field(default=None, sa_column=Column(Boolean))


class FieldSchemaRecord(SQLModel, table=True):
    """The field schema in force for one content folder, stored by its last ingest."""

    __tablename__ = "field_schemas"

    root: str = Field(sa_column=Column(Text, primary_key=True))
    declared: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    digest: str = Field(max_length=64)
    updated_at: dt.datetime


class IngestRun(SQLModel, table=True):
    """One run of `learnlog ingest` and what it did."""

    __tablename__ = "ingest_runs"

    id: int | None = Field(default=None, primary_key=True)
    root: str = Field(sa_column=Column(Text, nullable=False))
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    status: str = Field(default="running", max_length=16)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped_drafts: int = 0
    failed: int = 0
    warnings: int = 0
    content_version: int = 0


class IngestManifest(SQLModel, table=True):
    """What a folder looked like when a clean `learnlog ingest` of it began (SQLite only).

    `snapshot` is a digest of the size, times and inode of every entry of every folder the
    run listed (app/ingest/unchanged.py), `fingerprint` one of the code, settings and
    options of that run, `report` the lines its summary ended with. While all of them and
    the content version are as recorded, nothing an ingest would read has changed, and
    the next `learnlog ingest` records an unchanged run without parsing or hashing.
    """

    __tablename__ = "ingest_manifests"

    location: str = Field(sa_column=Column(Text, primary_key=True))
    folder: str = Field(sa_column=Column(Text, nullable=False))
    fingerprint: str = Field(max_length=64)
    schema_revision: str = Field(max_length=32)
    content_version: int
    unchanged: int
    skipped_drafts: int
    keep_runs: int
    keep_failed_runs: int
    report: str = Field(sa_column=Column(Text, nullable=False))
    snapshot: str = Field(max_length=64)


class IngestProblem(SQLModel, table=True):
    """A failure or warning recorded by a run, with where it happened."""

    __tablename__ = "ingest_problems"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("ingest_runs.id", ondelete="CASCADE"), index=True)
    )
    severity: str = Field(max_length=16)
    path: str = Field(sa_column=Column(Text, nullable=False))
    line: int | None = None
    reason: str = Field(sa_column=Column(Text, nullable=False))


class DeletedPost(SQLModel, table=True):
    """A post whose file went away: what /changes reports as deleted."""

    __tablename__ = "deleted_posts"

    post_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root: str = Field(sa_column=Column(Text, nullable=False))
    source_path: str = Field(sa_column=Column(Text, nullable=False))
    slug: str = Field(sa_column=Column(String(255), nullable=False))
    content_version: int = Field(index=True, description="Content version of the deletion.")
    is_draft: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, server_default=false()),
        description="The post was a draft when it went: only previews hear of it.",
    )


class LinkCheck(SQLModel, table=True):
    """The latest probe of one address, keyed like `links.url_key` so it outlives re-ingests."""

    __tablename__ = "link_checks"
    # `/links?status=` finds the checked addresses by outcome, then their links by url_key.
    __table_args__ = (Index("ix_link_checks_outcome_url_key", "outcome", "url_key"),)

    url_key: str = Field(sa_column=Column(Text, primary_key=True))
    url: str = Field(
        sa_column=Column(Text, nullable=False), description="The spelling that was probed."
    )
    outcome: str = Field(max_length=16, description="ok, redirected, broken, error, ...")
    http_status: int | None = Field(default=None, description="Status of the final answer.")
    final_url: str | None = Field(
        default=None, sa_column=Column(Text), description="Where redirects ended."
    )
    checked_at: dt.datetime
    elapsed_ms: int = Field(description="Time the probe took, redirects included.")
    error: str | None = Field(
        default=None, sa_column=Column(Text), description="Why there was no usable answer."
    )


class WebhookEvent(SQLModel, table=True):
    """A content change to announce: an ingest that changed posts, or posts going live."""

    __tablename__ = "webhook_events"

    id: int | None = Field(default=None, primary_key=True)
    reason: str = Field(max_length=16, description="ingest or schedule.")
    since_version: int = Field(description="The change set starts after this version.")
    version: int = Field(description="Content version the change reached.")
    created_at: dt.datetime
    message_id: str | None = Field(
        default=None,
        max_length=64,
        index=True,
        description="The webhook-id, set with the body when the publishing loop builds it.",
    )
    body: str | None = Field(default=None, sa_column=Column(Text))


class WebhookDelivery(SQLModel, table=True):
    """One event on its way to one webhook URL: retried with backoff until it succeeds."""

    __tablename__ = "webhook_deliveries"
    # The sender picks due deliveries: pending ones by their next attempt time.
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("webhook_events.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    url: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16, description="pending, delivered or failed.")
    attempts: int = 0
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None = None
    last_attempt_at: dt.datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    delivered_at: dt.datetime | None = None


# Core table handles, for the bulk writes of the ingest and the column-level reads of the API.
POSTS: Table = Post.__table__  # type: ignore[attr-defined]
SECTIONS: Table = Section.__table__  # type: ignore[attr-defined]
SECTION_PATHS: Table = SectionPath.__table__  # type: ignore[attr-defined]
ENTRIES: Table = Entry.__table__  # type: ignore[attr-defined]
LINKS: Table = Link.__table__  # type: ignore[attr-defined]
NOTE_NAMES: Table = NoteName.__table__  # type: ignore[attr-defined]
NOTE_LINKS: Table = NoteLink.__table__  # type: ignore[attr-defined]
ENTRY_BLOCKS: Table = EntryBlock.__table__  # type: ignore[attr-defined]
TAGS: Table = Tag.__table__  # type: ignore[attr-defined]
POST_TAGS: Table = PostTag.__table__  # type: ignore[attr-defined]
ENTRY_TAGS: Table = EntryTag.__table__  # type: ignore[attr-defined]
CATEGORIES: Table = Category.__table__  # type: ignore[attr-defined]
POST_CATEGORIES: Table = PostCategory.__table__  # type: ignore[attr-defined]
ALIASES: Table = DomainAlias.__table__  # type: ignore[attr-defined]
STATE: Table = ContentState.__table__  # type: ignore[attr-defined]
FOLDERS: Table = ContentFolder.__table__  # type: ignore[attr-defined]
RUNS: Table = IngestRun.__table__  # type: ignore[attr-defined]
PROBLEMS: Table = IngestProblem.__table__  # type: ignore[attr-defined]
MANIFESTS: Table = IngestManifest.__table__  # type: ignore[attr-defined]
DELETED_POSTS: Table = DeletedPost.__table__  # type: ignore[attr-defined]
LINK_CHECKS: Table = LinkCheck.__table__  # type: ignore[attr-defined]
WEBHOOK_EVENTS: Table = WebhookEvent.__table__  # type: ignore[attr-defined]
WEBHOOK_DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[attr-defined]

POST_FIELDS: Table = PostField.__table__  # type: ignore[attr-defined]
FIELD_SCHEMAS: Table = FieldSchemaRecord.__table__  # type: ignore[attr-defined]

# The content version, read by every request: one statement object, built once.
CONTENT_VERSION = select(STATE.c.version).where(STATE.c.id == 1)


def current_version(conn: Connection) -> int:
    """The database's content version."""
    return int(conn.execute(CONTENT_VERSION).scalar_one())
