"""Request dependencies: the connection, shared filters, paging, cursors and conditional GET.

Dependencies are `async def` so that none of them waits for a threadpool slot: the
queries behind this API take well under a millisecond to a few milliseconds, and the
serving figures in DESIGN.md show the threadpool hand-off costing more than the query.
"""

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, ClassVar, Literal, get_origin
from urllib.parse import quote_plus, urlencode

from fastapi import Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from app.cursor_secret import cached_cursor_secret, cursor_secret
from app.db import is_timeout, snapshot, time_limit
from app.errors import (
    AppError,
    Forbidden,
    InvalidParameter,
    QueryTimeout,
    Unauthorized,
    Unavailable,
)
from app.fields.query import (
    DEFAULT_SORT,
    PREFIX,
    DataFilter,
    FieldQueryError,
    SortKey,
    parse_filters,
    parse_sort,
)
from app.fields.schema import FieldSchema
from app.fields.store import schema_in_force
from app.models import CONTENT_VERSION
from app.queries.entries import EntryFilters
from app.search_syntax import SearchSyntaxError, parse_search
from app.security import token_matches

MAX_LIMIT = 200
MAX_VALUES = 50
MAX_TEXT = 200
MAX_CURSOR = 512


async def connection(request: Request) -> AsyncIterator[Connection]:
    """One read transaction per request: every query of a request sees the same snapshot.

    Queries that run past the configured time limit are cancelled (503, `Retry-After`).
    A request waits for one of the pool's request connections without blocking the event
    loop: blocked there, the loop could never finish the requests (facets, search) that
    hold connections while their work runs in the threadpool.
    """
    timeout = request.app.state.settings.query_timeout_ms
    try:
        async with request.app.state.connection_slots:
            with snapshot(request.app.state.engine) as conn, time_limit(conn, timeout):
                yield conn
    except SQLAlchemyError as error:
        if is_timeout(error):
            raise QueryTimeout(timeout) from None
        raise Unavailable(f"the database cannot answer: {type(error).__name__}") from None


ConnectionDep = Annotated[Connection, Depends(connection)]


# What `_parse_bound` reads, as the OpenAPI document says it: a date, a datetime (no
# zone is UTC), or nothing (`from=` from an empty form field sets no bound).
DATE_OR_DATETIME: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "format": "date-time"},
        {"type": "string", "maxLength": 0},
    ]
}


def _parse_bound(param: str, value: str | None) -> dt.date | dt.datetime | None:
    """A date (`2024-01-31`) or a datetime (`2024-01-31T12:00:00Z`; no zone means UTC)."""
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if len(text) <= 10:
            return dt.date.fromisoformat(text)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(
            param, f"{value!r} is not a date (YYYY-MM-DD) or a datetime (ISO 8601)"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        # Engines compare moments in UTC; a zone can carry a valid local time past year
        # 9999 or before year 1 there, which no driver can then convert.
        moment.astimezone(dt.UTC)
    except OverflowError:
        raise InvalidParameter(
            param, f"{value!r} falls outside years 1-9999 once converted to UTC"
        ) from None
    return moment


def text_value(param: str, value: str) -> str:
    """A text parameter that can reach SQL: no NUL characters (PostgreSQL refuses them)."""
    if "\x00" in value:
        raise InvalidParameter(param, "must not contain NUL characters")
    return value


def _values(param: str, values: list[str]) -> tuple[str, ...]:
    """Repeated parameter values, trimmed, case-folded, without empties; bounded in number."""
    if not values:
        return ()
    if len(values) > MAX_VALUES:
        raise InvalidParameter(param, f"at most {MAX_VALUES} values")
    cleaned = tuple(dict.fromkeys(v.strip().lower() for v in values if v.strip()))
    for value in cleaned:
        if len(value) > MAX_TEXT:
            raise InvalidParameter(param, f"values are at most {MAX_TEXT} characters")
        text_value(param, value)
    return cleaned


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who asks: the public, or a holder of the preview (or admin) token, who sees drafts."""

    preview: bool


PUBLIC = Viewer(preview=False)


class PreviewUnauthorized(Unauthorized):
    """Drafts asked for without a token (401, with a Bearer challenge for previews)."""

    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="learnlog preview"'}


async def viewer(
    request: Request,
    authorization: Annotated[
        str | None,
        Header(
            description="`Bearer <LEARNLOG_PREVIEW_TOKEN>` (or the admin token): drafts and "
            "scheduled posts are then served (`include_drafts=true`, their slugs and ids), "
            "and every answer is `Cache-Control: private, no-store`. A wrong token is a 403."
        ),
    ] = None,
) -> Viewer:
    """The public, unless the request carries the preview or admin token (compared in
    constant time); another scheme (a proxy's Basic credentials) is not ours to judge."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return PUBLIC
    settings = request.app.state.settings
    if not token_matches(given, [settings.preview_token, settings.admin_token]):
        raise Forbidden("that token does not open previews (LEARNLOG_PREVIEW_TOKEN)")
    return Viewer(preview=True)


ViewerDep = Annotated[Viewer, Depends(viewer)]


async def include_drafts_flag(
    who: ViewerDep,
    include_drafts: Annotated[
        bool,
        Query(
            description="Include drafts and scheduled posts: needs the preview token "
            "(401 without one)."
        ),
    ] = False,
) -> bool:
    """`include_drafts`, allowed only to a preview."""
    if include_drafts and not who.preview:
        raise PreviewUnauthorized(
            "include_drafts=true needs the preview token: send "
            "`Authorization: Bearer <LEARNLOG_PREVIEW_TOKEN>`"
        )
    return include_drafts


IncludeDraftsDep = Annotated[bool, Depends(include_drafts_flag)]


async def scope_filters(
    domain: Annotated[
        list[str],
        Query(description="Domain slug (includes sub-domains); repeat for any of several."),
    ] = [],  # noqa: B006 - FastAPI copies defaults per request
    tag: Annotated[
        list[str], Query(description="Tag (inline marker or post tag); repeat for any of several.")
    ] = [],  # noqa: B006
    category: Annotated[
        list[str], Query(description="Post category; repeat for any of several.")
    ] = [],  # noqa: B006
    date_from: Annotated[
        str | None,
        Query(
            alias="from",
            description="Inclusive lower bound: a date compares with the "
            "calendar date, a datetime with the post's moment.",
            examples=["2023-12-01"],
            json_schema_extra=DATE_OR_DATETIME,
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        Query(
            alias="to",
            description="Inclusive upper bound, like `from`.",
            examples=["2023-12-31"],
            json_schema_extra=DATE_OR_DATETIME,
        ),
    ] = None,
    post: Annotated[list[str], Query(description="Post slug; repeat for any of several.")] = [],  # noqa: B006
    host: Annotated[
        list[str], Query(description="Link host (no `www.`); repeat for any of several.")
    ] = [],  # noqa: B006
    link_kind: Annotated[
        list[str], Query(description="paper, code, model, video, social, email, internal, article.")
    ] = [],  # noqa: B006
    include_drafts: IncludeDraftsDep = False,
) -> EntryFilters:
    """The filters every list shares except `q`; different parameters must all hold."""
    start = _parse_bound("from", date_from)
    end = _parse_bound("to", date_to)
    if start is not None and end is not None and _as_moment(start) > _as_moment(end, end=True):
        raise InvalidParameter("from", "must not be after `to`")
    return EntryFilters(
        domain=_values("domain", domain),
        tag=_values("tag", tag),
        category=_values("category", category),
        date_from=start,
        date_to=end,
        post=_values("post", post),
        host=tuple(h.removeprefix("www.") for h in _values("host", host)),
        link_kind=_values("link_kind", link_kind),
        include_drafts=include_drafts,
    )


ScopeFiltersDep = Annotated[EntryFilters, Depends(scope_filters)]


async def entry_filters(
    scope: ScopeFiltersDep,
    q: Annotated[
        str | None,
        Query(
            description="Full-text search, the same engine as `/search`: words (all must "
            'match; English stemming), "quoted phrases", prefixes `llm*`, exclusions `-word`.',
            max_length=MAX_TEXT,
        ),
    ] = None,
) -> EntryFilters:
    """The filters every list shares, `q` included."""
    query = text_value("q", q.strip()) if q and q.strip() else None
    if query is None:
        return scope if scope.q is None else replace(scope, q=None)
    try:
        parse_search(query)
    except SearchSyntaxError as error:
        raise InvalidParameter("q", str(error)) from None
    return replace(scope, q=query)


def _as_moment(bound: dt.date | dt.datetime, *, end: bool = False) -> dt.datetime:
    """A bound as a UTC moment (a date spans its whole day), for comparing `from` with `to`."""
    if isinstance(bound, dt.datetime):
        return bound
    moment = dt.datetime.combine(bound, dt.time.max if end else dt.time.min, tzinfo=dt.UTC)
    return moment


FiltersDep = Annotated[EntryFilters, Depends(entry_filters)]


@dataclass(frozen=True, slots=True)
class CursorScope:
    """The query a cursor is valid for (route and item-deciding parameters), and its key."""

    digest: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Paging:
    """Page size, sort order and the decoded cursor (None for the first page)."""

    limit: int
    newest_first: bool
    cursor: list[Any] | None
    scope: CursorScope
    # `sort` on /posts and /entries: the date, the title or a declared field.
    sort: SortKey = DEFAULT_SORT
    schema: FieldSchema = field(default_factory=FieldSchema)

    def offset(self) -> int:
        """Where a numbered page starts (lists ranked by relevance or counts, not keys)."""
        if self.cursor is None:
            return 0
        match self.cursor:
            case [int(start)] if 0 <= start <= MAX_INT:
                return start
        raise InvalidParameter("cursor", NOT_ISSUED)


# The two paging parameters every list shares.
LimitQuery = Annotated[
    int, Query(description=f"Items per page (1-{MAX_LIMIT}).", ge=1, le=MAX_LIMIT)
]
CursorQuery = Annotated[
    str | None,
    Query(description="Opaque cursor from a previous page's `next`.", max_length=MAX_CURSOR),
]


async def paging(
    request: Request,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    sort: Annotated[
        Literal["-date", "date"], Query(description="`-date` newest first (default) or `date`.")
    ] = "-date",
) -> Paging:
    """Validate paging parameters and decode the cursor, which must belong to this query."""
    scope = CursorScope(_scope(request), await _cursor_secret(request))
    shape = CURSOR_SHAPES.get(url_path(request))
    key = decode_cursor(cursor, scope, shape=shape) if cursor else None
    return Paging(limit=limit, newest_first=sort == "-date", cursor=key, scope=scope)


PagingDep = Annotated[Paging, Depends(paging)]

MAX_SORT = 70


async def sorted_paging(
    request: Request,
    conn: ConnectionDep,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    sort: Annotated[
        str,
        Query(
            description="`-date` newest first (default), `date`, `title`, or a declared field "
            "`data.NAME` (a scalar one); `-` before any of them for descending. Ties go by "
            "post id; posts without the field come last in either direction.",
            max_length=MAX_SORT,
            examples=["-date", "title", "-data.rating"],
        ),
    ] = "-date",
) -> Paging:
    """Paging for /posts and /entries, whose `sort` may name the title or a declared field."""
    schema = schema_in_force(conn) if PREFIX in sort else FieldSchema()
    try:
        key = parse_sort(sort, schema)
    except FieldQueryError as error:
        raise InvalidParameter(error.param, error.message) from None
    scope = CursorScope(_scope(request), await _cursor_secret(request))
    path = url_path(request)
    shape = CURSOR_SHAPES.get(path if key.by == "date" else f"{path}?sort={SORTED}")
    decoded = decode_cursor(cursor, scope, shape=shape) if cursor else None
    return Paging(
        limit=limit,
        newest_first=key.descending,
        cursor=decoded,
        scope=scope,
        sort=key,
        schema=schema,
    )


SortedPagingDep = Annotated[Paging, Depends(sorted_paging)]


async def data_filters(request: Request, conn: ConnectionDep) -> tuple[DataFilter, ...]:
    """`data.NAME=value` and `data.NAME.OP=value`, checked against the declared fields."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k.startswith(PREFIX)]
    if not params:
        return ()
    try:
        return parse_filters(params, schema_in_force(conn))
    except FieldQueryError as error:
        raise InvalidParameter(error.param, error.message) from None


async def listing_filters(
    filters: FiltersDep,
    data: Annotated[tuple[DataFilter, ...], Depends(data_filters)],
) -> EntryFilters:
    """The shared filters and those on declared fields (`data.NAME`, `data.NAME.OP`)."""
    return replace(filters, data=data) if data else filters


ListingFiltersDep = Annotated[EntryFilters, Depends(listing_filters)]


async def sparse_fields(
    fields: Annotated[
        list[str],
        Query(
            # Left out of the OpenAPI document: a cut answer is not the declared shape,
            # and typed clients read whole items. docs/api.md documents it.
            include_in_schema=False,
        ),
    ] = [],  # noqa: B006
) -> tuple[str, ...]:
    """`fields=id,text` (comma-separated or repeated): the members each item keeps."""
    wanted = [part.strip() for value in fields for part in value.split(",") if part.strip()]
    if len(wanted) > MAX_VALUES:
        raise InvalidParameter("fields", f"at most {MAX_VALUES} names")
    for name in wanted:
        text_value("fields", name)
    return tuple(dict.fromkeys(wanted))


SparseFieldsDep = Annotated[tuple[str, ...], Depends(sparse_fields)]


def check_fields(
    wanted: tuple[str, ...], members: Iterable[str], schema: FieldSchema | None = None
) -> None:
    """422 unless every name is a member of the item (or `data.NAME` of a declared field)."""
    known = set(members)
    for name in wanted:
        if name in known:
            continue
        declared = schema.fields if schema is not None and "data" in known else {}
        if name.startswith(PREFIX) and name[len(PREFIX) :] in declared:
            continue
        choices = ", ".join(sorted(known))
        raise InvalidParameter("fields", f"unknown member {name[:64]!r}; choose from {choices}")


def cut(item: dict[str, Any], wanted: tuple[str, ...]) -> dict[str, Any]:
    """An item (as JSON data) with only the members asked for; `data.X` keeps one field."""
    kept: dict[str, Any] = {}
    for name in wanted:
        if name.startswith(PREFIX):
            field_name = name[len(PREFIX) :]
            data = item.get("data") or {}
            if field_name in data:
                kept.setdefault("data", {})[field_name] = data[field_name]
        elif name in item:
            kept[name] = item[name]
    return kept


NOT_ISSUED = "not a cursor this API issued"
MAC_BYTES = 12
# Integer ranges of the columns cursor values are compared with: PostgreSQL casts bound
# parameters to the column's type, so a larger value is an error there, not an empty page.
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1

# What each value of a cursor key may be. `day`: a date (YYYY-MM-DD) or null; `int`:
# 0..MAX_INT (positions, offsets, counts); `bigint`: 0..MAX_BIGINT (ids); `text`: a
# string of at most MAX_SLUG characters; `value`: a sort value (null, a boolean, a finite
# number, or a string of at most MAX_VALUE_TEXT characters).
CursorSlot = Literal["day", "int", "bigint", "text", "value"]
MAX_SLUG = 255
MAX_VALUE_TEXT = 1000

# The keys each list's cursors carry, by path (the routes encode them so). A cursor whose
# payload has another shape was not issued by this API, even when its signature holds.
CURSOR_SHAPES: dict[str, tuple[CursorSlot, ...]] = {
    "/entries": ("day", "bigint", "int"),  # date, post id, position in the post
    "/posts": ("day", "bigint"),  # date, post id
    "/links": ("bigint",),  # link id
    "/search": ("int",),  # offset
    "/urls": ("int",),  # offset
    "/domains": ("int", "text"),  # post count, slug
    # Sorted by title or a declared field: the post's value of it first.
    "/entries?sort=value": ("value", "bigint", "int"),  # value, post id, position
    "/posts?sort=value": ("value", "bigint"),  # value, post id
}
SORTED = "value"


async def _cursor_secret(request: Request) -> bytes:
    """The database's cursor secret: read once per process, in the threadpool that once."""
    engine = request.app.state.engine
    found = cached_cursor_secret(engine)
    if found is not None:
        return found
    try:
        return await run_in_threadpool(cursor_secret, engine)
    except SQLAlchemyError as error:
        raise Unavailable(f"the database cannot answer: {type(error).__name__}") from None


# Parameters that add to an answer without changing which items its pages hold.
_NOT_IN_SCOPE = {"cursor", "count", "facets"}


def _scope(request: Request) -> str:
    """The route and the parameters that decide the items: a cursor is valid only for these."""
    params = sorted((k, v) for k, v in query_items(request) if k not in _NOT_IN_SCOPE)
    return hashlib.blake2b(
        json.dumps([url_path(request), params]).encode(), digest_size=8
    ).hexdigest()


# Characters `request.url` escapes in the path or reads as the fragment's start.
_UNPLAIN_PATH = re.compile(r"[?#\\]")


# A query string that parsing and `urlencode` give back unchanged: names and values of
# the characters `quote_plus` keeps, each name with an `=`.
_PLAIN_QUERY = re.compile(
    rb"[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~-]*(?:&[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~-]*)*"
)


def query_items(request: Request) -> list[tuple[str, str]]:
    """`request.query_params.multi_items()`; a plain query string (no escapes) is split
    without the parser, which gives the same pairs for it."""
    raw: bytes = request.scope.get("query_string", b"")
    if _PLAIN_QUERY.fullmatch(raw):
        pairs = (pair.partition("=") for pair in raw.decode("ascii").split("&"))
        return [(name, value) for name, _, value in pairs]
    return request.query_params.multi_items()


def url_path(request: Request) -> str:
    """`request.url.path`, without building the URL when the path is plain (they agree)."""
    path: str = request.scope["path"]
    return request.url.path if _UNPLAIN_PATH.search(path) else path


def url_query(request: Request) -> str:
    """`request.url.query`, without building the URL when the query has no `#`."""
    raw: bytes = request.scope.get("query_string", b"")
    return request.url.query if b"#" in raw else raw.decode()


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()[:MAC_BYTES]


def encode_cursor(key: list[Any], scope: CursorScope) -> str:
    """Sign and encode a page position for this query."""
    payload = json.dumps([scope.digest, key], separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(_mac(scope.secret, payload) + payload).decode().rstrip("=")


def decode_cursor(
    token: str, scope: CursorScope, *, shape: tuple[CursorSlot, ...] | None = None
) -> list[Any]:
    """The page position inside a cursor; 422 when it was altered or belongs elsewhere.

    The payload is checked even when its signature holds (a leaked or old secret must not
    reach a query): a list of values of the route's `shape`, or, for a route declaring
    none, of scalars in the ranges every engine holds.
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidParameter("cursor", NOT_ISSUED) from None
    mac, payload = raw[:MAC_BYTES], raw[MAC_BYTES:]
    if not payload or not hmac.compare_digest(mac, _mac(scope.secret, payload)):
        raise InvalidParameter("cursor", NOT_ISSUED)
    try:
        document = json.loads(payload, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise InvalidParameter("cursor", NOT_ISSUED) from None
    match document:
        case [str(found_scope), list(key)]:
            pass
        case _:
            raise InvalidParameter("cursor", NOT_ISSUED)
    if found_scope != scope.digest:
        raise InvalidParameter("cursor", "belongs to a different query; start again without it")
    if not _valid_key(key, shape):
        raise InvalidParameter("cursor", NOT_ISSUED)
    return key


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are no JSON, and no cursor holds them."""
    raise ValueError(name)


def _valid_key(key: list[Any], shape: tuple[CursorSlot, ...] | None) -> bool:
    """True when `key` has `shape` (or, without one, holds 1-4 plain values in range)."""
    if shape is None:
        return 1 <= len(key) <= 4 and all(
            value is None or _fits(value, "bigint") or _fits(value, "text") for value in key
        )
    return len(key) == len(shape) and all(
        _fits(value, slot) for value, slot in zip(key, shape, strict=True)
    )


def _fits(value: Any, slot: CursorSlot) -> bool:
    """True when `value` is what a cursor slot of kind `slot` holds."""
    if slot == "day":
        if value is None:
            return True
        if not isinstance(value, str) or len(value) != len("YYYY-MM-DD"):
            return False
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if slot == "text":
        return isinstance(value, str) and len(value) <= MAX_SLUG and "\x00" not in value
    if slot == "value":
        if value is None or isinstance(value, bool):
            return True
        if isinstance(value, str):
            return len(value) <= MAX_VALUE_TEXT and "\x00" not in value
        return isinstance(value, int | float) and abs(value) <= 1e300
    # bool is an int to Python, never to a cursor.
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return 0 <= value <= (MAX_INT if slot == "int" else MAX_BIGINT)


def next_url(request: Request, response: Response, token: str | None) -> str | None:
    """The next page's URL, also sent as an RFC 8288 `Link` header."""
    if token is None:
        return None
    url = _plain_next_url(request, token)
    if url is None:
        # What `request.url.include_query_params(cursor=token)` gives, from the parameters
        # the request already parsed: the cursor replaced, at the end.
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
        url = str(request.url.replace(query=urlencode([*params, ("cursor", token)])))
    response.headers["Link"] = f'<{url}>; rel="next"'
    return url


# `request.url` without its query, per scheme, server, root path, path and Host header (a page's
# next URL is that and its new query: `urlunsplit` adds "?" and the query).
_URL_BASES: dict[tuple[Any, ...], str] = {}
_URL_BASES_KEPT = 64


def _plain_next_url(request: Request, token: str) -> str | None:
    """`next_url`'s URL without parsing and encoding the query again when it is plain (the
    same string, the cursor replaced at the end), or None."""
    scope = request.scope
    raw: bytes = scope.get("query_string", b"")
    if not _PLAIN_QUERY.fullmatch(raw):
        return None
    host = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = value
            break
    server = scope.get("server")  # a list from some servers
    key = (
        scope.get("scheme"),
        tuple(server) if server else None,
        scope.get("root_path", ""),
        scope["path"],
        host,
    )
    base = _URL_BASES.get(key)
    if base is None:
        base = str(request.url.replace(query=""))
        if len(_URL_BASES) >= _URL_BASES_KEPT:
            _URL_BASES.clear()
        _URL_BASES[key] = base
    kept = [part for part in raw.decode("ascii").split("&") if not part.startswith("cursor=")]
    return f"{base}?{'&'.join([*kept, 'cursor=' + quote_plus(token)])}"


@dataclass(frozen=True, slots=True)
class _Declared:
    """A route's query parameters: every name, the single-valued ones, `data.*` or not."""

    dependant: Dependant
    names: frozenset[str]
    single: frozenset[str]
    data: bool


# Worked out once per route (routes are not hashable: keyed by the id of a dependant the
# entry keeps alive, so ids are not reused).
_DECLARED: dict[int, _Declared] = {}


def _query_names(dependant: Dependant) -> Iterator[str]:
    """Every query parameter a route reads, its dependencies' included."""
    for param in dependant.query_params:
        yield param.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)


def _reads_data(dependant: Dependant) -> bool:
    """True when the route takes `data.NAME` filters."""
    return dependant.call is data_filters or any(_reads_data(s) for s in dependant.dependencies)


def _declared(dependant: Dependant) -> _Declared:
    """The route's parameters, cached."""
    found = _DECLARED.get(id(dependant))
    if found is None:
        found = _DECLARED[id(dependant)] = _Declared(
            dependant,
            frozenset(_query_names(dependant)),
            frozenset(_single_valued(dependant)),
            _reads_data(dependant),
        )
    return found


class UnknownParameters(InvalidParameter):
    """Query parameters the route does not take (a typo must not be a silent full list)."""

    def __init__(self, names: list[str], known: frozenset[str], data: bool) -> None:
        takes = ", ".join(sorted(known)) or "no parameters"
        if data:
            takes += ", data.NAME[.OP]"
        message = f"unknown parameter; this endpoint takes {takes}"
        AppError.__init__(
            self,
            f"unknown parameter(s) {', '.join(names)}",
            [{"param": name, "message": message} for name in names],
        )


def _single_valued(dependant: Dependant) -> Iterator[str]:
    """The query parameters a route reads one value of, its dependencies' included."""
    for param in dependant.query_params:
        if get_origin(param.field_info.annotation) is not list:
            yield param.alias
    for sub in dependant.dependencies:
        yield from _single_valued(sub)


async def single_values(request: Request) -> None:
    """Refuse parameters the route does not declare, and a single-valued one given twice.

    An unknown name (`tgas=x`) would otherwise be ignored and answer the unfiltered
    list. A repeated single value (`limit=5&limit=500`): the framework would quietly keep
    one of them; which one a cache, a proxy or a log reader sees first is another matter
    (HTTP parameter pollution). Every route runs this (through `Conditional` or
    `SingleValues`), reading the route's own declared parameters, so no route lists them.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    declared = _declared(route.dependant)
    unknown = [
        name
        for name in dict.fromkeys(request.query_params.keys())
        if name not in declared.names and not (declared.data and name.startswith(PREFIX))
    ]
    if unknown:
        raise UnknownParameters([name[:64] for name in unknown], declared.names, declared.data)
    single = declared.single
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in single:
            if name in seen:
                raise InvalidParameter(name, "given more than once; it takes one value")
            seen.add(name)


SingleValues = Depends(single_values)


async def conditional(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    _single: Annotated[None, SingleValues],
    who: ViewerDep,
    # Declared for the OpenAPI document; the edge compares it with the answer's ETag.
    if_none_match: Annotated[
        str | None,
        Header(description="ETags of cached copies (or `*`): a current one gets 304, no body."),
    ] = None,
) -> None:
    """ETag from the content version and the request, for a matching If-None-Match to get a 304.

    The 304 itself is left to the edge (`app.asgi.edge`), which answers it in place of a
    200 carrying a matching ETag: only then is every parameter checked (FastAPI checks
    the route's own ones after its dependencies), so a bad or unauthorised request gets
    its 4xx, never a 304. The hot routes' quick lanes answer 304s before their query,
    once they have checked every parameter. A preview's answers have ETags of their own
    and are never stored (`private, no-store`), so no cache hands a draft to anyone else.
    """
    version = conn.execute(CONTENT_VERSION).scalar()
    request.state.content_version = version
    etag = etag_for(version, who, url_path(request), url_query(request))
    # Answers differ with the token: caches keep them apart.
    response.headers["Vary"] = "Authorization"
    if who.preview:
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = "private, no-store"
        return
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = PUBLIC_CACHING


def etag_for(version: int | None, who: Viewer, path: str, query: str) -> str:
    """The ETag of an answer: the content version, the audience and the request."""
    audience = "preview" if who.preview else "public"
    fingerprint = hashlib.blake2b(
        f"{version}|{audience}|{path}|{query}".encode(), digest_size=12
    ).hexdigest()
    return f'W/"{fingerprint}"'


def not_modified(etag: str, if_none_match: str | None) -> bool:
    """Whether `If-None-Match` names `etag` (or is `*`): the client's copy is current."""
    candidates = if_none_match or ""
    return candidates.strip() == "*" or etag in [c.strip() for c in candidates.split(",")]


# What public answers say to caches: keep, but ask again every time (a 304 is cheap).
PUBLIC_CACHING = "public, max-age=0, must-revalidate"


def public_response(etag: str) -> Response:
    """An empty response holding the headers `conditional` gives a public answer."""
    return Response(
        headers={"Vary": "Authorization", "ETag": etag, "Cache-Control": PUBLIC_CACHING}
    )


Conditional = Depends(conditional)
