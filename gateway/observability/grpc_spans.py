"""The gRPC front end's server span: one per call, continuing the caller's W3C trace.

This replaces the contrib gRPC aio interceptor for the API's methods.  An interceptor on a
grpc.aio server wraps every call (health and reflection included) in Python layers and
builds the span's attributes before the sampler has spoken; here the handler asks the
sampler first, so an unsampled call costs a metadata scan and a non-recording span.  A
recorded span is named ``/<service>/<method>`` and carries ``rpc.system``,
``rpc.service``, ``rpc.method`` and ``rpc.grpc.status_code``; codes that mean the server
failed (OpenTelemetry's list for server spans) set the span's status to ERROR.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import grpc
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from gateway.observability.server_span import TRACE_KEYS, server_span

__all__ = ["GrpcServerSpans"]

# Server-side failures per the RPC semantic conventions; the rest are the caller's doing.
_SERVER_FAULTS = frozenset(
    code.value[0]
    for code in (
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    )
)


class GrpcServerSpans:
    """Starts the server span of each API call (see the module note)."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    @contextmanager
    def span(
        self, full_method: str, metadata: Iterable[tuple[str, str | bytes]]
    ) -> Iterator[trace.Span]:
        """The call's span, current while the handler runs; ended on exit."""
        carrier = {k: v for k, v in metadata if k in TRACE_KEYS and isinstance(v, str)}
        with server_span(self.tracer, full_method, carrier) as span:
            if span.is_recording():
                service, _, method = full_method.lstrip("/").rpartition("/")
                span.set_attributes(
                    {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}
                )
            yield span

    @staticmethod
    def finish(span: trace.Span, code: int) -> None:
        """Note the call's final status code (its number) on its span."""
        if span.is_recording():
            span.set_attribute("rpc.grpc.status_code", code)
            if code in _SERVER_FAULTS:
                span.set_status(StatusCode.ERROR)
