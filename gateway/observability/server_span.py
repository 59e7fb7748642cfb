"""The one way both front ends start a call's server span.

The caller's W3C context (``traceparent``/``tracestate``/``baggage``) is continued when
sent; the sampler decides at ``start_span``, before anything else, so an unsampled call
costs a non-recording span and no attributes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind

__all__ = ["TRACE_KEYS", "server_span"]

# The carrier keys the W3C propagators read: the only ones a front end needs to collect.
TRACE_KEYS = frozenset({"traceparent", "tracestate", "baggage"})


@contextmanager
def server_span(
    tracer: trace.Tracer, name: str, carrier: Mapping[str, str]
) -> Iterator[trace.Span]:
    """A SERVER span named ``name``, current until exit, then ended."""
    parent = propagate.extract(carrier) if carrier else context.Context()
    span = tracer.start_span(name, context=parent, kind=SpanKind.SERVER)
    token = context.attach(trace.set_span_in_context(span, parent))
    try:
        yield span
    finally:
        context.detach(token)
        span.end()
