"""The HTTP protocol `learnlog serve` runs: uvicorn's httptools protocol, each answer sent
in one write.

uvicorn writes an answer's status line and headers, then its body, in two calls to the
connection's transport, and asyncio sends each at once: two `send` system calls per
answer where one would do, the second of them costing as much as a small page's JSON
(uncached `/entries` pages served 10% fewer answers a second that way). Here the first
write of an answer waits for the next one and leaves with it; a write that no other
follows leaves at the event loop's next turn.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _OneWrite:
    """A transport that holds one write until the next one (or the loop's next turn) and
    sends both together; everything else is the socket transport's own."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is None:
            self._held = bytes(data)
            self._loop.call_soon(self._release)
            return
        self._held = None
        self._transport.write(held + data)

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._release()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a transport that sends each answer in one write."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_OneWrite(transport, asyncio.get_running_loop()))  # type: ignore[arg-type]
