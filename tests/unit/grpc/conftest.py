from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_unit_helpers import FakeCore

from gateway.grpc import GrpcServer, build_grpc_server

#: Small, so the size-limit tests need no big buffers.
MAX_MESSAGE_BYTES = 64 * 1024


@pytest.fixture
def core() -> FakeCore:
    return FakeCore()


@pytest.fixture
async def server(core: FakeCore) -> AsyncIterator[GrpcServer]:
    made = build_grpc_server(core, max_message_bytes=MAX_MESSAGE_BYTES)
    made.add_port("127.0.0.1", 0)
    await made.start()
    yield made
    await made.stop(None)


@pytest.fixture
async def channel(server: GrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.ports[0]}") as made:
        yield made
