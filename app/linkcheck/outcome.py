"""The verdicts a link check can reach (no HTTP machinery here: the API imports it)."""

from enum import StrEnum


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
