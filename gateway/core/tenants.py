"""Tenants: who the caller is, and with which Alibaba Cloud credentials it acts.

A caller presents ``authorization: Bearer <api key>``; the gateway keeps only SHA-256
digests of keys and compares them in constant time.  The tenant found decides the
AccessKey that signs its SMC calls, its default region and the methods it may call.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gateway.core.errors import PermissionDeniedError, UnauthenticatedError
from gateway.smc.credentials import Credentials

__all__ = ["Rate", "RateLimits", "Tenant", "TenantDirectory", "api_key_digest"]


def api_key_digest(api_key: str) -> str:
    """Hex SHA-256 of an API key, as the tenants file stores it."""
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Rate:
    """A budget: ``per_second`` sustained, ``burst`` at once."""

    per_second: float
    burst: int


@dataclass(frozen=True, slots=True)
class RateLimits:
    """A tenant's budgets; ``None`` means the gateway's default for that kind of call."""

    read: Rate | None = None
    write: Rate | None = None
    methods: Mapping[str, Rate] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Tenant:
    """One tenant. ``allowed_methods`` of ``("*",)`` allows every method."""

    id: str
    api_key_sha256: frozenset[str] = field(repr=False)
    credentials: Credentials
    region_id: str
    allowed_methods: frozenset[str] = frozenset({"*"})
    rate_limits: RateLimits = field(default_factory=RateLimits)

    def may_call(self, method: str) -> bool:
        return "*" in self.allowed_methods or method in self.allowed_methods


class TenantDirectory:
    """Finds the tenant of an API key."""

    def __init__(self, tenants: Iterable[Tenant]) -> None:
        self._by_digest: list[tuple[bytes, Tenant]] = []
        ids: set[str] = set()
        for tenant in tenants:
            if tenant.id in ids:
                raise ValueError(f"tenant {tenant.id!r} is defined twice")
            ids.add(tenant.id)
            for digest in tenant.api_key_sha256:
                self._by_digest.append((bytes.fromhex(digest), tenant))
        self.tenants = tuple(t for _, t in self._by_digest)

    def authenticate(self, api_key: str | None, method: str) -> Tenant:
        """The caller's tenant; UNAUTHENTICATED or PERMISSION_DENIED otherwise."""
        if not api_key:
            raise UnauthenticatedError(
                "missing API key: send 'authorization: Bearer <api key>'", reason="MISSING_API_KEY"
            )
        digest = hashlib.sha256(api_key.encode()).digest()
        found: Tenant | None = None
        # Compare with every digest so the time taken does not depend on which one matches.
        for known, tenant in self._by_digest:
            if hmac.compare_digest(known, digest):
                found = tenant
        if found is None:
            raise UnauthenticatedError("the API key is not valid", reason="INVALID_API_KEY")
        if not found.may_call(method):
            raise PermissionDeniedError(
                f"tenant {found.id} may not call {method}",
                reason="METHOD_NOT_ALLOWED",
                metadata={"tenant": found.id, "method": method},
            )
        return found
