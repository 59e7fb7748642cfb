"""Choosing the store from a URL, as the settings give it."""

from __future__ import annotations

from urllib.parse import urlsplit

from gateway.idempotency.base import IdempotencyStore, check_seconds
from gateway.idempotency.memory_store import MemoryIdempotencyStore
from gateway.idempotency.redis_store import RedisIdempotencyStore
from gateway.redisio import REDIS_SCHEMES, RedisClient

__all__ = ["store_from_url"]


def store_from_url(
    url: str | None,
    *,
    timeout: float,
    max_records: int | None = None,
    client: RedisClient | None = None,
) -> IdempotencyStore:
    """The store ``url`` names: memory for ``None`` or ``memory://``, else Redis.

    A memory store holds at most ``max_records`` records (see
    :class:`~gateway.idempotency.MemoryIdempotencyStore`); Redis keeps its own bounds.

    ``redis://``, ``rediss://`` and ``unix://`` URLs get a pipelined client of their own
    (:mod:`gateway.redisio`, closed by the store's ``close``): one connection shared by
    every operation of the process, opened within ``timeout`` seconds and reopened after a
    failure; ``timeout`` also bounds each operation as a whole.  ``client``, if given, is
    used instead (and left open by the store): the rate limiter's, so a keyed write's
    begin and charge leave in one write.  No connection is made here.  Any other scheme
    raises ``ValueError`` naming it.
    """
    check_seconds("timeout", timeout)
    if url is None:
        return MemoryIdempotencyStore(max_records=max_records)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        return MemoryIdempotencyStore(max_records=max_records)
    if scheme in REDIS_SCHEMES:
        owned = client is None
        client = client or RedisClient.from_url(url, timeout=timeout)
        return RedisIdempotencyStore(client, timeout=timeout, owns_client=owned)
    raise ValueError(
        f"idempotency store URL scheme {scheme!r} is not supported: "
        "use memory://, redis://, rediss:// or unix://"
    )
