"""Hugo's shortcodes: `{{< name args >}}`, `{{% name args %}}` and paired
`{{< name >}}...{{< /name >}}`, read for what a reader of the built page sees.

The embeds are the links they show (`figure` an image, `youtube` and `vimeo` a video,
`gist` code, `tweet` a post), `ref`/`relref` a link to another post, `highlight` a code
block; any other shortcode is removed from the text, named in the run's warning, and
a paired one keeps the Markdown it wraps.
"""

import re

from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

from app.engines.destinations import resolve
from app.engines.liquid import closed_on, push_body, skip_space_after
from app.engines.removed import record_removed

# `{{< name a="b" c >}}`, `{{% name %}}`, `{{</* escaped */>}}`, trimmed `{{- ... -}}`.
_SHORTCODE = re.compile(r"\{\{-?\s*([<%])\s*(/?)\s*([\w./-]+)(.*?)\s*[>%]\s*-?\}\}", re.DOTALL)
_ARGUMENT = re.compile(r"""(?:([\w-]+)=)?("(?:[^"\\]|\\.)*"|'[^']*'|`[^`]*`|[^\s"'`]+)""")
# `{{</* name */>}}` shows a shortcode as written (in Hugo's own documentation).
_ESCAPED = re.compile(r"\{\{([<%])/\*\s*(.*?)\s*\*/([>%])\}\}", re.DOTALL)
_LINE = re.compile(r"(?:[ \t]*\{\{-?\s*[<%].*?[>%]\s*-?\}\})+[ \t]*")
_EMBEDS = frozenset({"figure", "youtube", "vimeo", "gist", "tweet", "instagram", "ref", "relref"})


def _arguments(text: str) -> tuple[list[str], dict[str, str]]:
    """Positional and named arguments of a shortcode."""
    positional: list[str] = []
    named: dict[str, str] = {}
    for found in _ARGUMENT.finditer(text):
        value = found.group(2)
        if value[:1] in "\"'`" and len(value) > 1:
            value = value[1:-1]
        if found.group(1):
            named[found.group(1).lower()] = value
        else:
            positional.append(value)
    return positional, named


def _argument(positional: list[str], named: dict[str, str], index: int, *keys: str) -> str:
    """A named argument (the first of `keys` given), else the positional one at `index`."""
    for key in keys:
        if named.get(key):
            return named[key]
    return positional[index] if len(positional) > index else ""


def embed_link(name: str, arguments: str) -> tuple[str, str, str, str | None] | None:
    """(URL, link kind, text, note) an embed shortcode shows, or None when it has no target."""
    positional, named = _arguments(arguments)
    first = _argument(positional, named, 0, "id")
    if name == "figure":
        src = _argument(positional, named, 0, "src")
        text = named.get("caption") or named.get("title") or named.get("alt") or src
        return (src, "image", text, None) if src else None
    url, kind = "", ""
    if name == "youtube" and first:
        url, kind = f"https://www.youtube.com/watch?v={first}", "video"
    elif name == "vimeo" and first:
        url, kind = f"https://vimeo.com/{first}", "video"
    elif name == "gist":
        user, gist = _argument(positional, named, 0, "user"), _argument(positional, named, 1)
        if user and gist:
            url, kind = f"https://gist.github.com/{user}/{gist}", "code"
    elif name == "tweet":
        user = named.get("user", "") or (positional[0] if len(positional) > 1 else "i")
        tweet = named.get("id") or (positional[-1] if positional else "")
        if tweet:
            url = f"https://twitter.com/{user}/status/{tweet}"
    elif name == "instagram" and first:
        url = f"https://www.instagram.com/p/{first}/"
    if url:
        # An embed shows its content, not a label: its address stands for it in the text.
        return url, kind, url, None
    if name in ("ref", "relref") and first:
        url, note = resolve(f'{{{{< ref "{first}" >}}}}', "")
        return url, "", first, note
    return None


def shortcode_name(name: str) -> str:
    """How a removed shortcode is named in the run's warning."""
    return f"{{{{< {name} >}}}}"


def hugo_lines(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """A `highlight` block as code; a line of only shortcodes without a link, dropped."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start] + state.tShift[start]
    src = state.src
    if not src.startswith("{{", begin):
        return False
    line_end = state.eMarks[start]
    found = _SHORTCODE.match(src, begin)
    if found is None or "/*" in src[begin:line_end]:
        return False
    if found.group(3).lower() == "highlight" and not found.group(2):
        return _highlight_block(state, start, end, silent, found)
    if not _LINE.fullmatch(src, begin, line_end):
        return False
    codes = list(_SHORTCODE.finditer(src, begin, line_end))
    if any(not code.group(2) and _is_embed(code) for code in codes):
        return False  # a link: its paragraph keeps it
    if not silent:
        for code in codes:
            if not code.group(2):
                record_removed(state.env, shortcode_name(code.group(3).lower()))
        state.line = start + 1
    return True


def _is_embed(code: re.Match[str]) -> bool:
    return code.group(3).lower() in _EMBEDS


def _highlight_block(
    state: StateBlock, start: int, end: int, silent: bool, opening: re.Match[str]
) -> bool:
    """`{{< highlight go >}}` ... `{{< /highlight >}}`: a code block in that language."""
    closing = re.compile(r"\{\{-?\s*[<%]\s*/\s*highlight\s*[>%]\s*-?\}\}").search(
        state.src, opening.end()
    )
    last = None if closing is None else closed_on(state, start, end, closing.start())
    if closing is None or last is None:
        return False
    if silent:
        return True
    state.line = last + 1
    positional = _arguments(opening.group(4))[0]
    body = state.src[opening.end() : closing.start()]
    push_body(state, "fence", body, start, last, positional[0] if positional else "")
    return True


def shortcode_inline(state: StateInline, silent: bool) -> bool:
    """A shortcode within a paragraph: the link it shows, or removed."""
    src, pos = state.src, state.pos
    if not src.startswith("{{", pos):
        return False
    if src.startswith("/*", pos + 3):
        escaped = _ESCAPED.match(src, pos, state.posMax)
        if escaped is None:
            return False
        if not silent:
            shown = f"{{{{{escaped.group(1)} {escaped.group(2)} {escaped.group(3)}}}}}"
            state.push("text", "", 0).content = shown
        state.pos = escaped.end()
        return True
    found = _SHORTCODE.match(src, pos, state.posMax)
    if found is None:
        return False
    closing, name, arguments = found.group(2), found.group(3).lower(), found.group(4)
    state.pos = found.end()
    if silent or closing:
        return True
    link = embed_link(name, arguments) if name in _EMBEDS else None
    if link is None:
        if name not in _EMBEDS:
            record_removed(state.env, shortcode_name(name))
        state.pos = skip_space_after(state, found.start(), state.pos)
        return True
    url, kind, text, note = link
    href = state.md.normalizeLink(url)
    if not state.md.validateLink(href):
        return True
    opening = state.push("link_open", "a", 1)
    opening.attrs = {"href": href}
    meta = {"kind": kind} if kind else {}
    if note is not None:
        meta["note"] = note
    opening.meta = meta
    state.push("text", "", 0).content = text
    state.push("link_close", "a", -1)
    return True
