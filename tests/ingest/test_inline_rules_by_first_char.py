"""The parser tries each inline rule only where its first character is, and pairs
delimiters only where there are some (app/render.py): the tokens are those of markdown-it's
own way of trying every rule everywhere."""

import random

import pytest
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

import app.render
from app.engines import site_inline_first_chars
from app.notes.syntax import note_inline_first_chars
from app.render import new_markdown

DIALECTS = ["plain", "obsidian", "logseq", "jekyll", "hugo"]

PIECES = [*"[]()<>!*_~`:\\&#%=^{}|-+@$.\n /\"'a1", "[[", "]]", "((", "))", "{{", "}}", "{%"]
PIECES += ["%}", "==", "%%", "~~", "**", "__", "http://", "https://", "www.", "mailto:", "a@b.co"]
PIECES += ["&amp;", "&#x3a;", "<a href='x'>", "</a>", "<b>", "<!-- x -->", "[^1]", "[^1]: n\n"]
PIECES += ["[x]: http://r.x\n", "![a](b.png)", "[t](u)", "[t][x]", "<http://a.b>", "  \n", "\\\n"]
PIECES += ["#tag", "#[[t t]]", "{{embed [[P]]}}", "{{youtube https://y.tu/x}}", "key:: v\n"]
PIECES += ["^abc", "> [!note] T\n", "- ", "1. ", "\n\n", "é", "{% post_url a %}", "{{< ref x >}}"]


def markdown_trying_every_rule(dialect: str, monkeypatch: pytest.MonkeyPatch) -> MarkdownIt:
    """The parser as markdown-it would run its inline rules: all of them, everywhere."""
    with monkeypatch.context() as patch:
        patch.setattr(app.render, "_inline_rules_by_first_char", lambda md, first_chars: None)
        patch.setattr(app.render, "_pairs_only_with_delimiters", lambda md: None)
        return new_markdown(dialect, "https://example.org")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_inline_rule_is_tried_by_its_first_character(dialect: str) -> None:
    """No rule without known first characters slips in (it would switch the dispatch off)."""
    md = new_markdown(dialect)
    assert md.inline.ruler.get_active_rules() == ["text", "first_char_rules"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_rules_fail_at_every_other_character(dialect: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each rule's first characters are all it can match at."""
    md = markdown_trying_every_rule(dialect, monkeypatch)
    first_chars = {
        **app.render._FIRST_CHARS,
        **note_inline_first_chars(dialect),
        **site_inline_first_chars(dialect),
    }
    names = md.inline.ruler.get_active_rules()[1:]
    rules = md.inline.ruler.getRules("")[1:]
    rng = random.Random(3)
    for _ in range(150):
        src = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12)))
        for pos, char in enumerate(src):
            for name, rule in zip(names, rules, strict=True):
                if char in first_chars[name]:
                    continue
                for silent in (True, False):
                    state = StateInline(src, md, {}, [])
                    state.pos = pos
                    assert not rule(state, silent), (name, src, pos)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_tokens_are_those_of_trying_every_rule(
    dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    every_rule = markdown_trying_every_rule(dialect, monkeypatch)
    by_first_char = new_markdown(dialect, "https://example.org")
    rng = random.Random(DIALECTS.index(dialect))
    for _ in range(1500):
        src = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
        expected = [token.as_dict() for token in every_rule.parse(src, {})]
        assert [token.as_dict() for token in by_first_char.parse(src, {})] == expected, src
