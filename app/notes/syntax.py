"""markdown-it rules for note-app syntax.

Obsidian: `[[wikilinks]]` (with folders, `#heading`, `#^block` and `|alias`), `![[embeds]]`,
`> [!type] Title` callouts, `%%comments%%`, `==highlights==`, `^block-ids` and inline
`#tags`. Logseq: `((block refs))`, `key:: value` block properties, `{{macros}}`,
`[label]([[Page]])` and `#[[tags]]`.

Every inline rule first looks at the character under the cursor and every core rule at a
substring of the source, so a post without this syntax pays almost nothing for it.
"""

import html
import re
from collections.abc import Callable
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

# Dialects whose files are notes: inline `#tags` count, file names are titles.
NOTE_DIALECTS = frozenset({"obsidian", "logseq"})

IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "avif", "tif"})
# Files a vault links to that are neither notes nor images (never resolved to a post).
ATTACHMENT_EXTENSIONS = frozenset(
    {"pdf", "mp3", "mp4", "webm", "wav", "ogg", "m4a", "mov", "flac", "canvas", "excalidraw"}
    | {"csv", "xlsx", "docx", "pptx", "zip", "base", "txt", "html", "json", "epub"}
)
NOTE_EXTENSIONS = (".md", ".markdown")

_CALLOUT = re.compile(r"\[!([^\]\s]+)\]([+-]?)[ \t]*(.*)")
_TITLE_WIKILINK = re.compile(r"!?\[\[([^\[\]|#]*)(?:#[^\[\]|]*)?(?:\|([^\[\]]*))?\]\]")
_BLOCK_ID = re.compile(r"(?:^|\s)\^([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*$")
_PROPERTY = re.compile(r"[ \t]*([A-Za-z0-9_][A-Za-z0-9_.\-]*)::(?:[ \t]+(.*?))?[ \t]*")
_BLOCK_REF = re.compile(r"\(\(([0-9A-Za-z][0-9A-Za-z_-]{2,63})\)\)")
_LABELLED_REF = re.compile(r"\[([^\[\]\n]*)\]\((\[\[[^\[\]\n]+\]\]|\(\([0-9A-Za-z_-]+\)\))\)")
_MACRO = re.compile(r"\{\{[ \t]*([A-Za-z][\w-]*)[ \t]*(.*?)[ \t]*\}\}")
_TAG = re.compile(r"#(\[\[([^\[\]\n]+)\]\]|[\w/-]*[^\W\d][\w/-]*)")
# Macros that carry a link to a video or a post, and the embed macro.
_URL_MACROS = frozenset({"youtube", "video", "vimeo", "tweet", "twitter", "bilibili"})


def use_note_syntax(md: MarkdownIt, dialect: str) -> MarkdownIt:
    """Add the note rules of `dialect` to `md` (the Obsidian ones apply to every dialect)."""
    md.block.ruler.before("paragraph", "note_comment", _block_comment)
    md.core.ruler.after("block", "callouts", _callouts)
    md.core.ruler.after("callouts", "block_ids", _block_ids)
    if dialect == "logseq":
        # A Logseq page is an outline: a tab-indented bullet is a nested block, never an
        # indented code block (Logseq writes code in fences only).
        md.disable("code")
        md.block.ruler.before("paragraph", "property_lines", _property_lines)
        md.core.ruler.before("block_ids", "properties", _properties)
        md.inline.add_terminator_char("(")
    # One rule for all: the inline parser tries every rule at every terminator character
    # (`-`, `*`, `:` ...), so one dictionary lookup is all a blog's text pays.
    md.inline.ruler.before("linkify", "note_syntax", _dispatch(_inline_rules(dialect)))
    md.add_render_rule("wikilink", _render_wikilink)
    md.add_render_rule("note_tag", _render_tag)
    md.add_render_rule("note_macro", lambda *_: "")
    md.add_render_rule("callout_open", _render_callout_open)
    md.add_render_rule("callout_close", lambda *_: "</div>\n")
    return md


InlineRule = Callable[[StateInline, bool], bool]


def _inline_rules(dialect: str) -> dict[str, tuple[InlineRule, ...]]:
    """The note rules of `dialect` by the character each starts at."""
    inline: dict[str, tuple[InlineRule, ...]] = {
        "[": (_wikilink,),
        "!": (_wikilink,),
        "%": (_inline_comment,),
        "=": (_highlight,),
    }
    if dialect in NOTE_DIALECTS:
        inline["#"] = (_inline_tag,)
    if dialect == "logseq":
        inline["["] = (_wikilink, _labelled_ref)
        inline["("] = (_block_ref,)
        inline["{"] = (_macro,)
    return inline


# The character each block rule use_note_syntax adds first reads (app.render's table).
NOTE_BLOCK_FIRST_CHARS = {"note_comment": "%"}


def note_inline_first_chars(dialect: str) -> dict[str, str]:
    """{inline rule name: the characters it can match at} of the rules use_note_syntax adds."""
    return {"note_syntax": "".join(_inline_rules(dialect))}


def _dispatch(rules: dict[str, tuple[InlineRule, ...]]) -> InlineRule:
    """An inline rule trying `rules[c]` where the character under the cursor is `c`."""

    def note_syntax(state: StateInline, silent: bool) -> bool:
        found = rules.get(state.src[state.pos])
        if found is None:
            return False
        return any(rule(state, silent) for rule in found)

    return note_syntax


# -- wikilinks and embeds -------------------------------------------------------------------


def wikilink_meta(inner: str, *, embed: bool) -> dict[str, Any]:
    """Split `Folder/Note#Heading|alias` into target, anchor, alias and display text."""
    target, _, alias = inner.replace("\\|", "|").partition("|")
    target, _, anchor = target.strip().partition("#")
    target, anchor, alias = target.strip(), anchor.strip(), alias.strip()
    extension = target.rpartition(".")[2].lower() if "." in target else ""
    kind = "image" if extension in IMAGE_EXTENSIONS else "note"
    if extension in ATTACHMENT_EXTENSIONS:
        kind = "attachment"
    if embed and alias and re.fullmatch(r"\d+(x\d+)?", alias):
        alias = ""  # `![[image.png|300]]`: a size, not a name
    name = target
    for suffix in NOTE_EXTENSIONS:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    parts = [part.strip() for part in anchor.split("#") if part.strip()]
    shown = " > ".join(([name] if name else []) + parts)
    return {
        "target": target,
        "anchor": anchor,
        "alias": alias,
        "embed": embed,
        "kind": kind,
        "display": alias or shown,
    }


def _wikilink(state: StateInline, silent: bool) -> bool:
    """`[[...]]` and `![[...]]`."""
    src, pos = state.src, state.pos
    char = src[pos]
    if char == "!":
        if not src.startswith("[[", pos + 1):
            return False
        start, embed = pos + 3, True
    elif char == "[" and src.startswith("[", pos + 1):
        start, embed = pos + 2, False
    else:
        return False
    end = src.find("]]", start, state.posMax)
    if end < 0:
        return False
    inner = src[start:end]
    if not inner.strip() or "[" in inner or "]" in inner or "\n" in inner:
        return False
    if not silent:
        _push_link(state, wikilink_meta(inner, embed=embed))
    state.pos = end + 2
    return True


def _push_link(state: StateInline, meta: dict[str, Any]) -> None:
    """A `wikilink` token (block refs and Logseq links are ones too)."""
    token = state.push("wikilink", "a", 0)
    token.meta = meta
    token.content = meta["display"]


def _render_wikilink(
    self: Any, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """An internal link, unresolved until the ingest's resolution step gives it an href."""
    meta = tokens[idx].meta
    text = html.escape(tokens[idx].content)
    if meta["kind"] == "image":
        return f'<img src="{html.escape(meta["target"])}" alt="{text}">'
    classes = "internal-link embed" if meta["embed"] else "internal-link"
    if meta["kind"] == "attachment":
        return f'<span class="{classes} attachment">{text}</span>'
    link = meta.get("link", "")
    return f'<a class="{classes} unresolved" data-link="{link}">{text or "↗"}</a>'


# -- comments and highlights ----------------------------------------------------------------


def _inline_comment(state: StateInline, silent: bool) -> bool:
    """`%%hidden%%` inside a paragraph: dropped (an unclosed one hides the rest)."""
    src, pos = state.src, state.pos
    if src[pos] != "%" or not src.startswith("%%", pos):
        return False
    end = src.find("%%", pos + 2, state.posMax)
    state.pos = state.posMax if end < 0 else end + 2
    return True


def _block_comment(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """A block opening with `%%` up to the line that closes it: dropped."""
    pos = state.bMarks[start] + state.tShift[start]
    if state.sCount[start] - state.blkIndent >= 4 or not state.src.startswith("%%", pos):
        return False
    close = state.src.find("%%", pos + 2)
    line = start
    if close < 0:
        line = end - 1
    else:
        while line < end - 1 and state.eMarks[line] < close:
            line += 1
        if state.src[close + 2 : state.eMarks[line]].strip() and close < state.eMarks[line]:
            return False  # text follows the comment: a paragraph, whose inline rule drops it
    if not silent:
        state.line = line + 1
    return True


def _highlight(state: StateInline, silent: bool) -> bool:
    """`==marked==` as `<mark>`."""
    src, pos = state.src, state.pos
    if src[pos] != "=" or not src.startswith("==", pos):
        return False
    end = src.find("==", pos + 2, state.posMax)
    if end <= pos + 2 or src[pos + 2] in " \t\n=" or src[end - 1] in " \t\n":
        return False
    if not silent:
        state.push("mark_open", "mark", 1)
        limit = state.posMax
        state.pos, state.posMax = pos + 2, end
        state.md.inline.tokenize(state)
        state.posMax = limit
        state.push("mark_close", "mark", -1)
    state.pos = end + 2
    return True


# -- callouts, block ids, properties (core rules, before inline parsing) ----------------------


def _callouts(state: StateCore) -> None:
    """`> [!tip]- Title` blockquotes become callout_open/close with type, fold and title."""
    if "[!" not in state.src:
        return
    tokens = state.tokens
    index = 0
    while index < len(tokens) - 2:
        token = tokens[index]
        inline = tokens[index + 2]
        if token.type != "blockquote_open" or tokens[index + 1].type != "paragraph_open":
            index += 1
            continue
        found = _CALLOUT.match(inline.content)
        if found is None:
            index += 1
            continue
        kind, fold, title = found.group(1).lower(), found.group(2), found.group(3).strip()
        if "[[" in title:  # the title line alone: `[[Note|alias]]` shows as `alias`
            title = _TITLE_WIKILINK.sub(lambda m: m.group(2) or m.group(1), title)
        token.type = "callout_open"
        token.tag = "div"
        token.meta = {"callout": kind, "fold": fold, "title": title or kind.capitalize()}
        for later in tokens[index + 1 :]:
            if later.type == "blockquote_close" and later.level == token.level:
                later.type, later.tag = "callout_close", "div"
                break
        rest = inline.content.partition("\n")[2]
        if rest.strip():
            inline.content = rest
            for moved in (tokens[index + 1], inline):
                if moved.map:
                    moved.map = [moved.map[0] + 1, moved.map[1]]
        else:
            del tokens[index + 1 : index + 4]
        index += 1


def _render_callout_open(
    self: Any, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """`<div class="callout" data-callout="tip">` and its title."""
    meta = tokens[idx].meta
    fold = f' data-fold="{meta["fold"]}"' if meta["fold"] else ""
    return (
        f'<div class="callout" data-callout="{html.escape(meta["callout"])}"{fold}>\n'
        f'<p class="callout-title">{html.escape(meta["title"])}</p>\n'
    )


def _block_ids(state: StateCore) -> None:
    """A trailing `^block-id` names its block: kept in the inline token's meta, not text."""
    if "^" not in state.src:
        return
    for token in state.tokens:
        if token.type != "inline" or "^" not in token.content[-72:]:
            continue
        found = _BLOCK_ID.search(token.content)
        if found:
            token.content = token.content[: found.start()].rstrip()
            token.meta = {**(token.meta or {}), "block_id": found.group(1)}


def _property_lines(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Logseq `key:: value` lines standing alone (after a heading): a block of their own,
    so that the indented bullets after them are not read as their continuation."""
    src = state.src
    first = state.bMarks[start] + state.tShift[start]
    if "::" not in src[first : state.eMarks[start]]:
        return False
    line = start
    while line < end and _PROPERTY.fullmatch(src[state.bMarks[line] : state.eMarks[line]]):
        line += 1
    if line == start:
        return False
    if not silent:
        state.push("paragraph_open", "p", 1).map = [start, line]
        inline = state.push("inline", "", 0)
        inline.content = src[first : state.eMarks[line - 1]]
        inline.map = [start, line]
        inline.children = []
        state.push("paragraph_close", "p", -1)
        state.line = line
    return True


def _properties(state: StateCore) -> None:
    """Logseq `key:: value` lines of a block: its properties (`id::` names it), not text."""
    if "::" not in state.src:
        return
    for token in state.tokens:
        if token.type != "inline" or "::" not in token.content:
            continue
        kept: list[str] = []
        properties: dict[str, str] = {}
        for line in token.content.split("\n"):
            found = _PROPERTY.fullmatch(line)
            if found:
                properties[found.group(1).lower()] = found.group(2) or ""
            else:
                kept.append(line)
        if properties:
            token.content = "\n".join(kept).strip()
            meta = {**(token.meta or {}), "properties": properties}
            if properties.get("id"):
                meta["block_id"] = properties["id"]
            token.meta = meta


# -- tags and Logseq inline forms -------------------------------------------------------------


def _inline_tag(state: StateInline, silent: bool) -> bool:
    """`#tag`, `#nested/tag` and Logseq's `#[[tag with spaces]]`, after a space or at the start."""
    src, pos = state.src, state.pos
    if src[pos] != "#" or (pos > 0 and src[pos - 1] not in " \t\n(\u00a0"):
        return False
    found = _TAG.match(src, pos, state.posMax)
    if found is None:
        return False
    name = (found.group(2) or found.group(1)).strip().strip("/")
    if not name:
        return False
    if not silent:
        token = state.push("note_tag", "span", 0)
        token.content = f"#{name}"
        token.meta = {"tag": name}
    state.pos = found.end()
    return True


def _render_tag(
    self: Any, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f'<span class="tag">{html.escape(tokens[idx].content)}</span>'


def block_ref_meta(uuid: str, *, embed: bool = False, alias: str = "") -> dict[str, Any]:
    """A Logseq block reference: a link to the block with `id:: uuid`, in any page."""
    return {
        "target": "",
        "anchor": f"^{uuid}",
        "alias": alias,
        "embed": embed,
        "kind": "block",
        "display": alias,
    }


def _block_ref(state: StateInline, silent: bool) -> bool:
    """`((uuid))`."""
    src, pos = state.src, state.pos
    if src[pos] != "(" or not src.startswith("((", pos):
        return False
    found = _BLOCK_REF.match(src, pos, state.posMax)
    if found is None:
        return False
    if not silent:
        _push_link(state, block_ref_meta(found.group(1)))
    state.pos = found.end()
    return True


def _labelled_ref(state: StateInline, silent: bool) -> bool:
    """Logseq's `[label]([[Page]])` and `[label](((uuid)))`."""
    src, pos = state.src, state.pos
    if src[pos] != "[" or "](" not in src[pos : pos + 300]:
        return False
    found = _LABELLED_REF.match(src, pos, state.posMax)
    if found is None:
        return False
    label, target = found.group(1).strip(), found.group(2)
    if not silent:
        if target.startswith("(("):
            _push_link(state, block_ref_meta(target[2:-2], alias=label))
        else:
            meta = wikilink_meta(target[2:-2], embed=False)
            meta["alias"] = label
            meta["display"] = label or meta["display"]
            _push_link(state, meta)
    state.pos = found.end()
    return True


def _macro(state: StateInline, silent: bool) -> bool:
    """Logseq `{{macro args}}`: embeds and video macros keep their link, others go."""
    src, pos = state.src, state.pos
    if src[pos] != "{" or not src.startswith("{{", pos):
        return False
    found = _MACRO.match(src, pos, state.posMax)
    if found is None:
        return False
    name, argument = found.group(1).lower(), found.group(2).strip()
    if not silent:
        if name == "embed" and argument.startswith("[[") and argument.endswith("]]"):
            _push_link(state, wikilink_meta(argument[2:-2], embed=True))
        elif name == "embed" and argument.startswith("((") and argument.endswith("))"):
            _push_link(state, block_ref_meta(argument[2:-2], embed=True))
        elif name in _URL_MACROS and argument.startswith(("http://", "https://")):
            url = state.md.normalizeLink(argument)
            if state.md.validateLink(url):
                opening = state.push("link_open", "a", 1)
                opening.attrs = {"href": url}
                state.push("text", "", 0).content = argument
                state.push("link_close", "a", -1)
        else:
            state.push("note_macro", "", 0).meta = {"name": name}
    state.pos = found.end()
    return True
