"""kramdown's attribute lists (`{:.class}`, `{: #id}`) and extensions (`{::options ... /}`):
styling for the site's HTML, nothing a reader of the text needs, so they are dropped."""

import re

from markdown_it.common.html_blocks import block_names
from markdown_it.rules_block import StateBlock
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


# Block elements whose content kramdown (Jekyll's Markdown) reads as one HTML block up to
# their closing tag, blank lines included. `<p>` and headings are left out: an unclosed
# `<p>` is common in old posts, and neither spans a blank line in practice.
_SPANNING = re.compile(
    r"<(/?)(ul|ol|dl|table|div|blockquote|section|article|figure|center|aside|details|form|"
    r"header|footer|nav|pre)(?=[\s/>])",
    re.IGNORECASE,
)
# A line that starts an HTML block of CommonMark's sixth kind (block-level tag names).
_BLOCK_START = re.compile(
    r"</?(?:" + "|".join(sorted(block_names, key=len, reverse=True)) + r")(?=[\s/>]|$)",
    re.IGNORECASE,
)


def html_element_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """An HTML block whose elements stay open past a blank line (a WordPress export's
    `<ol>` with an empty line between items) runs on to where they close, as kramdown
    reads it; CommonMark would end the block at the blank line and read a tab-indented
    `<li>` after it as code. Blocks that close before their blank line are left alone."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    src = state.src
    pos = state.bMarks[start] + state.tShift[start]
    if src[pos : pos + 1] != "<" or _BLOCK_START.match(src, pos, state.eMarks[start]) is None:
        return False
    open_elements = 0
    line = start
    while True:
        first = line
        while line < end and not state.isEmpty(line):
            line += 1
        chunk = src[state.bMarks[first] : state.eMarks[line - 1]]
        if "markdown=" in chunk:
            return False  # its content is read as Markdown by the usual rules
        for tag in _SPANNING.finditer(chunk):
            open_elements += -1 if tag.group(1) else 1
        if open_elements <= 0:
            break
        while line < end and state.isEmpty(line):
            line += 1
        if line >= end:
            return False  # never closed: CommonMark's own reading
    if first == start:
        return False  # closed before its first blank line: an ordinary HTML block
    if silent:
        return True
    token = state.push("html_block", "", 0)
    token.map = [start, line]
    token.content = state.getLines(start, line, state.blkIndent, True)
    state.line = line
    return True
