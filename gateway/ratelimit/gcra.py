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
    # Two passes over the budgets (admission needs every budget's answer first), written as
    # plain loops: this runs on every call.
    rows = []
    allowed = True
    for budget, tat_stored in zip(budgets, stored, strict=True):
        interval = emission_interval_us(budget.rate)
        tat = now_us if tat_stored is None or tat_stored < now_us else tat_stored
        tolerance = interval * (budget.burst - 1)
        admits = tat - now_us <= tolerance
        allowed = allowed and admits
        rows.append((budget, interval, tat, tolerance, admits))

    decisions: list[Decision] = []
    after: list[int] = []
    limiting: Budget | None = None
    extreme = 0.0
    for budget, interval, tat, tolerance, admits in rows:
        new_tat = tat + interval if allowed else tat
        after.append(new_tat)
        remaining = max(0, (interval * budget.burst - (new_tat - now_us)) // interval)
        retry_after = 0.0 if admits else (tat - tolerance - now_us) / MICROS
        decisions.append(
            Decision(
                allowed=admits,
                limit=budget.burst,
                remaining=remaining,
                retry_after=retry_after,
                reset_after=(new_tat - now_us) / MICROS,
            )
        )
        # Admitted: the budget with the fewest calls left; refused: the longest wait (the
        # first such budget on ties).
        key = -remaining if allowed else retry_after
        if limiting is None or key > extreme:
            limiting, extreme = budget, key
    verdict = Verdict(
        allowed=allowed, decisions=tuple(decisions), limiting=limiting, budgets=tuple(budgets)
    )
    return verdict, tuple(after)
