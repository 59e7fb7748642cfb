"""Shared pieces of the idempotency tests: a fake clock and a store with its notion of time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gateway.idempotency import IdempotencyStore


class FakeClock:
    """Seconds that move only when told."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    name: str
    store: IdempotencyStore
    clock: FakeClock | None = None

    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass, as the store sees time."""
        if self.clock is not None:
            self.clock.now += seconds
        else:
            await asyncio.sleep(seconds)
