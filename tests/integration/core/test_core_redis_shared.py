"""Keyed writes with the rate limiter and the idempotency store sharing one Redis client.

The store's ``begin`` is sent with the limiter's charge, so both leave in one write: a keyed
write costs Redis two reads (charge + begin, then complete), not three.  A write the
limiter refuses must not leave the record it began behind: a retry of the same key after
the refusal starts afresh instead of being told the key is in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as src
from gateway.core import errors as g
from gateway.core.context import CallContext
from gateway.core.gateway import Gateway
from gateway.core.tenants import Rate, RateLimits, Tenant, TenantDirectory, api_key_digest
from gateway.emulator import Account, Emulator, EmulatorConfig
from gateway.idempotency import IdempotencyStore, Started, store_from_url
from gateway.ratelimit import limiter_from_url
from gateway.redisio import RedisClient, shared_client
from gateway.smc.client import SmcClient
from gateway.smc.credentials import Credentials

CREDS = Credentials("LTAIsharedredis00001", "shared-redis-secret")
SLOW = 0.001  # a refill so slow that the burst is all a test gets


class Env:
    def __init__(self, core: Gateway, store: IdempotencyStore, redis_url: str) -> None:
        self.core, self.store = core, store
        self.probe = redis.Redis.from_url(redis_url)  # one connection: one read per INFO

    async def write(self, source_id: str, key: str) -> Any:
        ctx = CallContext(
            frontend="rest", method="CreateReplicationJob", api_key="key-t", idempotency_key=key
        )
        request = jobs.CreateReplicationJobRequest(source_id=source_id, system_disk_size=40)
        return await self.core.call("CreateReplicationJob", ctx, request)

    def reads_processed(self) -> int:
        """Valkey's count of read events: one per batch of commands it received."""
        info: dict[str, Any] = self.probe.info("stats")
        return int(info["total_reads_processed"])


@pytest.fixture
async def env(redis_url: str) -> AsyncIterator[Env]:
    client = shared_client(redis_url, timeout=1.0)
    assert isinstance(client, RedisClient)
    store = store_from_url(redis_url, timeout=1.0, client=client)
    emulator = Emulator(
        EmulatorConfig(port=0, accounts=[Account(CREDS.access_key_id, CREDS.access_key_secret)])
    )
    await emulator.start()
    tenant = Tenant(
        id="t",
        api_key_sha256=frozenset({api_key_digest("key-t")}),
        credentials=CREDS,
        region_id="cn-hangzhou",
        rate_limits=RateLimits(write=Rate(SLOW, 2)),
    )
    core = Gateway(
        client=SmcClient(emulator.url),
        tenants=TenantDirectory([tenant]),
        limiter=limiter_from_url(redis_url, timeout=1.0, client=client),
        idempotency=store,
    )
    env = Env(core, store, redis_url)
    try:
        yield env
    finally:
        env.probe.close()
        await core.close()
        await client.aclose()
        await emulator.stop()


async def sources(env: Env) -> list[str]:
    ctx = CallContext(frontend="rest", method="ListSourceServers", api_key="key-t")
    page = await env.core.call("ListSourceServers", ctx, src.ListSourceServersRequest())
    return [s.source_id for s in page.source_servers]  # type: ignore[attr-defined]


def test_shared_client_only_for_redis_urls(redis_url: str) -> None:
    assert shared_client(None, timeout=1.0) is None
    assert shared_client("memory://", timeout=1.0) is None
    assert isinstance(shared_client(redis_url, timeout=1.0), RedisClient)


async def test_keyed_write_reaches_redis_in_two_reads(env: Env) -> None:
    (source, *_) = await sources(env)
    await env.write(source, "warm-up")  # connects and loads both scripts
    before = env.reads_processed()
    with pytest.raises(g.GatewayError):  # the source has a job now: SMC refuses, stored
        await env.write(source, "second")
    after = env.reads_processed()
    # charge + begin in one read, complete in another; the INFO call itself is one more.
    assert after - before == 3


async def test_refused_write_leaves_no_record_behind(env: Env) -> None:
    first, second, *_ = await sources(env)
    await env.write(first, "k-1")
    await env.write(second, "k-2")  # the write budget (2) is spent
    with pytest.raises(g.ResourceExhaustedError):
        await env.write(first, "k-3")
    # The record k-3's begin started is released in the background: soon, not never.
    deadline = time.monotonic() + 5
    while True:
        begun = await env.store.begin("t", "k-3", b"probe", lease_seconds=30, ttl_seconds=60)
        if isinstance(begun, Started):
            break
        assert time.monotonic() < deadline, f"k-3 is still held: {begun!r}"
        await asyncio.sleep(0.02)


async def test_replayed_write_is_still_charged(env: Env) -> None:
    (source, *_) = await sources(env)
    first = await env.write(source, "same")
    again = await env.write(source, "same")
    assert again == first
    with pytest.raises(g.ResourceExhaustedError):  # two writes charged: the budget is spent
        await env.write(source, "other")
