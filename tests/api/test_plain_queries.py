"""A plain query string is read without the parser, and a next page's URL built from it
without encoding it again: the same pairs and the same URL as parsing and encoding give."""

from urllib.parse import urlencode

from fastapi import Request, Response
from hypothesis import given
from hypothesis import strategies as st

from app.api.deps import next_url, query_items

_PLAIN = st.text(alphabet="abcxyz019_.~-", max_size=6)
_ANY = st.text(alphabet="ab =&+%#?/;é", max_size=6)


def _request(query: bytes, host: bytes | None, path: str = "/entries") -> Request:
    headers = [(b"host", host)] if host is not None else []
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "root_path": "",
            "query_string": query,
            "headers": headers,
            "server": ["127.0.0.1", 8000],
        }
    )


def _parsed_way(request: Request, token: str) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    return str(request.url.replace(query=urlencode([*params, ("cursor", token)])))


@given(
    pairs=st.lists(st.tuples(st.sampled_from(["domain", "cursor", "tag", "x"]), _PLAIN)),
    other=st.lists(st.tuples(_ANY, _ANY), max_size=2),
    host=st.sampled_from([None, b"example.com", b"127.0.0.1:8000", b"bad host:x", b"[::1]:81"]),
    path=st.sampled_from(["/entries", "/search", "/a%20b", "//x"]),
    token=st.text(alphabet="AZaz09-_", min_size=1, max_size=12),
)
def test_next_url_is_the_parsed_way_url(
    pairs: list[tuple[str, str]],
    other: list[tuple[str, str]],
    host: bytes | None,
    path: str,
    token: str,
) -> None:
    for query in (
        "&".join(f"{k}={v}" for k, v in pairs),
        "&".join(f"{k}={v}" for k, v in [*pairs, *other]),
    ):
        request = _request(query.encode(), host, path)
        response = Response()
        url = next_url(request, response, token)
        assert url == _parsed_way(_request(query.encode(), host, path), token)
        assert response.headers["link"] == f'<{url}>; rel="next"'


@given(
    pairs=st.lists(st.tuples(st.sampled_from(["domain", "cursor", "tag", ""]), _PLAIN)),
    other=st.lists(st.tuples(_ANY, _ANY), max_size=2),
)
def test_query_items_are_the_parsed_ones(
    pairs: list[tuple[str, str]], other: list[tuple[str, str]]
) -> None:
    for query in (
        "&".join(f"{k}={v}" for k, v in pairs),
        "&".join(f"{k}={v}" for k, v in [*pairs, *other]),
        "&".join([*(f"{k}={v}" for k, v in pairs), "bare"]),
    ):
        request = _request(query.encode(), None)
        assert query_items(request) == _request(query.encode(), None).query_params.multi_items()
