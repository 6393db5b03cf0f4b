"""Link targets: the quick path of app.render gives exactly what markdown-it's
normalizeLink gives (checked once over every link of ../shared/corpora as well)."""

import random

import pytest
from markdown_it.common.normalize_url import normalizeLink

from app.ingest.links import host_of, kind_of, link_facts, url_key
from app.render import _normalize_link

TRICKY = [
    "",
    "https://example.com",
    "https://example.com/a/b?c=d&e=f#g",
    "HTTPS://Example.COM/Path",
    "http://a.com:8080/x",
    "http://a.com:/x",
    "http://a.com:80@b.com/",
    "http://user@host/path",
    "http://@host/",
    "http://a..b.com/",
    "http://a.com./",
    "http://ex!ample.com/",
    "http://ex_ample.com/",
    "http://" + "a" * 64 + ".com/",
    "http://" + ".".join(["a" * 63] * 5) + "/",
    "//example.com/x",
    "///x",
    "mailto:someone@example.com",
    "mailto:@example.com",
    "foo:bar",
    "a/b:c",
    "/relative/path?q=1#frag#again",
    "#anchor",
    "100%",
    "100%25",
    "%zz",
    "https://example.com/%E2%82%AC",
    "https://example.com/€",
    "https://bücher.example/",
    "https://example.com/a b",
    " https://example.com/ ",
    "https://[::1]/",
    "https://example.com/[x]",
    "skype:name",
]


@pytest.mark.parametrize("url", TRICKY)
def test_tricky_targets_normalize_as_markdown_it_does(url: str) -> None:
    assert _normalize_link(url) == normalizeLink(url)


def test_random_targets_normalize_as_markdown_it_does() -> None:
    alphabet = "aZ09;/?:@&=+$,-_.!~*'()#%AF[]|\\^` \té<>\""
    prefixes = ["http://", "https://", "HTTP://", "//", "mailto:", "ftp://", "", "x:", "/"]
    prefixes += ["#", "http://a.b", "https://ex-ample.com:8080", "http://a@b.c"]
    rng = random.Random(1)
    for _ in range(20_000):
        length = rng.randint(0, 12)
        url = rng.choice(prefixes) + "".join(rng.choice(alphabet) for _ in range(length))
        assert _normalize_link(url) == normalizeLink(url), url


def test_link_facts_agree_with_host_kind_and_key() -> None:
    """link_facts splits an address once; it answers as host_of, kind_of and url_key do."""
    pieces = ["http://", "https://", "HTTPS://", "www.", "arxiv.org", "export.arxiv.org"]
    pieces += ["/abs/1234.5678v2", "/pdf/1.2.pdf", ":80", ":443", ":8x", ":99999", "[::1]"]
    pieces += ["[bad", "@", "?utm_source=x&a=1", "#f", "/", " ", "a.PDF", "github.com"]
    pieces += ["x.huggingface.co", "mailto:a@b", "..", "%20", "\t"]
    rng = random.Random(2)
    for _ in range(20_000):
        url = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        host = host_of(url)
        assert link_facts(url) == (host, kind_of(url, host), url_key(url)), url
