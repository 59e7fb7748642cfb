"""Choosing the store from a URL, as the settings give it."""

from __future__ import annotations

from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.idempotency.base import IdempotencyStore, check_seconds
from gateway.idempotency.memory_store import MemoryIdempotencyStore
from gateway.idempotency.redis_store import RedisIdempotencyStore

__all__ = ["store_from_url"]

_REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


def store_from_url(url: str | None, *, timeout: float) -> IdempotencyStore:
    """The store ``url`` names: memory for ``None`` or ``memory://``, else Redis.

    ``redis://``, ``rediss://`` and ``unix://`` URLs get a client of their own (closed by the
    store's ``close``) whose connect timeout is ``timeout`` seconds, retrying once at once (a
    connection the server closed while idle); ``timeout`` bounds each operation as a whole.
    The client has no per-read ``socket_timeout``: the operation's bound covers it, and
    redis-py would run every socket write under it in a task of its own, which costs more
    CPU than the rest of the command.  No connection is made here.  Any other scheme raises
    ``ValueError`` naming it.
    """
    check_seconds("timeout", timeout)
    if url is None:
        return MemoryIdempotencyStore()
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        return MemoryIdempotencyStore()
    if scheme in _REDIS_SCHEMES:
        client = Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
            decode_responses=False,
        )
        return RedisIdempotencyStore(client, timeout=timeout, owns_client=True)
    raise ValueError(
        f"idempotency store URL scheme {scheme!r} is not supported: "
        "use memory://, redis://, rediss:// or unix://"
    )
