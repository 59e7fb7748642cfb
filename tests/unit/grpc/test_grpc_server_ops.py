"""Health, reflection, streaming, limits and graceful stop of the gRPC server."""

from __future__ import annotations

import asyncio
import socket

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from grpc_unit_helpers import FakeCore, snapshot

from gateway._proto.smcgateway.v1 import (
    replication_job_service_pb2 as jobs,
)
from gateway._proto.smcgateway.v1 import (
    replication_job_service_pb2_grpc,
)
from gateway.core import errors
from gateway.core.context import CallContext
from gateway.grpc import GrpcServer, build_grpc_server

SERVICES = ("smcgateway.v1.ReplicationJobService", "smcgateway.v1.SourceServerService")
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVING = health_pb2.HealthCheckResponse.SERVING


async def _health(channel: grpc.aio.Channel) -> dict[str, int]:
    stub = health_pb2_grpc.HealthStub(channel)
    statuses = {}
    for service in ("", *SERVICES):
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service))
        statuses[service] = response.status
    return statuses


async def test_health_follows_set_serving(server: GrpcServer, channel: grpc.aio.Channel) -> None:
    assert set(server.health_services) == {"", *SERVICES}
    assert set((await _health(channel)).values()) == {NOT_SERVING}

    await server.set_serving(True)
    assert set((await _health(channel)).values()) == {SERVING}

    await server.set_serving(False)
    assert set((await _health(channel)).values()) == {NOT_SERVING}


async def test_health_of_unknown_service_is_not_found(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Check(health_pb2.HealthCheckRequest(service="nope.Service"))

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_and_describes_services(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICES[0]),
    ]

    responses = [r async for r in stub.ServerReflectionInfo(iter(requests))]

    listed = {s.name for s in responses[0].list_services_response.service}
    assert listed == {
        *SERVICES,
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    assert responses[1].file_descriptor_response.file_descriptor_proto


async def test_watch_streams_until_the_core_ends(core: FakeCore, channel: grpc.aio.Channel) -> None:
    core.stream = [snapshot(10), snapshot(50), snapshot(100)]
    stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)
    request = jobs.WatchReplicationJobRequest(job_id="j-1")

    call = stub.WatchReplicationJob(request, metadata=(("authorization", "Bearer k"),), timeout=30)
    received = [m.replication_job.progress async for m in call]

    assert received == [10, 50, 100]
    seen = core.calls[0]
    assert seen.request == request
    assert seen.ctx.api_key == "k"
    assert seen.ctx.method == "WatchReplicationJob"
    assert seen.ctx.timeout is not None
    assert ("smc-request-id", "req-123") in tuple(await call.trailing_metadata())


async def _drain(
    call: grpc.aio.UnaryStreamCall[
        jobs.WatchReplicationJobRequest, jobs.WatchReplicationJobResponse
    ],
    into: list[float],
) -> None:
    async for message in call:
        into.append(message.replication_job.progress)


async def test_watch_error_mid_stream_is_a_rich_status(
    core: FakeCore, channel: grpc.aio.Channel
) -> None:
    core.stream = [snapshot(10), errors.NotFoundError("job j-1 was deleted", reason="JOB_GONE")]
    stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)
    received: list[float] = []
    call = stub.WatchReplicationJob(jobs.WatchReplicationJobRequest(job_id="j-1"))

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _drain(call, received)

    assert received == [10]
    error = caught.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    assert info.reason == "JOB_GONE"
    assert ("smc-request-id", "req-123") in tuple(error.trailing_metadata())


async def test_watch_cancelled_by_client_closes_the_core_stream(
    core: FakeCore, channel: grpc.aio.Channel
) -> None:
    stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)
    call = stub.WatchReplicationJob(jobs.WatchReplicationJobRequest(job_id="j-1"))
    await asyncio.wait_for(core.called.wait(), 5)

    call.cancel()

    await asyncio.wait_for(core.stream_closed.wait(), 5)


async def test_graceful_stop_finishes_in_flight_calls_and_refuses_new_ones() -> None:
    core = FakeCore()
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow(name: str, ctx: CallContext, request: Message) -> Message:
        entered.set()
        await release.wait()
        return jobs.StartReplicationJobResponse()

    core.behaviour = slow
    server = build_grpc_server(core)
    port = server.add_port("127.0.0.1", 0)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)
        in_flight = asyncio.ensure_future(
            stub.StartReplicationJob(jobs.StartReplicationJobRequest(job_id="j-1"))
        )
        await asyncio.wait_for(entered.wait(), 5)

        stopping = asyncio.ensure_future(server.stop(grace=10))
        await asyncio.sleep(0.2)
        assert not stopping.done()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetReplicationJob(jobs.GetReplicationJobRequest(job_id="j-1"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE

        release.set()
        assert await asyncio.wait_for(in_flight, 5) == jobs.StartReplicationJobResponse()
        await asyncio.wait_for(stopping, 5)
    assert set(await _health_after_stop(server)) == {NOT_SERVING}


async def _health_after_stop(server: GrpcServer) -> list[int]:
    # The servicer keeps answering in-process; what matters is that it can no longer
    # be flipped back to SERVING once the server is draining.
    await server.set_serving(True)
    statuses = []
    for service in server.health_services:
        request = health_pb2.HealthCheckRequest(service=service)
        statuses.append((await server.health.Check(request, None)).status)
    return statuses


async def test_max_concurrent_rpcs_refuses_the_excess() -> None:
    core = FakeCore()
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow(name: str, ctx: CallContext, request: Message) -> Message:
        entered.set()
        await release.wait()
        return jobs.GetReplicationJobResponse()

    core.behaviour = slow
    server = build_grpc_server(core, max_concurrent_rpcs=1)
    port = server.add_port("127.0.0.1", 0)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)
            request = jobs.GetReplicationJobRequest(job_id="j-1")
            first = asyncio.ensure_future(stub.GetReplicationJob(request))
            await asyncio.wait_for(entered.wait(), 5)

            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetReplicationJob(request)

            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            release.set()
            await first
    finally:
        await server.stop(None)


async def test_add_port_refuses_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = build_grpc_server(FakeCore())
        with pytest.raises(OSError, match="cannot listen for gRPC"):
            server.add_port("127.0.0.1", taken.getsockname()[1])
        await server.stop(None)
