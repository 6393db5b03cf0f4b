"""Read-side SQL for the ingest history: runs with their per-file failures and warnings."""

from typing import Any

from sqlalchemy import Connection, select

from app.models import PROBLEMS, RUNS


def list_runs(conn: Connection, *, limit: int, run_id: int | None = None) -> list[dict[str, Any]]:
    """The latest `limit` runs (or the one `run_id`), newest first, each with its problems."""
    query = select(RUNS).order_by(RUNS.c.id.desc()).limit(limit)
    if run_id is not None:
        query = query.where(RUNS.c.id == run_id)
    runs = [dict(row._mapping) for row in conn.execute(query)]
    by_run: dict[int, list[dict[str, Any]]] = {run["id"]: [] for run in runs}
    if by_run:
        found = conn.execute(
            select(
                PROBLEMS.c.run_id,
                PROBLEMS.c.severity,
                PROBLEMS.c.path,
                PROBLEMS.c.line,
                PROBLEMS.c.reason,
            )
            .where(PROBLEMS.c.run_id.in_(list(by_run)))
            .order_by(PROBLEMS.c.id)
        )
        for row in found:
            by_run[row.run_id].append(
                {"severity": row.severity, "path": row.path, "line": row.line, "reason": row.reason}
            )
    for run in runs:
        run["problems"] = by_run[run["id"]]
    return runs
