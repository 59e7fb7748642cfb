"""What to do when the limiter's storage is down: admit (fail-open) or refuse (fail-closed).

Fail-open is the default (SPEC §7): losing Redis should not take the gateway down with it, and
SMC's own throttling still protects the upstream.  Either way the error is reported through
``on_error`` (the core counts and logs it) and kept in :attr:`FailSafeRateLimiter.last_error`
for ``/readyz`` detail.  Only :class:`RateLimiterUnavailableError` is absorbed: a programming
error (e.g. duplicate keys) still raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from gateway.ratelimit.model import (
    Budget,
    Decision,
    RateLimiter,
    RateLimiterUnavailableError,
    Verdict,
)

__all__ = ["FAIL_CLOSED_RETRY_AFTER", "FailSafeRateLimiter"]

# Seconds a fail-closed refusal asks the client to wait: short, since storage may be back soon.
FAIL_CLOSED_RETRY_AFTER = 1.0


class FailSafeRateLimiter:
    """Wraps a limiter; applies the failure policy when it raises ``RateLimiterUnavailableError``.

    Fail-open returns an admitted verdict without decisions (so no RateLimit headers claim
    numbers nobody computed).  Fail-closed refuses with ``retry_after`` = 1 s on every budget.
    After a failure the storage is not asked again for ``cooldown`` seconds, so during an
    outage calls get the policy's answer at once instead of each waiting for a timeout.
    """

    def __init__(
        self,
        inner: RateLimiter,
        *,
        fail_open: bool = True,
        on_error: Callable[[Exception], None] | None = None,
        cooldown: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._fail_open = fail_open
        self._on_error = on_error
        self._cooldown = cooldown
        self._clock = clock
        self._retry_at = 0.0
        self._last_error: Exception | None = None

    @property
    def fail_open(self) -> bool:
        """The configured policy."""
        return self._fail_open

    @property
    def last_error(self) -> Exception | None:
        """The error of the latest call, ``None`` once a call succeeds again."""
        return self._last_error

    @property
    def healthy(self) -> bool:
        """Whether the latest call reached the storage."""
        return self._last_error is None

    async def acquire(self, budgets: Sequence[Budget], now: float | None = None) -> Verdict:
        """The inner verdict, or the failure policy's when the storage is unavailable."""
        if self._last_error is not None and self._clock() < self._retry_at:
            return self._fallback(budgets)
        try:
            verdict = await self._inner.acquire(budgets, now)
        except RateLimiterUnavailableError as exc:
            self._last_error = exc
            self._retry_at = self._clock() + self._cooldown
            if self._on_error is not None:
                self._on_error(exc)
            return self._fallback(budgets)
        self._last_error = None
        return verdict

    def _fallback(self, budgets: Sequence[Budget]) -> Verdict:
        if self._fail_open or not budgets:
            return Verdict(allowed=True, decisions=(), limiting=None)
        decisions = tuple(
            Decision(
                allowed=False,
                limit=b.burst,
                remaining=0,
                retry_after=FAIL_CLOSED_RETRY_AFTER,
                reset_after=FAIL_CLOSED_RETRY_AFTER,
            )
            for b in budgets
        )
        return Verdict(
            allowed=False, decisions=decisions, limiting=budgets[0], budgets=tuple(budgets)
        )

    async def aclose(self) -> None:
        """Close the inner limiter."""
        await self._inner.aclose()
