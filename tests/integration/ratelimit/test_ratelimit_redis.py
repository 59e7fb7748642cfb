"""RedisRateLimiter on a real Valkey: server time, key layout, round trips, replicas, outages.

Timing is never asserted beyond hang guards: exactness uses a low rate and a large burst so a
few milliseconds of test noise cannot change a count.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio
from ports import closed_port
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.ratelimit import (
    Budget,
    FailSafeRateLimiter,
    RateLimiterUnavailableError,
    RedisRateLimiter,
    limiter_from_url,
    rate_limit_headers,
    retry_after_seconds,
)

TIMEOUT = 0.25
HANG_GUARD = 2.0


def client_for(url: str) -> redis.asyncio.Redis:
    """A client built the way the gateway builds one: short timeouts, one quick retry."""
    return redis.asyncio.Redis.from_url(
        url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, retry=Retry(NoBackoff(), 1)
    )


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    c = client_for(redis_url)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
def admin(redis_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield c
    finally:
        c.close()


async def test_server_clock_drives_the_bucket(
    client: redis.asyncio.Redis, admin: redis.Redis
) -> None:
    limiter = RedisRateLimiter(client)
    budget = Budget("tenant:team-a:read", rate=0.001, burst=5, name="read")  # T = 1000 s
    before = time.time()
    verdicts = [await limiter.acquire([budget]) for _ in range(6)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False]
    refused = verdicts[-1].decisions[0]
    assert refused.remaining == 0
    assert 995 < refused.retry_after <= 1000
    assert 4995 < refused.reset_after <= 5000
    # Key layout: prefix + the caller's key; value = TAT in server microseconds; PX = reset.
    raw = admin.get("smcgw:rl:tenant:team-a:read")
    assert raw is not None
    tat_seconds = int(raw) / 1e6
    assert before + 4990 < tat_seconds < before + 5010
    assert 4_990_000 < admin.pttl("smcgw:rl:tenant:team-a:read") <= 5_000_000
    assert admin.keys("*") == ["smcgw:rl:tenant:team-a:read"]


async def test_key_prefix_is_configurable(client: redis.asyncio.Redis, admin: redis.Redis) -> None:
    limiter = RedisRateLimiter(client, key_prefix="other:")
    budget = Budget("upstream:3f9a0c1d", rate=1.0, burst=1, name="upstream")
    assert limiter.storage_key(budget) == "other:upstream:3f9a0c1d"
    assert (await limiter.acquire([budget])).allowed
    assert admin.keys("*") == ["other:upstream:3f9a0c1d"]


async def test_refusal_writes_nothing(client: redis.asyncio.Redis, admin: redis.Redis) -> None:
    limiter = RedisRateLimiter(client)
    roomy = Budget("tenant:a:read", rate=0.001, burst=100, name="read")
    tight = Budget("upstream:k1", rate=0.001, burst=1, name="upstream")
    assert (await limiter.acquire([tight])).allowed
    snapshot = admin.get("smcgw:rl:upstream:k1")
    assert not (await limiter.acquire([roomy, tight])).allowed
    assert admin.get("smcgw:rl:upstream:k1") == snapshot
    assert admin.exists("smcgw:rl:tenant:a:read") == 0


async def test_exactly_one_round_trip_per_call(
    client: redis.asyncio.Redis, admin: redis.Redis
) -> None:
    limiter = RedisRateLimiter(client)
    budgets = [
        Budget("tenant:a:read", rate=100.0, burst=50, name="read"),
        Budget("upstream:k1", rate=100.0, burst=50, name="upstream"),
    ]
    await limiter.acquire(budgets)  # warm-up: connection set-up and the one SCRIPT LOAD
    admin.config_resetstat()
    calls = 25
    for _ in range(calls):
        await limiter.acquire(budgets)
    stats = admin.info("commandstats")
    assert stats["cmdstat_evalsha"]["calls"] == calls
    assert stats["cmdstat_time"]["calls"] == calls  # the server clock, once per call
    # Nothing else came from the limiter's client: only what the script itself ran
    # (get/set/time) and this test's own CONFIG RESETSTAT and INFO.
    script_or_test = {
        "cmdstat_get",
        "cmdstat_set",
        "cmdstat_time",
        "cmdstat_info",
        "cmdstat_config|resetstat",
    }
    assert {name for name in stats if name not in script_or_test} == {"cmdstat_evalsha"}


async def test_script_is_reloaded_after_a_flush(
    client: redis.asyncio.Redis, admin: redis.Redis
) -> None:
    limiter = RedisRateLimiter(client)
    budget = Budget("tenant:a:read", rate=1.0, burst=10, name="read")
    assert (await limiter.acquire([budget])).decisions[0].remaining == 9
    admin.script_flush()
    assert (await limiter.acquire([budget])).decisions[0].remaining == 8


async def test_two_replicas_share_one_budget(redis_url: str) -> None:
    """Two limiters on two connection pools, offered 3x the rate for ~2 s."""
    rate, burst = 20.0, 5
    budget = Budget("tenant:shared:write", rate=rate, burst=burst, name="write")
    clients = [client_for(redis_url), client_for(redis_url)]
    replicas = [RedisRateLimiter(c) for c in clients]
    workers_per_replica = 3
    per_worker_interval = (2 * workers_per_replica) / (3 * rate)  # 3x rate in total
    admitted = 0
    offered = 0

    async def worker(limiter: RedisRateLimiter, deadline: float) -> None:
        nonlocal admitted, offered
        while time.monotonic() < deadline:
            verdict = await limiter.acquire([budget])
            offered += 1
            admitted += verdict.allowed
            await asyncio.sleep(per_worker_interval)

    try:
        start = time.monotonic()
        deadline = start + 2.0
        await asyncio.gather(
            *(worker(r, deadline) for r in replicas for _ in range(workers_per_replica))
        )
        elapsed = time.monotonic() - start
    finally:
        for c in clients:
            await c.aclose()
    assert admitted <= rate * elapsed + burst + 1
    assert offered >= 1.5 * rate * elapsed  # really overloaded
    assert admitted >= rate * elapsed * 0.5  # and the shared budget was really used


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections (kernel backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


BUDGETS = [
    Budget("tenant:a:read", rate=10.0, burst=20, name="read"),
    Budget("upstream:k1", rate=5.0, burst=10, name="upstream"),
]


async def test_fail_open_admits_and_reports_when_redis_is_down() -> None:
    client = client_for(f"redis://127.0.0.1:{closed_port()}/0")
    errors: list[Exception] = []
    limiter = FailSafeRateLimiter(
        RedisRateLimiter(client), fail_open=True, on_error=errors.append, cooldown=0
    )
    try:
        for _ in range(2):
            started = time.monotonic()
            verdict = await limiter.acquire(BUDGETS)
            assert time.monotonic() - started < HANG_GUARD
            assert verdict.allowed
            assert verdict.decisions == ()
            assert rate_limit_headers(verdict) == {}
    finally:
        await client.aclose()
    assert len(errors) == 2
    assert isinstance(errors[0], RateLimiterUnavailableError)
    assert isinstance(errors[0].__cause__, redis.exceptions.ConnectionError)
    assert not limiter.healthy
    assert limiter.last_error is errors[-1]


async def test_fail_closed_refuses_with_retry_after_when_redis_is_down() -> None:
    client = client_for(f"redis://127.0.0.1:{closed_port()}/0")
    errors: list[Exception] = []
    limiter = FailSafeRateLimiter(
        RedisRateLimiter(client), fail_open=False, on_error=errors.append, cooldown=0
    )
    try:
        started = time.monotonic()
        verdict = await limiter.acquire(BUDGETS)
        assert time.monotonic() - started < HANG_GUARD
    finally:
        await client.aclose()
    assert not verdict.allowed
    assert verdict.retry_after == 1.0
    assert retry_after_seconds(verdict) == 1
    assert verdict.limiting == BUDGETS[0]
    assert rate_limit_headers(verdict)["RateLimit"] == '"read";r=0;t=1'
    assert len(errors) == 1
    assert not limiter.healthy


async def test_a_silent_server_times_out_instead_of_hanging(silent_server: int) -> None:
    client = client_for(f"redis://127.0.0.1:{silent_server}/0")
    errors: list[Exception] = []
    limiter = FailSafeRateLimiter(RedisRateLimiter(client), on_error=errors.append, cooldown=0)
    try:
        started = time.monotonic()
        verdict = await limiter.acquire(BUDGETS)
        assert time.monotonic() - started < HANG_GUARD
    finally:
        await client.aclose()
    assert verdict.allowed  # fail-open is the default
    assert isinstance(errors[0].__cause__, redis.exceptions.TimeoutError)


async def test_limiter_from_url_bounds_each_call_against_a_silent_server(
    silent_server: int,
) -> None:
    # The URL-built client has no per-read socket timeout: the limiter's own bound ends it.
    errors: list[Exception] = []
    inner = limiter_from_url(f"redis://127.0.0.1:{silent_server}/0", timeout=TIMEOUT)
    limiter = FailSafeRateLimiter(inner, on_error=errors.append, cooldown=0)
    try:
        for _ in range(2):  # and again on a fresh connection: nothing is left waiting
            started = time.monotonic()
            verdict = await limiter.acquire(BUDGETS)
            assert time.monotonic() - started < HANG_GUARD
            assert verdict.allowed  # fail-open is the default
    finally:
        await limiter.aclose()
    assert len(errors) == 2
    assert all(isinstance(e.__cause__, TimeoutError) for e in errors)


def test_the_limiter_refuses_a_timeout_that_is_not_positive() -> None:
    client = client_for("redis://127.0.0.1:1/0")
    with pytest.raises(ValueError, match="timeout"):
        RedisRateLimiter(client, timeout=0)


async def test_limiter_from_url_talks_to_redis(redis_url: str, admin: redis.Redis) -> None:
    limiter = limiter_from_url(redis_url, timeout=TIMEOUT)
    assert isinstance(limiter, RedisRateLimiter)
    try:
        budget = Budget("tenant:a:read", rate=1.0, burst=2, name="read")
        assert (await limiter.acquire([budget])).allowed
    finally:
        await limiter.aclose()
    assert admin.exists("smcgw:rl:tenant:a:read") == 1
