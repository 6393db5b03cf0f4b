"""The closed sets of words the store, the queries and the API share.

Link check verdicts and statuses, link origins, facet names and timeline intervals are
written by one layer and read by the others: they live here, below all of them, so no
layer imports another's module for a word.
"""

from enum import StrEnum
from typing import Literal, get_args


class LinkOutcome(StrEnum):
    """What probing an address found.

    ok: a 2xx answer at the address itself; redirected: a 2xx answer after redirects to
    another address; broken: a dead link, the final answer was 4xx (or redirects never
    ended); error: the server failed (5xx); timeout: no answer in the time allowed;
    unreachable: no HTTP answer at all (unknown host, connection refused or reset, TLS
    failure, or not a valid URL).
    """

    ok = "ok"
    redirected = "redirected"
    broken = "broken"
    error = "error"
    timeout = "timeout"
    unreachable = "unreachable"


class LinkStatus(StrEnum):
    """A link's health as `/links?status=` filters it: an outcome, or `unchecked`."""

    ok = "ok"
    redirected = "redirected"
    broken = "broken"
    error = "error"
    timeout = "timeout"
    unreachable = "unreachable"
    unchecked = "unchecked"


# Where a link was written: the post's text, or a front-matter value (`repo:`, `url::`).
LinkOrigin = Literal["body", "front_matter"]

# What `/entries?facets=` can count.
FacetName = Literal["domain", "tag", "category", "host", "link_kind", "year"]
FACET_NAMES: tuple[FacetName, ...] = get_args(FacetName)

# The length of each period of `/timeline`.
Interval = Literal["day", "week", "month", "year"]
