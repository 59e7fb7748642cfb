"""A bounded memo of a pure conversion, keyed by the bytes its result depends on.

SMC answers the same resources again and again (a dashboard polling a page of sources, a
watcher polling its job, a client reading a job after each write), and turning one into
the API's message, or a message into its JSON, is the read path's largest cost.  Both are
functions of their input's bytes alone, so a result is kept under those bytes and used
again while the same bytes come back: the same bytes give the same result, whoever asks,
and changed bytes (a new state, one more percent of progress) are simply a new key.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["Memo"]

V = TypeVar("V")


class Memo(Generic[V]):
    """Results by key, at most ``capacity`` of them (0: keep none); the least recently
    used leaves first.  Used from the event loop's thread only."""

    __slots__ = ("_entries", "capacity")

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError("a memo's capacity must be at least 0")
        self.capacity = capacity
        self._entries: dict[bytes, V] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes) -> V | None:
        """The result kept under ``key``, now the most recently used; ``None`` if none."""
        entries = self._entries
        found = entries.pop(key, None)
        if found is not None:
            entries[key] = found  # re-inserted: a dict keeps insertion order
        return found

    def put(self, key: bytes, value: V) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used entry when full."""
        if self.capacity == 0:
            return
        entries = self._entries
        if key not in entries and len(entries) >= self.capacity:
            del entries[next(iter(entries))]
        entries[key] = value
