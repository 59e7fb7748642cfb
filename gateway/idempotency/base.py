"""The store's contract: what ``begin`` can answer, the stored response, the errors.

Both implementations (:mod:`gateway.idempotency.memory_store`,
:mod:`gateway.idempotency.redis_store`) share this module's types and argument checks, so
they accept and refuse exactly the same inputs.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol, TypeAlias

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_TTL_SECONDS",
    "MAX_KEY_LENGTH",
    "BeginResult",
    "IdempotencyError",
    "IdempotencyStore",
    "IdempotencyUnavailable",
    "InFlight",
    "Mismatch",
    "Replay",
    "Started",
    "StoredResponse",
]

DEFAULT_TTL_SECONDS: Final = 86400.0
"""How long a done record is kept unless the caller says otherwise (24 h, SPEC §6)."""

DEFAULT_LEASE_SECONDS: Final = 30.0
"""How long a caller holds an in-flight record before another may take it over."""

MAX_KEY_LENGTH: Final = 128
"""Longest idempotency key: printable ASCII only."""


class IdempotencyError(Exception):
    """Base of the store's errors."""


class IdempotencyUnavailable(IdempotencyError):  # noqa: N818 -- the name the core maps
    """The store could not answer (unreachable, timed out, refused the command).

    Raised instead of the backend's own exception (chained as ``__cause__``).  Whether an
    operation that timed out took effect is unknown: a ``begin`` may have created a record
    that then holds the key until its lease ends.
    """


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The final answer of a call, as kept for replays.

    ``kind`` is ``"ok"`` (``payload`` is the serialized response message) or ``"error"``
    (``payload`` is the serialized ``google.rpc.Status``); ``metadata`` is what the front
    ends send alongside; ``created_at`` is when the answer was made (Unix seconds).
    """

    kind: Literal["ok", "error"]
    payload: bytes
    metadata: Mapping[str, str] = field(default_factory=dict)
    created_at: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("ok", "error"):
            raise ValueError(f"StoredResponse.kind must be 'ok' or 'error', not {self.kind!r}")
        if not isinstance(self.payload, bytes):
            raise TypeError("StoredResponse.payload must be bytes")
        for name, value in self.metadata.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError("StoredResponse.metadata must map str to str")
        if not math.isfinite(self.created_at):
            raise ValueError("StoredResponse.created_at must be finite")


@dataclass(frozen=True, slots=True)
class Started:
    """The caller owns the record (new, or taken over after a lease ran out): go upstream.

    ``owner`` is the token to pass to ``complete`` or ``release``.
    """

    owner: str


@dataclass(frozen=True, slots=True)
class Replay:
    """The call already finished with the same request: answer ``response`` as is."""

    response: StoredResponse


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was used with a different request: INVALID_ARGUMENT ``IDEMPOTENCY_KEY_REUSED``."""


@dataclass(frozen=True, slots=True)
class InFlight:
    """The same request is in flight elsewhere: ABORTED ``IDEMPOTENCY_KEY_IN_USE``.

    ``retry_after`` is the seconds left on the owner's lease (0 < ``retry_after`` ≤ lease).
    """

    retry_after: float


BeginResult: TypeAlias = Started | Replay | Mismatch | InFlight


class IdempotencyStore(Protocol):
    """Records of mutating calls, per (scope, key).

    ``scope`` is the tenant id: records of one scope are invisible to every other.  ``key``
    is the caller's idempotency key (1-128 printable ASCII characters); ``fingerprint`` is
    an opaque digest of the request.  Every operation is atomic with respect to every other
    on the same store, across processes for a shared backend.  Backend failures raise
    :class:`IdempotencyUnavailable`; bad arguments raise ``ValueError``/``TypeError``.
    """

    async def begin(
        self,
        scope: str,
        key: str,
        fingerprint: bytes | str,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> BeginResult:
        """Claim (scope, key) for a call, or say why not.

        No record → a new in-flight record: :class:`Started`.  A record with another
        fingerprint (in flight or done) → :class:`Mismatch`.  A done record → :class:`Replay`.
        An in-flight record whose lease is running → :class:`InFlight`; whose lease ran out →
        taken over with a new owner token: :class:`Started`.  An in-flight record is kept for
        ``max(lease_seconds, ttl_seconds)`` so the key stays bound to its request even if
        its owner never comes back.
        """
        ...

    async def complete(
        self,
        scope: str,
        key: str,
        owner: str,
        record: StoredResponse,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> bool:
        """Store the final answer for ``ttl_seconds``; False unless ``owner`` holds the record.

        An owner whose lease ran out still holds the record until someone takes it over;
        after a takeover (or a release, or expiry) its answer is dropped.  Repeating a
        successful ``complete`` returns True and keeps the first answer.
        """
        ...

    async def release(self, scope: str, key: str, owner: str) -> bool:
        """Delete the in-flight record ``owner`` holds, so a retry can start afresh.

        False (and nothing changes) if the record is done, gone or held by another owner.
        """
        ...

    async def close(self) -> None:
        """Release the store's resources (connections); the store is unusable afterwards."""
        ...


# -- argument checks and encodings shared by the implementations ------------------------------


def check_scope_and_key(scope: str, key: str) -> None:
    """``ValueError`` unless ``scope`` is non-empty and ``key`` is 1-128 printable ASCII."""
    if not isinstance(scope, str) or not scope:
        raise ValueError("idempotency scope must be a non-empty string")
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValueError(f"idempotency key must be 1-{MAX_KEY_LENGTH} characters")
    if not (key.isascii() and key.isprintable()):  # ASCII printable: ' ' to '~'
        raise ValueError("idempotency key must be printable ASCII")


def check_seconds(name: str, value: float) -> None:
    """``ValueError`` unless ``value`` is a finite positive number of seconds."""
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")


def fingerprint_bytes(fingerprint: bytes | str) -> bytes:
    """The fingerprint as bytes (a ``str`` is taken as UTF-8); ``ValueError`` if empty."""
    data = fingerprint.encode() if isinstance(fingerprint, str) else bytes(fingerprint)
    if not data:
        raise ValueError("idempotency fingerprint must not be empty")
    return data


def key_digest(key: str) -> str:
    """Hex SHA-256 of an idempotency key: fixed length, safe in any storage key."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def to_millis(seconds: float) -> int:
    """Whole milliseconds, rounded up so a lease or TTL is never shorter than asked (≥ 1)."""
    return max(1, math.ceil(seconds * 1000))


def encode_metadata(metadata: Mapping[str, str]) -> bytes:
    """Compact, key-sorted JSON in UTF-8."""
    return json.dumps(
        dict(sorted(metadata.items())), ensure_ascii=False, separators=(",", ":")
    ).encode()


def decode_metadata(data: bytes) -> dict[str, str]:
    """Inverse of :func:`encode_metadata`; ``ValueError`` on anything but a str→str object."""
    value = json.loads(data.decode())
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError("stored idempotency metadata is not a JSON object of strings")
    return value
