"""The idempotency store's contract, held against the memory and the Redis store alike."""

from __future__ import annotations

import string

import pytest
from idempotency_helpers import Harness

from gateway.idempotency import (
    InFlight,
    Mismatch,
    Replay,
    Started,
    StoredResponse,
)

FP = b"\x01" * 32
OTHER_FP = b"\x02" * 32
LEASE = 0.2  # short: the Redis run really waits it out
WAIT = 0.3
OK = StoredResponse(
    kind="ok",
    payload=b"\x08\x01job-1",
    metadata={"x-smc-request-id": "REQ-1"},
    created_at=1_700_000_123.25,
)


async def start(h: Harness, key: str = "k1", scope: str = "team-a", fp: bytes = FP) -> str:
    result = await h.store.begin(scope, key, fp, lease_seconds=30.0, ttl_seconds=3600.0)
    assert isinstance(result, Started)
    return result.owner


async def test_first_begin_starts_and_gives_an_owner(harness: Harness) -> None:
    result = await harness.store.begin("team-a", "k1", FP, lease_seconds=30, ttl_seconds=60)
    assert isinstance(result, Started)
    assert result.owner


@pytest.mark.parametrize(
    "response",
    [
        OK,
        StoredResponse(kind="error", payload=b"\x08\x09\x12\x04nope", metadata={}, created_at=1.5),
    ],
    ids=["ok", "error"],
)
async def test_done_record_is_replayed_as_stored(
    harness: Harness, response: StoredResponse
) -> None:
    owner = await start(harness)
    assert await harness.store.complete("team-a", "k1", owner, response, ttl_seconds=60)
    for _ in range(2):
        replay = await harness.store.begin("team-a", "k1", FP, lease_seconds=30, ttl_seconds=60)
        assert replay == Replay(response)


async def test_other_request_while_in_flight_is_a_mismatch(harness: Harness) -> None:
    await start(harness)
    result = await harness.store.begin("team-a", "k1", OTHER_FP)
    assert result == Mismatch()


async def test_other_request_after_done_is_a_mismatch(harness: Harness) -> None:
    owner = await start(harness)
    assert await harness.store.complete("team-a", "k1", owner, OK)
    assert await harness.store.begin("team-a", "k1", OTHER_FP) == Mismatch()
    # The stored answer is untouched by the refused request.
    assert await harness.store.begin("team-a", "k1", FP) == Replay(OK)


async def test_same_request_in_flight_waits_at_most_the_lease(harness: Harness) -> None:
    first = await harness.store.begin("team-a", "k1", FP, lease_seconds=10, ttl_seconds=60)
    assert isinstance(first, Started)
    result = await harness.store.begin("team-a", "k1", FP, lease_seconds=10, ttl_seconds=60)
    assert isinstance(result, InFlight)
    assert 0 < result.retry_after <= 10


async def test_expired_lease_is_taken_over_by_a_new_owner(harness: Harness) -> None:
    store = harness.store
    first = await store.begin("team-a", "k1", FP, lease_seconds=LEASE, ttl_seconds=60)
    assert isinstance(first, Started)
    assert isinstance(await store.begin("team-a", "k1", FP, lease_seconds=LEASE), InFlight)
    await harness.advance(WAIT)
    second = await store.begin("team-a", "k1", FP, lease_seconds=30, ttl_seconds=60)
    assert isinstance(second, Started)
    assert second.owner != first.owner
    # The new owner holds a fresh lease.
    assert isinstance(await store.begin("team-a", "k1", FP), InFlight)
    # The slow first owner can neither store its answer nor drop the record.
    assert not await store.complete("team-a", "k1", first.owner, OK)
    assert not await store.release("team-a", "k1", first.owner)
    assert await store.complete("team-a", "k1", second.owner, OK)
    assert await store.begin("team-a", "k1", FP) == Replay(OK)


async def test_expired_lease_still_binds_the_key_to_its_request(harness: Harness) -> None:
    await harness.store.begin("team-a", "k1", FP, lease_seconds=LEASE, ttl_seconds=60)
    await harness.advance(WAIT)
    assert await harness.store.begin("team-a", "k1", OTHER_FP) == Mismatch()


async def test_owner_past_its_lease_completes_if_nobody_took_over(harness: Harness) -> None:
    first = await harness.store.begin("team-a", "k1", FP, lease_seconds=LEASE, ttl_seconds=60)
    assert isinstance(first, Started)
    await harness.advance(WAIT)
    assert await harness.store.complete("team-a", "k1", first.owner, OK)
    assert await harness.store.begin("team-a", "k1", FP) == Replay(OK)


async def test_release_by_the_owner_lets_a_retry_start(harness: Harness) -> None:
    owner = await start(harness)
    assert await harness.store.release("team-a", "k1", owner)
    retry = await harness.store.begin("team-a", "k1", FP)
    assert isinstance(retry, Started)
    assert retry.owner != owner
    # Released: even another request may now use the key.
    assert await harness.store.release("team-a", "k1", retry.owner)
    assert isinstance(await harness.store.begin("team-a", "k1", OTHER_FP), Started)


async def test_release_by_another_owner_changes_nothing(harness: Harness) -> None:
    owner = await start(harness)
    assert not await harness.store.release("team-a", "k1", "not-the-owner")
    assert isinstance(await harness.store.begin("team-a", "k1", FP), InFlight)
    assert await harness.store.complete("team-a", "k1", owner, OK)


async def test_done_record_is_neither_released_nor_overwritten(harness: Harness) -> None:
    owner = await start(harness)
    assert await harness.store.complete("team-a", "k1", owner, OK)
    assert not await harness.store.release("team-a", "k1", owner)
    other = StoredResponse(kind="error", payload=b"late", metadata={}, created_at=2.0)
    # A repeat by the owner (a re-sent command) is acknowledged; the first answer stays.
    assert await harness.store.complete("team-a", "k1", owner, other)
    assert not await harness.store.complete("team-a", "k1", "someone-else", other)
    assert await harness.store.begin("team-a", "k1", FP) == Replay(OK)


async def test_complete_or_release_without_a_record_is_refused(harness: Harness) -> None:
    assert not await harness.store.complete("team-a", "nothing", "someone", OK)
    assert not await harness.store.release("team-a", "nothing", "someone")
    assert isinstance(await harness.store.begin("team-a", "nothing", FP), Started)


async def test_done_record_expires_after_its_ttl(harness: Harness) -> None:
    owner = await start(harness)
    assert await harness.store.complete("team-a", "k1", owner, OK, ttl_seconds=LEASE)
    assert await harness.store.begin("team-a", "k1", FP) == Replay(OK)
    await harness.advance(WAIT)
    assert isinstance(await harness.store.begin("team-a", "k1", OTHER_FP), Started)


async def test_in_flight_record_expires_after_lease_and_ttl(harness: Harness) -> None:
    await harness.store.begin("team-a", "k1", FP, lease_seconds=0.1, ttl_seconds=LEASE)
    await harness.advance(WAIT)
    assert isinstance(await harness.store.begin("team-a", "k1", OTHER_FP), Started)


async def test_scopes_are_isolated(harness: Harness) -> None:
    owner_a = await start(harness, scope="team-a")
    owner_b = await start(harness, scope="team-b", fp=OTHER_FP)
    assert await harness.store.complete("team-a", "k1", owner_a, OK)
    assert isinstance(await harness.store.begin("team-b", "k1", OTHER_FP), InFlight)
    assert not await harness.store.release("team-b", "k1", owner_a)
    assert not await harness.store.complete("team-b", "k1", owner_a, OK)
    assert await harness.store.release("team-b", "k1", owner_b)
    assert isinstance(await harness.store.begin("team-b", "k1", FP), Started)
    assert await harness.store.begin("team-a", "k1", FP) == Replay(OK)


async def test_scope_that_looks_like_a_key_prefix_is_still_separate(harness: Harness) -> None:
    await start(harness, scope="a", key="b:c")
    assert isinstance(await harness.store.begin("a:b", "c", OTHER_FP), Started)
    assert isinstance(await harness.store.begin("a:b:c", "x", OTHER_FP), Started)


ODD_KEYS = [
    " ",
    "~",
    "a b",
    "a:b",
    "*",
    "?",
    "[x]",
    "{tag}",
    "\\",
    "%00",
    "'\";--",
    "K1",
    "k1 ",
    "x" * 128,
    string.printable[:95],  # every printable ASCII character
]


async def test_keys_with_odd_characters_are_distinct_records(harness: Harness) -> None:
    owners = {}
    for index, key in enumerate(ODD_KEYS):
        owners[key] = await start(harness, key=key, fp=bytes([index]) * 32)
    # Each key kept its own fingerprint and owner.
    for index, key in enumerate(ODD_KEYS):
        response = StoredResponse(kind="ok", payload=key.encode(), metadata={}, created_at=3.0)
        assert await harness.store.complete("team-a", key, owners[key], response)
        replay = await harness.store.begin("team-a", key, bytes([index]) * 32)
        assert replay == Replay(response)
    assert isinstance(await harness.store.begin("team-a", "k1", FP), Started)


async def test_binary_payloads_and_fingerprints_round_trip(harness: Harness) -> None:
    every_byte = bytes(range(256))
    response = StoredResponse(
        kind="error",
        payload=every_byte * 4 + b"\x00",
        metadata={"grpc-status-details-bin": "AAEC", "note": "naïve ✓ \u0000 \n", "": ""},
        created_at=1_700_000_000.123456,
    )
    owner = await start(harness, fp=every_byte)
    assert await harness.store.complete("team-a", "k1", owner, response)
    replay = await harness.store.begin("team-a", "k1", every_byte)
    assert replay == Replay(response)
    assert isinstance(replay, Replay)
    assert replay.response.payload == every_byte * 4 + b"\x00"
    # A fingerprint differing in one trailing byte is another request.
    assert await harness.store.begin("team-a", "k1", every_byte[:-1] + b"\x00") == Mismatch()


async def test_str_fingerprint_is_its_utf8_bytes(harness: Harness) -> None:
    await start(harness, fp="sha256:é".encode())
    assert isinstance(await harness.store.begin("team-a", "k1", "sha256:é"), InFlight)


@pytest.mark.parametrize(
    ("scope", "key"),
    [
        ("", "k"),
        ("team-a", ""),
        ("team-a", "x" * 129),
        ("team-a", "é"),
        ("team-a", "a\nb"),
        ("team-a", "tab\there"),
        ("team-a", "del\x7f"),
        ("team-a", "nul\x00"),
        ("team-a", "nbsp\u00a0"),
        ("team-a", "wide\uff41"),
    ],
)
async def test_bad_scope_or_key_is_refused(harness: Harness, scope: str, key: str) -> None:
    with pytest.raises(ValueError, match="idempotency"):
        await harness.store.begin(scope, key, FP)
    with pytest.raises(ValueError, match="idempotency"):
        await harness.store.complete(scope, key, "owner", OK)
    with pytest.raises(ValueError, match="idempotency"):
        await harness.store.release(scope, key, "owner")


@pytest.mark.parametrize(("lease", "ttl"), [(0, 60), (-1, 60), (30, 0), (float("nan"), 60)])
async def test_bad_lease_or_ttl_is_refused(harness: Harness, lease: float, ttl: float) -> None:
    with pytest.raises(ValueError, match="seconds"):
        await harness.store.begin("team-a", "k1", FP, lease_seconds=lease, ttl_seconds=ttl)


async def test_empty_fingerprint_is_refused(harness: Harness) -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        await harness.store.begin("team-a", "k1", b"")
