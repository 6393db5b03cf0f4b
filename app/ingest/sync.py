"""The only writer: makes the tables match parsed posts; each post is replaced atomically.

Rows go in with bulk Core inserts (ids come from identity.py, so nothing needs to be
read back), and every transaction that changes content bumps the content version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Table,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeEngine

from app.ingest import PARSER_VERSION, fulltext
from app.ingest.problems import Problem, escaped
from app.ingest.rows import BODY_TEXT_BYTES as BODY_TEXT_BYTES  # (re-exported)
from app.ingest.rows import (
    COLUMNS,
    TABLES,
    THROUGH_SQLALCHEMY,
    PostRows,
    Row,
    merged_names,
)
from app.models import (
    ALIASES,
    CATEGORIES,
    DELETED_POSTS,
    ENTRIES,
    ENTRY_TAGS,
    FIELD_SCHEMAS,
    FOLDERS,
    LINKS,
    POST_CATEGORIES,
    POST_FIELDS,
    POST_TAGS,
    POSTS,
    PROBLEMS,
    RUNS,
    SECTION_PATHS,
    SECTIONS,
    STATE,
    TAGS,
    current_version,
)
from app.notes.resolve import DEFAULT_URL_TEMPLATE, citing_posts, resolve_folder, rewrite_html
from app.publishing.schedule import hold_scheduled, note_deleted_drafts
from app.publishing.webhooks import enqueue_ingest

if TYPE_CHECKING:  # parsing (and markdown-it) is only imported where files are parsed
    from app.ingest.parse import ParsedPost


# Posts whose rows are inserted together: ten statements per group instead of per post.
_POSTS_PER_STATEMENT = 50
# The indexes a first load builds at its end (Writer.defer_indexes): every secondary index
# of the tables a post fills (the load's own statements read none of them: the full-text
# rows find a batch's entries by rowid).
_DEFERRED_INDEXES = [
    index
    for table in (SECTIONS, SECTION_PATHS, ENTRIES, LINKS, ENTRY_TAGS, POST_TAGS, POST_CATEGORIES)
    for index in sorted(table.indexes, key=lambda index: str(index.name))
]


@dataclass(frozen=True, slots=True)
class StoredPost:
    """What the database remembers about a file, enough to decide whether to re-parse it."""

    id: int
    slug: str
    content_hash: str
    source_hash: str
    parser_version: int

    def is_current(self, *, content_hash: str = "", source_hash: str = "") -> bool:
        """True when the file (its bytes or its normalised text) and the parser are both
        what produced the stored rows."""
        same = self.source_hash == source_hash or self.content_hash == content_hash
        return same and self.parser_version == PARSER_VERSION


@dataclass(frozen=True, slots=True)
class PostWrite:
    """A parsed post on its way into the database."""

    path: str
    post_id: int
    slug: str
    content_hash: str
    source_hash: str
    parsed: ParsedPost  # without the rows below (rows.build_rows)
    rows: PostRows
    existed: bool
    # `post_fields` rows: the post's declared fields, typed (app/fields).
    field_rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RecordedProblem:
    """A failure or warning of one run."""

    severity: str
    path: str
    line: int | None
    reason: str


def _utcnow() -> dt.datetime:
    """Now, in UTC."""
    return dt.datetime.now(dt.UTC)


class Writer:
    """Writes through one engine; each public method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect.name
        self._insert_new = postgresql.insert if dialect == "postgresql" else sqlite.insert

    # -- reading what is stored --------------------------------------------------------

    def stored_posts(self, root: str) -> dict[str, StoredPost]:
        """Every post of content folder `root`, by source path."""
        query = select(
            POSTS.c.source_path,
            POSTS.c.id,
            POSTS.c.slug,
            POSTS.c.content_hash,
            POSTS.c.source_hash,
            POSTS.c.parser_version,
        ).where(POSTS.c.root == root)
        with self.engine.connect() as conn:
            return {row[0]: StoredPost(*row[1:]) for row in conn.execute(query)}

    def other_identities(self, root: str) -> list[tuple[str, str]]:
        """(root, path) of posts from other content folders: their slugs share one space."""
        query = select(POSTS.c.root, POSTS.c.source_path).where(POSTS.c.root != root)
        with self.engine.connect() as conn:
            return [(row[0], row[1]) for row in conn.execute(query)]

    def folders(self) -> dict[str, str]:
        """Every content folder known to the database: name -> where it was last read."""
        with self.engine.connect() as conn:
            return dict(conn.execute(select(FOLDERS.c.name, FOLDERS.c.location)).all())

    def folders_with_posts(self) -> dict[str, int]:
        """Folder name -> how many posts the database holds from it."""
        query = select(POSTS.c.root, func.count()).group_by(POSTS.c.root)
        with self.engine.connect() as conn:
            return dict(conn.execute(query).all())

    def record_folder(self, name: str, location: str, dialect: str) -> None:
        """Remember where folder `name` is now and how it is written (content is untouched)."""
        with self.engine.begin() as conn:
            row = {"location": location, "dialect": dialect, "updated_at": _utcnow()}
            changed = conn.execute(update(FOLDERS).where(FOLDERS.c.name == name).values(**row))
            if not changed.rowcount:
                conn.execute(insert(FOLDERS).values(name=name, **row))

    def schema_digest(self, root: str) -> str:
        """The digest of the field schema folder `root` was last validated against ("" if none)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(FIELD_SCHEMAS.c.digest).where(FIELD_SCHEMAS.c.root == root)
            ).scalar()
        return found or ""

    def record_schema(self, root: str, declared: dict[str, Any] | None, digest: str) -> None:
        """Store the field schema in force for folder `root` (None: the folder declares none)."""
        with self.engine.begin() as conn:
            conn.execute(delete(FIELD_SCHEMAS).where(FIELD_SCHEMAS.c.root == root))
            if declared is not None:
                conn.execute(
                    insert(FIELD_SCHEMAS).values(
                        root=root, declared=declared, digest=digest, updated_at=_utcnow()
                    )
                )

    def folder_profile(self, name: str) -> tuple[dict[str, int], int]:
        """Posts of folder `name` per front-matter style, and how many are undated."""
        p = POSTS.c
        query = (
            select(p.front_matter_format, func.count(), func.count().filter(p.date.is_(None)))
            .where(p.root == name)
            .group_by(p.front_matter_format)
        )
        with self.engine.connect() as conn:
            rows = [(style, count, undated) for style, count, undated in conn.execute(query)]
        return {style: count for style, count, _ in rows}, sum(undated for *_, undated in rows)

    def content_version(self) -> int:
        """The current content version."""
        with self.engine.connect() as conn:
            return current_version(conn)

    # -- runs --------------------------------------------------------------------------

    def start_run(self, root: str) -> int:
        """Record the start of a run and return its id.

        The caller holds the ingest lock, so a run still marked running was cut off (its
        process killed, its machine lost): it is marked interrupted.
        """
        with self.engine.begin() as conn:
            conn.execute(
                update(RUNS)
                .where(RUNS.c.status == "running")
                .values(status="interrupted", finished_at=_utcnow())
            )
            result = conn.execute(
                insert(RUNS).values(
                    root=root,
                    started_at=_utcnow(),
                    status="running",
                    added=0,
                    updated=0,
                    unchanged=0,
                    deleted=0,
                    failed=0,
                    warnings=0,
                    content_version=0,
                )
            )
            run_id = result.inserted_primary_key
            assert run_id is not None
            return int(run_id[0])

    def abandon_run(self, run_id: int, error: BaseException) -> None:
        """End a run that an error or a signal stopped: interrupted, or failed with why."""
        interrupted = isinstance(error, KeyboardInterrupt | SystemExit)
        # Escaped: an error may quote a file name that is not UTF-8.
        reason = escaped(f"the run stopped: {type(error).__name__}: {error}".strip().rstrip(":"))
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(RUNS)
                    .where(RUNS.c.id == run_id)
                    .values(
                        finished_at=_utcnow(),
                        status="interrupted" if interrupted else "failed",
                        content_version=current_version(conn),
                    )
                )
                if not interrupted:
                    conn.execute(
                        insert(PROBLEMS).values(
                            run_id=run_id, severity="error", path="", line=None, reason=reason
                        )
                    )
        except SQLAlchemyError:
            pass  # the database itself is what failed: the next run marks this one interrupted

    def prune_runs(self, *, keep: int, keep_failed: int) -> None:
        """Forget all but the newest `keep` runs (`keep_failed` of those that failed), with
        their problems, so a long-watched folder does not grow the database without bound."""
        with self.engine.begin() as conn:
            for statuses, kept in ((("failed",), keep_failed), (("ok", "interrupted"), keep)):
                newest = (
                    select(RUNS.c.id)
                    .where(RUNS.c.status.in_(statuses))
                    .order_by(RUNS.c.id.desc())
                    .limit(1)
                    .offset(kept)
                ).scalar_subquery()
                conn.execute(delete(RUNS).where(RUNS.c.status.in_(statuses), RUNS.c.id <= newest))

    def finish_run(
        self, run_id: int, counts: dict[str, int], problems: Sequence[RecordedProblem]
    ) -> int:
        """Store a run's counts and problems; return the content version it ended at."""
        with self.engine.begin() as conn:
            version = current_version(conn)
            status = "failed" if counts.get("failed") else "ok"
            conn.execute(
                update(RUNS)
                .where(RUNS.c.id == run_id)
                .values(finished_at=_utcnow(), status=status, content_version=version, **counts)
            )
            enqueue_ingest(conn, run_id, counts, version)
            if problems:
                conn.execute(
                    insert(PROBLEMS),
                    [
                        {
                            "run_id": run_id,
                            "severity": p.severity,
                            "path": p.path,
                            "line": p.line,
                            "reason": p.reason,
                        }
                        for p in problems
                    ],
                )
        return version

    # -- content -----------------------------------------------------------------------

    @contextlib.contextmanager
    def publish_step(self, root: str) -> Iterator[PublishStep]:
        """One transaction (one content version) that posts of folder `root` are added to
        group by group as they are parsed; committed when the block ends without error.

        Readers see the step whole or not at all, and the writing process holds only the
        group being added, not every post of the step.
        """
        with self.engine.connect() as conn, _bulk_settings(conn), conn.begin():
            yield PublishStep(self, conn, root, _bump(conn))

    def delete_posts(self, post_ids: Iterable[int]) -> None:
        """Remove posts whose files are gone (rows below them cascade)."""
        ids = list(post_ids)
        if not ids:
            return
        with self.engine.begin() as conn:
            version = _bump(conn)
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                gone = select(
                    POSTS.c.id, POSTS.c.root, POSTS.c.source_path, POSTS.c.slug, literal(version)
                ).where(POSTS.c.id.in_(chunk))
                conn.execute(delete(DELETED_POSTS).where(DELETED_POSTS.c.post_id.in_(chunk)))
                conn.execute(
                    insert(DELETED_POSTS).from_select(
                        ["post_id", "root", "source_path", "slug", "content_version"], gone
                    )
                )
                fulltext.forget(conn, chunk)
                note_deleted_drafts(conn, chunk)
                conn.execute(delete(POSTS).where(POSTS.c.id.in_(chunk)))

    def rename_posts(self, slugs: dict[int, str]) -> None:
        """Give existing posts new slugs (collisions appeared or went away)."""
        if not slugs:
            return
        with self.engine.begin() as conn:
            version = _bump(conn)
            # Two passes so that slugs swapping between posts never trip the unique index.
            for post_id in slugs:
                conn.execute(
                    update(POSTS).where(POSTS.c.id == post_id).values(slug=f"~renaming-{post_id}")
                )
            for post_id, slug in slugs.items():
                conn.execute(
                    update(POSTS)
                    .where(POSTS.c.id == post_id)
                    .values(slug=slug, content_version=version)
                )

    def resolve_links(
        self, root: str, renamed: Iterable[int] = (), url_template: str = DEFAULT_URL_TEMPLATE
    ) -> int:
        """Re-resolve folder `root`'s internal links (app/notes/resolve.py); posts whose
        links now lead elsewhere (or to a renamed post) count as changed. Returns how many."""
        with self.engine.begin() as conn:
            changed = resolve_folder(conn, root) | citing_posts(conn, renamed)
            if not changed:
                return 0
            version = _bump(conn)
            ids = sorted(changed)
            for start in range(0, len(ids), 500):
                conn.execute(
                    update(POSTS)
                    .where(POSTS.c.id.in_(ids[start : start + 500]))
                    .values(content_version=version)
                )
            rewrite_html(conn, ids, url_template)
            return len(ids)

    def apply_aliases(self, aliases: dict[str, str], aliases_hash: str) -> bool:
        """Replace the domain aliases when the file changed; True when something changed."""
        with self.engine.begin() as conn:
            stored = conn.execute(select(STATE.c.aliases_hash).where(STATE.c.id == 1)).scalar_one()
            if stored == aliases_hash:
                return False
            conn.execute(delete(ALIASES))
            if aliases:
                conn.execute(
                    insert(ALIASES),
                    [{"slug": slug, "domain": domain} for slug, domain in aliases.items()],
                )
            conn.execute(update(STATE).where(STATE.c.id == 1).values(aliases_hash=aliases_hash))
            _bump(conn)
            return True

    def _insert_rows(
        self, conn: Connection, post_rows: list[dict[str, Any]], posts: Sequence[PostWrite]
    ) -> None:
        """Insert some posts' rows, one statement per table, parents before children."""
        _insert_many(conn, POSTS, post_rows)
        fields = [row for post in posts for row in post.field_rows]
        if fields:
            _insert_many(conn, POST_FIELDS, fields)
        for name in _CHILD_TABLES:
            _insert_tuples(conn, name, _rows_of(posts, name))
        self._ensure_terms(conn, TAGS, merged_names([post.rows.tag_names for post in posts]))
        self._ensure_terms(
            conn, CATEGORIES, merged_names([post.rows.category_names for post in posts])
        )
        for name in _TERM_TABLES:
            _insert_tuples(conn, name, _rows_of(posts, name))

    def _ensure_terms(
        self, conn: Connection, table: Table, names: Mapping[str, str | None]
    ) -> None:
        """Insert tag or category slugs that do not exist yet, with the name first written
        for each (a term stored without one takes the first name that comes)."""
        if names:
            statement = self._insert_new(table)
            statement = statement.on_conflict_do_update(
                index_elements=[table.c.slug],
                set_={"name": statement.excluded.name},
                where=table.c.name.is_(None) & statement.excluded.name.is_not(None),
            )
            rows = [{"slug": slug, "name": names[slug]} for slug in sorted(names)]
            conn.execute(statement, rows)

    def analyze(self) -> None:
        """Refresh the planner's statistics, so filters probe indexes in the right order.

        Between a load's steps: like them, it leaves the checkpoint to the run's record.
        """
        with self.engine.connect() as conn, _bulk_settings(conn), conn.begin():
            if conn.dialect.name == "sqlite":
                # Sampled statistics: milliseconds even on a large file.
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE")

    def defer_indexes(self) -> bool:
        """Before a first load into an empty SQLite database, drop the indexes that no
        statement of the load reads (`_DEFERRED_INDEXES`); `build_indexes` makes each of
        them once from the loaded rows. True when they were dropped.

        Most of those indexes are keyed by hashed ids: kept up row by row, every insert
        lands on a random page, and once they outgrow the page cache the writer spends
        more than the parsers (10,000 posts: 49 s, against 30 s deferred with the 1.5 s
        build included). Readers during the load get the same answers, more slowly.
        """
        if self.engine.dialect.name != "sqlite":
            return False
        with self.engine.begin() as conn:
            if conn.execute(select(POSTS.c.id).limit(1)).first() is not None:
                return False
            for index in _DEFERRED_INDEXES:
                index.drop(conn, checkfirst=True)
        return True

    def build_indexes(self) -> None:
        """Make the deferrable indexes that are missing: after a deferred load, and at the
        start of every run, so a load cut off before its end is repaired by the next
        (`learnlog serve` ingests before serving). Only SQLite loads without them."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.begin() as conn:
            for index in _DEFERRED_INDEXES:
                index.create(conn, checkfirst=True)

    def prune_terms(self) -> None:
        """Drop tags and categories no post uses any more.

        One index probe per term (not a scan of every tagging), so every run can afford it.
        """
        with self.engine.begin() as conn:
            conn.execute(
                delete(TAGS).where(
                    ~exists().where(POST_TAGS.c.tag == TAGS.c.slug),
                    ~exists().where(ENTRY_TAGS.c.tag == TAGS.c.slug),
                )
            )
            conn.execute(
                delete(CATEGORIES).where(
                    ~exists().where(POST_CATEGORIES.c.category == CATEGORIES.c.slug)
                )
            )


class PublishStep:
    """Posts being written in one open transaction (Writer.publish_step)."""

    def __init__(self, writer: Writer, conn: Connection, root: str, version: int) -> None:
        self.writer = writer
        self.conn = conn
        self.root = root
        self.version = version

    def add(self, posts: Sequence[PostWrite]) -> dict[str, str]:
        """Swap posts' rows for freshly parsed ones; return {path: reason} for refused posts.

        The group goes in under a savepoint; if the database refuses any row, each post is
        retried under a savepoint of its own, so that one bad post cannot keep the others
        out and no post is ever stored in part.
        """
        if not posts:
            return {}
        try:
            with self.conn.begin_nested():
                self._replace(posts)
            return {}
        except SQLAlchemyError as error:
            if len(posts) == 1:
                detail = str(getattr(error, "orig", None) or error).splitlines()[0]
                return {posts[0].path: f"the database refused the post: {detail}"}
        refused: dict[str, str] = {}
        for post in posts:
            refused.update(self.add([post]))
        return refused

    def _replace(self, posts: Sequence[PostWrite]) -> None:
        """Delete the posts' old rows (children cascade) and insert the new ones."""
        conn, root, version = self.conn, self.root, self.version
        ids = [post.post_id for post in posts]
        created = dict(
            conn.execute(
                select(POSTS.c.id, POSTS.c.created_version).where(POSTS.c.id.in_(ids))
            ).all()
        )
        conn.execute(delete(DELETED_POSTS).where(DELETED_POSTS.c.post_id.in_(ids)))
        fulltext.forget(conn, list(created))
        conn.execute(delete(POSTS).where(POSTS.c.id.in_(ids)))
        last_entry = fulltext.last_entry(conn)
        # Every table takes a group of posts in one statement (groups keep the rows
        # gathered at once, and so memory, bounded).
        for start in range(0, len(posts), _POSTS_PER_STATEMENT):
            chunk = posts[start : start + _POSTS_PER_STATEMENT]
            post_rows = [
                _post_row(root, post, version, created.get(post.post_id, version)) for post in chunk
            ]
            self.writer._insert_rows(conn, post_rows, chunk)
        for name in _NOTE_TABLES:
            _insert_tuples(conn, name, _rows_of(posts, name))
        hold_scheduled(conn, posts, now=_utcnow(), entries_after=last_entry)
        fulltext.index(conn, ids, last_entry, len(_rows_of(posts, "entries")))


# The tables a post's rows fill after its `posts` and `post_fields` rows, parents first:
# before the terms are ensured, and after.
_CHILD_TABLES = ("sections", "section_paths", "entries", "links")
_TERM_TABLES = ("post_tags", "entry_tags", "post_categories")
_NOTE_TABLES = ("note_names", "note_links", "entry_blocks")


def _rows_of(posts: Sequence[PostWrite], name: str) -> list[Row]:
    """The rows of table `name` of some posts, in their order."""
    return [row for post in posts for row in post.rows.tables.get(name, ())]


def _insert_tuples(conn: Connection, name: str, rows: list[Row]) -> None:
    """Insert rows built by rows.py into table `name`: on SQLite straight through the
    driver (their values are already bound), elsewhere (and for the tables rows.py leaves
    to SQLAlchemy) through SQLAlchemy's bulk insert."""
    if not rows:
        return
    columns = COLUMNS[name]
    if conn.dialect.name != "sqlite" or name in THROUGH_SQLALCHEMY:
        conn.execute(insert(TABLES[name]), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    names = ", ".join(f'"{column}"' for column in columns)
    marks = ", ".join("?" * len(columns))
    conn.exec_driver_sql(f'INSERT INTO "{name}" ({names}) VALUES ({marks})', rows)


def _insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys. On SQLite, straight through the driver
    with the values the columns' types would bind (what SQLAlchemy does per row, at a
    fraction of its cost per row); elsewhere through SQLAlchemy's own bulk insert."""
    dialect = conn.dialect
    names = list(rows[0])
    if dialect.name != "sqlite" or len(names) < 2:  # (itemgetter of one name is no tuple)
        conn.execute(insert(table), rows)
        return
    columns = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" * len(names))
    values: list[Any] = list(map(itemgetter(*names), rows))
    binds: list[tuple[int, Callable[[Any], Any], dict[Any, Any] | None]] = [
        (position, bind, {} if _repeats(table.c[name].type) else None)
        for position, name in enumerate(names)
        if (bind := table.c[name].type._cached_bind_processor(dialect)) is not None
    ]
    if binds:
        for index, value in enumerate(values):
            bound = list(value)
            for position, process, seen in binds:
                raw = bound[position]
                if seen is None:
                    bound[position] = process(raw)
                elif (known := seen.get(raw, _UNSEEN)) is not _UNSEEN:
                    bound[position] = known
                else:
                    bound[position] = seen[raw] = process(raw)
            values[index] = tuple(bound)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', values)


_UNSEEN = object()


def _repeats(column_type: TypeEngine[Any]) -> bool:
    """Whether a column's bound values are worth remembering by value: dates, moments and
    flags repeat on every entry of a post (thousands of conversions down to one per post);
    JSON values are not hashable."""
    return not isinstance(column_type, JSON)


# While posts are written on SQLite: pages the write-ahead log may hold before a commit
# copies them into the database file. At the default, 1,000 pages (4 MB), nearly every
# step paid a checkpoint with its fsyncs, rewriting the same index pages again and again.
_STEP_WAL_PAGES = 65_536


# While posts are written on SQLite, what SQLite keeps in memory. Each group of posts goes
# in under a savepoint, whose journal (the first copy of every page the group changes,
# for a rollback to it) went to a temporary file: at 10,000 posts 2.6 GB of writes to it,
# a third of the writer's system time. In memory (temp_store=2) it holds one group's
# pages and is freed when the group is released: the writer 17.5 -> 16.4 s at 10,000
# posts, the run's peak PSS +17 MB. A 16 MB page cache on top (cache_size=-16000) saved
# another 1.3 s for another 16 MB: left out, to keep the run well inside its 200 MB.
_STEP_PRAGMAS = {"temp_store": 2}


@contextlib.contextmanager
def _bulk_settings(conn: Connection) -> Iterator[None]:
    """On SQLite, let the write-ahead log grow past the usual checkpoint size while `conn`
    writes posts, and keep its savepoint journals in memory (_STEP_PRAGMAS). The settings
    are restored afterwards, so the run's next commit that is not a step (its record at
    the latest) checkpoints everything at once. Durability is unchanged: every commit is
    in the log, and a crash replays it."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    (pages,) = driver.execute("PRAGMA wal_autocheckpoint").fetchone()
    kept = {name: driver.execute(f"PRAGMA {name}").fetchone()[0] for name in _STEP_PRAGMAS}
    driver.execute(f"PRAGMA wal_autocheckpoint={max(pages, _STEP_WAL_PAGES)}")
    for name, value in _STEP_PRAGMAS.items():
        driver.execute(f"PRAGMA {name}={value}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA wal_autocheckpoint={pages}")
        for name, value in kept.items():
            driver.execute(f"PRAGMA {name}={value}")


def _bump(conn: Connection) -> int:
    """Increment the content version inside the caller's transaction and return it."""
    conn.execute(
        update(STATE)
        .where(STATE.c.id == 1)
        .values(version=STATE.c.version + 1, updated_at=_utcnow())
    )
    return current_version(conn)


def _post_row(root: str, post: PostWrite, version: int, created: int) -> dict[str, Any]:
    """The `posts` row of a parsed post."""
    parsed = post.parsed
    return {
        "id": post.post_id,
        "root": root,
        "source_path": post.path,
        "slug": post.slug,
        "title": parsed.title,
        "date": parsed.date,
        "published_at": parsed.published_at,
        "date_text": parsed.date_text,
        "excerpt": parsed.excerpt,
        "excerpt_html": parsed.excerpt_html,
        "is_draft": parsed.is_draft,
        "front_matter": parsed.front_matter,
        "front_matter_format": parsed.front_matter_format,
        "html": parsed.html,
        "body_text": post.rows.body_text,
        "line": parsed.body_line,
        "content_hash": post.content_hash,
        "source_hash": post.source_hash,
        "parser_version": PARSER_VERSION,
        "content_version": version,
        "created_version": created,
        "ingested_at": _utcnow(),
    }


def problems_from(path: str, severity: str, problems: Iterable[Problem]) -> list[RecordedProblem]:
    """Attach a path and severity to a parse's problems."""
    return [RecordedProblem(severity, path, p.line, p.reason) for p in problems]
