"""Site-engine syntax driven by fixture files: `fixtures/DIALECT-NAME.md` beside its `.json`,
parsed in the dialect its name starts with (as the post would be in a folder of it).

Regenerate after a deliberate change with `python -m tests.engines.test_engine_fixtures`,
then review the diff.
"""

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from app.ingest.parse import parse_post
from tests.ingest.test_parse_fixtures import summarize

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CASES = sorted(FIXTURES.glob("*.md"))


def _parse_case(path: Path) -> dict[str, Any]:
    """A fixture read in its dialect, with the syntax it had removed."""
    dialect = path.name.partition("-")[0]
    parsed = parse_post(path.read_text(encoding="utf-8"), f"posts/{path.name}", dialect)
    return {
        **summarize(parsed),
        "removed_syntax": parsed.removed_syntax,
        "internal_targets": [link.note.target for link in parsed.links if link.note],
    }


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_fixture(case: Path) -> None:
    expected = json.loads(case.with_suffix(".json").read_text(encoding="utf-8"))
    assert _parse_case(case) == expected


if __name__ == "__main__" and "--check" not in sys.argv:
    for case in CASES:
        case.with_suffix(".json").write_text(
            json.dumps(_parse_case(case), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
