"""Both transports over real loopback sockets: answers, failures, pooling.

``Http1Transport`` is the SMC client's default; ``AiohttpTransport`` stays for the bench's
bare pass-through (and as an option).  Every behaviour here holds for both."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from gateway.smc.errors import SmcTransportError
from gateway.smc.http1 import Http1Transport
from gateway.smc.transport import AiohttpTransport, Transport

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _serve(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/"


@pytest.fixture(params=[Http1Transport, AiohttpTransport])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[Transport]:
    t: Transport = request.param(max_connections=4)
    yield t
    await t.close()


async def test_posts_form_body_and_reads_answer(transport: Transport) -> None:
    seen: list[tuple[str, str, bytes]] = []
    peers: set[object] = set()

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, request.content_type, await request.read()))
        peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response({"RequestId": "R"}, status=200)

    runner, url = await _serve(handler)
    try:
        for _ in range(5):
            answer = await transport.post_form(url, "A=1&B=x%20y", timeout=5)
            assert answer.status == 200
            assert answer.content_type == "application/json"
            assert answer.body == b'{"RequestId": "R"}'
    finally:
        await runner.cleanup()
    assert seen == [("POST", "application/x-www-form-urlencoded", b"A=1&B=x%20y")] * 5
    # Keep-alive: sequential calls reuse one connection.
    assert len(peers) == 1


async def test_connection_refused_is_not_sent(transport: Transport) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port now.
    with pytest.raises(SmcTransportError) as caught:
        await transport.post_form(f"http://127.0.0.1:{port}/", "A=1", timeout=5)
    assert caught.value.sent is False


async def test_dropped_connection_may_have_been_sent(transport: Transport) -> None:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.05)
        return web.Response()

    runner, url = await _serve(handler)
    try:
        with pytest.raises(SmcTransportError) as caught:
            await transport.post_form(url, "A=1", timeout=5)
    finally:
        await runner.cleanup()
    assert caught.value.sent is True


async def test_timeout_may_have_been_sent(transport: Transport) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response()

    runner, url = await _serve(handler)
    try:
        with pytest.raises(SmcTransportError, match="in time") as caught:
            await transport.post_form(url, "A=1", timeout=0.2)
    finally:
        release.set()
        await runner.cleanup()
    assert caught.value.sent is True


async def test_error_statuses_are_answers_not_exceptions(transport: Transport) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>bad gateway</html>", content_type="text/html")

    runner, url = await _serve(handler)
    try:
        answer = await transport.post_form(url, "A=1", timeout=5)
    finally:
        await runner.cleanup()
    assert (answer.status, answer.content_type) == (502, "text/html")
    assert answer.body.startswith(b"<html>")


async def test_session_is_recreated_after_close(transport: Transport) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({})

    runner, url = await _serve(handler)
    try:
        assert (await transport.post_form(url, "", timeout=5)).status == 200
        await transport.close()
        assert (await transport.post_form(url, "", timeout=5)).status == 200
    finally:
        await runner.cleanup()
