"""Per-call metrics, log line and SMC attempt spans around a core (in-memory span export)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from google.protobuf.message import Message
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import SpanKind

from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway.core.context import CallContext
from gateway.core.errors import NotFoundError
from gateway.observability import GatewayMetrics, JsonFormatter, Observability, ObservedCore
from gateway.smc.client import Attempt
from gateway.smc.errors import api_error


class _Core:
    """Authenticates as ``t1`` and reports two SMC attempts (a retried error, then OK)."""

    def __init__(self, observability: Observability, fail: bool = False) -> None:
        self._obs = observability
        self._fail = fail

    async def call(self, name: str, ctx: CallContext, request: Message) -> Message:
        ctx.tenant_id, ctx.region_id = "t1", "cn-hangzhou"
        error = api_error("ServiceUnavailable", "busy", "R-1", 503)
        observer = self._obs.observer
        observer(Attempt("DescribeSourceServers", 1, "n1", 0.01, 503, "R-1", error, None, 0.05))
        observer(Attempt("DescribeSourceServers", 2, "n2", 0.01, 200, "R-2", None, None))
        observer.rate_limited("t1", "read", 0.5)
        if self._fail:
            raise NotFoundError("no such source", reason="SOURCE_SERVER_NOT_FOUND")
        return sources.ListSourceServersResponse()

    def watch(self, ctx: CallContext, request: Message) -> AsyncIterator[Message]:
        raise NotImplementedError


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def _observability(spans: InMemorySpanExporter) -> Observability:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return Observability(provider, GatewayMetrics())


async def test_a_call_counts_logs_and_records_attempt_spans(
    spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    obs = _observability(spans)
    core = ObservedCore(_Core(obs), obs.metrics)
    assert obs.provider is not None
    tracer = obs.provider.get_tracer("test")
    with caplog.at_level(logging.INFO, "smc_gateway.access"), tracer.start_as_current_span("srv"):
        await core.call("ListSourceServers", CallContext("rest", "ListSourceServers"), Message())
    registry = obs.metrics.registry
    labels = {"frontend": "rest", "method": "ListSourceServers", "code": "OK", "tenant": "t1"}
    assert registry.get_sample_value("smc_gateway_requests_total", labels) == 1
    attempt = {"action": "DescribeSourceServers"}
    assert (
        registry.get_sample_value(
            "smc_gateway_upstream_attempts_total", {**attempt, "code": "ServiceUnavailable"}
        )
        == 1
    )
    assert registry.get_sample_value("smc_gateway_upstream_retries_total", attempt) == 1
    limited = {"tenant": "t1", "budget": "read"}
    assert registry.get_sample_value("smc_gateway_rate_limited_total", limited) == 1
    assert registry.get_sample_value("smc_gateway_in_flight_calls", {"frontend": "rest"}) == 0

    finished = spans.get_finished_spans()
    smc = [s for s in finished if s.kind == SpanKind.CLIENT]
    (server,) = [s for s in finished if s.name == "srv"]
    assert [s.name for s in smc] == ["SMC DescribeSourceServers"] * 2
    first, second = smc
    assert first.attributes is not None
    assert second.attributes is not None
    assert first.attributes["smc.error_code"] == "ServiceUnavailable"
    assert first.attributes["smc.attempt"] == 1
    assert [e.name for e in first.events] == ["smc.retry"]
    assert second.attributes["smc.request_id"] == "R-2"
    assert second.attributes["cloud.region"] == "cn-hangzhou"
    assert second.attributes["smc_gateway.tenant.id"] == "t1"
    assert second.parent is not None
    assert second.parent.span_id == server.context.span_id
    assert [e.name for e in server.events] == ["rate_limited"]

    (record,) = [r for r in caplog.records if r.name == "smc_gateway.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["attempts"] == 2
    assert line["smc_request_id"] == "R-2"
    assert line["http_status"] == 200


async def test_an_error_is_counted_with_its_code(spans: InMemorySpanExporter) -> None:
    obs = _observability(spans)
    core = ObservedCore(_Core(obs, fail=True), obs.metrics)
    with pytest.raises(NotFoundError):
        await core.call("GetSourceServer", CallContext("grpc", "GetSourceServer"), Message())
    labels = {"frontend": "grpc", "method": "GetSourceServer", "code": "NOT_FOUND", "tenant": "t1"}
    assert obs.metrics.registry.get_sample_value("smc_gateway_requests_total", labels) == 1


def test_tracing_off_records_no_span_but_counts() -> None:
    obs = Observability(None, GatewayMetrics())
    obs.observer(Attempt("StartReplicationJob", 1, "n", 0.01, 200, "R", None))
    labels = {"action": "StartReplicationJob", "code": "OK"}
    assert obs.metrics.registry.get_sample_value("smc_gateway_upstream_attempts_total", labels)


def test_each_process_has_its_own_registry() -> None:
    one, two = GatewayMetrics(), GatewayMetrics()
    one.retries.labels("X").inc()
    assert one.registry.get_sample_value("smc_gateway_upstream_retries_total", {"action": "X"})
    assert (
        two.registry.get_sample_value("smc_gateway_upstream_retries_total", {"action": "X"}) is None
    )


def test_reload_counts_are_read_at_scrape_time() -> None:
    metrics = GatewayMetrics()
    counts = [2, 1]
    metrics.watch_reloads(lambda: (counts[0], counts[1]))
    text = metrics.render().decode()
    assert 'smc_gateway_config_reloads_total{result="ok"} 2.0' in text
    assert 'smc_gateway_config_reloads_total{result="failed"} 1.0' in text


async def test_no_attempt_span_inside_an_unsampled_call_but_metrics_still_count(
    spans: InMemorySpanExporter,
) -> None:
    provider = TracerProvider(sampler=ParentBased(ALWAYS_OFF))
    provider.add_span_processor(SimpleSpanProcessor(spans))
    obs = Observability(provider, GatewayMetrics())
    core = ObservedCore(_Core(obs), obs.metrics)
    with provider.get_tracer("test").start_as_current_span("srv") as server:
        assert not server.is_recording()
        await core.call("ListSourceServers", CallContext("grpc", "ListSourceServers"), Message())
    assert spans.get_finished_spans() == ()
    attempts = {"action": "DescribeSourceServers", "code": "OK"}
    registry = obs.metrics.registry
    assert registry.get_sample_value("smc_gateway_upstream_attempts_total", attempts) == 1


async def test_an_attempt_without_any_call_span_is_sampled_as_a_root(
    spans: InMemorySpanExporter,
) -> None:
    obs = _observability(spans)  # always-on sampler
    core = ObservedCore(_Core(obs), obs.metrics)
    await core.call("ListSourceServers", CallContext("grpc", "ListSourceServers"), Message())
    assert [s.name for s in spans.get_finished_spans()] == ["SMC DescribeSourceServers"] * 2
