"""The REST server's HTTP/1.1 protocol: one write per answer of known length, HTTP unchanged.

A real uvicorn server with :class:`HeadWithBodyProtocol` on a 127.0.0.1 socket, spoken to
with raw sockets; and the protocol alone over a recording transport, to count its writes.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from gateway.rest.http_protocol import HeadWithBodyProtocol

BODY = b'{"jobId":"j-1"}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/fixed``: a JSON answer of known length; ``/stream?N``: N chunks of unknown length,
    the first sent only once ``STREAM_GO`` is set; ``/too-long``: more body than declared."""
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await STREAM_GO.wait()
        for n in range(int(scope["query_string"] or b"2")):
            await send({"type": "http.response.body", "body": b"event %d\n" % n, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    declared = len(BODY) - 5 if path == "/too-long" else len(BODY)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % declared)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


STREAM_GO = asyncio.Event()


@pytest.fixture
async def port() -> AsyncIterator[int]:
    STREAM_GO.clear()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, http=HeadWithBodyProtocol, lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
        await asyncio.sleep(0.01)
    yield sock.getsockname()[1]
    server.should_exit = True
    await task


async def exchange(port: int, request: bytes, *, until: bytes | None = None) -> bytes:
    """Send ``request``; read until the server closes, or until ``until`` has arrived."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    received = b""
    try:
        while until is None or until not in received:
            chunk = await asyncio.wait_for(reader.read(65536), 5)
            if not chunk:
                break
            received += chunk
    finally:
        writer.close()
    return received


def get(path: str, *, method: bytes = b"GET", close: bool = False) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return method + b" " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + connection + b"\r\n"


async def test_an_answer_of_known_length_arrives_whole(port: int) -> None:
    answer = await exchange(port, get("/fixed", close=True))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-length: 15" in head
    assert b"connection: close" in head
    assert body == BODY


async def test_keep_alive_and_pipelined_requests_answer_in_order(port: int) -> None:
    answer = await exchange(port, get("/fixed") + get("/fixed") + get("/fixed", close=True))
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    assert answer.count(BODY) == 3
    assert answer.endswith(BODY)


async def test_head_sends_the_head_alone_and_the_connection_goes_on(port: int) -> None:
    answer = await exchange(port, get("/fixed", method=b"HEAD") + get("/fixed", close=True))
    first, _, rest = answer.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200 OK")
    assert b"content-length: 15" in first
    assert rest.startswith(b"HTTP/1.1 200 OK")  # no body between the two answers
    assert rest.endswith(BODY)


async def test_a_stream_s_head_does_not_wait_for_its_first_event(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(get("/stream", close=True).replace(b"/stream", b"/stream?3"))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)  # before any event
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"transfer-encoding: chunked" in head
    STREAM_GO.set()
    rest = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    events = [line for line in rest.split(b"\r\n") if line.startswith(b"event")]
    assert events == [b"event 0\n", b"event 1\n", b"event 2\n"]
    assert rest.endswith(b"0\r\n\r\n")


async def test_a_body_longer_than_declared_ends_the_connection(port: int) -> None:
    answer = await exchange(port, get("/too-long"))  # keep-alive asked: the server closes
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert BODY not in answer


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        return None

    def resume_reading(self) -> None:
        return None


@pytest.mark.parametrize(
    ("request_line", "writes"),
    [(b"GET /fixed", 1), (b"HEAD /fixed", 1), (b"GET /stream?2", 4)],
    ids=["known-length", "head", "stream"],
)
async def test_writes_per_answer(request_line: bytes, writes: int) -> None:
    STREAM_GO.set()
    config = uvicorn.Config(app, lifespan="off", log_config=None)
    state = ServerState()
    protocol = HeadWithBodyProtocol(config, state, app_state={})
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(request_line + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    while state.tasks:
        await asyncio.gather(*state.tasks)
    # Known length: head and body in one write.  A stream: the head alone, then each
    # chunk and the last one, as uvicorn writes them.
    assert len(transport.writes) == writes
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    if request_line == b"GET /fixed":
        assert transport.writes[0].endswith(b"\r\n\r\n" + BODY)
    if request_line == b"HEAD /fixed":
        assert transport.writes[0].endswith(b"\r\n\r\n")
