"""Every link carries the line of the file it is written on."""

from app.ingest.parse import parse_post

POST = """---
title: Lines
---

- A wrapped item starts here,
  goes on with a [first](https://example.org/first) link,
  and ends with a [third-line](https://example.org/third) link.
- A reference [usage][ref] on the item's first line,
  then a bare https://example.org/bare URL and an
  inline <a href="https://example.org/inline">HTML link</a>.

[ref]: https://example.org/ref

<p>A block of HTML,
with a <a href="https://example.org/html">link</a> on its second line.</p>
"""


def lines() -> dict[str, int]:
    """Each link's URL with its line."""
    return {link.url: link.line for link in parse_post(POST, "x.md").links}


def test_a_link_on_the_third_line_of_a_wrapped_item_keeps_that_line() -> None:
    found = lines()
    assert found["https://example.org/first"] == 6
    assert found["https://example.org/third"] == 7


def test_a_reference_link_is_on_the_line_of_its_usage_not_its_definition() -> None:
    assert lines()["https://example.org/ref"] == 8


def test_bare_urls_and_inline_html_links_count_the_lines_before_them() -> None:
    found = lines()
    assert found["https://example.org/bare"] == 9
    assert found["https://example.org/inline"] == 10


def test_a_link_inside_an_html_block_has_its_own_line() -> None:
    assert lines()["https://example.org/html"] == 15


def test_link_text_across_lines_does_not_move_the_link() -> None:
    post = "Intro\n[a link\nwrapped](https://example.org/w) then [next](https://example.org/n)\n"
    found = {link.url: link.line for link in parse_post(post, "x.md").links}
    assert found == {"https://example.org/w": 2, "https://example.org/n": 3}


def test_image_alt_text_over_two_lines_counts_for_the_links_after_it() -> None:
    post = "![a chart\nof requests](chart.png) and\n[the source](https://example.org/s)\n"
    assert [link.line for link in parse_post(post, "x.md").links] == [3]
