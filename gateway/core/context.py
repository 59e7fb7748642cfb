"""What a front end knows about one call, handed to the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["CallContext", "Frontend"]

Frontend = Literal["grpc", "rest"]


@dataclass(slots=True)
class CallContext:
    """One call's transport facts, in transport-neutral form.

    ``api_key`` is the bearer token (without ``Bearer ``), ``idempotency_key`` the
    ``idempotency-key`` metadata or ``Idempotency-Key`` header, ``timeout`` the seconds
    left of the caller's deadline (``None``: the gateway's default).  The core fills
    ``response_metadata`` (e.g. ``idempotent-replayed``, ``smc-request-id``); front ends
    send it as gRPC trailing metadata or HTTP response headers.  ``tenant_id`` and
    ``region_id`` are filled by the core once the caller is authenticated, for logs,
    metrics and spans.
    """

    frontend: Frontend
    method: str
    api_key: str | None = field(default=None, repr=False)
    idempotency_key: str | None = None
    timeout: float | None = None
    response_metadata: dict[str, str] = field(default_factory=dict)
    tenant_id: str | None = None
    region_id: str | None = None
