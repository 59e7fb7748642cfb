"""RestServerSpans: one SERVER span per traced request, the caller's trace continued."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import SpanKind, StatusCode, get_current_span

from gateway.observability.rest_spans import RestServerSpans

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
SAMPLED = f"00-{TRACE_ID}-{PARENT_ID}-01"


def _provider(sampled_by_default: bool) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider() if sampled_by_default else TracerProvider(ParentBased(ALWAYS_OFF))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _scope(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "headers": headers or []}


async def _run(middleware: RestServerSpans, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    return sent


def _app(status: int, seen: list[bool] | None = None) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if seen is not None:
            seen.append(get_current_span().is_recording())
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


async def test_a_sampled_callers_trace_is_continued_with_http_attributes() -> None:
    provider, exporter = _provider(sampled_by_default=False)
    seen: list[bool] = []
    middleware = RestServerSpans(_app(200, seen), provider.get_tracer("t"))
    sent = await _run(middleware, _scope("/v1/sources", [(b"traceparent", SAMPLED.encode())]))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert seen == [True]  # the app runs inside the server span
    (span,) = exporter.get_finished_spans()
    assert span.kind is SpanKind.SERVER
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == PARENT_ID
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "url.path": "/v1/sources",
        "url.scheme": "http",
        "http.response.status_code": 200,
    }
    assert span.status.status_code is StatusCode.UNSET


async def test_an_unsampled_request_records_nothing_and_still_runs() -> None:
    provider, exporter = _provider(sampled_by_default=False)
    seen: list[bool] = []
    sent = await _run(RestServerSpans(_app(200, seen), provider.get_tracer("t")), _scope("/v1/x"))
    assert len(sent) == 2
    assert seen == [False]
    assert exporter.get_finished_spans() == ()


async def test_untraced_paths_get_no_span() -> None:
    provider, exporter = _provider(sampled_by_default=True)
    middleware = RestServerSpans(_app(200), provider.get_tracer("t"), untraced=["/healthz"])
    await _run(middleware, _scope("/healthz", [(b"traceparent", SAMPLED.encode())]))
    assert exporter.get_finished_spans() == ()


async def test_server_errors_mark_the_span() -> None:
    provider, exporter = _provider(sampled_by_default=True)
    await _run(RestServerSpans(_app(503), provider.get_tracer("t")), _scope("/v1/x"))
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["http.response.status_code"] == 503


async def test_an_exception_is_recorded_and_raised() -> None:
    provider, exporter = _provider(sampled_by_default=True)

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await _run(RestServerSpans(broken, provider.get_tracer("t")), _scope("/v1/x"))
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert [e.name for e in span.events] == ["exception"]
