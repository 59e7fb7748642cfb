"""Both idempotency stores behind one fixture, so one suite holds each to the same contract.

``memory`` runs on a fake clock that ``advance`` moves; ``redis`` runs on the session's real
Valkey, whose leases and TTLs follow the server clock, so ``advance`` really sleeps: tests
keep those waits to a few tenths of a second.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from idempotency_helpers import FakeClock, Harness
from redis.asyncio import Redis

from gateway.idempotency import (
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
    store_from_url,
)


@pytest.fixture(params=["memory", "redis"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    made: Harness
    if request.param == "memory":
        clock = FakeClock()
        made = Harness("memory", MemoryIdempotencyStore(clock=clock), clock)
    else:
        url: str = request.getfixturevalue("redis_url")
        made = Harness("redis", store_from_url(url, timeout=2.0))
    try:
        yield made
    finally:
        await made.store.close()


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisIdempotencyStore]:
    store = RedisIdempotencyStore(Redis.from_url(redis_url), timeout=5.0, owns_client=True)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def admin(redis_url: str) -> AsyncIterator[Redis]:
    """A plain client on the same database, to look at what the store wrote."""
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()
