"""The memory store on a fake clock: exact lease arithmetic and bounded memory."""

from __future__ import annotations

import pytest

from gateway.idempotency import (
    InFlight,
    MemoryIdempotencyStore,
    Replay,
    Started,
    StoredResponse,
)

FP = b"fingerprint"
OK = StoredResponse(kind="ok", payload=b"done", metadata={"m": "1"}, created_at=1.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> MemoryIdempotencyStore:
    return MemoryIdempotencyStore(clock=clock)


async def test_retry_after_is_what_is_left_of_the_lease(
    store: MemoryIdempotencyStore, clock: Clock
) -> None:
    assert isinstance(await store.begin("t", "k", FP, lease_seconds=30), Started)
    clock.now += 12.5
    assert await store.begin("t", "k", FP) == InFlight(retry_after=17.5)
    clock.now += 17.5  # the lease ends exactly now: taken over
    assert isinstance(await store.begin("t", "k", FP), Started)


async def test_takeover_renews_the_lease(store: MemoryIdempotencyStore, clock: Clock) -> None:
    await store.begin("t", "k", FP, lease_seconds=10)
    clock.now += 11
    assert isinstance(await store.begin("t", "k", FP, lease_seconds=10), Started)
    clock.now += 4
    assert await store.begin("t", "k", FP) == InFlight(retry_after=6)


async def test_expired_records_are_dropped(store: MemoryIdempotencyStore, clock: Clock) -> None:
    for i in range(500):
        result = await store.begin("t", f"k{i}", FP, lease_seconds=1, ttl_seconds=5)
        assert isinstance(result, Started)
        if i % 2:
            assert await store.complete("t", f"k{i}", result.owner, OK, ttl_seconds=5)
    assert len(store) == 500
    clock.now += 6
    await store.begin("t", "fresh", FP)
    assert len(store) == 1


async def test_churn_keeps_the_expiry_heap_bounded(store: MemoryIdempotencyStore) -> None:
    for _ in range(10_000):
        result = await store.begin("t", "k", FP)
        assert isinstance(result, Started)
        assert await store.release("t", "k", result.owner)
    assert len(store) == 0
    assert len(store._expiries) <= 100


async def test_replay_is_a_copy_of_what_was_completed(store: MemoryIdempotencyStore) -> None:
    metadata = {"m": "1"}
    result = await store.begin("t", "k", FP)
    assert isinstance(result, Started)
    await store.complete("t", "k", result.owner, StoredResponse("ok", b"x", metadata, 2.0))
    metadata["m"] = "changed"
    assert await store.begin("t", "k", FP) == Replay(StoredResponse("ok", b"x", {"m": "1"}, 2.0))


async def test_close_forgets_everything(store: MemoryIdempotencyStore) -> None:
    await store.begin("t", "k", FP)
    await store.close()
    assert len(store) == 0
