"""Bare `www.` addresses are links, as on GitHub; other bare names are not."""

from app.ingest.parse import parse_post


def urls(text: str) -> list[tuple[str, str]]:
    """(url, text) of each link of a one-paragraph post."""
    return [(link.url, link.text) for link in parse_post(text, "x.md").links]


def test_a_www_address_becomes_an_https_link() -> None:
    assert urls("Read www.example.com/guide?page=2.") == [
        ("https://www.example.com/guide?page=2", "www.example.com/guide?page=2")
    ]


def test_file_and_package_names_stay_text() -> None:
    assert urls("Node.js, Next.js, setup.py and www.localhost stay text.") == []


def test_www_inside_a_word_or_an_email_address_is_no_link() -> None:
    assert urls("me@www.example.net and a.www.example.net") == []


def test_a_www_link_keeps_a_scheme_written_before_it() -> None:
    assert urls("See http://www.example.com/plain.") == [
        ("http://www.example.com/plain", "http://www.example.com/plain")
    ]
