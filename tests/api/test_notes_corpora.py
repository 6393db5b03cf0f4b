"""Notes on real content: the logseq-docs graph and the bundled blog."""

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.ingest.parse import parse_post
from app.models import ENTRIES, ENTRY_BLOCKS, LINKS, NOTE_LINKS
from tests.api.test_notes import assert_graph_matches_backlinks
from tests.conftest import Ingest

REPO = Path(__file__).resolve().parents[2]
LOGSEQ = REPO.parent / "shared" / "corpora" / "logseq-docs"
PROPERTY_LINE = re.compile(r"^\s*[A-Za-z0-9_][A-Za-z0-9_.\-]*::(\s|$)", re.MULTILINE)


@pytest.fixture
def logseq(tmp_path: Path) -> Path:
    if not LOGSEQ.is_dir():
        pytest.skip(f"corpus {LOGSEQ} not present")
    return LOGSEQ


def test_logseq_heading_bullets_keep_their_siblings(logseq: Path) -> None:
    pages = 0
    for path in sorted(logseq.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        headings = re.findall(r"^(\s*-\s+)?#{1,6}\s", text, re.MULTILINE)
        if not headings or not all(headings):
            continue  # only pages whose every heading is a bullet
        pages += 1
        parsed = parse_post(text, path.relative_to(logseq).as_posix(), "logseq")
        assert [s.position for s in parsed.sections] == [0], path
    assert pages > 10


def test_logseq_properties_and_block_references(
    client: TestClient, ingest: Ingest, engine: Engine, logseq: Path
) -> None:
    summary = ingest(logseq)
    assert summary.failed == 0
    with engine.connect() as conn:
        rows = conn.execute(select(ENTRIES.c.text, ENTRIES.c.html)).all()
        # Property lines survive only inside code (the docs show the syntax in fences).
        outside_code = [t for t, h in rows if PROPERTY_LINE.search(t) and "<code" not in h]
        assert outside_code == []
        refs = conn.execute(
            select(LINKS.c.url, ENTRY_BLOCKS.c.block_id)
            .join(NOTE_LINKS, NOTE_LINKS.c.link_id == LINKS.c.id)
            .join(ENTRY_BLOCKS, ENTRY_BLOCKS.c.entry_id == NOTE_LINKS.c.target_entry_id)
            .where(NOTE_LINKS.c.target == "")
        ).all()
    assert len(refs) >= 30
    assert all(url == f"(({block}))" for url, block in refs)
    assert_graph_matches_backlinks(client)


def test_graph_on_the_bundled_content(client: TestClient, ingest: Ingest, tmp_path: Path) -> None:
    shutil.copytree(REPO / "content", tmp_path / "content")
    ingest(tmp_path / "content")
    graph = assert_graph_matches_backlinks(client)
    assert graph["nodes"]
