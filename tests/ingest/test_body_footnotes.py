"""Footnotes belong to the entry that cites them."""

from app.ingest.parse import ParsedPost, parse_post

POST = """---
title: Notes
---

* A model[^model] worth reading.
* A survey [^survey] and a remark.[^remark]

[^model]: https://arxiv.org/abs/2310.07704
[^survey]: Zhao et al., 2023. https://arxiv.org/abs/2303.18223
[^remark]: See [the thread](https://example.org/thread) for the
    discussion.
"""


def parse() -> ParsedPost:
    """The post above."""
    return parse_post(POST, "x.md")


def test_references_leave_the_text_and_definitions_are_no_entries() -> None:
    post = parse()
    assert [e.text for e in post.entries] == ["A model worth reading.", "A survey and a remark."]
    assert all("[^" not in e.text for e in post.entries)


def test_a_definitions_links_belong_to_the_citing_entry_with_their_own_line() -> None:
    post = parse()
    found = [(link.entry, link.url, link.text, link.line) for link in post.links]
    assert found == [
        (0, "https://arxiv.org/abs/2310.07704", "https://arxiv.org/abs/2310.07704", 8),
        (1, "https://arxiv.org/abs/2303.18223", "Zhao et al., 2023.", 9),
        (1, "https://example.org/thread", "the thread", 10),
    ]


def test_the_citing_entry_shows_the_footnote_in_its_html() -> None:
    post = parse()
    assert "discussion" in post.entries[1].html
    assert "Zhao et al." in post.entries[1].html
    assert "Zhao" not in post.entries[0].html


def test_a_footnote_cited_from_a_heading_keeps_its_links_outside_entries() -> None:
    post = parse_post("## Heading[^h]\n\nText.\n\n[^h]: https://example.org/h\n", "x.md")
    assert [s.heading for s in post.sections] == ["Heading"]
    assert [e.text for e in post.entries] == ["Text."]
    assert [(link.entry, link.url) for link in post.links] == [(None, "https://example.org/h")]
