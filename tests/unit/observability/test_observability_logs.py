"""The JSON log formatter: one object per line, fields merged, trace ids when in a span."""

from __future__ import annotations

import json
import logging
import sys

from opentelemetry.sdk.trace import TracerProvider

from gateway.observability.logs import JsonFormatter


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("smc_gateway.test", logging.INFO, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_plain_record_outside_a_span() -> None:
    line = JsonFormatter().format(_record("started"))
    parsed = json.loads(line)
    assert "\n" not in line
    assert parsed["message"] == "started"
    assert parsed["level"] == "INFO"
    assert parsed["logger"] == "smc_gateway.test"
    assert parsed["timestamp"].endswith("+00:00")
    assert "trace_id" not in parsed


def test_fields_and_trace_ids_inside_a_span() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("call") as span:
        line = JsonFormatter().format(_record("call", fields={"tenant": "t1", "attempts": 2}))
    parsed = json.loads(line)
    context = span.get_span_context()
    assert parsed["trace_id"] == format(context.trace_id, "032x")
    assert parsed["span_id"] == format(context.span_id, "016x")
    assert (parsed["tenant"], parsed["attempts"]) == ("t1", 2)


def test_exception_text_is_one_field() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info())
    parsed = json.loads(JsonFormatter().format(record))
    assert "ValueError: broken" in parsed["exception"]
