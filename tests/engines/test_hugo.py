"""Hugo's shortcodes in a post: the embeds are links, the rest leaves the text."""

from app.ingest.parse import ParsedPost, parse_post

POST = "content/posts/a.md"


def parse(body: str, dialect: str = "hugo") -> ParsedPost:
    return parse_post(f"---\ntitle: t\ndate: 2020-01-01\n---\n{body}", POST, dialect)


def links(parsed: ParsedPost) -> list[tuple[str, str, str]]:
    return [(link.url, link.text, link.kind) for link in parsed.links]


def texts(parsed: ParsedPost) -> list[str]:
    return [entry.text for entry in parsed.entries]


def test_embeds_are_the_links_they_show() -> None:
    parsed = parse(
        '- A {{< figure src="/img/cat.png" caption="A cat" >}} here\n'
        '- {{< youtube w7Ft2ymGmfc >}} {{< vimeo id="146022717" >}}\n'
        "- {{< gist spf13 7896402 >}}\n"
        '- {{< tweet user="SanDiegoZoo" id="1453110110599868418" >}} {{% tweet 87750 %}}\n'
    )
    youtube = "https://www.youtube.com/watch?v=w7Ft2ymGmfc"
    tweet = "https://twitter.com/SanDiegoZoo/status/1453110110599868418"
    assert links(parsed) == [
        ("/img/cat.png", "A cat", "image"),
        (youtube, youtube, "video"),
        ("https://vimeo.com/146022717", "https://vimeo.com/146022717", "video"),
        ("https://gist.github.com/spf13/7896402", "https://gist.github.com/spf13/7896402", "code"),
        (tweet, tweet, "social"),
        ("https://twitter.com/i/status/87750", "https://twitter.com/i/status/87750", "social"),
    ]
    assert texts(parsed)[0] == "A A cat here"
    assert parsed.removed_syntax == []


def test_ref_and_relref_point_at_the_post_they_name() -> None:
    parsed = parse(
        '[near]({{< relref "other.md#part" >}}), [root]({{< ref "/posts/x.md" >}}) '
        'and {{< relref "third.md" >}}\n'
    )
    notes = [(link.text, link.kind, link.note.target, link.note.anchor) for link in parsed.links]
    assert notes == [
        ("near", "internal", "content/posts/other", "part"),
        ("root", "internal", "posts/x", None),
        ("third.md", "internal", "content/posts/third", None),
    ]


def test_other_shortcodes_leave_the_text_and_paired_ones_keep_their_content() -> None:
    parsed = parse(
        "Intro {{< toc >}} text.\n\n"
        "{{< notice warning >}}\nInner **Markdown** kept\n{{< /notice >}}\n\n"
        '{{% details title="More" %}}\n- hidden item\n{{% /details %}}\n'
    )
    assert texts(parsed) == ["Intro text.", "Inner Markdown kept", "hidden item"]
    assert parsed.removed_syntax == ["{{< details >}}", "{{< notice >}}", "{{< toc >}}"]
    assert "{{" not in parsed.html


def test_highlight_is_a_code_block_and_escaped_shortcodes_show_as_written() -> None:
    parsed = parse(
        '{{< highlight go "linenos=table" >}}\nfunc main() {}\n{{< /highlight >}}\n\n'
        "Write {{</* youtube id */>}} to embed.\n"
    )
    assert '<code class="language-go">func main() {}' in parsed.html
    assert texts(parsed) == ["Write {{< youtube id >}} to embed."]
    assert parsed.links == []


def test_shortcodes_stay_text_outside_hugo_folders() -> None:
    parsed = parse("Intro {{< toc >}} text.\n", "plain")
    assert texts(parsed) == ["Intro {{< toc >}} text."]


def test_broken_shortcodes_never_stop_a_post() -> None:
    body = "{{< figure >}}\n\n{{< youtube >}} {{< \n\n{{< highlight go >}}\nx\n\n{{</* x\n"
    parsed = parse(body)
    assert parsed.entries
