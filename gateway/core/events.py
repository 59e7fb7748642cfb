"""Decisions the core takes that operators want to see: the core's only observability hook.

The core says *what* it decided (a rate-limit refusal, an idempotency outcome, a shared
store failing); :mod:`gateway.observability` turns that into counters and span events.
Keeping this a small protocol leaves the core free of OpenTelemetry and Prometheus.
"""

from __future__ import annotations

from typing import Literal, Protocol

__all__ = ["NO_EVENTS", "CoreEvents", "IdempotencyDecision"]

# started: the key is new, the call runs; replayed: a stored answer is sent again;
# mismatch: the key came with a different request; in_flight: another call holds it;
# unavailable: the store failed and the call ran without a record (fail-open).
IdempotencyDecision = Literal["started", "replayed", "mismatch", "in_flight", "unavailable"]


class CoreEvents(Protocol):
    """Receives the core's decisions, in the task of the call they concern."""

    def rate_limited(self, tenant_id: str, budget: str, retry_after: float) -> None:
        """A call was refused by ``budget`` (``read``, ``write``, ``upstream``, a method)."""
        ...

    def idempotency(self, tenant_id: str, decision: IdempotencyDecision) -> None:
        """What the idempotency store said about a keyed write."""
        ...

    def store_error(self, component: str, error: Exception) -> None:
        """A shared store (``ratelimit``, ``idempotency``) failed; the policy was applied."""
        ...


class _NoEvents:
    def rate_limited(self, tenant_id: str, budget: str, retry_after: float) -> None:
        pass

    def idempotency(self, tenant_id: str, decision: IdempotencyDecision) -> None:
        pass

    def store_error(self, component: str, error: Exception) -> None:
        pass


NO_EVENTS: CoreEvents = _NoEvents()
