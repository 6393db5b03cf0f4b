"""Links and visible text inside raw HTML blocks and inline tags, via the stdlib HTML parser."""

from html.parser import HTMLParser

_SKIPPED_TEXT = {"script", "style"}


class LenientHTMLParser(HTMLParser):
    """The stdlib parser, reading every marked section as a browser does.

    Python 3.11's parser raises on `<![` followed by anything but CDATA or an SGML
    keyword (`<![x]>` in an exported post); browsers, and Python 3.13, read it as a bogus
    comment up to the next `>`.
    """

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        """The end of the marked section at `i`; -1 while its `>` has not arrived."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i + 3)
            return -1 if end < 0 else end + 1


class _AnchorCollector(LenientHTMLParser):
    """Collects `<a href>` targets with their anchor text, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # (href, anchor text pieces, line of the `<a>` within the fragment, from 1)
        self.anchors: list[tuple[str, list[str], int]] = []
        self.text: list[str] = []
        self._open: list[str] | None = None
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Start an anchor when the tag is `<a href=...>`."""
        if tag in _SKIPPED_TEXT:
            self._skipping += 1
        if tag == "a":
            href = next((value for name, value in attrs if name == "href"), None)
            if href is not None:
                self._open = []
                self.anchors.append((href.strip(), self._open, self.getpos()[0]))

    def handle_endtag(self, tag: str) -> None:
        """Close the current anchor or skipped element."""
        if tag in _SKIPPED_TEXT and self._skipping:
            self._skipping -= 1
        if tag == "a":
            self._open = None

    def handle_data(self, data: str) -> None:
        """Record visible text (and anchor text while an anchor is open)."""
        if self._skipping:
            return
        self.text.append(data)
        if self._open is not None:
            self._open.append(data)


def html_anchors(html: str) -> tuple[list[tuple[str, str, int]], str]:
    """(href, anchor text, line) of each anchor and the visible text of an HTML fragment;
    a line counts from 1 at the fragment's first line."""
    collector = _AnchorCollector()
    collector.feed(html)
    collector.close()
    anchors = [
        (href, " ".join("".join(parts).split()), line) for href, parts, line in collector.anchors
    ]
    return anchors, " ".join("".join(collector.text).split())


def opening_anchor_href(tag: str) -> str | None:
    """The href of an inline `<a ...>` opening tag, or None for any other tag."""
    if tag[:2].lower() != "<a" or tag[2:3] not in (" ", "\t", "\n"):
        return None
    anchors, _ = html_anchors(tag + "</a>")
    return anchors[0][0] if anchors else None


def is_closing_anchor(tag: str) -> bool:
    """True for an inline `</a>` tag."""
    return tag.replace(" ", "").lower() == "</a>"
