"""Jekyll's Liquid in a post's Markdown, read for what a reader of the built page sees.

`{% raw %}` and `{% highlight %}` blocks are code; a tag that carries a URL
(`{% oembed https://... %}`, `{% youtube ... %}`) is that link; `{% post_url %}` and
`{% link %}` link to another post; every other tag and any `{{ output }}` outside a link
target is removed from the text, its name kept for the run's warning. A line holding only
tags disappears; what a `{% for %}` or `{% if %}` wraps stays.
"""

import re

from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from app.engines.destinations import resolve
from app.engines.kramdown import IAL
from app.engines.removed import record_removed

_TAG = re.compile(r"\{%-?\s*(\w*)\s*(.*?)\s*-?%\}", re.DOTALL)
_OUTPUT = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
# A line of nothing but tags, outputs and kramdown attribute lists.
_TEMPLATE_LINE = re.compile(r"(?:[ \t]*(?:\{%.*?%\}|\{\{.*?\}\}|\{:[^{}\n]*\}))+[ \t]*")
_URL = re.compile(r"""["']?(https?://[^\s"'<>]+)["']?""")
# `{{ "https://youtu.be/x" | embed: "Title" }}`: a URL shown through a filter (an embed).
_URL_OUTPUT = re.compile(
    r"""["'](https?://[^\s"'<>]+)["']\s*(?:\|\s*\w+\s*(?::\s*["']([^"']*)["'])?.*)?"""
)
# Tags that end or continue a block are removed without a word: their opening is named.
_SILENT = re.compile(r"end\w*|else|elsif|when|break|continue")
# Blocks whose body is code (kept verbatim), and the one whose body is dropped.
_CODE_BLOCKS = frozenset({"raw", "highlight"})
_POST_TAGS = frozenset({"post_url", "link"})
# Video tags of the usual plugins take an id as well as a URL.
_VIDEO_IDS = {"youtube": "https://www.youtube.com/watch?v={}", "vimeo": "https://vimeo.com/{}"}


def tag_name(name: str) -> str:
    """How a removed tag is named in the run's warning."""
    return f"{{% {name} %}}"


def output_name(expression: str) -> str:
    """How a removed output is named: its variable without filters (`{{ page.excerpt }}`),
    or for a value written in place, the filter it goes through (`{{ "…" | team_link }}`)."""
    variable, _, filters = expression.partition("|")
    variable = " ".join(variable.split())[:40]
    if variable[:1] in ("'", '"') or variable[:1].isdigit():
        shown = '"…"' if variable[:1] in ("'", '"') else "…"
        name = filters.partition(":")[0].strip()
        return f"{{{{ {shown} | {name} }}}}" if name else f"{{{{ {shown} }}}}"
    return f"{{{{ {variable} }}}}"


def _closing(src: str, name: str, start: int) -> re.Match[str] | None:
    """The `{% endNAME %}` closing a block opened before `start`."""
    return re.compile(r"\{%-?\s*end" + name + r"\s*-?%\}").search(src, start)


def _link_of(name: str, argument: str) -> str | None:
    """The URL a tag carries: its only argument, or a video plugin's id."""
    found = _URL.fullmatch(argument)
    if found:
        return found.group(1)
    if name in _VIDEO_IDS and re.fullmatch(r"[\w-]+", argument):
        return _VIDEO_IDS[name].format(argument)
    return None


def liquid_lines(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Lines of Liquid alone: a raw, highlight or comment block, or only removed tags."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start] + state.tShift[start]
    src = state.src
    if src[begin] != "{" or src[begin + 1 : begin + 2] not in ("%", "{", ":"):
        return False
    line_end = state.eMarks[start]
    found = _TAG.match(src, begin)
    if found and found.group(1) in (*_CODE_BLOCKS, "comment"):
        return _template_block(state, start, end, silent, found)
    if not _TEMPLATE_LINE.fullmatch(src, begin, line_end):
        return False
    line = src[begin:line_end]
    tags = [(m.group(1), m.group(2)) for m in _TAG.finditer(line)]
    if any(name in _POST_TAGS or _link_of(name, argument) for name, argument in tags):
        return False  # a link: its paragraph keeps it
    if "http" in line and any(_URL_OUTPUT.fullmatch(m.group(1)) for m in _OUTPUT.finditer(line)):
        return False
    if any(name in _CODE_BLOCKS or name == "comment" for name, _ in tags):
        return False  # opened and closed within the line: the inline rule reads it
    if not silent:
        for name, _ in tags:
            if not _SILENT.fullmatch(name):
                record_removed(state.env, tag_name(name))
        for output in _OUTPUT.finditer(IAL.sub("", line)):
            record_removed(state.env, output_name(output.group(1)))
        state.line = start + 1
    return True


def _template_block(
    state: StateBlock, start: int, end: int, silent: bool, opening: re.Match[str]
) -> bool:
    """`{% raw %}`/`{% highlight lang %}` ... as a code block; `{% comment %}` ... dropped."""
    name = opening.group(1)
    closing = _closing(state.src, name, opening.end())
    last = None if closing is None else closed_on(state, start, end, closing.start())
    if closing is None or last is None:
        return False
    if silent:
        return True
    state.line = last + 1
    if name == "comment":
        record_removed(state.env, tag_name("comment"))
        return True
    body = state.src[opening.end() : closing.start()]
    if name == "raw" and body.lstrip().startswith("<"):
        token = push_body(state, "html_block", body, start, last)
        token.meta = {"raw": True}  # its Liquid is shown as written
    else:
        info = opening.group(2).split()[0] if opening.group(2) else ""
        push_body(state, "fence", body, start, last, info)
    return True


def closed_on(state: StateBlock, start: int, end: int, closing: int) -> int | None:
    """The last line of a block opened on line `start` whose closing tag starts at offset
    `closing`, or None when that lies outside the block (in an enclosing list or quote)."""
    if closing < state.eMarks[start]:
        return None
    last = start
    while last < end - 1 and state.eMarks[last] < closing:
        last += 1
    return last if state.eMarks[last] >= closing else None


def push_body(
    state: StateBlock, kind: str, body: str, start: int, last: int, info: str = ""
) -> Token:
    """A `fence` (code in language `info`) or `html_block` token holding a template
    block's body, lines `start` to `last`."""
    body = body[1:] if body.startswith("\n") else body
    if kind == "fence":
        token = state.push("fence", "code", 0)
        token.info = info
        token.markup = "```"
    else:
        token = state.push(kind, "", 0)
    token.content = body if body.endswith("\n") or not body else body + "\n"
    token.map = [start, last + 1]
    return token


def liquid_inline(state: StateInline, silent: bool) -> bool:
    """`{% tag %}` and `{{ output }}` inside a paragraph."""
    src, pos = state.src, state.pos
    following = src[pos + 1 : pos + 2]
    if following == "%":
        found = _TAG.match(src, pos, state.posMax)
        if found is None:
            return False
        return _inline_tag(state, silent, found)
    if following != "{":
        return False
    found = _OUTPUT.match(src, pos, state.posMax)
    if found is None:
        return False
    shown = _URL_OUTPUT.fullmatch(found.group(1))
    if shown is not None:
        if not silent:
            _push_link(state, shown.group(1), shown.group(2) or shown.group(1), None)
        state.pos = found.end()
        return True
    if not silent:
        record_removed(state.env, output_name(found.group(1)))
    state.pos = skip_space_after(state, found.start(), found.end())
    return True


def skip_space_after(state: StateInline, start: int, end: int) -> int:
    """Where the text resumes after syntax removed from `start` to `end`: one space between
    words, not two."""
    if start > 0 and state.src[start - 1] not in " \t\n":
        return end
    if state.src[end : end + 1] in (",", ".", ";", ":", ")", "!", "?"):
        state.pending = state.pending.rstrip(" \t")  # `By {{ x }}, see` reads `By, see`
        return end
    while end < state.posMax and state.src[end] in " \t":
        end += 1
    return end


def _inline_tag(state: StateInline, silent: bool, found: re.Match[str]) -> bool:
    """One tag within a paragraph: code, a link, or removed."""
    name, argument = found.group(1), found.group(2)
    end = found.end()
    if name in _CODE_BLOCKS or name == "comment":
        closing = _closing(state.src, name, end)
        if closing is not None and closing.end() <= state.posMax:
            if not silent and name != "comment":
                code = state.push("code_inline", "code", 0)
                code.markup = "`"
                code.content = state.src[end : closing.start()]
            elif not silent:
                record_removed(state.env, tag_name(name))
            state.pos = closing.end()
            return True
    url, note = None, None
    if name in _POST_TAGS:
        url, note = resolve(found.group(0), "")
    else:
        url = _link_of(name, argument)
    if url is None:
        if not silent and not _SILENT.fullmatch(name):
            record_removed(state.env, tag_name(name))
        end = skip_space_after(state, found.start(), end)
    elif not silent:
        _push_link(state, url, argument.strip("\"'"), note)
    state.pos = end
    return True


def _push_link(state: StateInline, url: str, text: str, note: str | None) -> None:
    """A link a template shows, to `url` (to a post of the folder when `note` names one)."""
    href = state.md.normalizeLink(url)
    if not state.md.validateLink(href):
        return
    opening = state.push("link_open", "a", 1)
    opening.attrs = {"href": href}
    if note is not None:
        opening.meta = {"note": note}
    state.push("text", "", 0).content = text
    state.push("link_close", "a", -1)


def liquid_in_html(state: StateCore) -> None:
    """Liquid left in raw HTML blocks (`<figure>{% include icon.svg %}</figure>`) is
    removed, so it shows neither in the entry's text nor in its HTML; `<pre>` keeps it."""
    if "{%" not in state.src and "{{" not in state.src:
        return
    for token in state.tokens:
        if token.type != "html_block" or "{" not in token.content or token.meta:
            continue
        content = token.content
        if "<pre" in content or "<code" in content:
            continue
        for found in _TAG.finditer(content):
            if not _SILENT.fullmatch(found.group(1)) and found.group(1) != "raw":
                record_removed(state.env, tag_name(found.group(1)))
        for found in _OUTPUT.finditer(content):
            record_removed(state.env, output_name(found.group(1)))
        token.content = _OUTPUT.sub("", _TAG.sub("", content))
