"""kramdown's attribute lists (`{:.class}`, `{: #id}`) and extensions (`{::options ... /}`):
styling for the site's HTML, nothing a reader of the text needs, so they are dropped."""

import re

from markdown_it.rules_inline import StateInline

# `{:.lead}`, `{: #intro .note}`, `{::options parse_block_html="true" /}`, `{:/comment}`.
IAL = re.compile(r"\{:[^{}\n]*\}")


def ial_inline(state: StateInline, silent: bool) -> bool:
    """An attribute list after an element (`*text*{:.lead}`) or ending a paragraph."""
    if not state.src.startswith("{:", state.pos):
        return False
    found = IAL.match(state.src, state.pos, state.posMax)
    if found is None:
        return False
    state.pos = found.end()
    return True
