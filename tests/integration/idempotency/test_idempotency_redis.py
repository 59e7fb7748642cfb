"""What only the Redis store has to show: replicas racing, round trips, layout, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from ports import closed_port
from redis.asyncio import Redis

from gateway.idempotency import (
    IdempotencyUnavailable,
    InFlight,
    Replay,
    Started,
    StoredResponse,
    store_from_url,
)
from gateway.idempotency.redis_store import RedisIdempotencyStore

FP = b"\xab" * 32
OK = StoredResponse(kind="ok", payload=bytes(range(256)), metadata={"a": "b"}, created_at=5.0)
#: Commands the script itself issues; they show up in the server's statistics too.
SCRIPT_COMMANDS = {"hmget", "hset", "hdel", "del", "pexpire", "time"}


async def test_replicas_racing_for_one_key_start_exactly_once(redis_url: str) -> None:
    replicas = [store_from_url(redis_url, timeout=5.0) for _ in range(2)]
    try:
        results = await asyncio.gather(
            *(
                replicas[i % 2].begin("team-a", "race", FP, lease_seconds=30, ttl_seconds=60)
                for i in range(100)
            )
        )
        started = [r for r in results if isinstance(r, Started)]
        assert len(started) == 1
        assert all(isinstance(r, InFlight) for r in results if not isinstance(r, Started))
        # Either replica's connection may have won; the owner token works through both.
        assert await replicas[1].complete("team-a", "race", started[0].owner, OK)
        later = await asyncio.gather(
            *(replicas[i % 2].begin("team-a", "race", FP) for i in range(100))
        )
        assert all(r == Replay(OK) for r in later)
        assert {r.response.payload for r in later if isinstance(r, Replay)} == {OK.payload}
    finally:
        for replica in replicas:
            await replica.close()


async def command_calls(admin: Redis) -> dict[str, int]:
    stats: dict[str, Any] = await admin.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


async def test_each_operation_is_one_round_trip(
    redis_store: RedisIdempotencyStore, admin: Redis
) -> None:
    store = redis_store
    await store.release("team-a", "warm-up", "nobody")  # opens the connection, loads the script
    owner = ""

    async def begin() -> None:
        nonlocal owner
        result = await store.begin("team-a", "k1", FP)
        if isinstance(result, Started):
            owner = result.owner

    operations: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("begin (started)", begin),
        ("begin (in flight)", begin),
        ("complete", lambda: store.complete("team-a", "k1", owner, OK)),
        ("begin (replay)", begin),
        ("release", lambda: store.release("team-a", "k1", owner)),
    ]
    for label, operation in operations:
        await admin.config_resetstat()
        await operation()
        calls = await command_calls(admin)
        calls.pop("config|resetstat", None)
        client_calls = {name: n for name, n in calls.items() if name not in SCRIPT_COMMANDS}
        assert client_calls == {"evalsha": 1}, (label, calls)


async def test_record_layout_and_expiry(redis_store: RedisIdempotencyStore, admin: Redis) -> None:
    result = await redis_store.begin("team-a", "my key", FP, lease_seconds=30, ttl_seconds=600)
    assert isinstance(result, Started)
    key = redis_store.record_key("team-a", "my key")
    assert key.startswith("smcgw:idem:team-a:")
    assert len(key) == len("smcgw:idem:team-a:") + 64
    in_flight = await admin.hgetall(key)
    assert set(in_flight) == {b"s", b"f", b"o", b"l"}
    assert in_flight[b"s"] == b"f"
    assert in_flight[b"f"] == FP
    assert in_flight[b"o"] == result.owner.encode()
    # The lease end is on the server's clock.
    server_ms = (await admin.time())[0] * 1000
    assert 0 < int(in_flight[b"l"]) - server_ms <= 31_000
    assert 590_000 < await admin.pttl(key) <= 600_000

    assert await redis_store.complete("team-a", "my key", result.owner, OK, ttl_seconds=120)
    done = await admin.hgetall(key)
    assert done == {
        b"s": b"d",
        b"f": FP,
        b"o": result.owner.encode(),
        b"k": b"ok",
        b"p": OK.payload,
        b"m": b'{"a":"b"}',
        b"t": b"5.0",
    }
    assert 110_000 < await admin.pttl(key) <= 120_000


async def test_short_ttl_does_not_cut_the_lease(
    redis_store: RedisIdempotencyStore, admin: Redis
) -> None:
    await redis_store.begin("team-a", "k1", FP, lease_seconds=50, ttl_seconds=1)
    assert 45_000 < await admin.pttl(redis_store.record_key("team-a", "k1")) <= 50_000


async def test_release_deletes_the_key(redis_store: RedisIdempotencyStore, admin: Redis) -> None:
    result = await redis_store.begin("team-a", "k1", FP)
    assert isinstance(result, Started)
    assert await redis_store.release("team-a", "k1", result.owner)
    assert await admin.exists(redis_store.record_key("team-a", "k1")) == 0


async def test_custom_prefix(redis_url: str, admin: Redis) -> None:
    store = RedisIdempotencyStore(Redis.from_url(redis_url), key_prefix="other:", owns_client=True)
    try:
        await store.begin("team-a", "k1", FP)
        keys = [k for k in await admin.keys("*") if isinstance(k, bytes)]
        assert keys == [store.record_key("team-a", "k1").encode()]
        assert keys[0].startswith(b"other:team-a:")
    finally:
        await store.close()


async def test_re_sent_commands_are_recognised(redis_store: RedisIdempotencyStore) -> None:
    # What the client's retry does after a lost reply: the same EVALSHA, same owner token.
    record_key = redis_store.record_key("team-a", "k1")
    begin_args: list[str | bytes | int] = ["begin", FP, "owner-1", 30_000, 60_000]
    assert await redis_store._run(record_key, *begin_args) == [0]
    assert await redis_store._run(record_key, *begin_args) == [0]
    assert isinstance(await redis_store.begin("team-a", "k1", FP), InFlight)
    assert await redis_store.complete("team-a", "k1", "owner-1", OK)
    assert await redis_store.complete("team-a", "k1", "owner-1", OK)
    assert await redis_store.begin("team-a", "k1", FP) == Replay(OK)


async def test_store_leaves_a_borrowed_client_open(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        await RedisIdempotencyStore(client).close()
        assert await client.ping()
    finally:
        await client.aclose()


async def test_script_flushed_from_the_server_is_loaded_again(
    redis_store: RedisIdempotencyStore, admin: Redis
) -> None:
    assert isinstance(await redis_store.begin("team-a", "k1", FP), Started)
    await admin.script_flush()
    assert isinstance(await redis_store.begin("team-a", "k1", FP), InFlight)


async def test_foreign_value_under_the_key_is_unavailable(
    redis_store: RedisIdempotencyStore, admin: Redis
) -> None:
    await admin.set(redis_store.record_key("team-a", "k1"), b"not a hash")
    with pytest.raises(IdempotencyUnavailable, match="begin"):
        await redis_store.begin("team-a", "k1", FP)


async def test_client_decoding_responses_is_refused(redis_url: str) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        with pytest.raises(ValueError, match="decode_responses"):
            RedisIdempotencyStore(client)
    finally:
        await client.aclose()


async def test_unreachable_redis_raises_unavailable_promptly() -> None:
    store = store_from_url(f"redis://127.0.0.1:{closed_port()}/0", timeout=0.25)
    try:
        async with asyncio.timeout(10):  # hang guard only
            with pytest.raises(IdempotencyUnavailable, match="begin") as caught:
                await store.begin("team-a", "k1", FP)
            assert caught.value.__cause__ is not None
            with pytest.raises(IdempotencyUnavailable, match="complete"):
                await store.complete("team-a", "k1", "owner", OK)
            with pytest.raises(IdempotencyUnavailable, match="release"):
                await store.release("team-a", "k1", "owner")
    finally:
        await store.close()


async def test_silent_server_times_out_as_unavailable() -> None:
    # A listener that accepts and never answers: the timeout must end the call, and the
    # client must hang up the stalled connection (the next call opens a new one).
    hung_up = asyncio.Event()

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)
        writer.close()
        await writer.wait_closed()
        hung_up.set()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = store_from_url(f"redis://127.0.0.1:{port}/0", timeout=0.25)
    try:
        async with asyncio.timeout(10):  # hang guard only
            with pytest.raises(IdempotencyUnavailable):
                await store.begin("team-a", "k1", FP)
            await hung_up.wait()
    finally:
        await store.close()
        server.close()
        await server.wait_closed()
