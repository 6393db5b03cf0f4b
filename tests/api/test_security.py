"""Request-level security, on both engines: XSS, SQL injection, headers, secrets.

Cross-site scripting vectors (from the OWASP XSS filter evasion cheat sheet, plus the
Markdown spellings of the same tricks) written in posts must never reach rendered HTML as
script, nor be stored as links. SQL injection strings in every filter answer 200 or 422
and leave the data as it was; a single-valued parameter given twice is refused. Every
answer says `nosniff` and carries a Content-Security-Policy (the docs pages one that lets
exactly their own scripts run); HEAD answers like GET; no error body shows the admin
token or the database password.
"""

import base64
import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.main import create_app
from app.settings import Settings
from tests.api.conftest import PREVIEW, preview_for
from tests.conftest import Ingest

# Raw HTML vectors, each written inline in a list item and again as an HTML block.
HTML_VECTORS = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;"
    "&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72"
    "&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<img src=x onerror=alert(1)>",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">',
    "<svg onload=alert(1)>",
    "<svg/onload=alert('XSS')>",
    "<BODY ONLOAD=alert('XSS')>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<IFRAME SRC=# onmouseover="alert(document.cookie)"></IFRAME>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a>',
    '<a href="javascript&colon;alert(1)">colon entity</a>',
    '<a href="  JaVaScRiPt:alert(1)">leading spaces</a>',
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">styled</DIV>",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">expression</DIV>",
    "<STYLE>@import'https://xss.example/xss.css';</STYLE>",
    '<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\"><tr><td>x</td></tr></TABLE>",
    '<OBJECT TYPE="text/x-scriptlet" DATA="https://xss.example/scriptlet.html"></OBJECT>',
    '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<video><source onerror="alert(1)"></video>',
    "<details open ontoggle=alert(1)>toggle</details>",
]
# The same tricks in Markdown syntax: links, images, autolinks, references, templates.
MARKDOWN_VECTORS = [
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#x6A;avascript:alert(1))",
    "[click](java&#9;script:alert(1)//{{site.url}})",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](data:image/png;base64,iVBORw0KGgo=)",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![img](data:image/png;base64,iVBORw0KGgo=)",
    "<javascript:alert(1)>",
    "[reference][evil]",
    '[title](https://example.org "x\\" onmouseover=\\"alert(1)")',
]
FOOTER = "\n[evil]: javascript:alert(1)\n"

SQL_INJECTIONS = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '"; DROP TABLE posts; --',
    "'; DROP TABLE entries; --",
    "%' UNION SELECT name, sql FROM sqlite_master --",
    "%' UNION SELECT table_name FROM information_schema.tables --",
    "1; SELECT pg_sleep(0)",
    "\u2019 OR 1=1 --",
    "\uff07 OR \uff071\uff07=\uff071",
    "a\x00b",
    "\x00",
    "%_%",
    "\\",
    "' AND 1=(SELECT COUNT(*) FROM posts) --",
]
# Every filter of the list endpoints, and the parameters only some of them have.
FILTERS = ["domain", "tag", "category", "from", "to", "q", "post", "host", "link_kind"]
EXTRA = {
    "/entries": ["facets", "cursor", "sort", "limit", "include_drafts"],
    "/posts": ["cursor", "sort", "limit", "include_drafts"],
    "/search": ["type", "cursor", "limit"],
    "/links": ["cursor", "limit"],
    "/urls": ["cursor", "limit"],
    "/timeline": ["interval", "include_drafts"],
}
FEEDS = ["/feeds/entries.atom", "/feeds/entries.json", "/feeds/posts.atom", "/feeds/posts.json"]
ATOM = "{http://www.w3.org/2005/Atom}"

TOKEN = "admin-token-that-must-not-leak"
DB_PASSWORD = "database-password-that-must-not-leak"

# What a browser's URL parser drops before it reads a scheme.
_BROWSER_IGNORED = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
_UNSAFE_SCHEME = re.compile(r"(javascript|vbscript|data|file):", re.IGNORECASE)
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "background",
    "data",
    "poster",
    "xlink:href",
}
SCRIPTABLE_TAGS = {"script", "iframe", "object", "embed", "style", "base", "meta", "link", "form"}


def unsafe_url(url: str) -> bool:
    """True for a URL a browser would read as javascript:, vbscript:, data: or file:."""
    seen = _BROWSER_IGNORED.sub("", url).strip(_C0_AND_SPACE)
    return _UNSAFE_SCHEME.match(seen) is not None


class _ScriptFinder(HTMLParser):
    """Every way the parsed HTML could run script, as a browser's parser reads it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SCRIPTABLE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            elif name in URL_ATTRIBUTES and value is not None and unsafe_url(value):
                self.found.append(f"<{tag} {name}={value!r}>")
            elif name == "style":
                self.found.append(f"<{tag} style=...>")


def script_in(html: str) -> list[str]:
    """What in `html` could run script or load a script-bearing document; [] when safe."""
    finder = _ScriptFinder()
    finder.feed(html)
    finder.close()
    found = finder.found
    if re.search(r"<script", html, re.IGNORECASE):
        found.append("<script")
    return found


def xss_post() -> str:
    """A post holding every vector inline, as HTML blocks, and in Markdown syntax."""
    inline = "\n".join(f"* vector {n}: {vector}" for n, vector in enumerate(HTML_VECTORS))
    blocks = "\n\n".join(HTML_VECTORS)
    markdown = "\n".join(f"* markdown {n}: {vector}" for n, vector in enumerate(MARKDOWN_VECTORS))
    return (
        "---\ntitle: \"<script>alert('title')</script> XSS\"\ndate: 2024-03-01\n"
        "tags: [security]\n---\n\n"
        f"## Inline\n\n{inline}\n\n## Markdown\n\n{markdown}\n\n"
        f"Paragraph: {' '.join(MARKDOWN_VECTORS)}\n\n## Blocks\n\n{blocks}\n{FOOTER}"
    )


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def xss(client: TestClient, ingest: Ingest, tmp_path: Path) -> TestClient:
    """The client over a database holding the XSS post."""
    folder = tmp_path / "xss"
    folder.mkdir()
    (folder / "2024-03-01-xss.md").write_text(xss_post())
    summary = ingest(folder)
    assert (summary.added, summary.failures) == (1, [])
    return client


def _entries(client: TestClient) -> list[dict[str, Any]]:
    params = {"limit": 200, "include_drafts": True}
    response = client.get("/entries", params=params, headers=PREVIEW)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _section_entries(sections: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for section in sections:
        yield from section["entries"]
        yield from _section_entries(section["sections"])


def _feed_html(client: TestClient) -> Iterator[tuple[str, str]]:
    """(feed, HTML) for every HTML content of every feed, read as a feed reader reads it."""
    for feed in FEEDS:
        response = client.get(feed)
        assert response.status_code == 200, feed
        if feed.endswith(".json"):
            for item in response.json()["items"]:
                yield feed, item.get("content_html", "")
            continue
        root = ET.fromstring(response.content)
        assert not [node.tag for node in root.iter() if "script" in str(node.tag).lower()]
        for node in root.iter():
            if node.tag in (f"{ATOM}content", f"{ATOM}summary"):
                yield feed, node.text or ""


def test_xss_vectors_never_reach_rendered_html(xss: TestClient) -> None:
    entries = _entries(xss)
    assert len(entries) > len(HTML_VECTORS)
    rendered = [(f"entry {entry['id']}", entry["html"]) for entry in entries]
    post = xss.get("/posts/2024-03-01-xss").json()
    rendered.append(("post", post["html"]))
    rendered += [(f"post entry {e['id']}", e["html"]) for e in _section_entries(post["sections"])]
    rendered += list(_feed_html(xss))
    for kind in ("entry", "post"):
        hits = xss.get("/search", params={"q": "alert", "type": kind}).json()["items"]
        assert hits, kind
        rendered += [(f"{kind} search snippet", hit["snippet"]) for hit in hits]
    found = {where: script_in(html) for where, html in rendered if script_in(html)}
    assert found == {}
    # The vectors are still there to read, as text.
    assert "alert" in post["html"]


def test_unsafe_urls_are_never_stored_as_links(xss: TestClient) -> None:
    stored = [link["url"] for entry in _entries(xss) for link in entry["links"]]
    links = xss.get("/links", params={"limit": 200}).json()["items"]
    stored += [link["url"] for link in links]
    urls = xss.get("/urls", params={"limit": 200}).json()["items"]
    stored += [url["url"] for url in urls] + [url["url_key"] for url in urls]
    assert stored, "the post has safe links too"
    assert [url for url in stored if unsafe_url(url)] == []


def _snapshot(engine: Engine, client: TestClient) -> tuple[Any, ...]:
    with engine.connect() as conn:
        counts = tuple(
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("posts", "entries", "links", "tags", "sections")
        )
    return counts, client.get("/posts").json(), _entries(client)


def test_sql_injection_in_every_filter_gets_200_or_422(seeded: TestClient, engine: Engine) -> None:
    before = _snapshot(engine, seeded)
    assert before[0][0] == 1
    answers: dict[tuple[str, str, str], int] = {}
    for path, extra in EXTRA.items():
        for param in FILTERS + extra:
            for attack in SQL_INJECTIONS:
                params = {param: attack}
                if path == "/search" and param != "q":
                    params["q"] = "mixtral"
                answer = seeded.get(path, params=params, headers=preview_for(params))
                answers[path, param, attack] = answer.status_code
    assert {key: status for key, status in answers.items() if status not in (200, 422)} == {}
    # Path parameters too.
    for attack in SQL_INJECTIONS:
        assert seeded.get("/posts/" + quote(attack, safe="")).status_code in (404, 422)
    assert _snapshot(engine, seeded) == before


@pytest.mark.parametrize(
    "query",
    [
        "/entries?limit=5&limit=500",
        "/entries?q=mixtral&q=x%27%20OR%201=1",
        "/posts?sort=date&sort=-date",
        "/search?q=mixtral&type=entry&type=post",
        "/timeline?interval=day&interval=year",
        "/feeds/entries.atom?from=2023-01-01&from=2024-01-01",
    ],
)
def test_a_single_valued_parameter_given_twice_is_refused(seeded: TestClient, query: str) -> None:
    # Which copy a cache, a proxy or a log reader sees first is anyone's guess.
    response = seeded.get(query)
    assert response.status_code == 422
    assert "more than once" in response.json()["detail"]
    assert seeded.get("/entries?tag=thought&tag=genai").status_code == 200


def test_every_answer_says_nosniff_with_a_strict_policy(seeded: TestClient) -> None:
    answers = [
        seeded.get("/entries"),
        seeded.get("/entries", params={"limit": 0}),
        seeded.get("/entries/1"),
        seeded.get("/nowhere"),
        seeded.post("/entries"),
        seeded.get("/openapi.json"),
        seeded.get("/feeds/entries.atom"),
        seeded.get("/metrics"),
        seeded.get("/healthz"),
    ]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        policy = _policy(response.headers["content-security-policy"])
        assert policy["default-src"] == ["'none'"], response.url
        assert policy["frame-ancestors"] == ["'none'"], response.url


def _policy(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_docs_pages_allow_only_their_own_scripts(seeded: TestClient, page: str) -> None:
    response = seeded.get(page)
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = _policy(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    inline = re.findall(r"<script\s*>(.*?)</script\s*>", response.text, re.DOTALL)
    hashes = {
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in inline
    }
    # Scripts from this app, and exactly the inline ones the page has: no 'unsafe-*', no hosts.
    assert set(policy["script-src"]) == {"'self'", *hashes}
    for directive, sources in policy.items():
        assert not [s for s in sources if s.startswith(("http", "*"))], directive
        if directive != "style-src":
            assert not [s for s in sources if "unsafe" in s], directive
    for asset in re.findall(r'(?:src|href)="([^"]+)"', response.text):
        assert asset.startswith("/"), asset


def test_head_answers_like_get_without_a_body(seeded: TestClient) -> None:
    got = seeded.get("/entries", params={"domain": "genai"})
    head = seeded.head("/entries", params={"domain": "genai"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["x-content-type-options"] == "nosniff"
    revalidated = seeded.head(
        "/entries", params={"domain": "genai"}, headers={"If-None-Match": got.headers["etag"]}
    )
    assert revalidated.status_code == 304
    assert seeded.head("/docs").status_code == 200
    assert seeded.head("/posts/no-such-post").status_code == 404


def test_error_bodies_never_show_the_admin_token(engine: Engine, seed_dir: Path) -> None:
    settings = Settings(database_url=_url(engine), content_dir=seed_dir, admin_token=TOKEN)
    with TestClient(create_app(settings)) as client:
        bodies = [
            client.post("/admin/ingest"),
            client.post("/admin/ingest", headers={"Authorization": f"Bearer {TOKEN}x"}),
            client.post("/admin/ingest", headers={"Authorization": f"Basic {TOKEN}"}),
            client.get("/admin/runs", headers={"Authorization": f"Bearer {TOKEN[:-1]}"}),
            client.get(
                "/admin/runs", params={"limit": 0}, headers={"Authorization": f"Bearer {TOKEN}"}
            ),
            client.get("/admin/runs/0", headers={"Authorization": f"Bearer {TOKEN}"}),
            client.get("/admin/runs/99", headers={"Authorization": f"Bearer {TOKEN}"}),
            client.get(
                f"/entries?tag={TOKEN}&limit=x", headers={"Authorization": f"Bearer {TOKEN}"}
            ),
        ]
    assert [r.status_code for r in bodies] == [401, 403, 401, 403, 422, 422, 404, 422]
    for response in bodies:
        assert TOKEN not in response.text
        assert TOKEN[:-1] not in response.text


def test_error_bodies_never_show_the_database_password() -> None:
    # Nothing listens on the discard port: every query fails to connect.
    url = f"postgresql://learnlog:{DB_PASSWORD}@127.0.0.1:9/learnlog"
    with TestClient(create_app(Settings(database_url=url))) as client:
        answers = [client.get(path) for path in ("/entries", "/posts/x", "/readyz", "/metrics")]
    assert [r.status_code for r in answers] == [503, 503, 503, 200]
    for response in answers:
        assert DB_PASSWORD not in response.text
        assert "learnlog:" not in response.text
