"""Fault injection for SMC calls: error codes at a rate, latency, throttling, dropped answers.

A fault matches an action (or ``"*"``), fires with probability ``rate`` (a seeded
``random.Random``), optionally only ``count`` times, and applies either before the backend
(the call has no effect) or, with ``after``, once the backend has processed the call (the
change happened but the client sees an error or a dropped connection).  Faults are evaluated
after signature verification, so a faulted call is still an authenticated one.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from gateway.emulator import errors

__all__ = ["Fault", "FaultInjector"]


@dataclass
class Fault:
    id: str
    action: str = "*"
    code: str | None = None
    message: str | None = None
    rate: float = 1.0
    count: int | None = None
    latency_ms: int = 0
    throttle: bool = False
    drop: bool = False
    after: bool = False

    def error(self) -> errors.SmcError | None:
        """The error answer of this fault, if it has one."""
        if self.throttle:
            return errors.ThrottlingUserError(self.message)
        if self.code is None:
            return None
        cls = errors.error_class(self.code)
        assert cls is not None  # checked when the fault was added
        return cls(self.message)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _get(spec: Mapping[str, object], name: str, kinds: tuple[type, ...]) -> object:
    value = spec.get(name)
    if value is not None and (
        not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool))
    ):
        raise ValueError(f"fault field {name!r} has the wrong type")
    return value


def _text(spec: Mapping[str, object], name: str) -> str | None:
    value = _get(spec, name, (str,))
    return value if isinstance(value, str) else None


def _integer(spec: Mapping[str, object], name: str) -> int | None:
    value = _get(spec, name, (int,))
    return value if isinstance(value, int) else None


def _number(spec: Mapping[str, object], name: str, default: float) -> float:
    value = _get(spec, name, (int, float))
    return float(value) if isinstance(value, int | float) else default


def _flag(spec: Mapping[str, object], name: str) -> bool:
    return _get(spec, name, (bool,)) is True


class FaultInjector:
    """The active faults, consulted once before and once after the backend for each call."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    @property
    def faults(self) -> list[Fault]:
        return list(self._faults)

    def add(self, spec: Mapping[str, object]) -> Fault:
        """Add a fault from its JSON description; ``ValueError`` names a bad field."""
        known = {"action", "code", "message", "rate", "count", "latency_ms", "throttle", "drop"}
        unknown = set(spec) - known - {"after"}
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        fault = Fault(
            id=f"f-{next(self._ids)}",
            action=_text(spec, "action") or "*",
            code=_text(spec, "code"),
            message=_text(spec, "message"),
            rate=_number(spec, "rate", 1.0),
            count=_integer(spec, "count"),
            latency_ms=_integer(spec, "latency_ms") or 0,
            throttle=_flag(spec, "throttle"),
            drop=_flag(spec, "drop"),
            after=_flag(spec, "after"),
        )
        if not 0.0 <= fault.rate <= 1.0:
            raise ValueError("fault field 'rate' must be between 0 and 1")
        if fault.count is not None and fault.count < 1:
            raise ValueError("fault field 'count' must be at least 1")
        if fault.latency_ms < 0:
            raise ValueError("fault field 'latency_ms' must not be negative")
        if fault.code is not None and errors.error_class(fault.code) is None:
            raise ValueError(f"fault field 'code': unknown SMC error code {fault.code!r}")
        if fault.code is None and not (fault.throttle or fault.drop or fault.latency_ms):
            fault.code = errors.InternalError.code
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def remove(self, fault_id: str) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def pick(self, action: str, *, after: bool) -> Fault | None:
        """The first matching fault that fires for this call, consuming one of its count."""
        if not self._faults:
            return None
        for fault in self._faults:
            if fault.after is not after or fault.action not in ("*", action):
                continue
            if fault.rate < 1.0 and self._rng.random() >= fault.rate:
                continue
            if fault.count is not None:
                fault.count -= 1
                if fault.count == 0:
                    self._faults.remove(fault)
            return fault
        return None
