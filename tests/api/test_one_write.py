"""`learnlog serve` sends each answer in one write, whole and in order."""

import asyncio
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.asgi.protocol import _OneWrite
from tests.conftest import SEED
from tests.servers import LOOPBACK, learnlog_server


class _Recorded:
    """A transport that records what is written and whether it was closed."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_headers_and_body_leave_in_one_write() -> None:
    async def run() -> list[bytes]:
        recorded = _Recorded()
        transport = _OneWrite(recorded, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"{}")
        await asyncio.sleep(0)  # the loop turns: nothing more may leave
        return recorded.writes

    assert asyncio.run(run()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]


def test_a_lone_write_leaves_at_the_next_turn_and_order_holds() -> None:
    async def run() -> list[bytes]:
        recorded = _Recorded()
        transport = _OneWrite(recorded, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"one")
        assert recorded.writes == []
        await asyncio.sleep(0)
        transport.write(b"two")
        transport.write(b"three")
        transport.write(b"four")
        await asyncio.sleep(0)
        return recorded.writes

    writes = asyncio.run(run())
    assert writes == [b"one", b"twothree", b"four"]


def test_close_sends_what_is_held_first_and_the_rest_delegates() -> None:
    async def run() -> _Recorded:
        recorded = _Recorded()
        transport = _OneWrite(recorded, asyncio.get_running_loop())  # type: ignore[arg-type]
        assert transport.get_extra_info("peername") == "info:peername"
        transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        transport.close()
        await asyncio.sleep(0)  # the pending turn finds nothing left to send
        return recorded

    recorded = asyncio.run(run())
    assert recorded.writes == [b"HTTP/1.1 204 No Content\r\n\r\n"]
    assert recorded.closed


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real `learnlog serve` over the seed post."""
    content = tmp_path / "content"
    content.mkdir()
    shutil.copyfile(SEED, content / SEED.name)
    env = {"LEARNLOG_CONTENT_DIR": str(content)}
    database = f"sqlite:///{tmp_path / 'one.db'}"
    with learnlog_server(database, tmp_path / "server.log", env=env) as base:
        yield base


def _read_answer(stream: socket.socket, buffer: bytes) -> tuple[int, bytes, bytes]:
    """One HTTP/1.1 answer with a content-length from `stream`: status, body, what follows."""
    while b"\r\n\r\n" not in buffer:
        buffer += _receive(stream)
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    length = int(headers["content-length"])
    while len(rest) < length:
        rest += _receive(stream)
    return int(lines[0].split()[1]), rest[:length], rest[length:]


def _receive(stream: socket.socket) -> bytes:
    data = stream.recv(65536)
    assert data, "the server closed the connection before its answer was whole"
    return data


def test_pipelined_requests_get_whole_answers_in_order(server: str) -> None:
    """Three requests sent at once on one connection: three whole answers, in order."""
    port = int(server.rsplit(":", 1)[1])
    paths = ["/entries?limit=2", "/healthz", "/entries?limit=1"]
    requests = b"".join(
        f"GET {path} HTTP/1.1\r\nhost: {LOOPBACK}\r\naccept-encoding: identity\r\n\r\n".encode()
        for path in paths
    )
    with socket.create_connection((LOOPBACK, port), timeout=60) as stream:
        stream.sendall(requests)
        buffer = b""
        answers = []
        for _ in paths:
            status, body, buffer = _read_answer(stream, buffer)
            answers.append((status, json.loads(body)))
    assert [status for status, _ in answers] == [200, 200, 200]
    first, health, last = (body for _, body in answers)
    assert len(first["items"]) == 2
    assert health["status"] == "ok"
    assert len(last["items"]) == 1
    assert last["items"][0] == first["items"][0]
