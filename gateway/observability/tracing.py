"""OpenTelemetry tracing, configured only by the standard ``OTEL_*`` environment variables.

Nothing is set up, and nothing costs anything, unless an exporter is configured:

* ``OTEL_TRACES_EXPORTER``: ``otlp``, ``console`` (to stderr, for development) or
  ``none``, comma-separated.  Unset: ``otlp`` when ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set, otherwise no tracing at all (the SDK's own
  default would export to localhost:4318 and log failures on every batch).
* ``OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL``: ``http/protobuf`` (default) or ``grpc``; the
  exporters read their endpoint, headers and timeout from the environment themselves.
  They are the official ones with a faster encoding of each batch (:mod:`.otlp`).
* ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``: the standard sampler names.  The
  gateway's default is ``parentbased_traceidratio`` with 0.1, not the SDK's
  ``parentbased_always_on``: a recorded span costs ~90 µs of Python, so one request in ten
  is traced unless the caller's ``traceparent`` says it is sampled.
* ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES``: the resource (service name
  ``smc-gateway`` unless set); ``OTEL_SDK_DISABLED=true`` turns everything off.

The provider is the process's own, handed to the instrumentations, never installed as
the global one: FastAPI ≥ 0.16x ships a built-in telemetry layer that switches itself on
when a global SDK provider exists (the app also disables it explicitly), and tests run
several gateways in one interpreter.

Spans per call: the server span (the gateway's own, for both front ends:
:class:`~gateway.observability.grpc_spans.GrpcServerSpans` and
:class:`~gateway.observability.rest_spans.RestServerSpans`; both ask the sampler before any
other work) and one client span per SMC attempt.
Rate-limit and idempotency decisions and retries are span events, not spans.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider, sampling
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.sdk.trace.sampling import Sampler

from gateway.observability.grpc_spans import GrpcServerSpans
from gateway.observability.otlp import GrpcSpanExporter, HttpSpanExporter
from gateway.observability.rest_spans import RestServerSpans
from gateway.rest.app import RestApp

__all__ = [
    "DEFAULT_SAMPLER",
    "DEFAULT_SAMPLER_ARG",
    "exporter_names",
    "grpc_server_spans",
    "instrument_rest_app",
    "sampler_from_env",
    "tracer_provider_from_env",
]

DEFAULT_SAMPLER = "parentbased_traceidratio"
DEFAULT_SAMPLER_ARG = 0.1
SERVICE_NAME = "smc-gateway"
_EXPORTERS = frozenset({"otlp", "console", "none"})
_PROTOCOLS = frozenset({"http/protobuf", "grpc"})
# Paths probed by kubelets and Prometheus many times a minute: never traced.
_UNTRACED_PATHS = ("/healthz", "/readyz", "/metrics")


def exporter_names(env: Mapping[str, str]) -> list[str]:
    """The trace exporters the environment asks for (empty: tracing off)."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    given = env.get("OTEL_TRACES_EXPORTER", "").strip()
    if not given:
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return ["otlp"] if endpoint else []
    names = [name.strip().lower() for name in given.split(",") if name.strip()]
    unknown = sorted(set(names) - _EXPORTERS)
    if unknown:
        raise ValueError(f"OTEL_TRACES_EXPORTER: unsupported exporter(s) {unknown}")
    return [name for name in names if name != "none"]


def _ratio(env: Mapping[str, str], default: float) -> float:
    text = env.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    if not text:
        return default
    try:
        ratio = float(text)
    except ValueError:
        raise ValueError(f"OTEL_TRACES_SAMPLER_ARG: not a number: {text!r}") from None
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"OTEL_TRACES_SAMPLER_ARG: {ratio} is not between 0 and 1")
    return ratio


def sampler_from_env(env: Mapping[str, str]) -> Sampler:
    """The sampler named by ``OTEL_TRACES_SAMPLER[_ARG]``; default parent-based 10 %.

    An unknown name fails start-up (naming the variable) instead of silently sampling
    everything, as the SDK would.
    """
    name = env.get("OTEL_TRACES_SAMPLER", "").strip().lower() or DEFAULT_SAMPLER
    ratio = _ratio(env, DEFAULT_SAMPLER_ARG if name == DEFAULT_SAMPLER else 1.0)
    samplers: dict[str, Sampler] = {
        "always_on": sampling.ALWAYS_ON,
        "always_off": sampling.ALWAYS_OFF,
        "parentbased_always_on": sampling.ParentBased(sampling.ALWAYS_ON),
        "parentbased_always_off": sampling.ParentBased(sampling.ALWAYS_OFF),
    }
    if name == "traceidratio":
        return sampling.TraceIdRatioBased(ratio)
    if name == "parentbased_traceidratio":
        return sampling.ParentBased(sampling.TraceIdRatioBased(ratio))
    if name not in samplers:
        raise ValueError(f"OTEL_TRACES_SAMPLER: unsupported sampler {name!r}")
    return samplers[name]


def _otlp_exporter(env: Mapping[str, str]) -> Any:
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol not in _PROTOCOLS:
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL: unsupported protocol {protocol!r}")
    if protocol == "grpc":
        return GrpcSpanExporter()
    return HttpSpanExporter()


def tracer_provider_from_env(env: Mapping[str, str]) -> TracerProvider | None:
    """A tracer provider as the environment describes, or ``None`` when tracing is off.

    Without ``OTEL_*`` settings no provider exists and no instrumentation is installed,
    so a call pays nothing for tracing.  Raises ``ValueError`` naming the variable on a bad value.
    """
    exporters = exporter_names(env)
    if not exporters:
        return None
    named = "OTEL_SERVICE_NAME" in env or "service.name=" in env.get("OTEL_RESOURCE_ATTRIBUTES", "")
    resource = Resource.create({} if named else {"service.name": SERVICE_NAME})
    provider = TracerProvider(sampler=sampler_from_env(env), resource=resource)
    for name in exporters:
        if name == "console":
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
        else:
            provider.add_span_processor(BatchSpanProcessor(_otlp_exporter(env)))
    return provider


def grpc_server_spans(provider: TracerProvider | None) -> GrpcServerSpans | None:
    """Server spans for the API's gRPC methods (:class:`GrpcServerSpans`); none untraced.

    Health checks and reflection are not API methods and are never traced.
    """
    if provider is None:
        return None
    return GrpcServerSpans(provider.get_tracer("gateway.grpc"))


def instrument_rest_app(app: FastAPI, provider: TracerProvider | None) -> None:
    """Server spans for the REST facade (:class:`RestServerSpans`); nothing without tracing.

    The app is built with FastAPI's native telemetry off (see
    :func:`gateway.rest.app.build_rest_app`), so this is its one HTTP instrumentation.
    """
    if provider is None:
        return
    tracer = provider.get_tracer("gateway.rest")
    if isinstance(app, RestApp):  # the API's calls bypass the framework's middleware
        app.wrap_api(lambda inner: RestServerSpans(inner, tracer, _UNTRACED_PATHS))
    app.add_middleware(
        RestServerSpans,
        tracer=tracer,
        untraced=_UNTRACED_PATHS,
    )
