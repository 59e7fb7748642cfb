"""The store's value types and the URL factory (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.idempotency import (
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
    StoredResponse,
    store_from_url,
)


@pytest.mark.parametrize("url", [None, "memory://", "MEMORY://"])
async def test_memory_urls(url: str | None) -> None:
    store = store_from_url(url, timeout=0.25)
    assert isinstance(store, MemoryIdempotencyStore)
    await store.close()


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:1/0", "rediss://user:pw@example.invalid:6380/2", "unix:///tmp/nope.sock"],
)
async def test_redis_urls_connect_lazily(url: str) -> None:
    store = store_from_url(url, timeout=0.25)
    assert isinstance(store, RedisIdempotencyStore)
    await store.close()


def test_unknown_scheme_is_named() -> None:
    with pytest.raises(ValueError, match="'memcached'"):
        store_from_url("memcached://host", timeout=0.25)


@pytest.mark.parametrize("timeout", [0, -1.0, float("inf")])
def test_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        store_from_url(None, timeout=timeout)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"kind": "maybe"}, ValueError),
        ({"payload": "text"}, TypeError),
        ({"metadata": {"a": 1}}, TypeError),
        ({"created_at": float("nan")}, ValueError),
    ],
)
def test_stored_response_checks_its_fields(fields: dict[str, Any], error: type[Exception]) -> None:
    values: dict[str, Any] = {"kind": "ok", "payload": b"", "metadata": {}, "created_at": 0.0}
    values.update(fields)
    with pytest.raises(error):
        StoredResponse(**values)
