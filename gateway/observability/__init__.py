"""Traces, metrics and logs of the gateway: all OpenTelemetry and Prometheus wiring lives here.

* :mod:`.tracing`: the tracer provider from ``OTEL_*`` variables and the server spans of
  both front ends (:mod:`.grpc_spans`, :mod:`.rest_spans`);
* :mod:`.metrics`: the Prometheus metrics of one process;
* :mod:`.calls`: per-call metrics, log line and SMC attempt spans around the core;
* :mod:`.logs`: JSON log lines.

:class:`Observability` puts them together for ``serve``; the core and the SMC client only
see small hooks (:class:`gateway.core.events.CoreEvents`, attempt observers).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from gateway.observability.calls import CallObserver, CallRecord, ObservedCore, current_call
from gateway.observability.logs import JsonFormatter, configure_logging
from gateway.observability.metrics import CONTENT_TYPE, GatewayMetrics
from gateway.observability.tracing import (
    grpc_server_spans,
    instrument_rest_app,
    tracer_provider_from_env,
)

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = [
    "CONTENT_TYPE",
    "CallObserver",
    "CallRecord",
    "GatewayMetrics",
    "JsonFormatter",
    "Observability",
    "ObservedCore",
    "configure_logging",
    "current_call",
    "grpc_server_spans",
    "instrument_rest_app",
]

log = logging.getLogger("smc_gateway")


class Observability:
    """One process's metrics registry, tracer provider (or none) and call observer."""

    def __init__(self, provider: TracerProvider | None, metrics: GatewayMetrics) -> None:
        self.provider = provider
        self.metrics = metrics
        self.observer = CallObserver(metrics, provider)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Observability:
        """Tracing as ``OTEL_*`` says (off when unset), metrics in a private registry."""
        return cls(tracer_provider_from_env(os.environ if env is None else env), GatewayMetrics())

    @property
    def tracing(self) -> bool:
        return self.provider is not None

    def shutdown(self) -> None:
        """Export the spans still buffered, then stop the exporters."""
        if self.provider is not None:
            self.provider.shutdown()
