"""What parsing makes of excerpts, front-matter URLs and term names (no database)."""

from app.ingest.parse import parse_post


def test_an_excerpt_with_markdown_is_served_as_text_and_html() -> None:
    post = parse_post(
        '---\nsummary: "*demo* uses [x](https://x.org/a) and `code`"\n---\n* e\n', "a.md"
    )
    assert post.excerpt == "demo uses x and code"
    assert post.excerpt_html == (
        '<p><em>demo</em> uses <a href="https://x.org/a">x</a> and <code>code</code></p>\n'
    )


def test_a_plain_excerpt_is_kept_as_written() -> None:
    post = parse_post("---\nexcerpt: Notes on Rust, week 3.\n---\n", "a.md")
    assert post.excerpt == "Notes on Rust, week 3."
    assert post.excerpt_html == "<p>Notes on Rust, week 3.</p>\n"


def test_an_excerpt_is_one_paragraph_never_a_heading_or_a_list() -> None:
    post = parse_post("---\ndescription: '# C# tips, 1. first'\n---\n", "a.md")
    assert post.excerpt == "# C# tips, 1. first"
    assert post.excerpt_html == "<p># C# tips, 1. first</p>\n"


def test_raw_html_in_an_excerpt_is_sanitized() -> None:
    post = parse_post('---\nexcerpt: "a <script>x()</script><b>b</b>"\n---\n', "a.md")
    assert post.excerpt_html is not None
    assert "<script" not in post.excerpt_html
    assert "<b>b</b>" in post.excerpt_html


def test_front_matter_urls_follow_the_body_links() -> None:
    text = (
        "---\ntitle: T\nrepo: https://github.com/a/b\nstars: 3\nwebsite: ' https://a.org '\n"
        "image: https://cdn.example/cover\nsee: [https://b.org/x, words, 'ftp://c.org']\n"
        "description: 'notes, see https://d.org/notes'\n---\n* [y](https://y.org)\n"
    )
    post = parse_post(text, "a.md")
    assert [(link.origin, link.text, link.url) for link in post.links] == [
        ("body", "y", "https://y.org"),
        ("front_matter", "repo", "https://github.com/a/b"),
        ("front_matter", "website", "https://a.org"),
        ("front_matter", "image", "https://cdn.example/cover"),
        ("front_matter", "see", "https://b.org/x"),
        ("front_matter", "https://d.org/notes", "https://d.org/notes"),
    ]
    by_text = {link.text: link for link in post.links}
    assert by_text["repo"].entry is None
    assert (by_text["repo"].line, by_text["repo"].kind) == (3, "code")
    assert by_text["image"].kind == "image"
    assert by_text["see"].line == 7
    assert by_text["https://d.org/notes"].line == 8


def test_links_in_an_excerpt_are_links_of_the_post() -> None:
    post = parse_post(
        "description:: Queries use [Datalog](https://en.wikipedia.org/wiki/Datalog)\n\n- a\n",
        "pages/Queries.md",
        "logseq",
    )
    assert post.excerpt == "Queries use Datalog"
    (link,) = post.links
    assert (link.origin, link.text, link.url, link.entry, link.line) == (
        "front_matter",
        "Datalog",
        "https://en.wikipedia.org/wiki/Datalog",
        None,
        1,
    )


def test_logseq_url_properties_are_links() -> None:
    post = parse_post("url:: https://logseq.example/x\n\n- a\n", "pages/p.md", "logseq")
    (link,) = post.links
    assert (link.origin, link.text, link.line) == ("front_matter", "url", 1)


def test_terms_keep_their_names_beside_their_slugs() -> None:
    post = parse_post(
        "---\ntags: [日本語, Machine Learning, machine learning]\ncategories: Ünïcode 中文\n---\n",
        "a.md",
    )
    assert post.tags == ["ri-ben-yu", "machine-learning"]
    assert post.tag_names == {"ri-ben-yu": "日本語", "machine-learning": "Machine Learning"}
    assert post.category_names == {"unicode": "Ünïcode", "zhong-wen": "中文"}
