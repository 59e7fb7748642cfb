"""Idempotency records in this process's memory: the default with one replica.

Each operation runs without awaiting anything, so on one event loop it is atomic without a
lock.  Memory stays bounded by the records alive within their TTL: every operation first
drops the records whose time is up, found through a heap of expiry times (stale heap entries,
left when a record's expiry moves or it is released, are skipped when they come up, and the
heap is rebuilt whenever they outnumber the live records).
"""

from __future__ import annotations

import heapq
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.idempotency.base import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_TTL_SECONDS,
    BeginResult,
    InFlight,
    Mismatch,
    Replay,
    Started,
    StoredResponse,
    check_scope_and_key,
    check_seconds,
    fingerprint_bytes,
)

__all__ = ["MemoryIdempotencyStore"]

_RecordKey = tuple[str, str]


@dataclass(slots=True)
class _Record:
    fingerprint: bytes
    expires_at: float
    owner: str | None = None
    lease_until: float = 0.0
    response: StoredResponse | None = None  # set once done


class MemoryIdempotencyStore:
    """:class:`~gateway.idempotency.IdempotencyStore` in a dict; time from ``clock``.

    ``clock`` returns seconds (``time.time`` by default); tests inject a fake one.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._records: dict[_RecordKey, _Record] = {}
        self._expiries: list[tuple[float, int, _RecordKey]] = []
        self._sequence = itertools.count()

    def __len__(self) -> int:
        """Records currently held (expired ones may linger until the next operation)."""
        return len(self._records)

    async def begin(
        self,
        scope: str,
        key: str,
        fingerprint: bytes | str,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> BeginResult:
        check_scope_and_key(scope, key)
        check_seconds("lease_seconds", lease_seconds)
        check_seconds("ttl_seconds", ttl_seconds)
        digest = fingerprint_bytes(fingerprint)
        now = self._sweep()
        record = self._records.get((scope, key))
        if record is not None:
            if record.fingerprint != digest:
                return Mismatch()
            if record.response is not None:
                return Replay(record.response)
            if record.lease_until > now:
                return InFlight(retry_after=record.lease_until - now)
        owner = secrets.token_hex(16)
        # New, or taken over from an owner whose lease ran out: same shape either way.
        record = _Record(
            fingerprint=digest,
            expires_at=now + max(lease_seconds, ttl_seconds),
            owner=owner,
            lease_until=now + lease_seconds,
        )
        self._put((scope, key), record)
        return Started(owner)

    async def complete(
        self,
        scope: str,
        key: str,
        owner: str,
        record: StoredResponse,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> bool:
        check_scope_and_key(scope, key)
        check_seconds("ttl_seconds", ttl_seconds)
        now = self._sweep()
        current = self._records.get((scope, key))
        if current is None or current.owner != owner:
            return False
        if current.response is not None:
            return True  # a repeat by the same owner: the first answer stays
        # A copy, so the caller's mapping cannot change what is replayed.
        response = StoredResponse(
            kind=record.kind,
            payload=bytes(record.payload),
            metadata=dict(record.metadata),
            created_at=record.created_at,
        )
        done = _Record(
            fingerprint=current.fingerprint,
            expires_at=now + ttl_seconds,
            owner=owner,
            response=response,
        )
        self._put((scope, key), done)
        return True

    async def release(self, scope: str, key: str, owner: str) -> bool:
        check_scope_and_key(scope, key)
        self._sweep()
        current = self._records.get((scope, key))
        if current is None or current.response is not None or current.owner != owner:
            return False
        del self._records[(scope, key)]
        return True

    async def close(self) -> None:
        self._records.clear()
        self._expiries.clear()

    def _put(self, record_key: _RecordKey, record: _Record) -> None:
        self._records[record_key] = record
        heapq.heappush(self._expiries, (record.expires_at, next(self._sequence), record_key))
        if len(self._expiries) > 2 * len(self._records) + 64:
            self._expiries = [
                (live.expires_at, next(self._sequence), live_key)
                for live_key, live in self._records.items()
            ]
            heapq.heapify(self._expiries)

    def _sweep(self) -> float:
        """Drop every record whose time is up; returns the current time."""
        now = self._clock()
        while self._expiries and self._expiries[0][0] <= now:
            _, _, record_key = heapq.heappop(self._expiries)
            record = self._records.get(record_key)
            if record is not None and record.expires_at <= now:
                del self._records[record_key]
        return now
