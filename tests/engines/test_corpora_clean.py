"""Real corpora (../shared/corpora) ingested in their own dialect: every file a post, no
template syntax or footnote marker left in a link or in an entry's text outside code."""

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.render import new_markdown
from tests.conftest import Ingest
from tests.ingest.test_corpora import corpus

pytestmark = pytest.mark.corpora

_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{\{|\{%|\[\^[^\]\s]+\]", re.DOTALL)
# `[text]({{ site.baseurl }}/path)` as written (an image `![...]` is no link).
_BASEURL_LINK = re.compile(r"(?<![!\]])\[[^\[\]]*\]\(\{\{ ?site\.baseurl ?\}\}(/[^)\s]*)\)")


def _code_of(source: Path) -> str:
    """Every code span and code block of a file, as Markdown reads them."""
    parts = []
    for token in new_markdown().parse(source.read_text(encoding="utf-8")):
        if token.type in ("fence", "code_block"):
            parts.append(token.content)
        for child in token.children or ():
            if child.type == "code_inline":
                parts.append(child.content)
    return "\n".join(parts)


@pytest.mark.parametrize("name", ["jekyll-18f", "twir", "seedblog", "logseq-docs"])
def test_no_template_syntax_or_footnote_marker_is_left_outside_code(
    name: str, engine: Engine, ingest: Ingest
) -> None:
    folder = corpus(name)
    summary = ingest(folder, workers=0)
    assert summary.failures == []
    with engine.connect() as conn:
        templated_links = conn.execute(
            text(
                "SELECT url FROM links WHERE url LIKE '%{{%' OR url LIKE '%{\\%%' ESCAPE '\\' "
                "OR lower(url) LIKE '%\\%7b%' ESCAPE '\\'"
            )
        ).all()
        rows = conn.execute(
            text(
                "SELECT p.source_path, e.text FROM entries e JOIN posts p ON p.id = e.post_id "
                "WHERE e.text LIKE '%{{%' OR e.text LIKE '%{\\%%' ESCAPE '\\' "
                "OR e.text LIKE '%[^%'"
            )
        ).all()
    assert templated_links == []
    code: dict[str, str] = {}
    outside_code = []
    for path, entry_text in rows:
        if path not in code:
            code[path] = _code_of(folder / path)
        for found in _TEMPLATE.finditer(entry_text):
            if found.group(0) not in code[path]:
                outside_code.append((path, found.group(0)))
    assert outside_code == []


def test_every_site_baseurl_link_of_jekyll_18f_is_stored_clean(
    engine: Engine, ingest: Ingest
) -> None:
    folder = corpus("jekyll-18f")
    written = []
    for source in sorted(folder.rglob("*.md")):
        for found in _BASEURL_LINK.finditer(source.read_text(encoding="utf-8")):
            written.append((source.relative_to(folder).as_posix(), found.group(1)))
    assert len(written) > 35
    ingest(folder, workers=0)
    with engine.connect() as conn:
        stored = set(
            conn.execute(
                text("SELECT p.source_path, l.url FROM links l JOIN posts p ON p.id = l.post_id")
            ).all()
        )
    assert [link for link in written if link not in stored] == []


def test_site_url_makes_the_links_absolute(tmp_path: Path, engine: Engine, ingest: Ingest) -> None:
    posts = tmp_path / "blog" / "_posts"
    posts.mkdir(parents=True)
    (tmp_path / "blog" / "_config.yml").write_text("title: blog\n")
    (tmp_path / "blog" / "learnlog.toml").write_text('site_url = "https://18f.gsa.gov/"\n')
    (posts / "2020-01-01-a.md").write_text(
        "---\ntitle: A\n---\n- [About]({{ site.baseurl }}/about/)\n"
    )
    ingest(tmp_path / "blog", workers=0)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT url, host FROM links")).all() == [
            ("https://18f.gsa.gov/about/", "18f.gsa.gov")
        ]
