"""Server spans of the gRPC front end: the caller's trace continued, the status recorded."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf.message import Message
from grpc_unit_helpers import SAMPLES, FakeCore
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import SpanKind, StatusCode, get_current_span

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway.core import errors
from gateway.core.context import CallContext
from gateway.grpc import GrpcServer, build_grpc_server
from gateway.observability.grpc_spans import GrpcServerSpans

GET_JOB = "/smcgateway.v1.ReplicationJobService/GetReplicationJob"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
SAMPLED = f"00-{TRACE_ID}-{PARENT_ID}-01"
UNSAMPLED = f"00-{TRACE_ID}-{PARENT_ID}-00"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(
    core: FakeCore, exporter: InMemorySpanExporter
) -> AsyncIterator[tuple[GrpcServer, FakeCore]]:
    provider = TracerProvider(ParentBased(ALWAYS_OFF))  # only sampled callers are recorded
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    server = build_grpc_server(core, spans=GrpcServerSpans(provider.get_tracer("t")))
    server.add_port("127.0.0.1", 0)
    await server.start()
    yield server, core
    await server.stop(None)


async def _get(
    server: GrpcServer, traceparent: str
) -> grpc.aio.UnaryUnaryCall[Message, jobs.GetReplicationJobResponse]:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.ports[0]}")
    call = channel.unary_unary(
        GET_JOB,
        request_serializer=jobs.GetReplicationJobRequest.SerializeToString,
        response_deserializer=jobs.GetReplicationJobResponse.FromString,
    )
    answer = call(SAMPLES["GetReplicationJob"][0], metadata=(("traceparent", traceparent),))
    with contextlib.suppress(grpc.aio.AioRpcError):
        await answer
    await channel.close()
    return answer


async def _finished(exporter: InMemorySpanExporter, count: int) -> tuple[ReadableSpan, ...]:
    """The finished spans once there are ``count``: the server ends its span after the
    status has left, so the client may see the answer first."""
    for _ in range(500):  # at most 5 s
        spans = exporter.get_finished_spans()
        if len(spans) >= count:
            break
        await asyncio.sleep(0.01)
    return spans


async def test_a_sampled_caller_gets_a_child_server_span_around_the_core(
    traced: tuple[GrpcServer, FakeCore], exporter: InMemorySpanExporter
) -> None:
    server, core = traced
    recording: list[bool] = []

    async def behaviour(name: str, ctx: CallContext, request: Message) -> Message:
        recording.append(get_current_span().is_recording())
        return SAMPLES[name][1]

    core.behaviour = behaviour
    answer = await _get(server, SAMPLED)
    assert await answer.code() == grpc.StatusCode.OK
    assert recording == [True]  # the core ran inside the span
    (span,) = await _finished(exporter, 1)
    assert span.name == GET_JOB
    assert span.kind is SpanKind.SERVER
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == PARENT_ID
    assert dict(span.attributes or {}) == {
        "rpc.system": "grpc",
        "rpc.service": "smcgateway.v1.ReplicationJobService",
        "rpc.method": "GetReplicationJob",
        "rpc.grpc.status_code": 0,
    }
    assert span.status.status_code is StatusCode.UNSET


async def test_an_unsampled_call_records_nothing(
    traced: tuple[GrpcServer, FakeCore], exporter: InMemorySpanExporter
) -> None:
    server, _ = traced
    answer = await _get(server, UNSAMPLED)
    assert await answer.code() == grpc.StatusCode.OK
    await asyncio.sleep(0.2)  # a span would be ended by now (see _finished)
    assert exporter.get_finished_spans() == ()


@pytest.mark.parametrize(
    ("error", "code", "server_fault"),
    [
        (errors.NotFoundError("no job j-1"), grpc.StatusCode.NOT_FOUND, False),
        (errors.UnavailableError("SMC is down"), grpc.StatusCode.UNAVAILABLE, True),
        (RuntimeError("bug"), grpc.StatusCode.INTERNAL, True),
    ],
)
async def test_the_final_status_is_recorded_and_server_faults_mark_the_span(
    traced: tuple[GrpcServer, FakeCore],
    exporter: InMemorySpanExporter,
    error: Exception,
    code: grpc.StatusCode,
    server_fault: bool,
) -> None:
    server, core = traced

    async def behaviour(name: str, ctx: CallContext, request: Message) -> Message:
        raise error

    core.behaviour = behaviour
    answer = await _get(server, SAMPLED)
    assert await answer.code() == code
    (span,) = await _finished(exporter, 1)
    assert (span.attributes or {})["rpc.grpc.status_code"] == code.value[0]
    expected = StatusCode.ERROR if server_fault else StatusCode.UNSET
    assert span.status.status_code is expected
    assert not span.events  # an abort is an answer, not an exception to record
