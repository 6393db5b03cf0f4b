"""What a link target is: whether it counts as a link, its host, and its kind."""

import re
from functools import lru_cache
from urllib.parse import urlsplit

LINK_SCHEMES = {"http", "https", "mailto"}

_HOST_KINDS = {
    "arxiv.org": "paper",
    "export.arxiv.org": "paper",
    "openreview.net": "paper",
    "aclanthology.org": "paper",
    "papers.nips.cc": "paper",
    "proceedings.neurips.cc": "paper",
    "proceedings.mlr.press": "paper",
    "doi.org": "paper",
    "dl.acm.org": "paper",
    "semanticscholar.org": "paper",
    "paperswithcode.com": "paper",
    "github.com": "code",
    "gist.github.com": "code",
    "gitlab.com": "code",
    "bitbucket.org": "code",
    "codeberg.org": "code",
    "sr.ht": "code",
    "crates.io": "code",
    "docs.rs": "code",
    "pypi.org": "code",
    "npmjs.com": "code",
    "huggingface.co": "model",
    "hf.co": "model",
    "kaggle.com": "model",
    "youtube.com": "video",
    "m.youtube.com": "video",
    "youtu.be": "video",
    "vimeo.com": "video",
    "twitch.tv": "video",
    "twitter.com": "social",
    "x.com": "social",
    "mobile.twitter.com": "social",
    "reddit.com": "social",
    "old.reddit.com": "social",
    "news.ycombinator.com": "social",
    "linkedin.com": "social",
    "mastodon.social": "social",
    "fosstodon.org": "social",
    "threads.net": "social",
    "bsky.app": "social",
    "lobste.rs": "social",
}


def link_scheme(url: str) -> str:
    """The lowercased scheme of `url` ('' for relative targets)."""
    head, sep, _ = url.partition(":")
    if not sep or not head or not head[0].isalpha() or "/" in head:
        return ""
    return head.lower()


def is_storable(url: str) -> bool:
    """True for http(s), mailto and relative targets; other schemes stay plain text."""
    if not url.strip():
        return False
    scheme = link_scheme(url)
    return scheme == "" or scheme in LINK_SCHEMES


def host_of(url: str) -> str | None:
    """Lowercased host without `www.`; None for relative, mailto and malformed targets."""
    if link_scheme(url) not in ("http", "https"):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


# An http(s) address whose host is plain ASCII labels (no user, port or brackets), in
# ASCII without the tabs and line breaks urlsplit drops: path and query read straight off.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z]+://([A-Za-z0-9.-]+)(/[^?#\t\r\n]*)?(?:[?]([^#\t\r\n]*))?(?:#[^\t\r\n]*)?"
)


@lru_cache(maxsize=4096)
def link_facts(url: str) -> tuple[str | None, str, str]:
    """The host, kind and key of a storable target, worked out once per address (posts
    cite the same pages again and again)."""
    scheme = link_scheme(url)
    if scheme not in ("http", "https") or url != url.strip():
        host = host_of(url)
        return host, kind_of(url, host), url_key(url)
    plain = _PLAIN_ADDRESS.fullmatch(url) if url.isascii() else None
    if plain is not None:
        # What urlsplit would give, without its general parsing.
        host = plain.group(1).lower().removeprefix("www.")
        path, query = plain.group(2) or "", plain.group(3) or ""
        return host, _kind_of_address(path, host), _address_key(path, query, host, None)
    # Any other http(s) address as written: split once for all three answers.
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None, "article", url
    if not host:
        return None, "article", url
    host = host.removeprefix("www.")
    try:
        key = _address_key(parts.path, parts.query, host, parts.port)
    except ValueError:  # a port that is no number: the key is the address as written
        key = url
    return host, _kind_of_address(parts.path, host), key


def kind_of(url: str, host: str | None) -> str:
    """Classify a link as paper, code, model, video, social, email, internal or article."""
    scheme = link_scheme(url)
    if scheme == "mailto":
        return "email"
    if host is None:
        return "internal" if scheme == "" else "article"
    return _kind_of_address(urlsplit(url).path, host)


def _kind_of_address(path: str, host: str) -> str:
    """The kind of an http(s) link with a host."""
    if path.lower().endswith(".pdf"):
        return "paper"
    kind = _HOST_KINDS.get(host)
    if kind is None:
        # Subdomains such as `pytorch.github.io` are not code; only exact parents are tried.
        parent = host.split(".", 1)[1] if host.count(".") > 1 else ""
        kind = _HOST_KINDS.get(parent) if parent in ("arxiv.org", "huggingface.co") else None
    return kind or "article"


# Query parameters that only say where a click came from.
_TRACKING = re.compile(r"utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi")
# arXiv serves one paper at /abs/ID, /pdf/ID, /pdf/ID.pdf, /html/ID, each with or without vN.
_ARXIV_PATH = re.compile(r"/(?:abs|pdf|html)/(.+?)(?:v\d+)?(?:\.pdf)?")


def url_key(url: str) -> str:
    """One key per address, however it was spelled; what /urls groups links by.

    Drops what never changes the page: http vs https, host case, `www.`, a default port,
    the fragment, tracking parameters, a trailing slash; an arXiv paper's abstract, PDF and
    versions share one key. Other targets (mailto, relative) are kept as written.
    """
    text = url.strip()
    if link_scheme(text) not in ("http", "https"):
        return text
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        return text
    if not host:
        return text
    return _address_key(parts.path, parts.query, host.removeprefix("www."), port)


def _address_key(path: str, query: str, host: str, port: int | None) -> str:
    """url_key of an http(s) address with this path and query, its host without `www.`."""
    path = path.rstrip("/")
    if host in ("arxiv.org", "export.arxiv.org") and (paper := _ARXIV_PATH.fullmatch(path)):
        host, path = "arxiv.org", f"/abs/{paper.group(1)}"
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    kept = [
        pair
        for pair in query.split("&")
        if pair and not _TRACKING.fullmatch(pair.partition("=")[0].lower())
    ]
    return f"https://{netloc}{path}" + (f"?{'&'.join(kept)}" if kept else "")
