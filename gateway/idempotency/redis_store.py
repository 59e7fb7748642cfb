"""Idempotency records in Redis, shared by every replica.

Each operation is one ``EVALSHA`` of ``idempotency.lua`` (shipped beside this module), so it
is atomic and costs one round trip (plus a ``SCRIPT LOAD`` the first time a server lacks the
script).  Leases are measured with the server's ``TIME``, never a replica's clock.

Layout: one hash per record at ``<prefix><scope>:<hex SHA-256 of key>``; fields are listed
at the top of the script.  An in-flight record expires ``max(lease, ttl)`` after its last
begin, a done record ``ttl`` after completion (``PEXPIRE``), so nothing outlives its TTL.
The key ends in a fixed-length digest, so the scope is unambiguous whatever it contains.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from importlib import resources
from typing import Any, Final

from redis.exceptions import RedisError

from gateway.idempotency.base import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_TTL_SECONDS,
    BeginResult,
    IdempotencyUnavailable,
    InFlight,
    Mismatch,
    Replay,
    Started,
    StoredResponse,
    check_scope_and_key,
    check_seconds,
    decode_metadata,
    encode_metadata,
    fingerprint_bytes,
    key_digest,
    to_millis,
)
from gateway.redisio import RedisIOError, ScriptClient

__all__ = ["DEFAULT_KEY_PREFIX", "RedisIdempotencyStore"]

DEFAULT_KEY_PREFIX: Final = "smcgw:idem:"

_SCRIPT: Final = (
    resources.files("gateway.idempotency").joinpath("idempotency.lua").read_text("utf-8")
)

_STARTED, _REPLAY, _MISMATCH, _IN_FLIGHT = 0, 1, 2, 3


class RedisIdempotencyStore:
    """:class:`~gateway.idempotency.IdempotencyStore` on a Redis (or Valkey) server.

    ``client`` is the gateway's pipelined client (:mod:`gateway.redisio`) or a redis-py
    client returning bytes (``decode_responses=False``); with ``owns_client`` the store
    closes it in :meth:`close`.  Every operation may be re-sent by the client's retry
    policy: the script recognises a repeated ``begin`` or ``complete`` by its owner token.
    Still, keep retries few and timeouts short (:func:`~gateway.idempotency.store_from_url`
    does).  ``timeout``, if set, bounds each operation as a whole, retries included.  Any
    Redis failure raises :class:`IdempotencyUnavailable`.
    """

    def __init__(
        self,
        client: ScriptClient,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        timeout: float | None = None,
        owns_client: bool = False,
    ) -> None:
        pool = getattr(client, "connection_pool", None)  # a redis-py client
        if pool is not None and pool.connection_kwargs.get("decode_responses"):
            raise ValueError("RedisIdempotencyStore needs a client with decode_responses=False")
        if timeout is not None:
            check_seconds("timeout", timeout)
        self._client = client
        self._prefix = key_prefix
        self._timeout = timeout
        self._owns_client = owns_client
        self._script = client.register_script(_SCRIPT)

    def record_key(self, scope: str, key: str) -> str:
        """The Redis key of (scope, key)'s record."""
        check_scope_and_key(scope, key)
        return f"{self._prefix}{scope}:{key_digest(key)}"

    async def begin(
        self,
        scope: str,
        key: str,
        fingerprint: bytes | str,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> BeginResult:
        check_seconds("lease_seconds", lease_seconds)
        check_seconds("ttl_seconds", ttl_seconds)
        record_key = self.record_key(scope, key)
        digest = fingerprint_bytes(fingerprint)
        owner = secrets.token_hex(16)
        lease_ms = to_millis(lease_seconds)
        keep_ms = max(lease_ms, to_millis(ttl_seconds))
        reply = await self._run(record_key, "begin", digest, owner, lease_ms, keep_ms)
        try:
            return _begin_result(reply, owner)
        except (ValueError, TypeError, IndexError) as exc:
            raise IdempotencyUnavailable(f"unreadable idempotency record {record_key}") from exc

    async def complete(
        self,
        scope: str,
        key: str,
        owner: str,
        record: StoredResponse,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> bool:
        check_seconds("ttl_seconds", ttl_seconds)
        reply = await self._run(
            self.record_key(scope, key),
            "complete",
            owner,
            record.kind,
            record.payload,
            encode_metadata(record.metadata),
            repr(float(record.created_at)),
            to_millis(ttl_seconds),
        )
        return bool(reply == 1)

    async def release(self, scope: str, key: str, owner: str) -> bool:
        reply = await self._run(self.record_key(scope, key), "release", owner)
        return bool(reply == 1)

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def _run(self, record_key: str, *args: str | bytes | int) -> Any:
        """One ``EVALSHA`` of the script on ``record_key``; Redis failures become ours."""
        try:
            async with asyncio.timeout(self._timeout):
                return await self._script(keys=[record_key], args=list(args))
        except (RedisIOError, RedisError, OSError, TimeoutError) as exc:
            detail = str(exc) or type(exc).__name__
            raise IdempotencyUnavailable(
                f"idempotency store: {args[0]!s} failed: {detail}"
            ) from exc


def _begin_result(reply: Sequence[Any], owner: str) -> BeginResult:
    code = int(reply[0])
    if code == _STARTED:
        return Started(owner)
    if code == _MISMATCH:
        return Mismatch()
    if code == _IN_FLIGHT:
        return InFlight(retry_after=int(reply[1]) / 1000)
    if code == _REPLAY:
        kind = bytes(reply[1]).decode()
        if kind not in ("ok", "error"):
            raise ValueError(f"unknown stored kind {kind!r}")
        return Replay(
            StoredResponse(
                kind="ok" if kind == "ok" else "error",
                payload=bytes(reply[2]),
                metadata=decode_metadata(bytes(reply[3])),
                created_at=float(bytes(reply[4]).decode()),
            )
        )
    raise ValueError(f"unknown begin reply {code}")
