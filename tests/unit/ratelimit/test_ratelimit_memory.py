"""MemoryRateLimiter: injected clock, bounded memory and the GCRA bound as a property.

The behaviours shared with Redis (burst, steady rate, exact retry_after, atomic multi-budget
refusal) are in ``tests/integration/ratelimit/test_ratelimit_storages.py``, run against both.
"""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.ratelimit import Budget, MemoryRateLimiter


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_time_comes_from_the_injected_clock() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    budget = Budget("tenant:a:read", rate=2.0, burst=2, name="read")
    assert (await limiter.acquire([budget])).allowed
    assert (await limiter.acquire([budget])).allowed
    refused = await limiter.acquire([budget])
    assert not refused.allowed
    assert refused.retry_after == 0.5
    clock.now += 0.5
    assert (await limiter.acquire([budget])).allowed


async def test_burst_then_refusal() -> None:
    limiter = MemoryRateLimiter(clock=FakeClock())
    budget = Budget("tenant:a:write", rate=1.0, burst=3, name="write")
    verdicts = [await limiter.acquire([budget]) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].decisions[0].retry_after == 1.0


async def test_memory_stays_bounded_under_key_churn() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock, min_sweep_size=64)
    for i in range(10_000):
        # 10 calls per second on ever-new keys whose buckets refill within 1 s.
        budget = Budget(f"tenant:t{i}:read", rate=1.0, burst=1, name="read")
        assert (await limiter.acquire([budget])).allowed
        clock.now += 0.1
        assert len(limiter) <= 128
    clock.now += 2
    assert limiter.sweep() > 0
    assert len(limiter) == 0


async def test_sweep_keeps_live_keys() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    live = Budget("tenant:live:read", rate=1.0, burst=2, name="read")
    stale = Budget("tenant:stale:read", rate=100.0, burst=2, name="read")
    await limiter.acquire([live])
    await limiter.acquire([stale])
    clock.now += 0.5
    assert limiter.sweep() == 1
    assert len(limiter) == 1
    assert (await limiter.acquire([live])).decisions[0].remaining == 0  # state kept


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(min_value=0.1, max_value=1000.0, allow_nan=False, allow_infinity=False),
    burst=st.integers(min_value=1, max_value=20),
    gaps_ms=st.lists(st.integers(min_value=0, max_value=2000), min_size=1, max_size=150),
)
def test_admitted_in_any_window_is_within_rate_times_window_plus_burst(
    rate: float, burst: int, gaps_ms: list[int]
) -> None:
    """For every window [t_i, t_j] between admitted calls: count <= rate * W + burst."""
    limiter = MemoryRateLimiter()
    budget = Budget("tenant:p:read", rate=rate, burst=burst, name="read")

    async def run() -> list[int]:
        admitted_ms: list[int] = []
        t_ms = 0
        for gap in gaps_ms:
            t_ms += gap
            verdict = await limiter.acquire([budget], now=1000.0 + t_ms / 1000)
            if verdict.allowed:
                admitted_ms.append(t_ms)
        return admitted_ms

    admitted = asyncio.run(run())
    assert admitted, "the first call always fits in a fresh bucket"
    for i in range(len(admitted)):
        for j in range(i, len(admitted)):
            window = (admitted[j] - admitted[i]) / 1000
            assert j - i + 1 <= rate * window + burst + 1e-9
