"""Rendering helm/smc-gateway with the real Helm engine (helm-python-sdk), for the chart tests.

No cluster and no ``helm`` binary: ``helm_python`` binds Helm's Go SDK.  Rendered manifests are
parsed into plain dicts; renders are cached per values, as the engine is deterministic except
for the generated page token key (absent whenever ``pageTokenKey`` is given).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

__all__ = [
    "CHART",
    "NAMESPACE",
    "PRODUCTION_VALUES",
    "RELEASE",
    "REPO",
    "Manifest",
    "by_kind",
    "container",
    "container_env",
    "load_values",
    "only",
    "render",
    "render_text",
]

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "helm" / "smc-gateway"
PRODUCTION_VALUES = CHART / "ci" / "production-values.yaml"
RELEASE = "smc"
NAMESPACE = "gateway"

Manifest = dict[str, Any]


def load_values(path: Path) -> dict[str, Any]:
    """A values file as a dict."""
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


@cache
def _render_json(values_json: str) -> dict[str, str]:
    values = json.loads(values_json)
    with helm.Chart.load(CHART) as chart:
        return chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def render_text(values: dict[str, Any] | None = None) -> dict[str, str]:
    """Template path -> rendered text (NOTES.txt included)."""
    return _render_json(json.dumps(values or {}, sort_keys=True))


def render(values: dict[str, Any] | None = None) -> list[Manifest]:
    """Every Kubernetes object the chart renders for ``values`` (NOTES.txt excluded)."""
    objects: list[Manifest] = []
    for path, text in sorted(render_text(values).items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def by_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    """The objects of one kind."""
    return [o for o in objects if o["kind"] == kind]


def only(objects: list[Manifest], kind: str) -> Manifest:
    """The single object of ``kind``; fails when there are none or several."""
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def container(objects: list[Manifest]) -> Manifest:
    """The gateway container of the Deployment."""
    containers: list[Manifest] = only(objects, "Deployment")["spec"]["template"]["spec"][
        "containers"
    ]
    assert [c["name"] for c in containers] == ["gateway"]
    return containers[0]


def container_env(objects: list[Manifest]) -> dict[str, Any]:
    """The container's environment: ConfigMap entries (envFrom), then ``env`` entries.

    A plain value maps to its string; a ``valueFrom`` maps to its source dict.
    """
    gateway = container(objects)
    configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in by_kind(objects, "ConfigMap")}
    env: dict[str, Any] = {}
    for source in gateway.get("envFrom", []):
        env.update(configmaps[source["configMapRef"]["name"]])
    for entry in gateway.get("env", []):
        env[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return env
