"""Search: entries or posts ranked by relevance, with highlighted snippets."""

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.api.deps import (
    Conditional,
    ConnectionDep,
    PagingDep,
    ScopeFiltersDep,
    encode_cursor,
    next_url,
    text_value,
)
from app.api.responses import READ
from app.api.spliced import entry_answers, json_answer, ready_index
from app.errors import InvalidParameter
from app.queries.entries import domain_aliases, entries_by_id, entry_conditions
from app.queries.posts import post_conditions, posts_by_id
from app.queries.search import Hit, Target, ranked
from app.schemas import EntryOut, PostSummary, SearchHit, SearchHitPage
from app.search.entries import ranked_entries
from app.search_syntax import SearchSyntaxError, parse_search

router = APIRouter(tags=["search"])

# Relevance pages are numbered, not keyed: past this many hits, refine the query.
MAX_OFFSET = 10_000


@router.get(
    "/search",
    operation_id="search",
    dependencies=[Conditional],
    responses=READ,
    response_model=SearchHitPage,
)
async def search(
    request: Request,
    response: Response,
    conn: ConnectionDep,
    filters: ScopeFiltersDep,
    paging: PagingDep,
    q: Annotated[
        str,
        Query(
            description="What to look for: words (all must match; English stemming), "
            '"quoted phrases", prefixes `llm*`, exclusions `-word`. Anything else a '
            "search engine would read as syntax is refused with 422.",
            min_length=1,
            max_length=200,
            examples=["mixtral"],
        ),
    ],
    type: Annotated[
        Literal["entry", "post"],
        Query(description="Search entries (default) or whole posts (title and text)."),
    ] = "entry",
) -> SearchHitPage | Response:
    """Entries (or posts) matching `q` and every filter given, best match first.

    Each hit carries its relevance score (higher is better; comparable within one answer
    only) and a snippet of the matching text with `<mark>` around the matched words; the
    snippet is escaped text plus those marks, safe for `innerHTML`.
    """
    try:
        query = parse_search(text_value("q", q))
    except SearchSyntaxError as error:
        raise InvalidParameter("q", str(error)) from None
    offset = paging.offset()
    aliases = domain_aliases(conn)
    target: Target = "entries" if type == "entry" else "posts"
    where = (entry_conditions if type == "entry" else post_conditions)(filters, aliases)
    index = ready_index(request, conn) if type == "entry" else None
    # The threadpool takes the ranking: answered in memory it is short, but a word asked
    # for the first time in this content version (or SQL's answer) takes milliseconds.
    if type == "entry":
        hits = await run_in_threadpool(
            ranked_entries,
            conn,
            query,
            filters,
            where,
            index=index,
            limit=paging.limit + 1,
            offset=offset,
        )
    else:
        hits = await run_in_threadpool(
            ranked, conn, target, query, where, limit=paging.limit + 1, offset=offset
        )
    has_more = len(hits) > paging.limit and offset + paging.limit < MAX_OFFSET
    hits = hits[: paging.limit]
    ids = [hit.id for hit in hits]
    token = encode_cursor([offset + paging.limit], paging.scope) if has_more else None
    link = next_url(request, response, token)
    if type == "post":
        posts = posts_by_id(conn, ids)
        post_hits = [
            SearchHit(
                score=hit.score,
                snippet=hit.snippet,
                post=PostSummary.model_validate(posts[hit.id]),
            )
            for hit in hits
            if hit.id in posts
        ]
        return SearchHitPage(items=post_hits, next=link, total=None)
    answers = None if index is None else entry_answers(request, conn, index, ids)
    if answers is not None:
        body = _spliced_page(hits, [answer for answer, _ in answers], link)
        return json_answer(body, response)
    entries = entries_by_id(conn, ids, aliases)
    entry_hits = [
        SearchHit(
            score=hit.score, snippet=hit.snippet, entry=EntryOut.model_validate(entries[hit.id])
        )
        for hit in hits
        if hit.id in entries
    ]
    return SearchHitPage(items=entry_hits, next=link, total=None)


def _spliced_page(hits: list[Hit], entries: list[bytes], link: str | None) -> bytes:
    """The page of entry hits as `SearchHitPage` serializes it, around stored documents."""
    items = b",".join(
        b'{"score":%s,"snippet":%s,"entry":%s,"post":null}'
        % (orjson.dumps(hit.score), orjson.dumps(hit.snippet), entry)
        for hit, entry in zip(hits, entries, strict=True)
    )
    return b'{"items":[%s],"next":%s,"total":null}' % (items, orjson.dumps(link))
