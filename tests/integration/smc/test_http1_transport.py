"""Http1Transport's own wire behaviour, against raw loopback servers that say exactly what
each test needs: framing, codings, TLS, pooling, and servers that misbehave."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.smc.errors import SmcTransportError
from gateway.smc.http1 import Http1Transport

Reply = Callable[[bytes], Awaitable[bytes | None]]  # request head+body -> raw answer


class Upstream:
    """Reads one request at a time (head, then Content-Length bytes) and writes ``reply``'s
    bytes; ``None`` closes the connection.  Counts connections and requests."""

    def __init__(self, reply: Reply, *, close_after: bool = False) -> None:
        self.reply = reply
        self.close_after = close_after
        self.connections = 0
        self.open_now = 0
        self.most_open = 0
        self.requests: list[bytes] = []
        self.closed = asyncio.Queue[None]()  # one item per connection ended

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                answer = await self.reply(request)
                if answer is None:
                    return
                writer.write(answer)
                await writer.drain()
                if self.close_after:
                    return
        finally:
            self.open_now -= 1
            writer.close()
            self.closed.put_nowait(None)


@asynccontextmanager
async def serving(upstream: Upstream, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}/"
    finally:
        server.close()
        await server.wait_closed()


def answer(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def fixed(raw: bytes) -> Reply:
    async def reply(request: bytes) -> bytes:
        return raw

    return reply


@pytest.fixture
async def transport() -> AsyncIterator[Http1Transport]:
    t = Http1Transport(max_connections=4)
    yield t
    await t.close()


async def test_the_request_on_the_wire(transport: Http1Transport) -> None:
    upstream = Upstream(fixed(answer(b"{}", "Content-Type: application/json")))
    async with serving(upstream) as url:
        await transport.post_form(url + "?x=1", "A=1&B=x%20y", timeout=5)
    head, body = upstream.requests[0].split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /?x=1 HTTP/1.1"
    port = url.rsplit(":", 1)[1].rstrip("/")
    assert f"Host: 127.0.0.1:{port}".encode() in lines
    assert b"Content-Type: application/x-www-form-urlencoded" in lines
    assert b"Content-Length: 11" in lines
    assert body == b"A=1&B=x%20y"


@pytest.mark.parametrize(
    ("raw", "body"),
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'3\r\n{"a\r\n5\r\n": 1}\r\n0\r\n\r\n',
            b'{"a": 1}',
        ),
        (answer(gzip.compress(b'{"z": 1}'), "Content-Encoding: gzip"), b'{"z": 1}'),
        (answer(zlib.compress(b'{"d": 1}'), "Content-Encoding: deflate"), b'{"d": 1}'),
        (answer(zlib.compress(b'{"r": 1}')[2:-4], "Content-Encoding: deflate"), b'{"r": 1}'),
        (answer(b""), b""),
    ],
    ids=["chunked", "gzip", "deflate", "raw-deflate", "empty"],
)
async def test_bodies_however_they_are_framed_or_coded(
    transport: Http1Transport, raw: bytes, body: bytes
) -> None:
    async with serving(Upstream(fixed(raw))) as url:
        got = await transport.post_form(url, "A=1", timeout=5)
    assert got.body == body


async def test_a_body_that_ends_with_the_connection() -> None:
    upstream = Upstream(fixed(b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"c": 1}'))
    upstream.close_after = True
    transport = Http1Transport()
    try:
        async with serving(upstream) as url:
            assert (await transport.post_form(url, "", timeout=5)).body == b'{"c": 1}'
            assert (await transport.post_form(url, "", timeout=5)).body == b'{"c": 1}'
    finally:
        await transport.close()
    assert upstream.connections == 2  # a closed connection is never reused


@pytest.mark.parametrize(
    ("header", "mime"),
    [
        ("Content-Type: Application/JSON; charset=UTF-8", "application/json"),
        (None, "application/octet-stream"),
    ],
)
async def test_content_type_is_the_mime_type(
    transport: Http1Transport, header: str | None, mime: str
) -> None:
    raw = answer(b"x", header) if header else answer(b"x")
    async with serving(Upstream(fixed(raw))) as url:
        assert (await transport.post_form(url, "", timeout=5)).content_type == mime


@pytest.mark.parametrize(
    "raw",
    [
        b"SMTP ready\r\n\r\n",  # not HTTP
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",  # cut short
        answer(b"not gzip", "Content-Encoding: gzip"),
        answer(b"x", "Content-Encoding: br"),
    ],
    ids=["garbage", "truncated", "bad-gzip", "unknown-coding"],
)
async def test_broken_answers_fail_as_sent(transport: Http1Transport, raw: bytes) -> None:
    async def reply(request: bytes) -> bytes | None:
        return raw

    upstream = Upstream(reply, close_after=True)
    async with serving(upstream) as url:
        with pytest.raises(SmcTransportError) as caught:
            await transport.post_form(url, "A=1", timeout=5)
    assert caught.value.sent is True


async def test_at_most_max_connections_are_open_at_once() -> None:
    async def slow(request: bytes) -> bytes:
        await asyncio.sleep(0.05)
        return answer(b"{}")

    upstream = Upstream(slow)
    transport = Http1Transport(max_connections=2)
    try:
        async with serving(upstream) as url:
            answers = await asyncio.gather(
                *(transport.post_form(url, f"N={i}", timeout=5) for i in range(8))
            )
    finally:
        await transport.close()
    assert [a.status for a in answers] == [200] * 8
    assert upstream.most_open <= 2
    assert upstream.connections == 2  # and they were reused


async def test_idle_connections_expire() -> None:
    upstream = Upstream(fixed(answer(b"{}")))
    transport = Http1Transport(keepalive_seconds=0.05)
    try:
        async with serving(upstream) as url:
            await transport.post_form(url, "", timeout=5)
            await transport.post_form(url, "", timeout=5)
            assert upstream.connections == 1
            await asyncio.sleep(0.1)
            await transport.post_form(url, "", timeout=5)
    finally:
        await transport.close()
    assert upstream.connections == 2


async def test_a_cancelled_call_does_not_leave_its_connection_for_the_next() -> None:
    first = asyncio.Event()

    async def reply(request: bytes) -> bytes:
        if b"N=slow" in request:
            first.set()
            await asyncio.sleep(0.3)
        return answer(request.rsplit(b"\r\n\r\n", 1)[1])

    upstream = Upstream(reply)
    transport = Http1Transport()
    try:
        async with serving(upstream) as url:
            slow = asyncio.get_running_loop().create_task(
                transport.post_form(url, "N=slow", timeout=5)
            )
            await first.wait()
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            # The late answer to N=slow must not pass for this call's.
            assert (await transport.post_form(url, "N=next", timeout=5)).body == b"N=next"
            # And the cancelled call's connection was closed, not left open.
            async with asyncio.timeout(5):
                await upstream.closed.get()
            assert upstream.open_now == 1
    finally:
        await transport.close()
    assert upstream.connections == 2


async def test_unsupported_schemes_are_not_sent(transport: Http1Transport) -> None:
    with pytest.raises(SmcTransportError, match="scheme") as caught:
        await transport.post_form("ftp://127.0.0.1/", "A=1", timeout=5)
    assert caught.value.sent is False


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate for 127.0.0.1 it signed: (ca, cert, key) PEM files."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smc-gateway test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


async def test_https_is_verified_against_the_trusted_cas(tmp_path: Path) -> None:
    ca, cert, key = _certificates(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    upstream = Upstream(fixed(answer(b'{"tls": true}')))
    trusting = Http1Transport(tls=ssl.create_default_context(cafile=ca))
    default = Http1Transport()  # the system's CAs: this test CA is not one of them
    try:
        async with serving(upstream, server_tls) as url:
            assert url.startswith("https://")
            assert (await trusting.post_form(url, "", timeout=5)).body == b'{"tls": true}'
            assert (await trusting.post_form(url, "", timeout=5)).status == 200
            with pytest.raises(SmcTransportError) as caught:
                await default.post_form(url, "", timeout=5)
    finally:
        await trusting.close()
        await default.close()
    assert caught.value.sent is False  # the handshake failed: nothing was sent
    assert upstream.connections >= 1
    assert len(upstream.requests) == 2


def test_the_same_on_uvloop() -> None:
    # `serve --event-loop uvloop`: its transports are not asyncio.Transport subclasses.
    async def exchange() -> list[bytes]:
        upstream = Upstream(fixed(answer(b'{"u": 1}')))
        transport = Http1Transport()
        try:
            async with serving(upstream) as url:
                return [(await transport.post_form(url, "", timeout=5)).body for _ in range(3)]
        finally:
            await transport.close()

    assert uvloop.run(exchange()) == [b'{"u": 1}'] * 3
