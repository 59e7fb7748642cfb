"""Structured logs: one JSON object per line, with the trace and span of the call.

Every record of every logger goes through :class:`JsonFormatter` (uvicorn's included:
``serve`` starts it without its own logging config), so an operator's log pipeline parses
one format.  Fields a record carries in ``extra={"fields": {...}}`` are merged in; the
current span's ids are added when a span is active, which is how a call's log line and
its exported spans are joined.  Only what the code puts in a message or in ``fields`` is
written: nothing reads request headers or settings here, so no secret can slip in.

The access log writes a line per call; :func:`log_fields` writes it straight through the
one :class:`JsonLineHandler` when nothing else would see the record, the same line
without building a ``LogRecord`` and passing it down the logger tree (measured: that
walk cost as much as the rest of a call's observability).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any, TextIO

import msgspec
from opentelemetry import trace

__all__ = ["JsonFormatter", "JsonLineHandler", "configure_logging", "log_fields", "timestamp"]

_JSON = msgspec.json.Encoder()


# The last whole second formatted, reused by every line written within it.  One tuple,
# assigned at once: a thread never pairs one second with another second's text.
_last_second: tuple[int, str] = (-1, "")


def timestamp(created: float) -> str:
    """``created`` (seconds since the epoch) as RFC 3339 UTC with milliseconds.

    Equal to ``datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")``
    (microseconds rounded half to even, then truncated to milliseconds), at a fifth of
    its cost.
    """
    second = int(created // 1)
    micros = round((created - second) * 1e6)
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    global _last_second  # noqa: PLW0603 - a one-entry cache
    known, text = _last_second
    if second != known:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _last_second = (second, text)
    return f"{text}.{micros // 1000:03d}+00:00"


def _json_line(
    created: float, level: str, logger: str, message: str, *, pid: int | None, fields: object
) -> dict[str, Any]:
    line: dict[str, Any] = {
        "timestamp": timestamp(created),
        "level": level,
        "logger": logger,
        "message": message,
        "pid": pid,  # tells the workers of ``serve --workers`` apart
    }
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        line["trace_id"] = format(context.trace_id, "032x")
        line["span_id"] = format(context.span_id, "016x")
    if isinstance(fields, dict):
        line.update(fields)
    return line


def _encode(line: dict[str, Any]) -> str:
    try:
        return _JSON.encode(line).decode()
    except (TypeError, msgspec.EncodeError):  # a field msgspec does not know: as text
        return json.dumps(line, separators=(",", ":"), default=str)


class JsonFormatter(logging.Formatter):
    """``{"timestamp", "level", "logger", "message", "pid", trace_id?, span_id?, ...fields}``."""

    def format(self, record: logging.LogRecord) -> str:
        line = _json_line(
            record.created,
            record.levelname,
            record.name,
            record.getMessage(),
            pid=record.process,
            fields=getattr(record, "fields", None),
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _encode(line)


class JsonLineHandler(logging.StreamHandler[TextIO]):
    """A stream handler formatting with :class:`JsonFormatter`; also takes a line's parts."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())

    def write_fields(self, level: int, logger: str, message: str, fields: dict[str, Any]) -> None:
        """Write the line :class:`JsonFormatter` would write for such a record."""
        name = logging.getLevelName(level)
        text = _encode(
            _json_line(time.time(), name, logger, message, pid=os.getpid(), fields=fields)
        )
        self.acquire()
        try:
            self.stream.write(text + self.terminator)
            self.stream.flush()
        finally:
            self.release()


def _sole_json_handler(logger: logging.Logger, level: int) -> JsonLineHandler | None:
    """The one handler ``logger``'s records at ``level`` reach, if it is a JSON line handler
    and no filter stands in the way; ``None`` when anything else might see them."""
    found: JsonLineHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if found is not None or type(handler) is not JsonLineHandler or handler.filters:
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    if found is None or level < found.level:
        return None
    return found


def log_fields(logger: logging.Logger, level: int, message: str, fields: dict[str, Any]) -> None:
    """``logger.log(level, message, extra={"fields": fields})``, written directly when
    the line's one destination is a :class:`JsonLineHandler` (the same bytes either way)."""
    if not logger.isEnabledFor(level):
        return
    handler = _sole_json_handler(logger, level)
    if handler is None:
        logger.log(level, message, extra={"fields": fields})
        return
    try:
        handler.write_fields(level, logger.name, message, fields)
    except Exception:
        # Reported as the handler reports a failed emit (to stderr, once), never raised.
        record = logger.makeRecord(logger.name, level, "", 0, message, (), None)
        handler.handleError(record)


def configure_logging(level: str) -> None:
    """Send every logger's records to stderr as JSON lines, at ``level`` and above.

    stdout stays for the ``serve`` banner, which people and tests read as plain text.
    """
    # No caller lookup (file, line, function: never logged here) and no thread names: both
    # cost on every record (the logging module's documented optimisation).
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = JsonLineHandler(sys.stderr)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
