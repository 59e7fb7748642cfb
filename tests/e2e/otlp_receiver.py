"""A minimal OTLP/HTTP trace receiver on loopback, for tests that check exported spans.

It accepts ``POST /v1/traces`` with a protobuf ``ExportTraceServiceRequest`` (what the
SDK's OTLP/HTTP exporter sends, uncompressed by default) and keeps every span with its
resource, so tests can assert on what a real collector would receive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span, flattened for assertions."""

    span: Span
    service: str

    @property
    def name(self) -> str:
        return self.span.name

    @property
    def trace_id(self) -> str:
        return self.span.trace_id.hex()

    @property
    def span_id(self) -> str:
        return self.span.span_id.hex()

    @property
    def parent_id(self) -> str:
        return self.span.parent_span_id.hex()

    @property
    def kind(self) -> int:
        return self.span.kind

    @property
    def attributes(self) -> dict[str, object]:
        return {a.key: _value(a.value) for a in self.span.attributes}

    @property
    def events(self) -> list[str]:
        return [e.name for e in self.span.events]


class OtlpReceiver:
    """Collects spans POSTed to ``endpoint``; ``raw`` keeps every request body's text form."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.raw: list[str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                request = ExportTraceServiceRequest.FromString(body)
                receiver._add(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _add(self, request: ExportTraceServiceRequest) -> None:
        with self._lock:
            self.raw.append(str(request))
            for resource_spans in request.resource_spans:
                service = ""
                for attribute in resource_spans.resource.attributes:
                    if attribute.key == "service.name":
                        service = attribute.value.string_value
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend(ReceivedSpan(s, service) for s in scope_spans.spans)

    def wait_for(
        self, match: Callable[[list[ReceivedSpan]], bool], timeout: float = 20.0
    ) -> list[ReceivedSpan]:
        """The spans so far, once ``match`` accepts them; fails after ``timeout`` (hang guard)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                spans = list(self.spans)
            if match(spans):
                return spans
            if time.monotonic() > deadline:
                names = [(s.name, s.trace_id) for s in spans]
                raise AssertionError(f"spans never matched; received {names}")
            time.sleep(0.05)

    def env(self) -> dict[str, str]:
        """``OTEL_*`` settings that send every span here quickly over OTLP/HTTP."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_SAMPLER": "always_on",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "OTEL_SERVICE_NAME": "smc-gateway-test",
        }


@contextmanager
def otlp_receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    thread = threading.Thread(target=receiver._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver._server.shutdown()
        receiver._server.server_close()
