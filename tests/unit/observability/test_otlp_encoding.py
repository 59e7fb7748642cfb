"""The lean OTLP span encoding against the official encoder, on generated spans."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import (
    encode_spans as official_encode_spans,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

from gateway.observability.otlp import _Attributes, encode_spans

_INT64 = st.integers(-(2**63), 2**63 - 1)
_TEXT = st.text(max_size=12)
_SCALARS = st.one_of(
    _TEXT,
    st.booleans(),
    _INT64,
    st.floats(allow_nan=True, allow_infinity=True),
    st.binary(max_size=8),
)
_ARRAYS = st.one_of(
    st.lists(_TEXT, max_size=3).map(tuple),
    st.lists(st.booleans(), max_size=3).map(tuple),
    st.lists(_INT64, max_size=3).map(tuple),
    st.lists(st.floats(allow_nan=False), max_size=3).map(tuple),
)
# Values no SDK span carries but the encoders both accept or skip: None, out-of-range
# integers, lone surrogates, mappings.
_ODD = st.one_of(
    st.none(),
    st.integers(min_value=2**63, max_value=2**70),
    st.integers(max_value=-(2**63) - 1, min_value=-(2**70)),
    st.just("bad \ud800 text"),
    st.dictionaries(_TEXT, st.one_of(_TEXT, _INT64), max_size=2),
)
_ATTRIBUTES = st.dictionaries(
    st.text(min_size=1, max_size=8), st.one_of(_SCALARS, _ARRAYS, _ODD), max_size=6
)
_IDS_128 = st.integers(1, 2**128 - 1)
_IDS_64 = st.integers(1, 2**64 - 1)
_STATES = st.one_of(
    st.none(),
    st.just(TraceState()),
    st.just(TraceState([("vendor", "value"), ("other@tenant", "x=y")])),
)


@st.composite
def _contexts(draw: st.DrawFn) -> SpanContext:
    return SpanContext(
        trace_id=draw(_IDS_128),
        span_id=draw(_IDS_64),
        is_remote=draw(st.booleans()),
        trace_flags=TraceFlags(draw(st.sampled_from([0, 1]))),
        trace_state=draw(_STATES),
    )


_RESOURCES = st.sampled_from(
    [
        Resource.create({"service.name": "smc-gateway"}),
        Resource({"service.name": "other", "k8s.pod.uid": 7}, schema_url="https://x/1.0"),
        Resource({}),
    ]
)
_SCOPES = st.sampled_from(
    [
        None,
        InstrumentationScope("gateway.rest"),
        InstrumentationScope("gateway.smc", "1.2", "https://x/s", {"a": "b"}),
    ]
)


@st.composite
def _spans(draw: st.DrawFn) -> ReadableSpan:
    start = draw(st.integers(0, 2**63))
    events = draw(
        st.lists(
            st.builds(
                Event, name=_TEXT, attributes=_ATTRIBUTES, timestamp=st.integers(0, 2**64 - 1)
            ),
            max_size=2,
        )
    )
    links = draw(st.lists(st.builds(Link, _contexts(), _ATTRIBUTES), max_size=2))
    code = draw(st.sampled_from(list(StatusCode)))
    description = draw(st.one_of(st.none(), _TEXT)) if code is StatusCode.ERROR else None
    return ReadableSpan(
        name=draw(_TEXT),
        context=draw(_contexts()),
        parent=draw(st.one_of(st.none(), _contexts())),
        resource=draw(_RESOURCES),
        attributes=draw(_ATTRIBUTES),
        events=events,
        links=links,
        kind=draw(st.sampled_from(list(SpanKind))),
        instrumentation_scope=draw(_SCOPES),
        status=Status(code, description),
        start_time=start,
        end_time=draw(st.one_of(st.none(), st.integers(start, 2**64 - 1))),
    )


def _same_request(spans: list[ReadableSpan], attributes: _Attributes | None = None) -> None:
    ours = ExportTraceServiceRequest.FromString(encode_spans(spans, attributes))
    theirs = official_encode_spans(spans)
    # Compared as canonical bytes: message equality would fail on NaN attributes.
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(
        deterministic=True
    )


@given(st.lists(_spans(), max_size=6))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_encodes_as_the_official_encoder(spans: list[ReadableSpan]) -> None:
    logging.disable(logging.ERROR)  # both encoders log each attribute they skip
    try:
        _same_request(spans)
    finally:
        logging.disable(logging.NOTSET)


@given(st.lists(_spans(), min_size=1, max_size=4), st.lists(_spans(), min_size=1, max_size=4))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_remembered_attributes_encode_the_same(
    first: list[ReadableSpan], second: list[ReadableSpan]
) -> None:
    """One exporter's remembered string pairs serve every later batch, in every position."""
    logging.disable(logging.ERROR)
    try:
        attributes = _Attributes()
        _same_request(first, attributes)
        _same_request(second + first, attributes)
    finally:
        logging.disable(logging.NOTSET)


def test_spans_of_a_real_provider() -> None:
    """Spans as the SDK records them (bounded attributes, events, a remote parent)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("gateway.test", "0.1")
    remote = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1))
    parent = trace.set_span_in_context(trace.NonRecordingSpan(remote))
    with tracer.start_as_current_span("GET /v1/jobs/{job_id}", context=parent) as server:
        server.set_attributes({"http.route": "/v1/jobs/{job_id}", "http.response.status_code": 200})
        server.add_event("idempotency", {"decision": "replayed"})
        with tracer.start_as_current_span("SMC DescribeReplicationJobs") as client:
            client.set_attribute("smc.attempt", 1)
            client.set_status(StatusCode.ERROR, "SMC said no")
    spans = list(exporter.get_finished_spans())
    assert len(spans) == 2
    _same_request(spans)
    decoded = ExportTraceServiceRequest.FromString(encode_spans(spans))
    [resource_spans] = decoded.resource_spans
    [scope_spans] = resource_spans.scope_spans
    assert scope_spans.scope.name == "gateway.test"
    names = {s.name: s for s in scope_spans.spans}
    assert names["GET /v1/jobs/{job_id}"].parent_span_id == (0xDEF).to_bytes(8, "big")
    assert names["SMC DescribeReplicationJobs"].status.message == "SMC said no"


def test_an_attribute_it_cannot_encode_is_left_out_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    span = ReadableSpan(
        name="s",
        context=SpanContext(1, 2, is_remote=False),
        attributes=cast(Any, {"bad": object(), "big": 2**64, "kept": "yes"}),
        resource=Resource({}),
    )
    decoded = ExportTraceServiceRequest.FromString(encode_spans([span]))
    [kept] = decoded.resource_spans[0].scope_spans[0].spans[0].attributes
    assert (kept.key, kept.value.string_value) == ("kept", "yes")
    skipped = [r.getMessage() for r in caplog.records if r.name == "gateway.observability.otlp"]
    assert len(skipped) == 2
    assert all(m.startswith("Failed to encode key") for m in skipped)


def test_a_span_name_it_cannot_encode_fails_the_batch() -> None:
    """As the official encoder: the exporter reports the batch as failed."""
    span = ReadableSpan(name="\ud800", context=SpanContext(1, 2, False), resource=Resource({}))
    with pytest.raises(UnicodeEncodeError):
        official_encode_spans([span]).SerializeToString()
    with pytest.raises(UnicodeEncodeError):
        encode_spans([span])


def test_the_string_cache_is_bounded() -> None:
    attributes = _Attributes()
    for n in range(10_000):
        attributes.encode(0x4A, {"smc.request_id": f"req-{n}"})
    assert 0 < len(attributes._known) <= 4096
