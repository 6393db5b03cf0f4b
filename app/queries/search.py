"""Full-text search on both engines: the match condition, ranked hits and snippets.

SQLite answers from the FTS5 tables `entries_fts` / `posts_fts` (bm25 ranking,
`snippet()`), PostgreSQL from the `search` tsvector columns (`ts_rank`, `ts_headline`);
both are created by migration 0002 and kept in step with the rows they index.
"""

import html
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    Connection,
    FromClause,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy import table as sql_table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from app.models import ENTRIES, POSTS
from app.search_syntax import SearchQuery, Term

Target = Literal["entries", "posts"]

# Snippet highlight markers: control characters no text contains, replaced by <mark> after
# the snippet is HTML-escaped, so a hit never carries markup from the source.
_START, _STOP = "\x02", "\x03"
SNIPPET_MARKS = (_START, _STOP, "…")
SNIPPET_TOKENS = 24
_HEADLINE_OPTIONS = f"StartSel={_START}, StopSel={_STOP}, MaxWords=35, MinWords=15"
_ENGLISH: ColumnElement[Any] = literal_column("'english'::regconfig")


def _tsquery(query: SearchQuery) -> ColumnElement[Any]:
    """The query as a PostgreSQL tsquery expression (words are letters and digits only)."""

    def one(term: Term) -> ColumnElement[Any]:
        words = [*term.words[:-1], term.words[-1] + (":*" if term.prefix else "")]
        return func.to_tsquery(_ENGLISH, " <-> ".join(words))

    join = func.tsquery_or if query.any_of else func.tsquery_and
    combined = one(query.include[0])
    for term in query.include[1:]:
        combined = join(combined, one(term))
    for term in query.exclude:
        combined = func.tsquery_and(combined, func.tsquery_not(one(term)))
    return combined


class Matches(ColumnElement[bool]):
    """True for rows of `target` the query matches: an FTS5 probe or a tsvector `@@`."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy's own declaration style
        ("target", InternalTraversal.dp_string),
        ("fts5", InternalTraversal.dp_clauseelement),
        ("tsquery", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, target: Target, query: SearchQuery) -> None:
        self.target = target
        self.fts5: BindParameter[str] = bindparam(None, query.fts5(), unique=True)
        self.tsquery = _tsquery(query)


@compiles(Matches, "sqlite")
def _matches_sqlite(element: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    fts = f"{element.target}_fts"
    match = compiler.process(element.fts5, **kw)
    return f"{element.target}.rowid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH {match})"


@compiles(Matches, "postgresql")
def _matches_postgresql(element: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{element.target}.search @@ ({compiler.process(element.tsquery, **kw)})"


@dataclass(frozen=True, slots=True)
class Hit:
    """A ranked match: the row id, its score (higher is better) and a highlighted snippet."""

    id: int
    score: float
    snippet: str


# The candidates-first plan reads this many times a page's worth of FTS5's best matches;
# beyond MAX_CANDIDATES (deep pages) the plain plan is cheaper.
CANDIDATE_FACTOR = 4
MIN_CANDIDATES = 200
MAX_CANDIDATES = 1000


@dataclass(frozen=True, slots=True)
class Scored:
    """A ranked row before its snippet."""

    id: int
    score: float
    key: int  # the row's key in the search index: rowid on SQLite, id on PostgreSQL


def ranked(
    conn: Connection,
    target: Target,
    query: SearchQuery,
    where: list[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
) -> list[Hit]:
    """One page of `target` rows matching `query` and `where`, best first, with snippets."""
    rows = None
    # With one condition at most (the drafts one, unless a filter is given), most matches
    # usually pass: FTS5 ranks on its own and only its best matches are checked against
    # `where`. A selective lone filter makes that attempt fail, and the join answers.
    if conn.dialect.name == "sqlite" and len(where) <= 1:
        rows = ranked_from_candidates(conn, target, query, where, limit=limit, offset=offset)
    if rows is None:
        rows = ranked_by_join(conn, target, query, where, limit=limit, offset=offset)
    snippets = _snippets(conn, target, query, [row.key for row in rows])
    return [Hit(row.id, row.score, snippets.get(row.key, "")) for row in rows]


def _sqlite_score(target: Target) -> ColumnElement[Any]:
    """Relevance on SQLite: bm25, negated so that higher is better."""
    fts: ColumnElement[Any] = literal_column(f"{target}_fts")
    # A word in a post's title weighs ten times one in its text (PostgreSQL: weight A/B).
    weights = (10.0, 1.0) if target == "posts" else ()
    return -func.bm25(fts, *weights)


def _sqlite_match(target: Target, query: SearchQuery) -> ColumnElement[bool]:
    fts: ColumnElement[Any] = literal_column(f"{target}_fts")
    return fts.op("MATCH")(bindparam(None, query.fts5(), unique=True))


def ranked_by_join(
    conn: Connection,
    target: Target,
    query: SearchQuery,
    where: list[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
) -> list[Scored]:
    """The page ranked over every match that passes `where`: exact whatever `where` is."""
    table = ENTRIES if target == "entries" else POSTS
    if conn.dialect.name == "sqlite":
        score = _sqlite_score(target)
        index = sql_table(f"{target}_fts", column("rowid"))
        source: FromClause = table.join(index, index.c.rowid == literal_column(f"{target}.rowid"))
        matching = _sqlite_match(target, query)
        key: ColumnElement[Any] = literal_column(f"{target}.rowid")
    else:
        tsquery = _tsquery(query)
        score = func.ts_rank(literal_column(f"{target}.search"), tsquery)
        source = table
        matching = literal_column(f"{target}.search").op("@@")(tsquery)
        key = table.c.id
    page = (
        select(table.c.id, score.label("score"), key.label("key"))
        .select_from(source)
        .where(and_(true(), matching, *where))
        .order_by(literal_column("score").desc(), table.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [Scored(row.id, float(row.score), row.key) for row in conn.execute(page)]


def ranked_from_candidates(
    conn: Connection,
    target: Target,
    query: SearchQuery,
    where: list[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
) -> list[Scored] | None:
    """The same page as `ranked_by_join`, from FTS5's best matches alone (SQLite only).

    FTS5 ranks without touching the content table (half the work for a word in 34k
    entries); then only the candidates are checked against `where`. Every row left out
    scores at most the last candidate's score, so when enough candidates scoring above it
    pass, they hold the page exactly. None when they do not (the caller joins instead).
    """
    wanted = offset + limit
    count = max(CANDIDATE_FACTOR * wanted, MIN_CANDIDATES)
    if count > MAX_CANDIDATES:
        return None
    score = _sqlite_score(target)
    rowid: ColumnElement[Any] = literal_column(f"{target}_fts.rowid")
    best = conn.execute(
        select(rowid.label("key"), score.label("score"))
        .select_from(sql_table(f"{target}_fts"))
        .where(_sqlite_match(target, query))
        .order_by(literal_column("score").desc())
        .limit(count)
    ).all()
    every_match = len(best) < count
    floor = best[-1].score if best else 0.0
    scores = {row.key: float(row.score) for row in best if every_match or row.score > floor}
    if not scores:
        return None if best else []
    table = ENTRIES if target == "entries" else POSTS
    key: ColumnElement[Any] = literal_column(f"{target}.rowid")
    passed = conn.execute(select(table.c.id, key).where(key.in_(list(scores)), *where)).all()
    if not every_match and len(passed) < wanted:
        return None
    found = sorted(
        (Scored(row_id, scores[row_key], row_key) for row_id, row_key in passed),
        key=lambda row: (-row.score, row.id),
    )
    return found[offset:wanted]


def _snippets(
    conn: Connection, target: Target, query: SearchQuery, keys: list[int]
) -> dict[int, str]:
    """Highlighted excerpts of the rows with index keys `keys`, computed for the page only."""
    if not keys:
        return {}
    if conn.dialect.name == "sqlite":
        fts: ColumnElement[Any] = literal_column(f"{target}_fts")
        rowid: ColumnElement[Any] = literal_column(f"{target}_fts.rowid")
        # The rowids go to FTS5 itself, which fetches just those rows; a filter on the
        # content table instead would walk every match (56 ms for a word in 34k entries).
        statement = (
            select(rowid, func.snippet(fts, -1, *SNIPPET_MARKS, SNIPPET_TOKENS))
            .select_from(sql_table(f"{target}_fts"))
            .where(_sqlite_match(target, query), rowid.in_(keys))
        )
    else:
        table = ENTRIES if target == "entries" else POSTS
        text = table.c.text if target == "entries" else table.c.body_text
        statement = select(
            table.c.id, func.ts_headline(_ENGLISH, text, _tsquery(query), _HEADLINE_OPTIONS)
        ).where(table.c.id.in_(keys))
    return {key: highlighted(raw or "") for key, raw in conn.execute(statement)}


def highlighted(raw: str) -> str:
    """Escape a snippet for HTML, then turn the engine's markers into <mark> elements."""
    return html.escape(raw, quote=False).replace(_START, "<mark>").replace(_STOP, "</mark>")
