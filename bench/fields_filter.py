"""Declared-field filters against tag filters at 10,000 posts, measured in one run.

Usage: ``python -m bench.fields_filter WORK_DIR [--posts 10000] [--rounds 5]``.

Generates the benchmark corpus (bench.generate), declares `rating` (integer) and `stage`
(enum) in its learnlog.toml and writes them into every post's front matter, ingests it
into a SQLite file, then times pages of `/posts` and `/entries` filtered by a tag and
by a declared field of about the same selectivity, each request a different value, in
process (the same app and client for both, so the ratio is what counts).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.db import make_engine, migrate
from app.ingest.pipeline import run_ingest
from app.main import create_app
from app.settings import Settings

SCHEMA = """\
[fields.rating]
type = "integer"

[fields.stage]
type = "enum"
values = ["open", "doing", "done", "parked"]
"""
STAGES = ("open", "doing", "done", "parked")


def prepare(work: Path, posts: int) -> Path:
    """The corpus with declared fields, generated once per WORK_DIR."""
    content = work / "content"
    if not (content / "learnlog.toml").is_file():
        subprocess.run(
            [sys.executable, "-m", "bench.generate", str(content), "--posts", str(posts)],
            check=True,
        )
        for number, path in enumerate(sorted(content.rglob("*.md"))):
            text = path.read_text()
            fields = f"rating: {number % 5 + 1}\nstage: {STAGES[number % 4]}\n"
            if text.startswith("---\n"):
                path.write_text("---\n" + fields + text[4:])
            else:
                path.write_text("---\n" + fields + "---\n" + text)
        (content / "learnlog.toml").write_text(SCHEMA)
    return content


def timed(client: TestClient, queries: list[str], rounds: int) -> list[float]:
    """Milliseconds per request, each query once per round."""
    spent = []
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter()
            response = client.get(query)
            spent.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (query, response.text[:200])
    return spent


def main() -> None:
    """Generate, ingest, measure, print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    content = prepare(args.work, args.posts)
    url = f"sqlite:///{args.work / 'bench.db'}"
    migrate(url)
    engine = make_engine(url)
    started = time.perf_counter()
    summary = run_ingest(engine, content, max_file_bytes=1 << 22, workers=2)
    print(f"ingest: {summary.counts()} in {time.perf_counter() - started:.1f} s")
    engine.dispose()
    tags = ["ml", "genai", "systems", "databases", "papers", "industry", "tools", "research"]
    with TestClient(create_app(Settings(database_url=url))) as client:
        pairs = {
            "/posts": (
                [f"/posts?tag={tag}&limit=50" for tag in tags],
                [f"/posts?data.stage={s}&limit=50" for s in STAGES]
                + [f"/posts?data.rating.gte={r}&limit=50" for r in (4, 5, 4, 5)],
            ),
            "/entries": (
                [f"/entries?tag={tag}&limit=50" for tag in tags],
                [f"/entries?data.stage={s}&limit=50" for s in STAGES]
                + [f"/entries?data.rating.gte={r}&limit=50" for r in (4, 5, 4, 5)],
            ),
            "/entries (SQL for both: with fields=)": (
                [f"/entries?tag={tag}&limit=50&fields=id,text" for tag in tags],
                [f"/entries?data.stage={s}&limit=50&fields=id,text" for s in STAGES]
                + [f"/entries?data.rating.gte={r}&limit=50&fields=id,text" for r in (4, 5)]
                + [f"/entries?data.rating.lte={r}&limit=50&fields=id,text" for r in (1, 2)],
            ),
        }
        for name, (by_tag, by_field) in pairs.items():
            timed(client, by_tag + by_field, 1)  # warm caches and the entry index
            tag_ms = statistics.median(timed(client, by_tag, args.rounds))
            field_ms = statistics.median(timed(client, by_field, args.rounds))
            print(
                f"{name}: tag filter {tag_ms:.2f} ms, declared-field filter {field_ms:.2f} ms "
                f"(median per page); field/tag = {field_ms / tag_ms:.2f}x"
            )


if __name__ == "__main__":
    main()
