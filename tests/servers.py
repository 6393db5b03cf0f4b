"""Real `learnlog serve` processes on loopback ports, for tests that need a live server."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

LOOPBACK = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60.0
# A graceful stop lets an ingest in progress finish its file and record its run.
STOP_SECONDS = 30.0


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def learnlog_server(
    database_url: str,
    log: Path,
    *options: str,
    env: dict[str, str] | None = None,
    clean_exit: bool = False,
) -> Iterator[str]:
    """Run `learnlog serve [options]` on a free port until the block ends; yield its URL.

    The server's output goes to `log`, which a failure to start quotes. The server runs
    in a process group of its own, and the whole group is killed when the block ends, so
    nothing it started (an ingest's parser processes among them) outlives the test. With
    `clean_exit`, a server that SIGTERM does not stop (with status 0) fails the test.
    """
    port = free_port()
    command = [sys.executable, "-m", "app.cli", "serve", "--host", LOOPBACK, "--port", str(port)]
    command += ["--database-url", database_url, *options]
    environment = {**os.environ, **(env or {})}
    environment.pop("LEARNLOG_DATABASE_URL", None)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            start_new_session=True,
        )
    base_url = f"http://{LOOPBACK}:{port}"
    try:
        _wait_until_healthy(base_url, process, log)
        yield base_url
    finally:
        graceful = stop_group(process)
    if clean_exit and not graceful:
        pytest.fail(f"server did not stop on SIGTERM with status 0:\n{log.read_text()}")


def stop_group(process: subprocess.Popen[bytes], grace: float = STOP_SECONDS) -> bool:
    """SIGTERM the process, SIGKILL it after `grace`, then kill what is left of its group.

    True when SIGTERM alone stopped it with status 0.
    """
    process.terminate()
    try:
        process.wait(timeout=grace)
        graceful = process.returncode == 0
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        graceful = False
    # Children it forked (parser processes) stay in its group even after it is gone.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    return graceful


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll /healthz until it answers 200; fail with the server's log if it never does."""
    deadline = time.monotonic() + STARTUP_SECONDS
    # trust_env=False: a proxy set in the environment must not stand between us and loopback.
    # Connecting fails fast until the server listens; once it does, its first answer may
    # be slow on a loaded machine and is waited for rather than abandoned and re-asked.
    timeout = httpx.Timeout(10.0, connect=1.0)
    with httpx.Client(base_url=base_url, timeout=timeout, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    pytest.fail(f"server not healthy after {STARTUP_SECONDS:.0f} s:\n{log.read_text()}")
