"""In-process storage for GCRA: a dict of key -> TAT, for a single replica.

Atomic because :meth:`MemoryRateLimiter.acquire` never awaits between reading and writing
the TATs (one event loop; not thread-safe).  Memory stays bounded: a key whose TAT is in the
past holds no information (its bucket is full), so a sweep drops those keys whenever the dict
has doubled since the previous sweep, which keeps the cost amortised O(1) per call and the
size at most about twice the number of keys touched within their reset time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from gateway.ratelimit.gcra import MICROS, check_unique_keys, evaluate, to_micros
from gateway.ratelimit.model import Budget, Verdict

__all__ = ["MemoryRateLimiter"]


class MemoryRateLimiter:
    """GCRA over a dict; time from the injected ``clock`` (seconds, monotonic by default)."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, min_sweep_size: int = 1024
    ) -> None:
        self._clock = clock
        self._tats: dict[str, int] = {}
        self._min_sweep_size = max(1, min_sweep_size)
        self._sweep_at = self._min_sweep_size

    def __len__(self) -> int:
        """Keys currently held (for tests and metrics)."""
        return len(self._tats)

    async def acquire(self, budgets: Sequence[Budget], now: float | None = None) -> Verdict:
        """Admit and charge every budget, or refuse and charge none (see the protocol)."""
        check_unique_keys(budgets)
        now_us = to_micros(self._clock() if now is None else now)
        verdict, after = evaluate(budgets, now_us, [self._tats.get(b.key) for b in budgets])
        if verdict.allowed:
            for budget, tat in zip(budgets, after, strict=True):
                self._tats[budget.key] = tat
            if len(self._tats) >= self._sweep_at:
                self.sweep(now_us / MICROS)
        return verdict

    def sweep(self, now: float | None = None) -> int:
        """Forget keys whose bucket is full at ``now``; return how many were dropped."""
        now_us = to_micros(self._clock() if now is None else now)
        stale = [key for key, tat in self._tats.items() if tat <= now_us]
        for key in stale:
            del self._tats[key]
        self._sweep_at = max(self._min_sweep_size, 2 * len(self._tats))
        return len(stale)

    async def aclose(self) -> None:
        """Nothing to release."""
