"""helm/smc-gateway, the Dockerfile and the gateway agree.

Every ``SMC_GATEWAY_*`` variable the chart sets is a field of ``gateway.config.Settings``, every
``OTEL_*`` one a standard OpenTelemetry variable; the container runs ``smc-gateway serve``; the
Dockerfile's user and ports are the chart's; the chart README's values table is the generated
one; and the image's runtime dependencies are all pinned by requirements.lock.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from importlib import metadata
from types import ModuleType
from typing import Any

import pytest
from helm_chart_support import (
    CHART,
    PRODUCTION_VALUES,
    REPO,
    container,
    container_env,
    load_values,
    render,
)
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gateway.config import ENV_PREFIX, Settings

OTEL_NAMES = frozenset(
    {
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
    }
)
# Chart defaults that differ from the app's on purpose.
CHART_OWN_DEFAULTS = {
    "host": "0.0.0.0 in a pod, 127.0.0.1 on a laptop",
    "smc_endpoint": "the real SMC: the emulator is for development",
    "tenants_file": "the mounted Secret",
    "shutdown_delay_seconds": "pods sit behind Services: endpoints need time to drop them",
}
SECRET_FIELDS = frozenset({"redis_url", "page_token_key"})


def _envs() -> dict[str, dict[str, Any]]:
    tenants = {
        "tenants": [
            {
                "id": "t",
                "apiKeySha256": ["0" * 64],
                "accessKeyId": "id",
                "accessKeySecret": "s",
                "regionId": "cn-hangzhou",
            }
        ]
    }
    value_sets = {
        "default": {},
        "production": load_values(PRODUCTION_VALUES),
        "plain-redis-cors": {
            "redis": {"url": "redis://r:6379/0"},
            "secrets": tenants,
            "config": {"corsAllowOrigins": ["https://a.example"]},
        },
    }
    return {name: container_env(render(values)) for name, values in value_sets.items()}


def test_smc_gateway_variables_are_settings() -> None:
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    for name, env in _envs().items():
        unknown = {v for v in env if v.startswith(ENV_PREFIX)} - fields
        assert not unknown, f"{name}: the chart sets {sorted(unknown)}, not fields of Settings"


def test_otel_variables_are_standard() -> None:
    for name, env in _envs().items():
        unknown = {v for v in env if v.startswith("OTEL_")} - OTEL_NAMES
        assert not unknown, f"{name}: non-standard {sorted(unknown)}"
    production = _envs()["production"]
    assert set(production) >= OTEL_NAMES


def test_configmap_values_parse_as_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chart's plain variables, set in a real environment, load into Settings."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    env = _envs()["plain-redis-cors"]
    for name, value in env.items():
        if name.startswith(ENV_PREFIX) and isinstance(value, str):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv(f"{ENV_PREFIX}REDIS_URL", "redis://r:6379/0")  # a secretKeyRef in the pod
    settings = Settings()
    assert settings.host == "0.0.0.0"
    assert settings.http_port == int(env["SMC_GATEWAY_HTTP_PORT"])
    assert settings.grpc_port == int(env["SMC_GATEWAY_GRPC_PORT"])
    assert settings.cors_allow_origins == ["https://a.example"]
    assert str(settings.tenants_file) == "/etc/smc-gateway/tenants/tenants.yaml"


def test_chart_defaults_are_the_app_defaults() -> None:
    env = _envs()["default"]
    for name, field in Settings.model_fields.items():
        variable = f"{ENV_PREFIX}{name.upper()}"
        if variable not in env or name in CHART_OWN_DEFAULTS or name in SECRET_FIELDS:
            continue
        default = field.get_default(call_default_factory=True)
        chart = env[variable]
        if isinstance(default, bool):
            assert chart == str(default).lower(), name
        elif isinstance(default, int | float):
            assert float(chart) == float(default), name
        else:
            assert chart == str(default), name


def test_container_runs_serve() -> None:
    gateway = container(render())
    assert [*gateway["command"], *gateway["args"]] == ["smc-gateway", "serve"]
    scripts = {ep.name: ep.value for ep in metadata.entry_points(group="console_scripts")}
    assert scripts.get("smc-gateway") == "gateway.cli:main"


def _dockerfile_final_stage() -> list[str]:
    lines: list[str] = []
    for raw in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("FROM "):
            lines = []
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def test_dockerfile_matches_the_chart() -> None:
    stage = _dockerfile_final_stage()
    values = load_values(CHART / "values.yaml")
    (user,) = [line.split()[1] for line in stage if line.startswith("USER ")]
    uid, _, gid = user.partition(":")
    assert (
        int(uid)
        == values["podSecurityContext"]["runAsUser"]
        == values["securityContext"]["runAsUser"]
    )
    assert int(gid) == values["podSecurityContext"]["runAsGroup"]
    (expose,) = [line.split()[1:] for line in stage if line.startswith("EXPOSE ")]
    ports = {p["name"]: p["containerPort"] for p in container(render())["ports"]}
    assert sorted(int(p) for p in expose) == sorted(ports.values())
    assert 'ENTRYPOINT ["smc-gateway"]' in stage
    assert 'CMD ["serve"]' in stage
    text = "\n".join(stage)
    for variable in ("PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"):
        assert variable in text
    assert "COPY --from=builder /opt/venv /opt/venv" in stage
    assert not any(line.startswith("RUN") and "pip install" in line for line in stage)


def test_dockerignore_excludes_local_state() -> None:
    ignored = set((REPO / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".git", ".venv", "tests", "**/node_modules"} <= ignored


def test_runtime_dependencies_are_pinned_by_the_lock() -> None:
    """The image installs the package with requirements.lock as constraints: every runtime
    dependency, transitively, must be pinned there or pip would pick any version."""
    lock = {
        canonicalize_name(line.split("==")[0])
        for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    seen: set[str] = set()
    todo = [Requirement(r) for r in metadata.requires("smc-gateway") or []]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        todo.extend(Requirement(r) for r in metadata.requires(name) or [])
    assert seen
    assert seen - lock == set()


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_values_table", REPO / "helm" / "gen_values_table.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_values_table", module)
    spec.loader.exec_module(module)
    return module


def test_readme_values_table_is_generated() -> None:
    generator = _generator()
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    assert generator.readme_table(readme) == generator.generate(), (
        "run: python helm/gen_values_table.py --write"
    )


def test_every_value_is_documented_and_typed() -> None:
    keys = {row[0] for row in _generator().rows()}
    values = load_values(CHART / "values.yaml")
    assert {
        "config.logLevel",
        "redis.url",
        "redis.existingSecret",
        "otel.endpoint",
        "otel.samplerArg",
        "config.shutdownDelaySeconds",
    } <= keys
    assert set(values) <= {k.split(".")[0] for k in keys}
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    assert _open_objects(schema, "") == []


def _open_objects(node: Any, where: str) -> list[str]:
    """Paths of schema objects with declared properties that accept unknown keys."""
    found: list[str] = []
    if isinstance(node, dict):
        if "properties" in node and node.get("additionalProperties") is not False:
            found.append(where or "<root>")
        for key, child in node.items():
            found.extend(_open_objects(child, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.extend(_open_objects(child, f"{where}/{index}"))
    return found
