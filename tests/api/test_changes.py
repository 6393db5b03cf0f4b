"""/changes: what a static-site build syncs incrementally, on both engines."""

from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import Ingest


def _slugs(items: list[dict[str, object]]) -> list[object]:
    return [item["slug"] for item in items]


def test_changes_list_added_updated_and_deleted_posts(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    (tmp_path / "2024-01-01-kept.md").write_text("## A\n* kept\n")
    (tmp_path / "2024-01-02-edited.md").write_text("## A\n* before\n")
    (tmp_path / "2024-01-03-removed.md").write_text("## A\n* soon gone\n")
    ingest(tmp_path)
    first = client.get("/changes").json()
    assert first["since"] == 0
    assert sorted(_slugs(first["added"])) == [
        "2024-01-01-kept",
        "2024-01-02-edited",
        "2024-01-03-removed",
    ]
    assert first["updated"] == []
    assert first["deleted"] == []
    version = first["version"]

    (tmp_path / "2024-01-02-edited.md").write_text("## A\n* after\n")
    (tmp_path / "2024-01-03-removed.md").unlink()
    (tmp_path / "2024-01-04-new.md").write_text("## A\n* new\n")
    ingest(tmp_path)
    later = client.get("/changes", params={"since": version}).json()
    assert later["version"] > version
    assert _slugs(later["added"]) == ["2024-01-04-new"]
    assert _slugs(later["updated"]) == ["2024-01-02-edited"]
    assert _slugs(later["deleted"]) == ["2024-01-03-removed"]
    assert later["deleted"][0]["source_path"] == "2024-01-03-removed.md"

    nothing = client.get("/changes", params={"since": later["version"]}).json()
    assert (nothing["added"], nothing["updated"], nothing["deleted"]) == ([], [], [])


def test_editing_one_file_lists_exactly_that_post(
    seeded: TestClient, ingest: Ingest, seed_dir: Path
) -> None:
    before = seeded.get("/changes").json()["version"]
    post = next(seed_dir.glob("*.md"))
    post.write_text(post.read_text() + "\n* one more line\n")
    ingest(seed_dir)
    changed = seeded.get("/changes", params={"since": before}).json()
    assert _slugs(changed["updated"]) == ["2023-12-24-learning-logs"]
    assert changed["added"] == []
    assert changed["deleted"] == []


def test_a_post_that_comes_back_is_added_not_deleted(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    post = tmp_path / "2024-01-01-x.md"
    post.write_text("## A\n* x\n")
    ingest(tmp_path)
    post.unlink()
    ingest(tmp_path)
    gone = client.get("/changes").json()["version"]
    post.write_text("## A\n* x again\n")
    ingest(tmp_path)
    back = client.get("/changes", params={"since": gone}).json()
    assert _slugs(back["added"]) == ["2024-01-01-x"]
    assert back["deleted"] == []


def test_a_version_from_the_future_is_refused(client: TestClient) -> None:
    response = client.get("/changes", params={"since": 10**9})
    assert response.status_code == 422
    assert response.json()["errors"][0]["param"] == "since"
    assert client.get("/changes", params={"since": -1}).status_code == 422
