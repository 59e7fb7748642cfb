"""Idempotency records: at most one SMC job and one answer per (tenant, idempotency key).

A mutating call that carries an idempotency key goes through an :class:`IdempotencyStore`
(SPEC §6; the IETF ``Idempotency-Key`` HTTP header draft; Stripe's behaviour)::

    begin(scope, key, fingerprint) ─┬─ Started(owner)    go upstream, then complete or release
                                    ├─ Replay(response)  answer the stored response, as a replay
                                    ├─ Mismatch()        INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED
                                    └─ InFlight(after)   ABORTED IDEMPOTENCY_KEY_IN_USE, retry delay

``scope`` is the tenant id (a tenant never sees another's records), ``key`` the caller's key,
``fingerprint`` the core's SHA-256 of method and request.  An in-flight record whose lease ran
out (its replica crashed) is taken over by the next ``begin`` with the same request: that call
goes upstream again with the same SMC ``ClientToken`` (derived from tenant and key), so SMC
answers with the job it already made.  ``complete`` stores the final answer only while the
caller still owns the record; ``release`` drops an in-flight record so a retry starts afresh.

What the core stores
--------------------
* Validation errors are never stored: they are raised before ``begin``.
* A definitive SMC answer is stored with ``complete``: success, and business errors such as
  FAILED_PRECONDITION, ALREADY_EXISTS, NOT_FOUND or INVALID_ARGUMENT from SMC.  A retry with
  the same key replays it.
* Transient failures are not stored: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED from
  throttling.  The core calls ``release`` so a retry with the same key can succeed.

This follows the ``Idempotency-Key`` draft, which says a server should not store responses
to errors that may be retried.  Stripe stores the result of every request that began
executing, 500s included; we deviate for transient upstream errors because SMC's own
``ClientToken`` keeps the retry safe: a retry cannot create a second job.

Errors::

    IdempotencyError
    └── IdempotencyUnavailable   the backend could not answer; the core maps it

Implementations: :class:`MemoryIdempotencyStore` (one process) and
:class:`RedisIdempotencyStore` (replicas sharing Redis); :func:`store_from_url` picks one.
"""

from gateway.idempotency.base import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_TTL_SECONDS,
    MAX_KEY_LENGTH,
    BeginResult,
    IdempotencyError,
    IdempotencyStore,
    IdempotencyUnavailable,
    InFlight,
    Mismatch,
    Replay,
    Started,
    StoredResponse,
)
from gateway.idempotency.factory import store_from_url
from gateway.idempotency.memory_store import MemoryIdempotencyStore
from gateway.idempotency.redis_store import DEFAULT_KEY_PREFIX, RedisIdempotencyStore

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_TTL_SECONDS",
    "MAX_KEY_LENGTH",
    "BeginResult",
    "IdempotencyError",
    "IdempotencyStore",
    "IdempotencyUnavailable",
    "InFlight",
    "MemoryIdempotencyStore",
    "Mismatch",
    "RedisIdempotencyStore",
    "Replay",
    "Started",
    "StoredResponse",
    "store_from_url",
]
