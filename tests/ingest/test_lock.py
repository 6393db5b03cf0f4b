"""One ingest at a time per database, across processes, on both engines."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.ingest.lock import IngestBusy
from tests.conftest import Ingest

HOLDER = """
import sys, time
from app.db import make_engine
from app.ingest.lock import ingest_lock
with ingest_lock(make_engine(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def hold_lock(engine: Engine) -> subprocess.Popen[str]:
    """Another process holding the database's ingest lock (until killed)."""
    url = engine.url.render_as_string(hide_password=False)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_ingest_is_refused_while_another_process_holds_the_lock(
    engine: Engine, ingest: Ingest, seed_dir: Path
) -> None:
    holder = hold_lock(engine)
    try:
        with pytest.raises(IngestBusy, match="another ingest is running"):
            ingest(seed_dir)
    finally:
        holder.kill()
        holder.communicate()
    deadline = time.monotonic() + 10
    while True:  # the lock goes with the process, however it ended
        try:
            summary = ingest(seed_dir)
            break
        except IngestBusy:
            assert time.monotonic() < deadline, "the lock outlived its process"
            time.sleep(0.1)
    assert summary.added == 1
