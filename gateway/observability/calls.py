"""Per-call observability around the core: one log line, metrics, SMC attempt spans.

:class:`ObservedCore` wraps the core for both front ends, so the call's latency, final
code and tenant are measured in one place, and keeps a :class:`CallRecord` in a
contextvar for the call's task.  The SMC client's attempt observer and the core's event
hook (both run in that task) add to the record and to the current span.

Why the SMC attempt span is made here and not by ``opentelemetry-instrumentation-aiohttp-
client``: the attempt is the unit that carries SMC's meaning (Action, RequestId, Code,
attempt number), and :class:`gateway.smc.client.SmcClient` already reports each one to
observers, whatever transport it uses (tests use in-memory transports).  The aiohttp
instrumentation would add one more span per attempt around the same HTTP exchange (or
need a contextvar relay into its hooks to carry the same facts), against the cap of a few
recorded spans per call.  The span is recorded after the attempt with its real start
time; nothing downstream reads a ``traceparent`` (SMC does not), so no context has to be
propagated during it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from google.protobuf.message import Message
from opentelemetry import trace

from gateway.core.context import CallContext
from gateway.core.errors import GatewayError
from gateway.core.events import IdempotencyDecision
from gateway.observability.logs import log_fields
from gateway.observability.metrics import GatewayMetrics
from gateway.smc.client import Attempt
from gateway.smc.errors import SmcApiError, SmcError, SmcTransportError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = ["CallObserver", "CallRecord", "ObservedCore", "current_call"]

access_log = logging.getLogger("smc_gateway.access")
log = logging.getLogger("smc_gateway")


@dataclass(slots=True)
class CallRecord:
    """What one call did upstream, filled while it runs."""

    ctx: CallContext
    attempts: int = 0
    smc_action: str | None = None
    smc_request_id: str | None = None


current_call: ContextVar[CallRecord | None] = ContextVar("smc_gateway_call", default=None)


class Core(Protocol):
    """The core as both front ends see it (``gateway.core.gateway.Gateway``)."""

    async def call(self, name: str, ctx: CallContext, request: Message) -> Message: ...

    def watch(self, ctx: CallContext, request: Message) -> AsyncIterator[Message]: ...


def _attempt_code(attempt: Attempt) -> str:
    """A bounded label for an attempt's outcome: OK, SMC's Code, or the failure class."""
    error = attempt.error
    if error is None:
        return "OK"
    if isinstance(error, SmcApiError):
        return error.code
    if isinstance(error, SmcTransportError):
        return "TransportError"
    return type(error).__name__.removeprefix("Smc").removesuffix("Error") or "Error"


class CallObserver:
    """Turns attempts and core decisions into metrics, span events and the call record.

    Implements :class:`gateway.core.events.CoreEvents` and is an ``AttemptObserver``.
    """

    def __init__(self, metrics: GatewayMetrics, provider: TracerProvider | None) -> None:
        self.metrics = metrics
        self._tracer = provider.get_tracer("gateway.smc") if provider is not None else None

    # --- SMC attempts -------------------------------------------------------------------

    def __call__(self, attempt: Attempt) -> None:
        code = _attempt_code(attempt)
        self.metrics.upstream_attempts_of(attempt.action, code).inc()
        self.metrics.upstream_latency_of(attempt.action).observe(attempt.seconds)
        if attempt.retry_delay is not None:
            self.metrics.retries.labels(attempt.action).inc()
        record = current_call.get()
        if record is not None:
            record.attempts += 1
            record.smc_action = attempt.action
            record.smc_request_id = attempt.request_id or record.smc_request_id
        if self._tracer is not None and _may_record_child():
            self._span(attempt, record)

    def _span(self, attempt: Attempt, record: CallRecord | None) -> None:
        assert self._tracer is not None
        end = time.time_ns()
        span = self._tracer.start_span(
            f"SMC {attempt.action}",
            kind=trace.SpanKind.CLIENT,
            start_time=end - int(attempt.seconds * 1e9),
        )
        if span.is_recording():
            region = attempt.region_id or (record.ctx.region_id if record else None)
            attributes: dict[str, str | int] = {
                "cloud.provider": "alibaba_cloud",
                "rpc.system": "alibaba_cloud_rpc",
                "rpc.service": "smc",
                "rpc.method": attempt.action,
                "smc.action": attempt.action,
                "smc.attempt": attempt.number,
            }
            if region:
                attributes["cloud.region"] = region
            if record is not None and record.ctx.tenant_id:
                attributes["smc_gateway.tenant.id"] = record.ctx.tenant_id
            if attempt.request_id:
                attributes["smc.request_id"] = attempt.request_id
            if attempt.http_status is not None:
                attributes["http.response.status_code"] = attempt.http_status
            error = attempt.error
            if error is not None:
                attributes["smc.error_code"] = _attempt_code(attempt)
                attributes["error.type"] = _attempt_code(attempt)
                span.set_status(trace.StatusCode.ERROR, _safe_text(error))
            span.set_attributes(attributes)
            if attempt.retry_delay is not None:
                span.add_event(
                    "smc.retry",
                    {"smc.retry.delay_seconds": attempt.retry_delay, "smc.attempt": attempt.number},
                )
        span.end(end_time=end)

    # --- the core's decisions (CoreEvents) ------------------------------------------------

    def rate_limited(self, tenant_id: str, budget: str, retry_after: float) -> None:
        self.metrics.rate_limited.labels(tenant_id, budget).inc()
        trace.get_current_span().add_event(
            "rate_limited", {"budget": budget, "retry_after_seconds": retry_after}
        )

    def idempotency(self, tenant_id: str, decision: IdempotencyDecision) -> None:
        self.metrics.idempotency.labels(decision).inc()
        trace.get_current_span().add_event("idempotency", {"decision": decision})

    def store_error(self, component: str, error: Exception) -> None:
        self.metrics.store_errors.labels(component).inc()
        trace.get_current_span().add_event("store_error", {"component": component})


def _may_record_child() -> bool:
    """False inside an unsampled call: its children would not be recorded either.

    Every standard sampler agrees (parent-based ones follow the parent; a trace-id ratio
    gives the same answer for the same trace), so the attempt span is not even started.
    """
    current = trace.get_current_span()
    return current.is_recording() or not current.get_span_context().is_valid


def _safe_text(error: SmcError) -> str:
    # SMC's messages name parameters and ids, never the caller's secret (it only sees the
    # signature); still, keep the span description short.
    return str(error)[:200]


class ObservedCore:
    """The core with per-call metrics, one JSON log line per call and the call record."""

    def __init__(self, core: Core, metrics: GatewayMetrics) -> None:
        self._core = core
        self._metrics = metrics

    async def call(self, name: str, ctx: CallContext, request: Message) -> Message:
        record = CallRecord(ctx)
        token = current_call.set(record)
        in_flight = self._metrics.in_flight_of(ctx.frontend)
        in_flight.inc()
        started = time.perf_counter()
        code, http_status = "OK", 200
        try:
            return await self._core.call(name, ctx, request)
        except GatewayError as error:
            code, http_status = error.status_name, error.http_status
            raise
        except Exception:
            code, http_status = "INTERNAL", 500
            raise
        except BaseException:  # cancelled: the caller went away or the server stopped
            code, http_status = "CANCELLED", 499
            raise
        finally:
            seconds = time.perf_counter() - started
            in_flight.dec()
            current_call.reset(token)
            self._finish(record, code, http_status, seconds)

    def watch(self, ctx: CallContext, request: Message) -> AsyncIterator[Message]:
        return self._core.watch(ctx, request)

    def _finish(self, record: CallRecord, code: str, http_status: int, seconds: float) -> None:
        ctx = record.ctx
        tenant = ctx.tenant_id or ""
        self._metrics.requests_of(ctx.frontend, ctx.method, code, tenant).inc()
        self._metrics.latency_of(ctx.frontend, ctx.method).observe(seconds)
        if not access_log.isEnabledFor(logging.INFO):
            return
        fields: dict[str, object] = {
            "tenant": ctx.tenant_id,
            "frontend": ctx.frontend,
            "method": ctx.method,
            "code": code,
            "latency_ms": round(seconds * 1000, 3),
            "smc_action": record.smc_action,
            "smc_request_id": record.smc_request_id,
            "attempts": record.attempts,
        }
        if ctx.frontend == "rest":
            fields["http_status"] = http_status
        log_fields(access_log, logging.INFO, "call", fields)
