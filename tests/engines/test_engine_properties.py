"""Whatever template syntax a post holds, broken or not, the post parses in every dialect,
and its links never keep template syntax."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ingest.parse import parse_post
from app.ingest.problems import ParseError

PROFILE = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Pieces of site-engine syntax, Markdown and HTML, glued in any order and number.
_PIECES = [
    *("{{", "}}", "{%", "%}", "{{<", ">}}", "{{%", "%}}", "{:", "{", "}", "/*", "*/"),
    *("raw", "endraw", "highlight go", "endhighlight", "comment", "endcomment", "include x"),
    *("site.baseurl", "post_url 2020-01-01-x", "link a.md", "figure src=", "relref", "youtube"),
    *("{filename}", "|filename|", "{static}", "x.md", "/", "#", '"', "'", "|", "http://e.org"),
    *(" ", "\n", "\n\n", "- ", "  ", "    ", "> ", "1. ", "[a](", ")", "[", "]", "`", "```\n"),
    *('<a href="', '">', "</a>", "<div>", "</div>", "[r]: ", "!", "\t", "text"),
]


@PROFILE
@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join))
def test_template_syntax_never_stops_a_post(text: str) -> None:
    for dialect in ("jekyll", "hugo", "pelican", "plain"):
        try:
            parsed = parse_post(text, "_posts/2020-01-01-a.md", dialect, "https://e.org")
        except ParseError:
            continue
        for link in parsed.links:
            assert "{{" not in link.url
            assert "{%" not in link.url
