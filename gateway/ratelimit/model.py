"""The values every limiter speaks: budgets in, decisions and a verdict out.

Kept apart from both the algorithm (:mod:`gateway.ratelimit.gcra`) and the storages so the
core, the headers and the failure policy depend on these types only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Budget", "Decision", "RateLimiter", "RateLimiterUnavailableError", "Verdict"]


def _is_sf_string_safe(text: str) -> bool:
    # RFC 9651 sf-string: printable ASCII only (quotes and backslashes get escaped).
    return all(0x20 <= ord(ch) <= 0x7E for ch in text)


@dataclass(frozen=True, slots=True)
class Budget:
    """One rate budget a call draws one unit from.

    ``key`` names the bucket in storage (e.g. ``tenant:team-a:read``, ``upstream:<short id>``).
    Keys end up in Redis and in debugging output, so they MUST NOT contain secrets: pass a
    derived id (e.g. a SHA-256 prefix) instead of a raw AccessKeyId.  ``rate`` is the
    sustained rate in calls per second, ``burst`` how many calls a fresh bucket admits at
    once.  ``name`` is the policy name shown in headers and metrics (``read``, ``write``,
    ``upstream``).  Invalid values raise :class:`ValueError` at construction so a bad
    configuration fails at start-up.
    """

    key: str
    rate: float
    burst: int
    name: str

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("Budget.key must not be empty")
        if not (math.isfinite(self.rate) and self.rate > 0):
            raise ValueError(
                f"Budget {self.name!r}: rate must be a positive number, got {self.rate}"
            )
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 1:
            raise ValueError(f"Budget {self.name!r}: burst must be an int >= 1, got {self.burst!r}")
        if not self.name or not _is_sf_string_safe(self.name):
            raise ValueError(f"Budget name must be non-empty printable ASCII, got {self.name!r}")


@dataclass(frozen=True, slots=True)
class Decision:
    """What one budget says about one call.

    ``allowed``: this budget would admit the call.  ``limit``: the budget's burst.
    ``remaining``: calls this budget would still admit right now, after this call's charge if
    the call was admitted.  ``retry_after``: seconds until this budget would admit the call
    (0 when allowed).  ``reset_after``: seconds until the bucket is full again.
    """

    allowed: bool
    limit: int
    remaining: int
    retry_after: float
    reset_after: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one :meth:`RateLimiter.acquire`.

    ``allowed`` is true only if every budget admitted the call (then all were charged; else
    none was).  ``decisions`` follow the order of the budgets given.  ``limiting`` is the
    budget that refused (the one with the longest wait if several did) or, for an admitted
    call, the one with the least remaining; ``None`` when there were no decisions (no
    budgets, or a fail-open fallback).  ``budgets`` are the budgets asked, aligned with
    ``decisions`` (the ``RateLimit-Policy`` header lists them).
    """

    allowed: bool
    decisions: tuple[Decision, ...]
    limiting: Budget | None
    budgets: tuple[Budget, ...] = ()

    def __post_init__(self) -> None:
        if self.budgets and len(self.budgets) != len(self.decisions):
            raise ValueError("Verdict.budgets and Verdict.decisions must align")

    @property
    def retry_after(self) -> float:
        """Seconds until the whole call would be admitted (0 when allowed)."""
        if self.allowed:
            return 0.0
        return max((d.retry_after for d in self.decisions), default=0.0)

    @property
    def limiting_decision(self) -> Decision | None:
        """The decision of :attr:`limiting`, for the ``RateLimit`` header."""
        for budget, decision in zip(self.budgets, self.decisions, strict=False):
            if budget == self.limiting:
                return decision
        return None


class RateLimiterUnavailableError(Exception):
    """The limiter's storage could not be reached or answered (Redis down, timeout).

    Raised by storages instead of their client library's errors, so the failure policy
    (:class:`gateway.ratelimit.FailSafeRateLimiter`) does not need to know the storage.  The
    original error is the ``__cause__``.
    """


class RateLimiter(Protocol):
    """What the core depends on: one atomic decision over several budgets."""

    async def acquire(self, budgets: Sequence[Budget], now: float | None = None) -> Verdict:
        """Admit and charge every budget, or refuse and charge none.

        ``now`` overrides the limiter's time source (tests, replays); production passes
        ``None``.  Storage failures raise :class:`RateLimiterUnavailableError`; duplicate
        keys raise :class:`ValueError`.
        """
        ...

    async def aclose(self) -> None:
        """Release connections the limiter owns."""
        ...
