"""Pelican's link placeholders: `{filename}` a post of the folder, `{static}` a file."""

from app.ingest.parse import parse_post


def test_placeholders_resolve_in_links_and_references() -> None:
    parsed = parse_post(
        "Title: t\nDate: 2020-01-01\n\n"
        "- [a]({filename}other.md) [b]({filename}/blog/abs.md#sec) [c](|filename|old.md)\n"
        "- [pdf]({static}/pdfs/x.pdf) [img]({attach}images/y.png) [ref]\n\n"
        "[ref]: {filename}../ref.md\n",
        "content/2020/a.md",
        "pelican",
        "https://blog.example.org",
    )
    assert [(link.text, link.url, link.kind) for link in parsed.links] == [
        ("a", "other.md", "internal"),
        ("b", "/blog/abs.md#sec", "internal"),
        ("c", "old.md", "internal"),
        ("pdf", "https://blog.example.org/pdfs/x.pdf", "paper"),
        ("img", "https://blog.example.org/images/y.png", "article"),
        ("ref", "../ref.md", "internal"),
    ]
    assert [link.note.target for link in parsed.links if link.note] == [
        "content/2020/other",
        "blog/abs",
        "content/2020/old",
        "content/ref",
    ]
