"""Structured logs: one JSON object per line, with the trace and span of the call.

Every record of every logger goes through :class:`JsonFormatter` (uvicorn's included:
``serve`` starts it without its own logging config), so an operator's log pipeline parses
one format.  Fields a record carries in ``extra={"fields": {...}}`` are merged in; the
current span's ids are added when a span is active, which is how a call's log line and
its exported spans are joined.  Only what the code puts in a message or in ``fields`` is
written: nothing reads request headers or settings here, so no secret can slip in.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import msgspec
from opentelemetry import trace

__all__ = ["JsonFormatter", "configure_logging"]

_JSON = msgspec.json.Encoder()


class JsonFormatter(logging.Formatter):
    """``{"timestamp", "level", "logger", "message", "pid", trace_id?, span_id?, ...fields}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,  # tells the workers of ``serve --workers`` apart
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            line["trace_id"] = format(context.trace_id, "032x")
            line["span_id"] = format(context.span_id, "016x")
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        try:
            return _JSON.encode(line).decode()
        except (TypeError, msgspec.EncodeError):  # a field msgspec does not know: as text
            return json.dumps(line, separators=(",", ":"), default=str)


def configure_logging(level: str) -> None:
    """Send every logger's records to stderr as JSON lines, at ``level`` and above.

    stdout stays for the ``serve`` banner, which people and tests read as plain text.
    """
    # No caller lookup (file, line, function: never logged here) and no thread names: both
    # cost on every record (the logging module's documented optimisation).
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
