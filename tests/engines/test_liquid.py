"""Jekyll's Liquid and kramdown in a post: read as the page a reader of the site sees."""

from app.ingest.parse import ParsedPost, parse_post

POST = "_posts/2020-01-01-a.md"


def parse(body: str, dialect: str = "jekyll", site_url: str = "") -> ParsedPost:
    return parse_post(f"---\ntitle: t\n---\n{body}", POST, dialect, site_url)


def links(parsed: ParsedPost) -> list[tuple[str, str, str]]:
    return [(link.url, link.text, link.kind) for link in parsed.links]


def texts(parsed: ParsedPost) -> list[str]:
    return [entry.text for entry in parsed.entries]


def test_site_variables_in_a_link_target_become_a_path_of_the_site() -> None:
    parsed = parse("- [the guide]({{ site.baseurl }}/guide/) and [x]({{site.baseurl}}/y)\n")
    assert links(parsed) == [("/guide/", "the guide", "internal"), ("/y", "x", "internal")]
    assert texts(parsed) == ["the guide and x"]


def test_the_configured_site_url_makes_them_absolute() -> None:
    parsed = parse('[a]({{ site.url }}{{ site.baseurl }}/a/ "t")\n', site_url="https://18f.gsa.gov")
    assert links(parsed) == [("https://18f.gsa.gov/a/", "a", "article")]
    assert parsed.links[0].host == "18f.gsa.gov"


def test_site_variables_in_targets_are_read_in_every_dialect() -> None:
    for dialect in ("plain", "obsidian", "hugo", "pelican"):
        parsed = parse("[a]({{ site.baseurl }}/a)\n", dialect)
        assert links(parsed) == [("/a", "a", "internal")], dialect


def test_reference_definitions_and_html_links_are_resolved_too() -> None:
    body = (
        'See [ref] and <a href="{{ site.baseurl }}/inline">inline</a>.\n\n'
        '<div><a href="{{site.baseurl}}/block">block</a></div>\n\n'
        "[ref]: {{site.baseurl}}/refdef\n"
    )
    parsed = parse(body, site_url="https://example.org/blog/")
    assert [url for url, _, _ in links(parsed)] == [
        "https://example.org/blog/refdef",
        "https://example.org/blog/inline",
        "https://example.org/blog/block",
    ]
    assert "{{" not in parsed.html


def test_template_text_inside_code_spans_is_kept_as_written() -> None:
    parsed = parse("Use `[p]({{ page.preview }}/x)` in [a]({{ site.baseurl }}/a).\n")
    assert texts(parsed) == ["Use [p]({{ page.preview }}/x) in a."]
    assert links(parsed) == [("/a", "a", "internal")]


def test_post_url_and_link_point_at_the_post_they_name() -> None:
    parsed = parse(
        "- [old]({% post_url 2014-01-01-old %}#part) and "
        "[new]({% link _posts/2015-02-02-new.md %})\n"
    )
    notes = [(link.kind, link.note.target, link.note.anchor) for link in parsed.links if link.note]
    assert notes == [
        ("internal", "_posts/2014-01-01-old", "part"),
        ("internal", "_posts/2015-02-02-new", None),
    ]
    assert texts(parsed) == ["old and new"]


def test_tags_that_carry_a_url_are_the_link_they_show() -> None:
    parsed = parse(
        "{% oembed https://twitter.com/a/status/1 %}\n\n"
        "{% youtube abc_123 %}\n\n"
        '{{ "https://www.youtube-nocookie.com/embed/xyz" | embed: "A talk" }}\n'
    )
    assert links(parsed) == [
        ("https://twitter.com/a/status/1", "https://twitter.com/a/status/1", "social"),
        ("https://www.youtube.com/watch?v=abc_123", "abc_123", "video"),
        ("https://www.youtube-nocookie.com/embed/xyz", "A talk", "article"),
    ]
    assert parsed.removed_syntax == []


def test_other_tags_and_outputs_leave_the_text_and_are_named() -> None:
    body = (
        "{% include toc.html %}\n"
        "{% assign x = 1 %}\n\n"
        "- Before {% include note.html %} after {{ page.excerpt }} end\n"
        '- By {{ "moncef" | team_link }}\n\n'
        "{% for p in site.posts %}\n"
        "Kept inside the loop.\n"
        "{% endfor %}\n\n"
        "{% comment %}\nHidden {{ x }}\n{% endcomment %}\n"
    )
    parsed = parse(body)
    assert texts(parsed) == ["Before after end", "By", "Kept inside the loop."]
    assert parsed.removed_syntax == [
        "{% assign %}",
        "{% comment %}",
        "{% for %}",
        "{% include %}",
        '{{ "…" | team_link }}',
        "{{ page.excerpt }}",
    ]


def test_raw_and_highlight_blocks_are_code() -> None:
    body = (
        "- item\n\n"
        "  {% raw %}\n  {{ not_a_variable }}\n  {% endraw %}\n\n"
        '  {% highlight ruby %}\n  puts "{{ x }}"\n  {% endhighlight %}\n\n'
        "Inline {% raw %}{{ y }}{% endraw %} code.\n"
    )
    parsed = parse(body)
    assert texts(parsed) == ['item\n{{ not_a_variable }}\nputs "{{ x }}"', "Inline {{ y }} code."]
    assert '<code class="language-ruby">' in parsed.html
    assert "<code>{{ y }}</code>" in parsed.html
    assert parsed.removed_syntax == []


def test_liquid_inside_html_blocks_is_removed() -> None:
    parsed = parse('<figure class="icon">{% include svg/coins.svg %}</figure>\n\nText.\n')
    assert "{%" not in parsed.html
    assert texts(parsed) == ["Text."]
    assert parsed.removed_syntax == ["{% include %}"]


def test_kramdown_attribute_lists_are_dropped() -> None:
    body = (
        "A *lead*{:.lead} paragraph.\n{: .font-alt-xs }\n\n"
        '{::options parse_block_html="true" /}\n\n- item\n'
    )
    parsed = parse(body)
    assert texts(parsed) == ["A lead paragraph.", "item"]
    assert "{:" not in parsed.html


def test_plain_folders_keep_liquid_tags_as_text() -> None:
    parsed = parse("Before {% include x.html %} after.\n", "plain")
    assert texts(parsed) == ["Before {% include x.html %} after."]
    assert parsed.removed_syntax == []


def test_broken_template_syntax_never_stops_a_post() -> None:
    body = (
        "{% raw %}\nnever closed\n\n{{ unclosed\n\n[a]({{ site.baseurl }/x)\n\n"
        "{% highlight %}\n\n- {% endraw %} {%%} {{}} {: x\n\n[b]({% post_url %})\n"
    )
    for dialect in ("jekyll", "plain"):
        parsed = parse(body, dialect)
        assert parsed.entries
