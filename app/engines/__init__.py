"""Syntax of the site engines a blog is written for: Jekyll's Liquid and kramdown, Hugo's
shortcodes, Pelican's link placeholders, read as markdown-it rules by the folder's dialect.

Template syntax in a link's target means the same everywhere and is read in every
dialect; the rest only in the dialect that has it. Each rule first looks at one character
or substring, so a post without the syntax pays almost nothing for it.
"""

from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.ruler import RuleOptionsType
from markdown_it.rules_inline import StateInline

from app.engines.destinations import use_template_links
from app.engines.hugo import hugo_lines, shortcode_inline
from app.engines.kramdown import html_element_block, ial_inline
from app.engines.liquid import liquid_in_html, liquid_inline, liquid_lines

_BLOCK_ALT: RuleOptionsType = {"alt": ["paragraph", "reference", "blockquote", "list"]}

# The first character of a line each engine's block rules can match at.
_BLOCK_FIRST_CHARS = {
    "jekyll": {"liquid_lines": "{", "html_element": "<"},
    "hugo": {"hugo_lines": "{"},
}

InlineRule = Callable[[StateInline, bool], bool]

# The inline rule each engine's dialect adds at `{`.
_BRACE_RULES = {"jekyll": "liquid", "hugo": "shortcodes"}


def use_site_syntax(md: MarkdownIt, dialect: str, site_url: str = "") -> MarkdownIt:
    """Add the rules of `dialect`'s site engine to `md`; `site_url`
    (`https://example.org/blog`) makes template links absolute."""
    use_template_links(md, site_url)
    if dialect == "jekyll":
        md.block.ruler.before("fence", "liquid_lines", liquid_lines, _BLOCK_ALT)
        md.block.ruler.before(
            "html_block",
            "html_element",
            html_element_block,
            {"alt": ["paragraph", "reference", "blockquote"]},
        )
        md.core.ruler.after("template_links", "liquid_in_html", liquid_in_html)
        _on_brace(md, _BRACE_RULES[dialect], (liquid_inline, ial_inline))
    elif dialect == "hugo":
        md.block.ruler.before("fence", "hugo_lines", hugo_lines, _BLOCK_ALT)
        _on_brace(md, _BRACE_RULES[dialect], (shortcode_inline,))
    return md


def site_block_first_chars(dialect: str) -> dict[str, str]:
    """{block rule name: the first characters of a line it can match} of the block rules
    use_site_syntax adds."""
    return _BLOCK_FIRST_CHARS.get(dialect, {})


def site_inline_first_chars(dialect: str) -> dict[str, str]:
    """{inline rule name: the characters it can match at} of the rules use_site_syntax adds."""
    return {_BRACE_RULES[dialect]: "{"} if dialect in _BRACE_RULES else {}


def _on_brace(md: MarkdownIt, name: str, rules: tuple[InlineRule, ...]) -> None:
    """One inline rule at `{` trying `rules` in turn (the text rule stops there)."""

    def at_brace(state: StateInline, silent: bool) -> bool:
        if state.src[state.pos] != "{":
            return False
        return any(rule(state, silent) for rule in rules)

    md.inline.add_terminator_char("{")
    md.inline.ruler.before("linkify", name, at_brace)
