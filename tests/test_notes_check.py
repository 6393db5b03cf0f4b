"""`learnlog check` reports internal links that name no note, with file and line."""

import shutil
from pathlib import Path

from app.lint import lint
from app.settings import Settings

VAULT = Path(__file__).resolve().parent / "fixtures" / "notes" / "vault"


def test_check_reports_unresolved_internal_links(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(VAULT, vault)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    found = [f for f in lint([vault], settings).findings if f.rule == "unresolved-link"]
    assert [(Path(f.path).name, f.line) for f in found] == [("A.md", 5)]
    assert "'Missing'" in found[0].message
    (vault / "Missing.md").write_text("Here now.\n", encoding="utf-8")
    assert not [f for f in lint([vault], settings).findings if f.rule == "unresolved-link"]
