"""Retry policy, retry budget and the clock they run on.

The policy is a value: exponential backoff with full jitter, bounded by a
number of attempts and by the call's deadline.  The budget is shared by all
calls of one client so that an SMC outage does not multiply load: each retry
spends tokens, each success refunds one.  Time comes from a :class:`Clock`
so tests run without sleeping.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, replace
from typing import Protocol

__all__ = ["Clock", "RetryBudget", "RetryPolicy", "SystemClock"]


class Clock(Protocol):
    """Where the client reads time and waits."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (deadlines)."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch (the signed ``Timestamp``)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how far apart attempts are made.

    ``backoff(n)`` is the wait before retry ``n`` (1-based): a uniform draw in
    ``[0, min(max_backoff, initial_backoff * multiplier ** (n - 1))]`` ("full
    jitter"), which spreads retries of many clients apart.
    """

    max_attempts: int = 4
    initial_backoff: float = 0.1
    max_backoff: float = 3.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ValueError("backoff values must be non-negative and multiplier >= 1")

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        ceiling = min(
            self.max_backoff, self.initial_backoff * self.multiplier ** (retry_number - 1)
        )
        return rng.uniform(0.0, ceiling)

    def with_attempts(self, max_attempts: int) -> RetryPolicy:
        """A copy with another attempt limit."""
        return replace(self, max_attempts=max_attempts)


class RetryBudget:
    """A token bucket of retries shared by every call of one client.

    A retry costs ``retry_cost`` tokens (``timeout_cost`` after a timeout or a
    dropped connection, which load SMC more); a success refunds
    ``success_refund`` up to ``capacity``.  When the bucket cannot pay, the
    call fails with its last error instead of retrying.
    """

    def __init__(
        self,
        capacity: int = 500,
        retry_cost: int = 5,
        timeout_cost: int = 10,
        success_refund: int = 1,
    ) -> None:
        self.capacity = capacity
        self.retry_cost = retry_cost
        self.timeout_cost = timeout_cost
        self.success_refund = success_refund
        self._tokens = capacity
        # Calls from several event loops (tests, threads) may share a client.
        self._lock = threading.Lock()

    @property
    def available(self) -> int:
        return self._tokens

    def try_spend(self, *, timeout: bool) -> bool:
        cost = self.timeout_cost if timeout else self.retry_cost
        with self._lock:
            if self._tokens < cost:
                return False
            self._tokens -= cost
            return True

    def refund(self) -> None:
        if self._tokens >= self.capacity:
            return
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + self.success_refund)
