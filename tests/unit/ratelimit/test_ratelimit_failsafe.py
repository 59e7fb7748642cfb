"""FailSafeRateLimiter: fail-open / fail-closed over any limiter, errors reported."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from gateway.ratelimit import (
    Budget,
    FailSafeRateLimiter,
    MemoryRateLimiter,
    RateLimiter,
    RateLimiterUnavailableError,
    Verdict,
    retry_after_seconds,
)

BUDGETS = [
    Budget("tenant:a:read", rate=1.0, burst=5, name="read"),
    Budget("upstream:k1", rate=1.0, burst=2, name="upstream"),
]


class FlakyLimiter:
    """A memory limiter whose storage can be switched off."""

    def __init__(self) -> None:
        self.down = False
        self.closed = False
        self._inner = MemoryRateLimiter(clock=lambda: 100.0)

    async def acquire(self, budgets: Sequence[Budget], now: float | None = None) -> Verdict:
        if self.down:
            raise RateLimiterUnavailableError("storage unavailable: ConnectionError: refused")
        return await self._inner.acquire(budgets, now)

    async def aclose(self) -> None:
        self.closed = True


async def test_fail_open_admits_reports_and_recovers() -> None:
    inner = FlakyLimiter()
    errors: list[Exception] = []
    limiter = FailSafeRateLimiter(inner, on_error=errors.append, cooldown=0)
    as_protocol: RateLimiter = limiter  # the core can hold it like any limiter
    assert as_protocol is limiter
    assert limiter.fail_open
    assert limiter.healthy
    inner.down = True
    verdict = await limiter.acquire(BUDGETS)
    assert verdict == Verdict(allowed=True, decisions=(), limiting=None)
    assert len(errors) == 1
    assert not limiter.healthy
    assert limiter.last_error is errors[0]
    inner.down = False
    assert (await limiter.acquire(BUDGETS)).decisions[0].remaining == 4
    assert limiter.healthy
    assert limiter.last_error is None


async def test_fail_closed_refuses_every_budget_for_one_second() -> None:
    inner = FlakyLimiter()
    inner.down = True
    limiter = FailSafeRateLimiter(inner, fail_open=False, cooldown=0)  # no on_error: recorded
    verdict = await limiter.acquire(BUDGETS)
    assert not verdict.allowed
    assert verdict.limiting == BUDGETS[0]
    assert [d.retry_after for d in verdict.decisions] == [1.0, 1.0]
    assert [d.limit for d in verdict.decisions] == [5, 2]
    assert retry_after_seconds(verdict) == 1
    assert not limiter.healthy


async def test_fail_closed_with_no_budgets_admits() -> None:
    inner = FlakyLimiter()
    inner.down = True
    verdict = await FailSafeRateLimiter(inner, fail_open=False).acquire([])
    assert verdict.allowed


async def test_programming_errors_are_not_swallowed() -> None:
    limiter = FailSafeRateLimiter(FlakyLimiter(), cooldown=0)
    with pytest.raises(ValueError, match="duplicate"):
        await limiter.acquire([BUDGETS[0], BUDGETS[0]])
    assert limiter.healthy


async def test_aclose_closes_the_inner_limiter() -> None:
    inner = FlakyLimiter()
    await FailSafeRateLimiter(inner).aclose()
    assert inner.closed


async def test_storage_is_not_asked_again_during_the_cooldown() -> None:
    inner = FlakyLimiter()
    calls = 0
    original = inner.acquire

    async def counting(budgets: Sequence[Budget], now: float | None = None) -> Verdict:
        nonlocal calls
        calls += 1
        return await original(budgets, now)

    inner.acquire = counting  # type: ignore[method-assign]
    now = [0.0]
    errors: list[Exception] = []
    limiter = FailSafeRateLimiter(inner, on_error=errors.append, cooldown=1.0, clock=lambda: now[0])
    inner.down = True
    for _ in range(5):
        assert (await limiter.acquire(BUDGETS)).allowed  # fail-open, at once
    assert (calls, len(errors)) == (1, 1)
    inner.down = False
    now[0] = 0.5
    await limiter.acquire(BUDGETS)
    assert calls == 1  # still cooling down: the policy answers
    now[0] = 1.01
    verdict = await limiter.acquire(BUDGETS)
    assert calls == 2
    assert verdict.decisions  # a real verdict again
    assert limiter.healthy
