"""Every http(s) link a reader of the rendered post can click is stored.

The reference is an independent Markdown parser (mistune, with its bare-URL and footnote
plugins) rendering each body to HTML, raw HTML kept, and counting `<a href>` targets. URLs
compare as a reader sees them: percent-decoded, case-folded, without a trailing slash.
"""

from collections import Counter
from html.parser import HTMLParser
from urllib.parse import unquote

import frontmatter
import mistune
import pytest

from app.folders.config import load_config
from app.folders.dialect import detect
from app.ingest.discover import discover, read_source
from app.ingest.parse import parse_post
from tests.ingest.test_corpora import EXPECTED_FAILURES, corpus

pytestmark = pytest.mark.corpora

_HTTP = ("http://", "https://")


class _Hrefs(HTMLParser):
    """The http(s) targets of `<a href>` in rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        for name, value in attrs:
            if name == "href" and value and value.strip().lower().startswith(_HTTP):
                self.hrefs.append(value.strip())


def _seen(url: str) -> str:
    """A URL as compared: decoded, case-folded, without the trailing punctuation or
    template braces (`{{video https://…}}`) a bare URL's end is ambiguous about."""
    return unquote(url).rstrip("/!.,;:'\"){}").rstrip("/").lower()


def _reference_links(text: str) -> Counter[str]:
    """http(s) links of a post's body as the reference parser renders them."""
    try:
        body = frontmatter.loads(text).content
    except Exception:  # a front matter the reference cannot read: its body is the text
        body = text
    render = mistune.create_markdown(
        escape=False, plugins=["url", "strikethrough", "table", "footnotes"]
    )
    collector = _Hrefs()
    collector.feed(str(render(body)))
    collector.close()
    return Counter(_seen(url) for url in collector.hrefs)


@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_http_link_recall_matches_an_independent_parser(name: str) -> None:
    folder = corpus(name)
    sources, _ = discover(folder)
    dialect = detect(folder, load_config(folder), [s.absolute for s in sources]).name
    expected = found = stored = 0
    missed: Counter[tuple[str, str]] = Counter()
    for source in sources:
        text = read_source(source, 1 << 30).text
        reference = _reference_links(text)
        post = parse_post(text, source.path, dialect)
        ours = Counter(_seen(link.url) for link in post.links if link.url.lower().startswith(_HTTP))
        expected += sum(reference.values())
        stored += sum(ours.values())
        found += sum((reference & ours).values())
        missed.update({(source.path, url): n for url, n in (reference - ours).items()})
    recall = found / expected if expected else 1.0
    summary = f"{name}: {expected} reference links, {stored} stored, recall {recall:.4f}"
    assert recall >= 0.99, (summary, missed.most_common(10))
