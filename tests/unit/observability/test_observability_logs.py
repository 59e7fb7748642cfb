"""The JSON log lines: one object per line, fields merged, trace ids when in a span; the
access log's direct path writes the same line and yields to any other handler or filter."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider

from gateway.observability.logs import JsonFormatter, JsonLineHandler, log_fields, timestamp


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


# --- the direct path of log_fields -------------------------------------------------------


@pytest.fixture
def json_logger() -> Iterator[tuple[logging.Logger, JsonLineHandler, io.StringIO]]:
    """A logger tree of its own: ``test_logs.access`` under a root with one JSON handler."""
    stream = io.StringIO()
    handler = JsonLineHandler(stream)
    root = logging.getLogger("test_logs")
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel(logging.INFO)
    try:
        yield logging.getLogger("test_logs.access"), handler, stream
    finally:
        root.handlers[:] = []
        root.propagate = True


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_log_fields_writes_what_the_formatter_writes(
    json_logger: tuple[logging.Logger, JsonLineHandler, io.StringIO],
) -> None:
    logger, _, stream = json_logger
    fields = {"tenant": "t1", "attempts": 2, "latency_ms": 1.25, "smc_request_id": None}
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("call"):
        log_fields(logger, logging.INFO, "call", fields)
        logger.info("call", extra={"fields": fields})  # the LogRecord path, for comparison
    direct, through_records = _lines(stream)
    assert set(direct) == set(through_records)
    for line in (direct, through_records):
        del line["timestamp"]
    assert direct == through_records
    assert direct["logger"] == "test_logs.access"
    assert direct["pid"] == os.getpid()
    assert direct["tenant"] == "t1"
    assert len(str(direct["trace_id"])) == 32


def test_log_fields_respects_levels_filters_and_other_handlers(
    json_logger: tuple[logging.Logger, JsonLineHandler, io.StringIO],
) -> None:
    logger, handler, stream = json_logger
    log_fields(logger, logging.DEBUG, "below the logger's level", {})
    handler.setLevel(logging.WARNING)
    log_fields(logger, logging.INFO, "below the handler's level", {})
    handler.setLevel(logging.NOTSET)
    assert stream.getvalue() == ""

    logger.disabled = True  # as logging.config does to loggers it was not told about
    log_fields(logger, logging.INFO, "from a disabled logger", {})
    logger.disabled = False
    assert stream.getvalue() == ""

    refused: list[str] = []

    def refuse(record: logging.LogRecord) -> bool:
        refused.append(record.getMessage())
        return False

    logger.addFilter(refuse)
    log_fields(logger, logging.INFO, "filtered out", {})
    logger.removeFilter(refuse)
    assert (refused, stream.getvalue()) == (["filtered out"], "")

    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    other = Keep()
    logger.addHandler(other)
    try:
        log_fields(logger, logging.INFO, "seen by both", {"tenant": "t2"})
    finally:
        logger.removeHandler(other)
    assert [r.getMessage() for r in seen] == ["seen by both"]
    assert seen[0].__dict__["fields"] == {"tenant": "t2"}
    assert [line["message"] for line in _lines(stream)] == ["seen by both"]


def test_a_failed_write_is_reported_not_raised(
    json_logger: tuple[logging.Logger, JsonLineHandler, io.StringIO],
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger, handler, _ = json_logger

    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("disk full")

    handler.setStream(Broken())
    log_fields(logger, logging.INFO, "call", {"tenant": "t1"})
    assert "OSError: disk full" in capsys.readouterr().err


@pytest.mark.parametrize(
    "created",
    [
        0.0,
        1_700_000_000.0,
        1_700_000_000.0005,
        1_700_000_000.9994999,
        1_700_000_000.9999996,  # rounds up to the next second, as datetime does
        1_799_999_999.123456,
        4_102_444_799.9995,
    ],
)
def test_timestamp_matches_datetime(created: float) -> None:
    expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    assert timestamp(created) == expected


@settings(max_examples=500)
@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_timestamp_matches_datetime_everywhere(created: float) -> None:
    expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    assert timestamp(created) == expected
