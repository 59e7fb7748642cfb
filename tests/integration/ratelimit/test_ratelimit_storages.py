"""One behavioural suite, run against every storage: memory and Redis (real Valkey).

Time is explicit so every number is exact: the memory limiter reads an injected fake clock,
the Redis limiter gets the same instant as ``now`` (the server clock is exercised in
``test_ratelimit_redis.py``).  Passing here means ``gcra.lua`` and ``gcra.py`` agree.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence

import pytest
import redis.asyncio

from gateway.ratelimit import Budget, MemoryRateLimiter, RedisRateLimiter, Verdict

START = 1_700_000_000.0


class FakeClock:
    """Seconds that move only when told to."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Harness:
    """A limiter plus the instant it is asked at; ``advance`` moves time for both storages."""

    def __init__(self, limiter: MemoryRateLimiter | RedisRateLimiter, clock: FakeClock) -> None:
        self.limiter = limiter
        self.clock = clock

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    def at(self, instant: float) -> None:
        self.clock.now = instant

    async def acquire(self, *budgets: Budget) -> Verdict:
        if isinstance(self.limiter, MemoryRateLimiter):
            return await self.limiter.acquire(budgets)  # reads the injected clock
        return await self.limiter.acquire(budgets, now=self.clock.now)


async def make_harness(kind: str, redis_url: str) -> AsyncIterator[Harness]:
    if kind == "memory":
        clock = FakeClock()
        yield Harness(MemoryRateLimiter(clock=clock), clock)
        return
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        yield Harness(RedisRateLimiter(client), FakeClock())
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def h(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Harness]:
    async for harness in make_harness(request.param, redis_url):
        yield harness


def allowed_count(verdicts: Sequence[Verdict]) -> int:
    return sum(v.allowed for v in verdicts)


async def test_fresh_key_admits_burst_at_once_then_refuses(h: Harness) -> None:
    budget = Budget("tenant:a:read", rate=1.0, burst=5, name="read")
    verdicts = [await h.acquire(budget) for _ in range(5)]
    assert all(v.allowed for v in verdicts)
    assert [v.decisions[0].remaining for v in verdicts] == [4, 3, 2, 1, 0]
    refused = await h.acquire(budget)
    assert not refused.allowed
    assert refused.limiting == budget
    decision = refused.decisions[0]
    assert decision == decision.__class__(
        allowed=False, limit=5, remaining=0, retry_after=1.0, reset_after=5.0
    )


async def test_steady_rate_is_admitted_and_faster_is_not(h: Harness) -> None:
    budget = Budget("tenant:a:write", rate=10.0, burst=1, name="write")
    for i in range(20):
        h.at(START + i * 0.1)
        assert (await h.acquire(budget)).allowed, i
        h.advance(0.05)
        assert not (await h.acquire(budget)).allowed, i


async def test_retry_after_is_exact(h: Harness) -> None:
    budget = Budget("tenant:a:read", rate=3.0, burst=2, name="read")  # T rounds up to 333334 us
    for _ in range(2):
        assert (await h.acquire(budget)).allowed
    for _ in range(5):
        refused = await h.acquire(budget)
        assert not refused.allowed
        wait = refused.retry_after
        assert wait > 0
        h.advance(wait - 1e-6)
        assert not (await h.acquire(budget)).allowed
        h.advance(1e-6)
        admitted = await h.acquire(budget)
        assert admitted.allowed
        assert admitted.retry_after == 0.0
        assert admitted.decisions[0].retry_after == 0.0


async def test_remaining_and_reset_after(h: Harness) -> None:
    budget = Budget("tenant:a:write", rate=5.0, burst=10, name="write")
    for _ in range(3):
        verdict = await h.acquire(budget)
    assert verdict.decisions[0].remaining == 7
    assert verdict.decisions[0].reset_after == pytest.approx(0.6, abs=1e-9)
    assert verdict.decisions[0].limit == 10
    h.advance(0.2)  # one unit refilled, one spent
    verdict = await h.acquire(budget)
    assert verdict.decisions[0].remaining == 7
    assert verdict.decisions[0].reset_after == pytest.approx(0.6, abs=1e-9)
    h.advance(0.6)  # full again
    verdict = await h.acquire(budget)
    assert verdict.decisions[0].remaining == 9
    assert verdict.decisions[0].reset_after == pytest.approx(0.2, abs=1e-9)


async def test_fractional_rate(h: Harness) -> None:
    budget = Budget("upstream:k1", rate=0.5, burst=1, name="upstream")
    assert (await h.acquire(budget)).allowed
    refused = await h.acquire(budget)
    assert refused.retry_after == 2.0
    h.advance(2.0)
    assert (await h.acquire(budget)).allowed


async def test_refusal_by_one_budget_charges_none(h: Harness) -> None:
    read = Budget("tenant:a:read", rate=1.0, burst=5, name="read")
    upstream = Budget("upstream:k1", rate=1.0, burst=2, name="upstream")
    first = await h.acquire(read, upstream)
    assert first.allowed
    assert first.limiting == upstream  # least remaining: 1 < 4
    assert (await h.acquire(read, upstream)).allowed
    refused = await h.acquire(read, upstream)
    assert not refused.allowed
    assert refused.limiting == upstream
    read_decision, upstream_decision = refused.decisions
    assert read_decision.allowed
    assert read_decision.remaining == 3  # two charged, this refusal not
    assert not upstream_decision.allowed
    assert upstream_decision.retry_after == 1.0
    # The read budget alone still has exactly three left: the refusal charged nothing.
    alone = [await h.acquire(read) for _ in range(4)]
    assert [v.allowed for v in alone] == [True, True, True, False]


async def test_the_longest_wait_is_limiting(h: Harness) -> None:
    fast = Budget("tenant:a:read", rate=10.0, burst=1, name="read")
    slow = Budget("upstream:k1", rate=1.0, burst=1, name="upstream")
    assert (await h.acquire(fast, slow)).allowed
    refused = await h.acquire(fast, slow)
    assert refused.limiting == slow
    assert refused.retry_after == 1.0
    assert [d.retry_after for d in refused.decisions] == [0.1, 1.0]


async def test_keys_are_independent(h: Harness) -> None:
    a = Budget("tenant:a:read", rate=1.0, burst=1, name="read")
    b = Budget("tenant:b:read", rate=1.0, burst=1, name="read")
    assert (await h.acquire(a)).allowed
    assert not (await h.acquire(a)).allowed
    assert (await h.acquire(b)).allowed


async def test_no_budgets_is_admitted(h: Harness) -> None:
    verdict = await h.acquire()
    assert verdict.allowed
    assert verdict.decisions == ()
    assert verdict.limiting is None


async def test_duplicate_keys_are_a_caller_bug(h: Harness) -> None:
    a = Budget("tenant:a:read", rate=1.0, burst=1, name="read")
    with pytest.raises(ValueError, match="duplicate"):
        await h.acquire(a, Budget("tenant:a:read", rate=2.0, burst=3, name="read"))


async def test_memory_and_redis_agree_on_a_random_workload(redis_url: str) -> None:
    """Differential check: the same calls at the same instants get identical verdicts."""
    rng = random.Random(20240601)
    budgets = [
        Budget("tenant:a:read", rate=5.0, burst=3, name="read"),
        Budget("tenant:a:write", rate=0.7, burst=2, name="write"),
        Budget("upstream:k1", rate=2.5, burst=4, name="upstream"),
    ]
    clock = FakeClock()
    memory = MemoryRateLimiter(clock=clock)
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        shared = RedisRateLimiter(client)
        for _ in range(400):
            clock.now += rng.choice([0.0, 0.0, 0.001, 0.05, 0.2, 0.4, 1.3])
            chosen = rng.sample(budgets, rng.randint(1, len(budgets)))
            expected = await memory.acquire(chosen)
            assert await shared.acquire(chosen, now=clock.now) == expected
    finally:
        await client.aclose()
