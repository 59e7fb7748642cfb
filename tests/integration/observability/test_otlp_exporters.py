"""The gateway's OTLP exporters against real receivers on loopback (HTTP and gRPC)."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import (
    encode_spans as official_encode_spans,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.observability.otlp import GrpcSpanExporter, HttpSpanExporter
from gateway.observability.tracing import tracer_provider_from_env


class _HttpReceiver:
    """Keeps each POST's headers and (decompressed) body; answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"


@pytest.fixture
def http_receiver() -> Iterator[_HttpReceiver]:
    receiver = _HttpReceiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _spans() -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("gateway.test")
    with tracer.start_as_current_span("GET /v1/jobs/{job_id}") as server:
        server.set_attribute("http.response.status_code", 200)
        with tracer.start_as_current_span("SMC DescribeReplicationJobs") as client:
            client.set_attributes({"smc.action": "DescribeReplicationJobs", "smc.attempt": 1})
    return list(memory.get_finished_spans())


def _official(spans: list[ReadableSpan]) -> bytes:
    return official_encode_spans(spans).SerializeToString(deterministic=True)


def _canonical(body: bytes) -> bytes:
    request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
    return request.SerializeToString(deterministic=True)


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_http_exporter_sends_the_official_request(
    http_receiver: _HttpReceiver, compression: Compression
) -> None:
    spans = _spans()
    exporter = HttpSpanExporter(
        endpoint=http_receiver.url, headers={"x-team": "migrations"}, compression=compression
    )
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    [(headers, body)] = http_receiver.requests
    assert headers["content-type"] == "application/x-protobuf"
    assert headers["x-team"] == "migrations"
    assert _canonical(body) == _official(spans)
    exporter.shutdown()  # type: ignore[no-untyped-call]
    assert exporter.export(spans) is SpanExportResult.FAILURE  # as the official one


def test_http_exporter_reports_a_refused_batch() -> None:
    receiver = _HttpReceiver(status=400)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        exporter = HttpSpanExporter(endpoint=receiver.url, timeout=5)
        assert exporter.export(_spans()) is SpanExportResult.FAILURE
        assert len(receiver.requests) == 1  # a 400 is not retried
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def test_http_exporter_drops_a_batch_over_the_size_limit(http_receiver: _HttpReceiver) -> None:
    exporter = HttpSpanExporter(endpoint=http_receiver.url, max_request_size=64)
    assert exporter.export(_spans()) is SpanExportResult.FAILURE
    assert http_receiver.requests == []


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.requests: list[trace_service_pb2.ExportTraceServiceRequest] = []

    def Export(  # noqa: N802 - the generated service's name
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()


def test_grpc_exporter_sends_the_official_request() -> None:
    service = _TraceService()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(service, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        spans = _spans()
        exporter = GrpcSpanExporter(endpoint=f"127.0.0.1:{port}", insecure=True, timeout=10)
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        [request] = service.requests
        assert request.SerializeToString(deterministic=True) == _official(spans)
        exporter.shutdown()
    finally:
        server.stop(None)


@pytest.mark.parametrize(
    ("protocol", "kind"), [("http/protobuf", HttpSpanExporter), ("grpc", GrpcSpanExporter)]
)
def test_the_environment_selects_the_gateway_exporters(protocol: str, kind: type) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
    }
    provider = tracer_provider_from_env(env)
    assert provider is not None
    try:
        processors = provider._active_span_processor._span_processors
        [processor] = processors
        assert isinstance(processor.span_exporter, kind)  # type: ignore[attr-defined]
    finally:
        provider.shutdown()
