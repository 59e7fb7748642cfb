"""A lean HTTP/1.1 client for SMC: keep-alive connections, responses parsed by httptools.

The SMC client needs one exchange: POST a form, read status, content type and body.
aiohttp does that at ~250 µs of CPU per request on this project's machines
(``bench/bench_transport.py``), a fifth of what the gateway spends on a whole call.  Here
each connection is an :class:`asyncio.Protocol` whose bytes go straight to llhttp (the C
parser behind uvicorn's httptools), one request at a time, and idle connections wait in a
pool per origin.  What it does, and nothing more:

* ``http://`` and ``https://`` (verified TLS, SNI), the port from the URL;
* ``Content-Length``, chunked and close-delimited bodies; gzip and deflate decoded;
* up to ``max_connections`` sockets at once (further calls wait for one), idle ones reused
  for ``keepalive_seconds`` then closed;
* one bound, ``timeout``, over the whole call: waiting for a socket, connecting, sending,
  reading.  Nothing is re-sent: the SMC client decides on retries.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections import deque
from functools import lru_cache
from typing import NamedTuple, cast
from urllib.parse import urlsplit

import httptools

from gateway.smc.errors import SmcTransportError
from gateway.smc.transport import HttpResponse

__all__ = ["Http1Transport"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Bodies larger than this are not an SMC answer: the connection is dropped.
_MAX_BODY = 64 * 1024 * 1024


class _Origin(NamedTuple):
    scheme: str
    host: str
    port: int
    path: str  # with the query, as sent on the request line
    host_header: str


@lru_cache(maxsize=64)
def _origin(url: str) -> _Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise SmcTransportError(f"unsupported SMC endpoint URL scheme {scheme!r}", sent=False)
    port = parts.port or _DEFAULT_PORTS[scheme]
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == _DEFAULT_PORTS[scheme] else f"{shown}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Origin(scheme, host, port, path, host_header)


class _ConnectionLostError(Exception):
    """The connection closed, or sent what is not HTTP, before the answer was complete."""


class _Connection(asyncio.Protocol):
    """One socket; one exchange at a time."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[HttpResponse] | None = None
        self._content_type = ""
        self._encoding = ""
        self._body: list[bytes] = []
        self._size = 0
        self._headers_done = False
        self._framed = False  # Content-Length or chunked: the body does not end at close
        self.reusable = False
        self.idle_since = 0.0
        self._closed = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport; uvloop's do not subclass asyncio's, so no isinstance check.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(_ConnectionLostError(f"not an HTTP answer: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.reusable = False
        if self._waiter is not None and self._headers_done and not self._framed:
            self.on_message_complete()  # the body ran until the close, as announced
            return
        self._fail(_ConnectionLostError(f"connection closed: {exc}" if exc else "closed"))

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        # httptools hands over each header whole, even when it spans several reads.
        name = name.lower()
        if name == b"content-type":
            self._content_type = value.decode("latin-1")
        elif name == b"content-encoding":
            self._encoding = value.decode("latin-1")
        elif name in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > _MAX_BODY:
            self._fail(_ConnectionLostError("answer larger than any SMC answer"))
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        try:
            body = _decoded(b"".join(self._body), self._encoding)
        except zlib.error as error:
            self._fail(_ConnectionLostError(f"undecodable {self._encoding} body: {error}"))
            return
        self._waiter = None
        mime = self._content_type.split(";", 1)[0].strip().lower()
        self.reusable = not self._closed and self._parser.should_keep_alive()
        waiter.set_result(
            HttpResponse(self._parser.get_status_code(), mime or "application/octet-stream", body)
        )

    # the exchange

    async def exchange(self, request: bytes) -> HttpResponse:
        if self._transport is None or self._transport.is_closing():
            raise _ConnectionLostError("connection closed")
        self._content_type, self._encoding, self._body, self._size = "", "", [], 0
        self._headers_done, self._framed, self.reusable = False, False, False
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return await self._waiter

    def _fail(self, error: Exception) -> None:
        self.reusable = False
        if self._transport is not None:
            self._transport.abort()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def close(self) -> None:
        self.reusable = False
        if self._transport is not None:
            self._transport.close()


def _decoded(body: bytes, encoding: str) -> bytes:
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip"):
        return zlib.decompress(body, wbits=31)
    if coding == "deflate":  # zlib-wrapped as the RFC says, or raw as some servers send
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, wbits=-15)
    raise zlib.error(f"unsupported content coding {encoding!r}")


class Http1Transport:
    """:class:`~gateway.smc.transport.Transport` over :class:`_Connection` pools."""

    def __init__(
        self,
        *,
        max_connections: int = 100,
        keepalive_seconds: float = 30.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``tls``: the context for ``https://`` (default: the system's CAs, verified)."""
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._max_connections = max_connections
        self._keepalive_seconds = keepalive_seconds
        self._slots: asyncio.Semaphore | None = None
        self._idle: dict[_Origin, deque[_Connection]] = {}
        self._tls = tls

    async def post_form(self, url: str, body: str, timeout: float) -> HttpResponse:
        origin = _origin(url)
        payload = body.encode("ascii")
        request = (
            f"POST {origin.path} HTTP/1.1\r\n"
            f"Host: {origin.host_header}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Accept: application/json\r\n"
            "Accept-Encoding: gzip, deflate\r\n"
            f"Content-Length: {len(payload)}\r\n"
            "\r\n"
        ).encode("ascii") + payload
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max_connections)
        connected = False
        try:
            async with asyncio.timeout(timeout), self._slots:
                connection = self._idle_connection(origin)
                if connection is None:
                    connection = await self._connect(origin)
                connected = True
                try:
                    answer = await connection.exchange(request)
                except BaseException:
                    connection.close()
                    raise
                self._release(origin, connection)
                return answer
        except TimeoutError as exc:
            if not connected:
                raise SmcTransportError("cannot connect to SMC in time", sent=False) from exc
            raise SmcTransportError("SMC did not answer in time", sent=True) from exc
        except _ConnectionLostError as exc:
            raise SmcTransportError(f"connection to SMC failed: {exc}", sent=True) from exc

    def _idle_connection(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()  # the most recently used: least likely to be stale
            if connection.reusable and now - connection.idle_since < self._keepalive_seconds:
                return connection
            connection.close()
        return None

    async def _connect(self, origin: _Origin) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = None
        if origin.scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        try:
            _, connection = await loop.create_connection(
                _Connection,
                origin.host,
                origin.port,
                ssl=tls,
                server_hostname=origin.host if tls else None,
            )
        except OSError as exc:
            # The TCP (or TLS) connection never opened: nothing reached SMC.
            raise SmcTransportError(f"cannot connect to SMC: {exc}", sent=False) from exc
        return connection

    def _release(self, origin: _Origin, connection: _Connection) -> None:
        if not connection.reusable:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        self._idle.setdefault(origin, deque()).append(connection)

    async def close(self) -> None:
        """Close the idle connections; the next call opens new ones."""
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
