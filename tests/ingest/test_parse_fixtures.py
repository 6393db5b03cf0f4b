"""Parser tests driven by fixture files: `fixtures/parse/NAME.md` beside `NAME.json`.

Regenerate the expected files after a deliberate parser change with
`python -m tests.ingest.test_parse_fixtures`, then review the diff.
"""

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from app.ingest.parse import ParsedPost, parse_post
from tests.conftest import SEED

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "parse"
CASES = sorted(FIXTURES.glob("*.md"))


def summarize(parsed: ParsedPost) -> dict[str, Any]:
    """The parts of a parsed post a reader would notice, as plain JSON."""
    keys = [entry.key for entry in parsed.entries]
    return {
        "title": parsed.title,
        "date": parsed.date.isoformat() if parsed.date else None,
        "published_at": parsed.published_at.isoformat() if parsed.published_at else None,
        "format": parsed.front_matter_format,
        "tags": parsed.tags,
        "categories": parsed.categories,
        "is_draft": parsed.is_draft,
        "sections": [[s.position, s.level, s.slug, s.parent, s.line] for s in parsed.sections],
        "entries": [
            [
                e.key,
                e.kind,
                e.depth,
                keys[e.parent] if e.parent is not None else None,
                e.line,
                e.tags,
                e.text,
            ]
            for e in parsed.entries
        ],
        "links": [
            [
                keys[link.entry] if link.entry is not None else None,
                link.url,
                link.text,
                link.host,
                link.kind,
                link.line,
            ]
            for link in parsed.links
        ],
        "blocks": [
            [e.key, e.block_id, e.properties]
            for e in parsed.entries
            if e.block_id is not None or e.properties
        ],
        "internal": [
            [link.url, link.note.target, link.note.near, link.note.anchor, link.note.embed]
            for link in parsed.links
            if link.note is not None
        ],
        "folded": parsed.folded,
        "warnings": [[w.line, w.reason] for w in parsed.warnings],
    }


def _parse_case(path: Path) -> dict[str, Any]:
    """Parse one fixture file as if it sat at the root of a content folder; a name starting
    `obsidian-` or `logseq-` is read in that dialect."""
    dialect = path.name.partition("-")[0]
    dialect = dialect if dialect in ("obsidian", "logseq") else "plain"
    return summarize(parse_post(path.read_text(encoding="utf-8"), path.name, dialect))


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_fixture(case: Path) -> None:
    expected = json.loads(case.with_suffix(".json").read_text(encoding="utf-8"))
    assert _parse_case(case) == expected


def test_seed_post_matches_its_fixture() -> None:
    expected = json.loads((FIXTURES / "seed.json").read_text(encoding="utf-8"))
    assert _parse_case(SEED) == expected


def test_rendered_html_never_carries_script() -> None:
    parsed = parse_post((FIXTURES / "html-links.md").read_text(), "html-links.md")
    for html in [parsed.html, *(entry.html for entry in parsed.entries)]:
        assert "<script" not in html
        assert not re.search(r"(href|src)=[\"']?\s*(javascript|data):", html)


def _regenerate() -> None:
    """Rewrite every expected JSON file from the current parser."""
    for case in CASES:
        case.with_suffix(".json").write_text(
            json.dumps(_parse_case(case), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    (FIXTURES / "seed.json").write_text(
        json.dumps(_parse_case(SEED), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__" and "--check" not in sys.argv:
    _regenerate()
