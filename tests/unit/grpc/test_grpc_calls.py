"""Every unary method reaches the core with the right name, message and context."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from grpc_unit_helpers import SAMPLES, FakeCore

from gateway._proto.smcgateway.v1 import (
    replication_job_service_pb2 as jobs,
)
from gateway._proto.smcgateway.v1 import (
    replication_job_service_pb2_grpc,
    source_server_service_pb2_grpc,
)
from gateway.core.methods import METHODS, Method

UNARY = [m for m in METHODS if not m.server_streaming]


def _stub_method(channel: grpc.aio.Channel, method: Method) -> Any:
    if method.service.endswith("SourceServerService"):
        stub: Any = source_server_service_pb2_grpc.SourceServerServiceStub(channel)
    else:
        stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)
    return getattr(stub, method.name)


def test_samples_cover_every_unary_method() -> None:
    assert sorted(SAMPLES) == sorted(m.name for m in UNARY)


@pytest.mark.parametrize("method", UNARY, ids=lambda m: m.name)
async def test_unary_method_calls_core_once(
    method: Method, core: FakeCore, channel: grpc.aio.Channel
) -> None:
    request, expected = SAMPLES[method.name]
    call = _stub_method(channel, method)(
        request,
        metadata=(("authorization", "Bearer key-1"), ("idempotency-key", "idem-7")),
    )

    response = await call

    assert response == expected
    assert [c.name for c in core.calls] == [method.name]
    seen = core.calls[0]
    assert seen.request == request
    assert type(seen.request) is method.request_type
    assert seen.ctx.frontend == "grpc"
    assert seen.ctx.method == method.name
    assert seen.ctx.api_key == "key-1"
    assert seen.ctx.idempotency_key == "idem-7"
    assert seen.ctx.timeout is None
    assert await call.code() == grpc.StatusCode.OK
    assert ("smc-request-id", "req-123") in tuple(await call.trailing_metadata())


async def test_deadline_becomes_timeout(core: FakeCore, channel: grpc.aio.Channel) -> None:
    stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)

    await stub.GetReplicationJob(jobs.GetReplicationJobRequest(job_id="j-1"), timeout=30)

    timeout = core.calls[0].ctx.timeout
    assert timeout is not None
    # grpc measures the deadline on its own clock: allow it to read slightly above 30.
    assert 25 < timeout <= 31


async def test_every_response_metadata_item_is_a_trailer(
    core: FakeCore, channel: grpc.aio.Channel
) -> None:
    core.response_metadata = {"idempotent-replayed": "true", "smc-request-id": "req-9"}
    stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)

    call = stub.StartReplicationJob(jobs.StartReplicationJobRequest(job_id="j-1"))
    await call

    trailers = tuple(await call.trailing_metadata())
    assert ("idempotent-replayed", "true") in trailers
    assert ("smc-request-id", "req-9") in trailers


@pytest.mark.parametrize(
    ("metadata", "api_key"),
    [
        ((("authorization", "Bearer abc"),), "abc"),
        ((("authorization", "bearer abc"),), "abc"),
        ((("authorization", "Basic YWJjOmRlZg=="),), None),
        ((("authorization", "Bearer "),), None),
        ((("authorization", "abc"),), None),
        ((), None),
    ],
)
async def test_api_key_only_from_bearer_authorization(
    metadata: tuple[tuple[str, str], ...],
    api_key: str | None,
    core: FakeCore,
    channel: grpc.aio.Channel,
) -> None:
    stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)

    await stub.GetReplicationJob(jobs.GetReplicationJobRequest(job_id="j-1"), metadata=metadata)

    assert core.calls[0].ctx.api_key == api_key
    assert core.calls[0].ctx.idempotency_key is None


async def test_request_id_is_left_to_the_core(core: FakeCore, channel: grpc.aio.Channel) -> None:
    stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)
    request = jobs.StartReplicationJobRequest(job_id="j-1", request_id="field-key")

    await stub.StartReplicationJob(request, metadata=(("idempotency-key", "metadata-key"),))

    seen = core.calls[0]
    assert seen.ctx.idempotency_key == "metadata-key"
    assert seen.request == request
