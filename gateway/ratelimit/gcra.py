"""GCRA, the generic cell rate algorithm: the strategy, independent of where state lives.

Each budget keeps one number, its TAT ("theoretical arrival time"): the moment the bucket
would be empty again if calls kept arriving exactly at the rate.  With ``rate`` r (calls per
second) and ``burst`` b, all times in integer microseconds::

    T   = ceil(1e6 / r)        emission interval (rounded up: never faster than configured)
    tau = T * (b - 1)          tolerance
    tat = max(TAT, now)        a TAT in the past means a full bucket
    admit  iff  tat - now <= tau          (equivalently  tat + T - now <= T * b)
    on admission  TAT' = tat + T          (refused calls leave TAT unchanged)

    remaining   = floor((T * b - (TAT' - now)) / T)   with TAT' = tat when not charged
    retry_after = tat - tau - now                       when refused, else 0
    reset_after = TAT' - now                            (bucket full again at TAT')

A fresh key therefore admits ``b`` calls at once, then one every T: over any window W the
admitted count is at most ``r * W + b``.  A call at exactly ``now + retry_after`` is admitted.

Integer microseconds keep every comparison exact, in Python and in Redis's Lua (whose numbers
are doubles: exact for integers below 2**53, i.e. epoch microseconds for ~280 years).  The
same formulas are implemented in ``gcra.lua`` for atomicity in Redis; the storage suite in
``tests/integration/ratelimit`` runs one behavioural suite against both to keep them equal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gateway.ratelimit.model import Budget, Decision, Verdict

__all__ = ["MICROS", "check_unique_keys", "emission_interval_us", "evaluate", "to_micros"]

MICROS = 1_000_000


def emission_interval_us(rate: float) -> int:
    """T in whole microseconds, rounded up so the effective rate never exceeds ``rate``."""
    return max(1, math.ceil(MICROS / rate))


def to_micros(seconds: float) -> int:
    """A time in seconds as integer microseconds (nearest, so ``now + retry_after`` lands)."""
    return round(seconds * MICROS)


def check_unique_keys(budgets: Sequence[Budget]) -> None:
    """Refuse one key twice in a call: its charge would be ambiguous."""
    keys = [b.key for b in budgets]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate budget keys in one acquire: {sorted(keys)}")


def evaluate(
    budgets: Sequence[Budget], now_us: int, stored: Sequence[int | None]
) -> tuple[Verdict, tuple[int, ...]]:
    """Decide one call against every budget; return the verdict and the TATs to store.

    ``stored`` is each budget's TAT as read from storage (``None`` when absent).  The call is
    admitted only if every budget admits it; the TATs returned are then all advanced by T,
    otherwise they are the unchanged (clamped) ones and the caller writes nothing.
    """
    if len(stored) != len(budgets):
        raise ValueError("one stored TAT per budget expected")
    intervals = [emission_interval_us(b.rate) for b in budgets]
    tats = [now_us if t is None or t < now_us else t for t in stored]
    admits = [
        tat - now_us <= t * (b.burst - 1)
        for b, t, tat in zip(budgets, intervals, tats, strict=True)
    ]
    allowed = all(admits)
    after = tuple(tat + t if allowed else tat for tat, t in zip(tats, intervals, strict=True))

    decisions: list[Decision] = []
    for b, t, tat, new_tat, ok in zip(budgets, intervals, tats, after, admits, strict=True):
        remaining = max(0, (t * b.burst - (new_tat - now_us)) // t)
        retry_us = 0 if ok else tat - t * (b.burst - 1) - now_us
        decisions.append(
            Decision(
                allowed=ok,
                limit=b.burst,
                remaining=remaining,
                retry_after=retry_us / MICROS,
                reset_after=(new_tat - now_us) / MICROS,
            )
        )

    limiting: Budget | None = None
    if decisions:
        if allowed:
            index = min(range(len(decisions)), key=lambda i: decisions[i].remaining)
        else:
            index = max(range(len(decisions)), key=lambda i: decisions[i].retry_after)
        limiting = budgets[index]
    verdict = Verdict(
        allowed=allowed, decisions=tuple(decisions), limiting=limiting, budgets=tuple(budgets)
    )
    return verdict, after
