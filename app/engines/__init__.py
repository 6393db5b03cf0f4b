"""Syntax of the site engines a blog is written for: Jekyll's Liquid and kramdown, Hugo's
shortcodes, Pelican's link placeholders, read as markdown-it rules by the folder's dialect.
"""

from markdown_it import MarkdownIt


def use_site_syntax(md: MarkdownIt, dialect: str, site_url: str = "") -> MarkdownIt:
    """Add the rules of `dialect`'s site engine to `md` (none yet for any dialect);
    `site_url` (`https://example.org/blog`) makes template links absolute."""
    return md
