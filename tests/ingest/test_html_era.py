"""An HTML-era blog (posts imported from WordPress or Blogger, layout tables) reads as its
pages render: every HTML heading a section, every `<li>` an item, one block per entry.

Counts compare with what an HTML parser finds in the same posts' HTML blocks.
"""

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.ingest.parse import parse_post

FOLDER = Path(__file__).resolve().parent.parent / "fixtures" / "html-era"
POSTS = sorted((FOLDER / "_posts").glob("*.md"))

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = _HEADINGS | {"p", "ul", "ol", "li", "table", "blockquote", "div", "pre", "figure"}
_VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "source"}


class _Tags(HTMLParser):
    """Headings and list items, and the block elements at the top of a fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.found: Counter[str] = Counter()
        self.top: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HEADINGS or tag == "li":
            self.found["heading" if tag in _HEADINGS else "li"] += 1
        if self.depth == 0 and tag in _BLOCKS:
            self.top.append(tag)
        if tag not in _VOID:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID:
            self.depth = max(0, self.depth - 1)


def _tags(html: str) -> _Tags:
    found = _Tags()
    found.feed(html)
    found.close()
    return found


@pytest.mark.parametrize("path", POSTS, ids=lambda path: path.stem)
def test_html_headings_are_sections_and_list_items_are_items(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    post = parse_post(text, f"_posts/{path.name}", "jekyll")
    written = _tags(text.split("---", 2)[2]).found
    assert len([s for s in post.sections if s.position > 0]) == written["heading"]
    assert len([e for e in post.entries if e.kind == "item"]) == written["li"]


@pytest.mark.parametrize("path", POSTS, ids=lambda path: path.stem)
def test_no_entry_holds_more_than_one_html_block(path: Path) -> None:
    post = parse_post(path.read_text(encoding="utf-8"), f"_posts/{path.name}", "jekyll")
    assert post.entries
    assert [e.html for e in post.entries if len(_tags(e.html).top) > 1] == []
