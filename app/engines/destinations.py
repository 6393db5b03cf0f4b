"""Template syntax where a link points: `[t]({{ site.baseurl }}/x)`, `({% post_url name %})`,
`({{< relref "x.md" >}})`, `({filename}x.md)`, `<a href="{{ site.url }}/x">`.

Site engines fill these in when they build the site; learnlog reads them as the link they
become: a path of the site (absolute with the configured `site_url`) or another post of
the folder (`meta["note"]` on the link token, which the walker resolves like a wikilink).
These forms mean the same in every dialect, so they are read everywhere.
"""

import re
from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# One template piece: a Liquid output or tag, a Hugo shortcode.
_PIECE = re.compile(r"\{\{<.*?>\}\}|\{\{%.*?%\}\}|\{\{.*?\}\}|\{%.*?%\}")
_SHORTCODE_REF = re.compile(
    r"""\{\{[<%]-?\s*(?:rel)?ref\s+(?:"([^"]*)"|'([^']*)'|(\S+?))\s*-?[>%]\}\}"""
)
_LIQUID_POST = re.compile(r"\{%-?\s*(post_url|link)\s+(\S+?)\s*-?%\}")
# Pelican's placeholders: `{filename}` a post of the folder, `{static}`/`{attach}` a file.
_PELICAN = re.compile(r"(?:\{|\|)(filename|static|attach)(?:\}|\|)", re.IGNORECASE)
_HTML_URL = re.compile(r"""\b(href|src)(\s*=\s*)(["'])([^"'<>]*)\3""", re.IGNORECASE)
_LINK_START = re.compile(r"\]\([ \t]*")
_BACKTICKS = re.compile(r"`+")

# A link target learnlog cannot know (`{{ page.url }}` alone) points at the site itself.
_NOTE_EXTENSIONS = (".md", ".markdown")


def use_template_links(md: MarkdownIt, site_url: str) -> None:
    """Read template syntax in link targets, in Markdown links and HTML attributes."""
    site = site_url.rstrip("/")
    md.core.ruler.before("inline", "template_destinations", _destinations(site))
    md.core.ruler.after("inline", "template_links", _links(site))


def _has_template(src: str) -> bool:
    """Whether a source may hold a template target: the check every rule does first."""
    return "{{" in src or "{%" in src or "filename" in src or "{static}" in src or "{attach}" in src


def resolve(target: str, site: str) -> tuple[str, str | None]:
    """(URL, note) a templated link target stands for; note is the post it names, if any.

    Liquid outputs at the start are the site's address (`site_url`, else the root, so
    the rest is root-relative); any others are dropped: their values are unknown here.
    """
    if "%7" in target:  # as markdown-it wrote a target it read: `%7B` for `{`, `%7C` for `|`
        for encoded, char in (("%7B", "{"), ("%7D", "}"), ("%7C", "|"), ("%20", " ")):
            target = target.replace(encoded, char).replace(encoded.lower(), char)
    found = _PELICAN.match(target)
    if found:
        return _pelican(found.group(1).lower(), target[found.end() :], site)
    post = _LIQUID_POST.match(target) or _SHORTCODE_REF.match(target)
    if post:
        return _post_target(post, target[post.end() :])
    rest = _PIECE.sub("", target).strip()
    if not target.startswith("{"):
        return rest, None
    if not rest.startswith(("/", "#", "?")):
        rest = "/" + rest
    return (site + rest if site else rest), None


def _post_target(found: re.Match[str], anchor: str) -> tuple[str, str | None]:
    """`{% post_url name %}` (beside the citing post in `_posts/`), `{% link path %}` (from
    the site's root) and Hugo's `ref`/`relref` (beside the citing page, or from the root)."""
    if found.re is _LIQUID_POST:
        kind, written = found.group(1), found.group(2)
        note = f"./{written.lstrip('/')}" if kind == "post_url" else written.lstrip("/")
    else:
        written = next(group for group in found.groups() if group is not None)
        written, _, hashed = written.partition("#")
        anchor = f"#{hashed}{anchor}" if hashed else anchor
        note = written.lstrip("/") if written.startswith("/") else f"./{written}"
    note = _without_extension(note)
    return written + anchor.strip(), note


def _pelican(kind: str, path: str, site: str) -> tuple[str, str | None]:
    """`{filename}x.md` names a post (beside the citing one, or from the content root when
    it starts with `/`); `{static}` and `{attach}` a file the site publishes."""
    path = path.strip()
    if kind == "filename":
        written = path.partition("#")[0]
        note = written.lstrip("/") if written.startswith("/") else f"./{written}"
        return path, _without_extension(note)
    return site + "/" + path.lstrip("/"), None


def _without_extension(path: str) -> str:
    lowered = path.lower()
    for suffix in _NOTE_EXTENSIONS:
        if lowered.endswith(suffix):
            return path[: -len(suffix)]
    return path


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Where `code spans` lie in an inline run (their template text is kept verbatim): a
    run of backticks closes at the next run of the same length."""
    runs = [(found.start(), found.end()) for found in _BACKTICKS.finditer(text)]
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(runs):
        start, end = runs[index]
        closing = next(
            (
                later
                for later in range(index + 1, len(runs))
                if runs[later][1] - runs[later][0] == end - start
            ),
            None,
        )
        if closing is None:
            index += 1
            continue
        spans.append((start, runs[closing][1]))
        index = closing + 1
    return spans


def _destination_end(text: str, start: int) -> int:
    """End of a link destination starting at `start`: a template piece may hold spaces."""
    position = start
    depth = 0
    while position < len(text):
        char = text[position]
        if char == "{":
            found = _PIECE.match(text, position)
            if found:
                position = found.end()
                continue
        if char in " \t\n" or (char == ")" and depth == 0):
            break
        depth += (char == "(") - (char == ")")
        position += 1
    return position


def _destinations(site: str) -> Callable[[StateCore], None]:
    """Before inline parsing: a templated link destination becomes the target it stands for,
    so `[t]({{ site.baseurl }}/x)` is a link at all (a space ends a destination)."""

    def template_destinations(state: StateCore) -> None:
        if "](" not in state.src or not _has_template(state.src):
            return
        notes: dict[str, str] = {}
        for token in state.tokens:
            # Markdown inside an HTML block (`<div markdown="1">`) is read later, from its text.
            if token.type in ("inline", "html_block") and "](" in token.content:
                token.content = _rewrite(token.content, site, notes, state.md)
        if notes:
            state.env["template_notes"] = notes

    return template_destinations


def _rewrite(text: str, site: str, notes: dict[str, str], md: MarkdownIt) -> str:
    """`text` with each templated destination outside code spans replaced by its target."""
    spans = _code_spans(text) if "`" in text else []
    parts: list[str] = []
    done = 0
    for found in _LINK_START.finditer(text):
        start = found.end()
        if start < done or not text.startswith("{", start):
            continue
        if any(low <= start < high for low, high in spans):
            continue
        end = _destination_end(text, start)
        url, note = resolve(text[start:end], site)
        if note is not None:
            notes[md.normalizeLink(url)] = note
        parts.append(text[done:start])
        parts.append(url.replace(" ", "%20"))
        done = end
    parts.append(text[done:])
    return "".join(parts)


def _links(site: str) -> Callable[[StateCore], None]:
    """After inline parsing: targets still templated (reference definitions, `{filename}`,
    HTML attributes) are resolved; links to posts learn the post they name."""

    def template_links(state: StateCore) -> None:
        if not _has_template(state.src):
            return
        notes: dict[str, str] = state.env.get("template_notes", {})
        for token in state.tokens:
            if token.type == "html_block" and "{" in token.content:
                token.content = _html_urls(token.content, site)
            for child in token.children or ():
                if child.type == "link_open":
                    _link(child, site, notes, state.md)
                elif child.type == "html_inline" and "{" in child.content:
                    child.content = _html_urls(child.content, site)

    return template_links


def _link(token: Token, site: str, notes: dict[str, str], md: MarkdownIt) -> None:
    """Resolve one link token's templated target."""
    href = str(token.attrs.get("href", ""))
    note = notes.get(href)
    if note is None and ("{" in href or "%7B" in href or "%7Cfilename%7C" in href):
        url, note = resolve(href, site)
        href = md.normalizeLink(url)
        token.attrs["href"] = href
    if note is not None:
        token.meta = {**(token.meta or {}), "note": note}


def _html_urls(html: str, site: str) -> str:
    """`href`/`src` values holding template syntax, resolved like Markdown targets."""

    def replace(found: re.Match[str]) -> str:
        value = found.group(4)
        if "{" not in value and "|filename|" not in value:
            return found.group(0)
        url = resolve(value, site)[0]
        return f"{found.group(1)}{found.group(2)}{found.group(3)}{url}{found.group(3)}"

    return _HTML_URL.sub(replace, html)
