"""Idempotency records in this process's memory: the default with one replica.

Each operation runs without awaiting anything, so on one event loop it is atomic without a
lock.  Every operation first drops the records whose time is up, found through a heap of
expiry times (stale heap entries, left when a record's expiry moves or it is released, are
skipped when they come up, and the heap is rebuilt whenever they outnumber the live
records).  With ``max_records`` the store also never holds more records than that (about
1.5 kB each): a new key beyond it drops the oldest finished records first.  A retry of a
dropped key runs again, and SMC's ``ClientToken`` (derived from the key) still makes a
retried create return the same job.  In-flight records are never dropped: that could let a
retry run alongside the first call.

A finished record is a plain tuple of bytes, strings and numbers, not an object: Python's
cyclic collector stops tracking such tuples, so a full pass only steps over the records kept
(up to ``max_records``, 50,000 by default) instead of examining each one.  With 50,000 held,
a full pass, a pause of every call in flight, took 24-35 ms with records as objects and
6-8 ms as tuples (``bench/bench_idempotency_memory.py``, this project's 2-core machine).
The records are in an ``OrderedDict``: dropping the oldest from a plain dict left holes at
its front that every later drop scanned past (26-41 µs per write at the bound; 13-17 µs).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import secrets
import time
from collections import OrderedDict
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

log = logging.getLogger(__name__)

_RecordKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class _InFlight:
    """A call under way: ``owner`` holds the key until ``lease_until``."""

    fingerprint: bytes
    expires_at: float
    owner: str
    lease_until: float


# A finished call: (fingerprint, expires_at, owner, kind, payload, created_at, then the
# metadata as name, value, name, value...).  The collector stops tracking only exact tuples
# of items it does not track, and a tuple nested in a record could keep the record tracked
# for good: hence no NamedTuple, and the metadata laid flat rather than a dict or pairs.
_Done = tuple[bytes, float, str, str, bytes, float, *tuple[str, ...]]
_Record = _InFlight | _Done


def _expires_at(record: _Record) -> float:
    return record[1] if isinstance(record, tuple) else record.expires_at


def _stored(done: _Done) -> StoredResponse:
    _, _, _, kind, payload, created_at, *metadata = done
    return StoredResponse(
        "ok" if kind == "ok" else "error",
        payload,
        dict(zip(metadata[::2], metadata[1::2], strict=True)),
        created_at,
    )


class MemoryIdempotencyStore:
    """:class:`~gateway.idempotency.IdempotencyStore` in an ``OrderedDict``; time from ``clock``.

    ``clock`` returns seconds (``time.time`` by default); tests inject a fake one.
    """

    def __init__(
        self, clock: Callable[[], float] = time.time, *, max_records: int | None = None
    ) -> None:
        if max_records is not None and max_records < 1:
            raise ValueError(f"max_records must be at least 1, got {max_records}")
        self._clock = clock
        self._max_records = max_records
        # In first-begin order (an update keeps a key's place): the oldest come first.
        self._records: OrderedDict[_RecordKey, _Record] = OrderedDict()
        self._expiries: list[tuple[float, int, _RecordKey]] = []
        self._sequence = itertools.count()
        self.dropped = 0  # finished records dropped to stay within max_records

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
        if isinstance(record, tuple):
            return Replay(_stored(record)) if record[0] == digest else Mismatch()
        if record is not None:
            if record.fingerprint != digest:
                return Mismatch()
            if record.lease_until > now:
                return InFlight(retry_after=record.lease_until - now)
        owner = secrets.token_hex(16)
        # New, or taken over from an owner whose lease ran out: same shape either way.
        started = _InFlight(
            fingerprint=digest,
            expires_at=now + max(lease_seconds, ttl_seconds),
            owner=owner,
            lease_until=now + lease_seconds,
        )
        self._put((scope, key), started)
        self._keep_within_bound()
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
        if isinstance(current, tuple):
            return current[2] == owner  # a repeat by the same owner: the first answer stays
        if current is None or current.owner != owner:
            return False
        # Copies, so the caller's objects cannot change what is replayed.
        done: _Done = (
            current.fingerprint,
            now + ttl_seconds,
            owner,
            record.kind,
            bytes(record.payload),
            float(record.created_at),
            *itertools.chain.from_iterable(record.metadata.items()),
        )
        self._put((scope, key), done)
        return True

    async def release(self, scope: str, key: str, owner: str) -> bool:
        check_scope_and_key(scope, key)
        self._sweep()
        current = self._records.get((scope, key))
        if not isinstance(current, _InFlight) or current.owner != owner:
            return False
        del self._records[(scope, key)]
        return True

    async def close(self) -> None:
        self._records.clear()
        self._expiries.clear()

    def _put(self, record_key: _RecordKey, record: _Record) -> None:
        self._records[record_key] = record
        heapq.heappush(self._expiries, (_expires_at(record), next(self._sequence), record_key))
        if len(self._expiries) > 2 * len(self._records) + 64:
            self._expiries = [
                (_expires_at(live), next(self._sequence), live_key)
                for live_key, live in self._records.items()
            ]
            heapq.heapify(self._expiries)

    def _keep_within_bound(self) -> None:
        """Drop the oldest finished records beyond ``max_records``."""
        if self._max_records is None:
            return
        excess = len(self._records) - self._max_records
        if excess <= 0:
            return
        oldest_done = []
        for record_key, record in self._records.items():
            if isinstance(record, tuple):
                oldest_done.append(record_key)
                if len(oldest_done) == excess:
                    break
        for record_key in oldest_done:
            del self._records[record_key]
        if oldest_done and not self.dropped:
            log.warning(
                "idempotency records in memory reached %d: the oldest finished ones are "
                "dropped (a retry of their key runs again); use Redis or raise "
                "idempotency_max_records",
                self._max_records,
            )
        self.dropped += len(oldest_done)

    def _sweep(self) -> float:
        """Drop every record whose time is up; returns the current time."""
        now = self._clock()
        while self._expiries and self._expiries[0][0] <= now:
            _, _, record_key = heapq.heappop(self._expiries)
            record = self._records.get(record_key)
            if record is not None and _expires_at(record) <= now:
                del self._records[record_key]
        return now
