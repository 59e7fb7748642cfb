"""HTTP rate-limit headers for a verdict: IETF ``RateLimit-Policy`` / ``RateLimit`` and Retry-After.

Follows draft-ietf-httpapi-ratelimit-headers-10 (September 2025), whose fields are RFC 9651
Structured Field Lists of policy items named by an sf-string::

    RateLimit-Policy: "read";q=20;w=2, "upstream";q=50;w=5
    RateLimit: "read";r=7;t=1

``RateLimit-Policy`` lists every budget of the call: ``q`` is the quota (the burst) and ``w``
the window in seconds in which a full quota refills (``burst / rate``, rounded up).
``RateLimit`` describes the limiting budget only: ``r`` remaining calls, ``t`` seconds until
its bucket is full again (rounded up).  A GCRA bucket has no fixed window; ``q`` per ``w``
is its closest honest description (the long-run rate q/w, all of q available at once).
"""

from __future__ import annotations

import math
from functools import lru_cache

from gateway.ratelimit.model import Budget, Verdict

__all__ = ["policy_window_seconds", "rate_limit_headers", "retry_after_seconds"]


def _sf_string(text: str) -> str:
    # Budget names are checked to be printable ASCII; only '"' and '\' need escaping.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def policy_window_seconds(budget: Budget) -> int:
    """``w``: seconds for an empty bucket to refill, ``ceil(burst / rate)``, at least 1."""
    # round() first: 3 / 0.3 is 10.000000000000002 in binary floating point, not 11 seconds.
    return max(1, math.ceil(round(budget.burst / budget.rate, 6)))


@lru_cache(maxsize=4096)
def _policy_item(budget: Budget) -> str:
    # A tenant's budgets are equal on every call: each is formatted once.
    return f"{_sf_string(budget.name)};q={budget.burst};w={policy_window_seconds(budget)}"


def rate_limit_headers(verdict: Verdict) -> dict[str, str]:
    """``RateLimit-Policy`` and ``RateLimit`` for ``verdict``; empty when it has no decisions."""
    limiting = verdict.limiting
    decision = verdict.limiting_decision
    if not verdict.budgets or limiting is None or decision is None:
        return {}
    policy = ", ".join(_policy_item(b) for b in verdict.budgets)
    reset = max(0, math.ceil(decision.reset_after))
    return {
        "RateLimit-Policy": policy,
        "RateLimit": f"{_sf_string(limiting.name)};r={decision.remaining};t={reset}",
    }


def retry_after_seconds(verdict: Verdict) -> int:
    """``Retry-After`` in whole seconds: 0 when admitted, else ``ceil(retry_after)`` and >= 1."""
    if verdict.allowed:
        return 0
    return max(1, math.ceil(verdict.retry_after))
