"""limiter_from_url: storage chosen by URL scheme; bad schemes fail without leaking the URL."""

from __future__ import annotations

import pytest

from gateway.ratelimit import MemoryRateLimiter, RedisRateLimiter, limiter_from_url


@pytest.mark.parametrize("url", [None, "memory://", "MEMORY://"])
def test_memory(url: str | None) -> None:
    assert isinstance(limiter_from_url(url, timeout=0.25), MemoryRateLimiter)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "rediss://user:pw@redis.example:6380/1",
        "unix:///run/redis/redis.sock?db=0",
    ],
)
async def test_redis(url: str) -> None:
    limiter = limiter_from_url(url, timeout=0.25)  # builds a client; connects lazily
    assert isinstance(limiter, RedisRateLimiter)
    await limiter.aclose()


def test_unknown_scheme_names_the_scheme_not_the_secret() -> None:
    with pytest.raises(ValueError, match="'memcached'") as info:
        limiter_from_url("memcached://admin:hunter2@cache:11211", timeout=0.25)
    assert "hunter2" not in str(info.value)


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout"):
        limiter_from_url(None, timeout=0)
