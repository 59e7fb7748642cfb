"""Rate limiting: GCRA budgets, checked and charged atomically, in memory or in Redis.

* :mod:`~gateway.ratelimit.model`: :class:`Budget` in, :class:`Decision` / :class:`Verdict`
  out, the :class:`RateLimiter` protocol the core depends on.
* :mod:`~gateway.ratelimit.gcra`: the algorithm (strategy), free of storage.
* :class:`MemoryRateLimiter`, :class:`RedisRateLimiter` (``gcra.lua``): the storages;
  :func:`limiter_from_url` picks one by URL.
* :class:`FailSafeRateLimiter`: fail-open / fail-closed when the storage is unavailable.
* :func:`rate_limit_headers`, :func:`retry_after_seconds`: the HTTP view of a verdict.
"""

from gateway.ratelimit.factory import limiter_from_url
from gateway.ratelimit.failsafe import FailSafeRateLimiter
from gateway.ratelimit.headers import rate_limit_headers, retry_after_seconds
from gateway.ratelimit.memory import MemoryRateLimiter
from gateway.ratelimit.model import (
    Budget,
    Decision,
    RateLimiter,
    RateLimiterUnavailableError,
    Verdict,
)
from gateway.ratelimit.redis_storage import RedisRateLimiter

__all__ = [
    "Budget",
    "Decision",
    "FailSafeRateLimiter",
    "MemoryRateLimiter",
    "RateLimiter",
    "RateLimiterUnavailableError",
    "RedisRateLimiter",
    "Verdict",
    "limiter_from_url",
    "rate_limit_headers",
    "retry_after_seconds",
]
