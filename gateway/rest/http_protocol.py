"""uvicorn's HTTP/1.1 protocol (httptools), sending a response's head and body in one write.

uvicorn writes the status line and headers as soon as the application starts its response,
then the body: two ``send`` system calls for every API answer.  On loopback and on small
machines each one costs the sender the TCP path of both ends (tens of µs), about as much as
the rest of the protocol.  Here a head whose ``content-length`` is known is held until the
body's first write and leaves with it.  Responses of unknown length (Server-Sent Events)
are written as uvicorn writes them, head first, so a stream's headers never wait for its
first event.  Everything else (parsing, keep-alive, pipelining, flow control, limits) is
uvicorn's own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

__all__ = ["HeadWithBodyProtocol"]


class _Held:
    """Stands in for the transport while uvicorn writes a head: keeps the bytes."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data


class _Prefixed:
    """Stands in for the transport while uvicorn writes a body: the held head goes first."""

    def __init__(self, transport: asyncio.Transport, head: bytes) -> None:
        self.transport = transport
        self.head: bytes | None = head

    def write(self, data: bytes) -> None:
        self.transport.write(self.flush() + data)

    def close(self) -> None:
        self.transport.write(self.flush())
        self.transport.close()

    def flush(self) -> bytes:
        head, self.head = self.head or b"", None
        return head


def _has_length(message: ASGISendEvent) -> bool:
    headers: Any = message.get("headers", ())
    return any(name.lower() == b"content-length" for name, _ in headers)


class _Cycle(RequestResponseCycle):
    """A request's cycle whose response head waits for the body when its length is known."""

    _head: bytes | None = None

    async def send(self, message: ASGISendEvent) -> None:
        transport = self.transport
        if (
            not self.response_started
            and message["type"] == "http.response.start"
            and _has_length(message)
        ):
            held = _Held()
            self.transport = held  # type: ignore[assignment]
            try:
                await super().send(message)
            finally:
                self.transport = transport
            self._head = held.data
            return
        head, self._head = self._head, None
        if head is None:
            await super().send(message)
            return
        prefixed = _Prefixed(transport, head)
        self.transport = prefixed  # type: ignore[assignment]
        try:
            await super().send(message)
        finally:
            self.transport = transport
            # A HEAD request's body, or a client gone before it: uvicorn wrote nothing.
            pending = prefixed.flush()
            if pending and not self.disconnected and not transport.is_closing():
                transport.write(pending)


class HeadWithBodyProtocol(HttpToolsProtocol):
    """``uvicorn.Config(http=HeadWithBodyProtocol)``: see the module's note."""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        # The cycle is not running yet (its task starts here): giving it the subclass's
        # ``send`` keeps the one object the protocol and the task share.
        cycle.__class__ = _Cycle
        super()._start_asgi_task(cycle, app)
