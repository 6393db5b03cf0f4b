"""Answers assembled as bytes from stored entry documents, beside the response models.

The entry index keeps each entry's JSON document ready; splicing 50 of them into a page
costs a fraction of validating and serializing 50 `EntryOut` models. What is spliced here
has the shape the declared models give (tests compare both ways); when the index is not
ready for the request's content version, the callers take the models' way.
"""

import sqlite3

from fastapi import Request, Response
from sqlalchemy import Connection

from app.queries.entry_index import (
    EntryIndex,
    IndexHolder,
    KeptAnswer,
    loop_page_answers,
    page_answers,
)


def ready_index(request: Request, conn: Connection) -> EntryIndex | None:
    """The entry index of the content version this request reads, or None while building."""
    holder: IndexHolder = request.app.state.entry_index
    return holder.get(conn, request.state.content_version)


def entry_answers(
    request: Request, conn: Connection | sqlite3.Connection, index: EntryIndex, ids: list[int]
) -> list[KeptAnswer] | None:
    """Entries `ids` as JSON in that order, with their sort keys; None if one has no document.

    `conn`: the request's connection, or a `LoopReader` snapshot.
    """
    template = request.app.state.settings.edit_url_template
    if isinstance(conn, sqlite3.Connection):
        return loop_page_answers(conn, index, ids, template)
    return page_answers(conn, index, ids, template)


def json_answer(body: bytes, response: Response) -> Response:
    """`body` as the JSON answer, with the headers the dependencies set on `response`."""
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(body, media_type="application/json", headers=headers)
