"""Time for the emulator: an injected :class:`Clock`, plus a control-API offset.

Job progression, schedules and expiry read :class:`OffsetClock`, which the control API can move
forward (``POST /_emulator/clock``).  Signature timestamps and nonces read the base clock, so
moving job time does not make every client's ``Timestamp`` look expired.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "OffsetClock", "SystemClock"]


class Clock(Protocol):
    """Source of the current time, timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """``base`` plus an offset that only grows (time never goes back for jobs)."""

    def __init__(self, base: Clock) -> None:
        self.base = base
        self.offset = timedelta()

    def now(self) -> datetime:
        return self.base.now() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the emulator clock only moves forward")
        self.offset += timedelta(seconds=seconds)

    def reset(self) -> None:
        self.offset = timedelta()
