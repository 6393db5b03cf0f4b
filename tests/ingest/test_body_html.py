"""HTML blocks read element by element: sections, items and entries of their own."""

import pytest

from app.ingest.parse import ParsedPost, parse_post


def parse(body: str, dialect: str = "plain") -> ParsedPost:
    """Parse a post whose body starts on line 5."""
    return parse_post(f"---\ntitle: t\ndate: 2012-01-01\n---\n{body}", "x.md", dialect)


def test_each_paragraph_of_one_html_block_is_an_entry_of_its_own() -> None:
    post = parse("<p>One <a href='https://a.example/'>a</a>.</p><p>Two.</p>\n<p>Three.</p>\n")
    assert [(e.kind, e.text, e.line) for e in post.entries] == [
        ("paragraph", "One a.", 5),
        ("paragraph", "Two.", 5),
        ("paragraph", "Three.", 6),
    ]
    assert post.entries[1].html == "<p>Two.</p>"
    assert [(link.entry, link.url, link.text) for link in post.links] == [
        (0, "https://a.example/", "a")
    ]


def test_html_headings_open_sections_beside_markdown_ones() -> None:
    post = parse(
        "## Markdown\n\n<h3>HTML child</h3>\n<p>Under it.</p>\n\n### Markdown sibling\n\n"
        "<h2>HTML top</h2>\n<p>Last.</p>\n"
    )
    tree = [(s.heading, s.level, s.parent) for s in post.sections]
    assert tree == [
        ("Markdown", 2, None),
        ("HTML child", 3, 1),
        ("Markdown sibling", 3, 1),
        ("HTML top", 2, None),
    ]
    sections = {s.position: s.heading for s in post.sections}
    assert [(sections[e.section], e.text) for e in post.entries] == [
        ("HTML child", "Under it."),
        ("HTML top", "Last."),
    ]


def test_html_list_items_nest_like_markdown_items() -> None:
    post = parse(
        "<ul>\n<li>First</li>\n<li>Second\n  <ol><li>Inner <a href='https://b.example/'>b</a>"
        "</li></ol>\n</li>\n<li>Third, unclosed\n<li>Fourth</li>\n</ul>\n"
    )
    keys = [e.key for e in post.entries]
    shape = [
        (e.kind, e.depth, keys[e.parent] if e.parent is not None else None, e.text)
        for e in post.entries
    ]
    assert shape == [
        ("item", 1, None, "First"),
        ("item", 1, None, "Second"),
        ("item", 2, "0:2", "Inner b"),
        ("item", 1, None, "Third, unclosed"),
        ("item", 1, None, "Fourth"),
    ]
    assert "Inner" not in post.entries[1].html
    assert post.links[0].entry == 2
    assert post.links[0].line == 8


def test_blocks_inside_a_container_are_entries_and_script_is_nothing() -> None:
    post = parse(
        "<div class='post'>\n<blockquote><p>Quoted.</p><p>Again.</p></blockquote>\n"
        "<script>alert('x')</script>\n<table><tr><td>cell</td></tr></table>\n</div>\n"
    )
    assert [(e.kind, e.text) for e in post.entries] == [
        ("paragraph", "Quoted."),
        ("paragraph", "Again."),
        ("table", "cell"),
    ]
    assert all("script" not in e.html for e in post.entries)


@pytest.mark.parametrize("dialect", ["jekyll", "plain"])
def test_kramdown_markdown_attribute_reads_the_content_as_markdown(dialect: str) -> None:
    post = parse(
        '<div class="note" markdown="1">\n## Inside\n\nSee [the guide](https://c.example/).\n'
        "\n* an item\n</div>\n",
        dialect,
    )
    assert [(s.heading, s.line) for s in post.sections] == [("Inside", 6)]
    assert [(e.kind, e.text) for e in post.entries] == [
        ("paragraph", "See the guide."),
        ("item", "an item"),
    ]
    assert [(link.url, link.text, link.line) for link in post.links] == [
        ("https://c.example/", "the guide", 8)
    ]


def test_comments_and_empty_wrappers_are_no_entries() -> None:
    post = parse("<!-- a note to self -->\n\n<div class='wrap'>\n\nText.\n\n</div>\n")
    assert [(e.kind, e.text) for e in post.entries] == [("paragraph", "Text.")]


@pytest.mark.parametrize(
    "body",
    [
        "<div>" * 5000 + "deep",
        "<ul><li>" * 5000 + "deep",
        '<div markdown="1">' * 500 + "deep",
        '<a href="https://d.example/">' * 500 + "<h2>x</h2>",
        "<p>a<li>b<h2>c</p>d</h2></li></ul></div>",
    ],
)
def test_hostile_html_still_parses(body: str) -> None:
    post = parse(body + "\n")
    assert "deep" in " ".join(e.text for e in post.entries) or post.sections


def test_a_list_written_straight_inside_a_list_nests_under_the_item_before_it() -> None:
    post = parse("<ul><li>Parent</li><ul><li>Child</li></ul><li>Sibling</li></ul>\n")
    assert [(e.text, e.depth, e.parent) for e in post.entries] == [
        ("Parent", 1, None),
        ("Child", 2, 0),
        ("Sibling", 1, None),
    ]


def test_headings_wrapped_in_inline_elements_or_layout_tables_are_sections() -> None:
    post = parse(
        "<table><tr><td><h2>Left</h2><ul><li>One</li></ul></td></tr></table>\n"
        '<a href="https://e.example/next"><h3>Next post</h3></a>\n'
    )
    assert [(s.heading, s.level) for s in post.sections] == [("Left", 2), ("Next post", 3)]
    assert [(e.kind, e.text) for e in post.entries] == [("item", "One")]
    assert [(link.url, link.text) for link in post.links] == [
        ("https://e.example/next", "Next post")
    ]


def test_items_after_markdown_content_in_the_same_block_keep_their_parents() -> None:
    post = parse(
        '<div markdown="1">Some *Markdown*.</div>\n'
        "<ul><li>Parent<ul><li>Child</li></ul></li></ul>\n"
    )
    assert [(e.text, e.parent) for e in post.entries] == [
        ("Some Markdown.", None),
        ("Parent", None),
        ("Child", 1),
    ]


def test_the_post_html_shows_markdown_inside_html_rendered() -> None:
    post = parse('<div class="note" markdown="1">\nSee **this**.\n</div>\n', "jekyll")
    assert "<strong>this</strong>" in post.html
    assert "**" not in post.html
