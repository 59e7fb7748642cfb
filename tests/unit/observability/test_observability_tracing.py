"""Tracing configuration from ``OTEL_*``: off unless asked, the default sampler, bad values."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import sampling

from gateway.observability.tracing import (
    exporter_names,
    sampler_from_env,
    tracer_provider_from_env,
)
from gateway.rest.app import build_rest_app


def test_no_settings_no_provider() -> None:
    assert exporter_names({}) == []
    assert tracer_provider_from_env({}) is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "otlp, console"}, ["otlp", "console"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, []),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}, []),
    ],
)
def test_exporters(env: dict[str, str], expected: list[str]) -> None:
    assert exporter_names(env) == expected


def test_default_sampler_is_parent_based_ten_percent() -> None:
    sampler = sampler_from_env({})
    assert isinstance(sampler, sampling.ParentBased)
    description = sampler.get_description()  # type: ignore[no-untyped-call]
    assert "root:TraceIdRatioBased{0.1}" in description
    assert "remoteParentSampled:AlwaysOnSampler" in description


@pytest.mark.parametrize(
    ("env", "description"),
    [
        ({"OTEL_TRACES_SAMPLER": "always_on"}, "AlwaysOnSampler"),
        ({"OTEL_TRACES_SAMPLER": "always_off"}, "AlwaysOffSampler"),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5"}, "{0.5}"),
        ({"OTEL_TRACES_SAMPLER_ARG": "1.0"}, "TraceIdRatioBased{1.0}"),
        ({"OTEL_TRACES_SAMPLER": "parentbased_always_on"}, "root:AlwaysOnSampler"),
    ],
)
def test_sampler_from_env(env: dict[str, str], description: str) -> None:
    assert description in sampler_from_env(env).get_description()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER"),
        ({"OTEL_TRACES_SAMPLER_ARG": "lots"}, "OTEL_TRACES_SAMPLER_ARG"),
        ({"OTEL_TRACES_SAMPLER_ARG": "2"}, "OTEL_TRACES_SAMPLER_ARG"),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        tracer_provider_from_env({"OTEL_TRACES_EXPORTER": "console", **env})


def test_provider_has_the_service_name_unless_set() -> None:
    provider = tracer_provider_from_env({"OTEL_TRACES_EXPORTER": "console"})
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "smc-gateway"
    provider.shutdown()


def test_fastapi_native_telemetry_is_off() -> None:
    """One HTTP instrumentation only: FastAPI's built-in layer never turns itself on."""

    class NoCore:
        async def call(self, *_: object) -> object:
            raise NotImplementedError

        def watch(self, *_: object) -> object:
            raise NotImplementedError

    app = build_rest_app(NoCore())  # type: ignore[arg-type]
    assert isinstance(app, FastAPI)
    config = app._telemetry  # FastAPI keeps its telemetry config here (0.16x)
    assert (config["tracing"], config["metrics"], config["logs"]) == (False, False, False)
