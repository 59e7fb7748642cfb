"""Choose the limiter's storage by URL, as the ``limits`` library does.

``None`` or ``memory://`` -> :class:`MemoryRateLimiter` (one replica); ``redis://``,
``rediss://`` or ``unix://`` -> :class:`RedisRateLimiter` (replicas share budgets).  Anything
else is a configuration error raised at start-up, naming the scheme but never the URL (it may
hold a password).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from gateway.ratelimit.memory import MemoryRateLimiter
from gateway.ratelimit.model import RateLimiter
from gateway.ratelimit.redis_storage import DEFAULT_KEY_PREFIX, RedisRateLimiter
from gateway.redisio import REDIS_SCHEMES, RedisClient

__all__ = ["REDIS_SCHEMES", "limiter_from_url"]


def limiter_from_url(
    url: str | None,
    *,
    timeout: float,
    key_prefix: str = DEFAULT_KEY_PREFIX,
    client: RedisClient | None = None,
) -> RateLimiter:
    """A limiter for ``url``; with Redis, ``timeout`` bounds the connect and each call.

    Redis URLs get the gateway's pipelined client (:mod:`gateway.redisio`): every call of
    the process shares one connection, reopened after a failure.  Nothing is re-sent: a
    failed call gets the limiter's failure policy.  ``client``, if given, is used for a
    Redis URL instead of a client of the limiter's own (and is left open by it): the
    idempotency store can share it, so their commands leave together.
    """
    if timeout <= 0:
        raise ValueError(f"rate-limit storage timeout must be positive, got {timeout}")
    scheme = "memory" if url is None else urlsplit(url).scheme.lower()
    if scheme == "memory":
        return MemoryRateLimiter()
    if url is None or scheme not in REDIS_SCHEMES:
        raise ValueError(
            f"unsupported rate-limit storage URL scheme {scheme!r}: "
            "use memory://, redis://, rediss:// or unix://"
        )
    owned = client is None
    client = client or RedisClient.from_url(url, timeout=timeout)
    return RedisRateLimiter(client, key_prefix=key_prefix, timeout=timeout, owns_client=owned)
