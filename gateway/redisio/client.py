"""A lean Redis client for the gateway's Lua scripts: one connection, pipelined.

The rate limiter and the idempotency store run one ``EVALSHA`` per operation.  Through
redis-py each costs more CPU than the gateway's own work on the call (a pooled connection
checked out and back, a stream reader, timeouts and observability hooks per command), and
every command is its own write and its own wake-up.  Here every command of the process
shares one connection: commands issued in the same event-loop turn leave in one write, and
replies, matched to their commands in order, are read as they come, many per read.

Failure handling, kept simple and explicit:

* each caller bounds its own call (``asyncio.timeout``); a reply that comes after its
  caller gave up is read and dropped, so the stream stays aligned;
* a caller giving up on a command that has waited for half the client's ``stall_timeout``
  or more means the server is stalled: the connection is dropped, every command still on
  it fails with :class:`ConnectionLostError`, and the next command opens a new one;
* a lost or unreadable connection fails the commands on it; nothing is re-sent (a script
  may have run: re-sending a rate-limit charge could charge twice);
* the first command after that connects again (``AUTH`` and ``SELECT`` as the URL says).
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from redis.asyncio.connection import parse_url

from gateway.redisio.resp import (
    Incomplete,
    ProtocolError,
    RedisIOError,
    Reply,
    ReplyError,
    encode_command,
    parse_reply,
)

__all__ = [
    "REDIS_SCHEMES",
    "ConnectionLostError",
    "Endpoint",
    "RedisClient",
    "RedisIOError",
    "Script",
    "ScriptClient",
    "endpoint_from_url",
    "shared_client",
]

# URL schemes that name a Redis server (TCP, TLS, a unix socket).
REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})

# A reply larger than this without its end is a broken stream, not a reply of ours.
_MAX_BUFFER = 64 * 1024 * 1024


class ConnectionLostError(RedisIOError, ConnectionError):
    """The connection failed, closed or stalled before the reply came."""


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect: TCP ``host:port`` or a Unix ``path``, then AUTH/SELECT."""

    host: str = "localhost"
    port: int = 6379
    path: str | None = None
    username: str | None = None
    password: str | None = None
    db: int = 0
    tls: ssl.SSLContext | None = None

    def __repr__(self) -> str:  # never the password
        where = self.path or f"{self.host}:{self.port}"
        return f"Endpoint({where}, db={self.db}, tls={self.tls is not None})"


_URL_OPTIONS = frozenset({"host", "port", "path", "username", "password", "db"})
_TLS_OPTIONS = frozenset({"ssl_cert_reqs", "ssl_ca_certs", "ssl_check_hostname"})


def endpoint_from_url(url: str) -> Endpoint:
    """``redis://``, ``rediss://`` or ``unix://`` URL → :class:`Endpoint`.

    Read with redis-py's own parser, so URLs mean what they meant before.  An option this
    client does not implement raises ``ValueError`` naming the option (never the URL, which
    may hold a password).
    """
    options: dict[str, Any] = dict(parse_url(url))
    connection_class = options.pop("connection_class", None)
    tls = connection_class is not None and connection_class.__name__ == "SSLConnection"
    unknown = set(options) - _URL_OPTIONS - (_TLS_OPTIONS if tls else set())
    if unknown:
        raise ValueError(f"unsupported Redis URL option(s): {sorted(unknown)}")
    context = None
    if tls:
        context = ssl.create_default_context(cafile=options.get("ssl_ca_certs"))
        requirement = str(options.get("ssl_cert_reqs", "required")).lower()
        if requirement == "none":
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif requirement == "optional":
            context.check_hostname = False
            context.verify_mode = ssl.CERT_OPTIONAL
        if str(options.get("ssl_check_hostname", "")).lower() in ("false", "0", "no"):
            context.check_hostname = False
    return Endpoint(
        host=options.get("host", "localhost"),
        port=int(options.get("port", 6379)),
        path=options.get("path"),
        username=options.get("username"),
        password=options.get("password"),
        db=int(options.get("db", 0)),
        tls=context,
    )


class _Connection(asyncio.Protocol):
    """One socket: commands written in batches, replies matched in order."""

    def __init__(self, stall_timeout: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._stall_timeout = stall_timeout
        self._transport: asyncio.Transport | None = None
        self._outgoing: list[bytes] = []
        self._waiting: deque[tuple[asyncio.Future[Reply | ReplyError], float]] = deque()
        self._buffer = bytearray()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport; uvloop's do not subclass asyncio's, so no isinstance check.
        self._transport = cast(asyncio.Transport, transport)

    def send(self, command: bytes) -> asyncio.Future[Reply | ReplyError]:
        if self.closed:
            raise ConnectionLostError("the connection is closed")
        future: asyncio.Future[Reply | ReplyError] = self._loop.create_future()
        if not self._outgoing:
            self._loop.call_soon(self._flush)
        self._outgoing.append(command)
        self._waiting.append((future, time.monotonic()))
        return future

    def _flush(self) -> None:
        if self.closed or self._transport is None:
            return
        data, self._outgoing = b"".join(self._outgoing), []
        self._transport.write(data)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        offset = 0
        try:
            while offset < len(buffer):
                reply, offset = parse_reply(buffer, offset)
                if not self._waiting:
                    raise ProtocolError("a reply nobody asked for")
                future, _ = self._waiting.popleft()
                if not future.done():  # its caller may have given up
                    future.set_result(reply)
        except Incomplete:
            if len(buffer) - offset > _MAX_BUFFER:
                self._fail(ProtocolError("reply larger than any reply of ours"))
                return
        except ProtocolError as error:
            self._fail(error)
            return
        del buffer[:offset]

    def gave_up(self) -> None:
        """A caller stopped waiting: drop the connection if the oldest command stalled."""
        if self._waiting and not self.closed:
            waited = time.monotonic() - self._waiting[0][1]
            if waited >= self._stall_timeout / 2:
                self._fail(ConnectionLostError(f"no reply for {waited:.3f} s: connection dropped"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionLostError(f"connection lost: {exc}" if exc else "connection closed"))

    def _fail(self, error: Exception) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.abort()
        lost = error if isinstance(error, ConnectionLostError) else ConnectionLostError(str(error))
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(lost)

    def close(self) -> None:
        self._fail(ConnectionLostError("client closed"))


class RedisClient:
    """Commands over one shared connection, opened on first use (see the module notes).

    ``connect_timeout`` bounds opening a connection (with AUTH and SELECT);
    ``stall_timeout`` is how long a command may go unanswered before a caller giving up
    drops the connection: the callers' own timeout.
    """

    def __init__(self, endpoint: Endpoint, *, connect_timeout: float, stall_timeout: float) -> None:
        if not (connect_timeout > 0 and stall_timeout > 0):
            raise ValueError("Redis timeouts must be positive")
        self.endpoint = endpoint
        self._connect_timeout = connect_timeout
        self._stall_timeout = stall_timeout
        self._connection: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, timeout: float) -> RedisClient:
        """A client for ``url`` whose connect and stall timeouts are ``timeout``."""
        return cls(endpoint_from_url(url), connect_timeout=timeout, stall_timeout=timeout)

    async def execute(self, *args: bytes | str | int) -> Reply:
        """Send one command; its reply, or :class:`ReplyError` / :class:`ConnectionLostError`."""
        command = encode_command(*args)
        connection = self._connection
        if connection is None or connection.closed:
            connection = await self._connect()
        future = connection.send(command)
        try:
            reply = await future
        except asyncio.CancelledError:
            connection.gave_up()
            raise
        if isinstance(reply, ReplyError):
            raise reply
        return reply

    def register_script(self, source: str) -> Script:
        """A Lua script run by its SHA-1, sent whole only when the server lacks it."""
        return Script(self, source)

    async def aclose(self) -> None:
        """Close the connection; commands still waiting fail with :class:`ConnectionLostError`."""
        self._closed = True
        if self._connecting is not None:
            self._connecting.cancel()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def _connect(self) -> _Connection:
        if self._closed:
            raise ConnectionLostError("client closed")
        if self._connecting is None:
            self._connecting = asyncio.get_running_loop().create_task(self._open())
        task = self._connecting
        try:
            # Shielded: one caller giving up must not abort the connect the others await.
            connection = await asyncio.shield(task)
        finally:
            if task.done() and self._connecting is task:
                self._connecting = None
        self._connection = connection
        return connection

    async def _open(self) -> _Connection:
        endpoint, loop = self.endpoint, asyncio.get_running_loop()
        connection = _Connection(self._stall_timeout)
        try:
            async with asyncio.timeout(self._connect_timeout):
                if endpoint.path is not None:
                    await loop.create_unix_connection(lambda: connection, endpoint.path)
                else:
                    await loop.create_connection(
                        lambda: connection,
                        endpoint.host,
                        endpoint.port,
                        ssl=endpoint.tls,
                        server_hostname=endpoint.host if endpoint.tls else None,
                    )
                for name, command in _handshake(endpoint):
                    reply = await connection.send(command)
                    if isinstance(reply, ReplyError):
                        raise ConnectionLostError(f"Redis refused {name}: {reply}")
        except (OSError, TimeoutError, ProtocolError) as error:
            connection.close()
            detail = str(error) or type(error).__name__
            raise ConnectionLostError(
                f"cannot connect to Redis at {endpoint!r}: {detail}"
            ) from error
        except BaseException:
            connection.close()
            raise
        return connection


def _handshake(endpoint: Endpoint) -> list[tuple[str, bytes]]:
    """The commands a new connection starts with, by name (the password stays inside)."""
    commands = []
    if endpoint.password is not None:
        user = [endpoint.username] if endpoint.username else []
        commands.append(("AUTH", encode_command("AUTH", *user, endpoint.password)))
    if endpoint.db:
        commands.append(("SELECT", encode_command("SELECT", endpoint.db)))
    return commands


def shared_client(url: str | None, *, timeout: float) -> RedisClient | None:
    """The one client of a process's Redis state at ``url``, or ``None`` if not Redis.

    The rate limiter and the idempotency store take it, so their commands share one
    connection and leave together.  No connection is made here.
    """
    if url is None or urlsplit(url).scheme.lower() not in REDIS_SCHEMES:
        return None
    return RedisClient.from_url(url, timeout=timeout)


class Script:
    """``EVALSHA``, falling back to ``EVAL`` (which also caches it) on ``NOSCRIPT``."""

    def __init__(self, client: RedisClient, source: str) -> None:
        self._client = client
        self._source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(
        self, keys: Sequence[str | bytes] = (), args: Sequence[str | bytes | int] = ()
    ) -> Reply:
        try:
            return await self._client.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except ReplyError as error:
            if error.code != "NOSCRIPT":
                raise
        return await self._client.execute("EVAL", self._source, len(keys), *keys, *args)


class ScriptClient(Protocol):
    """What the stores need of a client: Lua scripts and closing.  :class:`RedisClient`
    is the one the factories build; a redis-py ``redis.asyncio.Redis`` fits too."""

    def register_script(self, script: str) -> Any: ...

    async def aclose(self) -> None: ...
