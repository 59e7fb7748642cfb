"""The memory store on a fake clock: exact lease arithmetic and bounded memory."""

from __future__ import annotations

import gc

import pytest

from gateway.idempotency import (
    InFlight,
    MemoryIdempotencyStore,
    Replay,
    Started,
    StoredResponse,
    store_from_url,
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


async def _finish(store: MemoryIdempotencyStore, key: str) -> None:
    started = await store.begin("t", key, FP)
    assert isinstance(started, Started)
    assert await store.complete("t", key, started.owner, OK)


async def test_a_bounded_store_drops_the_oldest_finished_records_first(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryIdempotencyStore(max_records=3)
    for key in ("a", "b", "c"):
        await _finish(store, key)
    assert isinstance(await store.begin("t", "a", FP), Replay)  # a replay keeps its place
    with caplog.at_level("WARNING"):
        await _finish(store, "d")
        await _finish(store, "e")
    assert len(store) == 3
    assert store.dropped == 2
    for kept in ("c", "d", "e"):
        assert isinstance(await store.begin("t", kept, FP), Replay)
    # "a" and "b" were dropped: their key starts afresh.
    assert isinstance(await store.begin("t", "a", FP), Started)
    warnings = [r for r in caplog.records if "idempotency_max_records" in r.getMessage()]
    assert len(warnings) == 1  # once, not per dropped record


async def test_in_flight_records_are_never_dropped() -> None:
    store = MemoryIdempotencyStore(max_records=2)
    for key in ("busy-1", "busy-2"):
        assert isinstance(await store.begin("t", key, FP), Started)
    # Beyond the bound with nothing finished to drop: held above it rather than risk a
    # retry running alongside a call still in flight.
    await _finish(store, "done")
    assert len(store) == 3
    assert store.dropped == 0
    assert isinstance(await store.begin("t", "busy-3", FP), Started)
    assert store.dropped == 1  # the one finished record went
    assert len(store) == 3
    for key in ("busy-1", "busy-2", "busy-3"):
        assert isinstance(await store.begin("t", key, FP), InFlight)
    assert isinstance(await store.begin("t", "done", FP), Started)


@pytest.mark.parametrize("bad", [0, -5])
def test_the_bound_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError, match="max_records"):
        MemoryIdempotencyStore(max_records=bad)


@pytest.mark.parametrize("url", [None, "memory://"])
async def test_the_factory_passes_the_bound_to_a_memory_store(url: str | None) -> None:
    store = store_from_url(url, timeout=1.0, max_records=1)
    assert isinstance(store, MemoryIdempotencyStore)
    await _finish(store, "a")
    await _finish(store, "b")
    assert len(store) == 1
    assert store.dropped == 1


async def test_finished_records_leave_the_collectors_passes(store: MemoryIdempotencyStore) -> None:
    # A full collection walks every object it tracks: finished records must not be among
    # them, or a day of writes makes each pass (and every call waiting on it) longer.
    gc.collect()
    before = len(gc.get_objects())
    for i in range(2_000):
        await _finish(store, f"k{i}")
    gc.collect()
    gc.collect()  # a tuple nested in another may be let go of in the second pass
    assert len(store) == 2_000
    assert len(gc.get_objects()) - before < 20
    assert await store.begin("t", "k7", FP) == Replay(OK)  # still replayed as completed
