"""helm/smc-gateway renders, lints and validates against Kubernetes' own schemas.

The chart is rendered by Helm's engine (helm-python-sdk) for the default values and for
ci/production-values.yaml, linted the way ``helm lint --strict`` does, and every built-in
object is validated with kubernetes-validate in strict mode (unknown fields rejected) for
several Kubernetes minors shipped by that package.  ServiceMonitor is a CRD
(monitoring.coreos.com/v1) with no schema there: it is the only kind skipped, and it is
checked by hand instead.
"""

from __future__ import annotations

from typing import Any

import helm_python as helm
import kubernetes_validate
import kubernetes_validate.utils
import pytest
from helm_chart_support import CHART, PRODUCTION_VALUES, Manifest, load_values, render

# CRD kinds, with no schema in kubernetes-validate: skipped there, asserted on by hand.
CRD_KINDS = frozenset({("monitoring.coreos.com/v1", "ServiceMonitor")})


def _versions() -> list[str]:
    """The newest minor shipped by kubernetes-validate, the one 3 minors older, and 1.29
    (the oldest the chart's kubeVersion admits)."""
    latest = kubernetes_validate.utils.major_minor(kubernetes_validate.utils.latest_version())
    major, minor = (int(part) for part in latest.split("."))
    return sorted({latest, f"{major}.{minor - 3}", "1.29"}, key=lambda v: int(v.split(".")[1]))


VERSIONS = _versions()
VALUE_SETS: dict[str, dict[str, Any]] = {
    "default": {},
    "production": load_values(PRODUCTION_VALUES),
    # The chart's own Secret (tenants, plain Redis URL, page token key) and the optional
    # objects with their default settings.
    "chart-secret": {
        "secrets": {
            "tenants": [
                {
                    "id": "team-a",
                    "apiKeySha256": ["cd" * 32],
                    "accessKeyId": "LTAI5tExampleKeyId",
                    "accessKeySecret": "not-a-real-secret",
                    "securityToken": "not-a-real-token",
                    "regionId": "cn-shanghai",
                    "allowedMethods": ["ListSourceServers"],
                }
            ]
        },
        "redis": {"url": "redis://redis-master:6379/0"},
        "pageTokenKey": {"value": "not-a-real-key"},
        "autoscaling": {"enabled": True},
        "networkPolicy": {"enabled": True},
        "ingress": {"enabled": True, "hosts": [{"host": "gw.example.com"}]},
    },
}


def test_versions_are_shipped() -> None:
    shipped = {
        kubernetes_validate.utils.major_minor(v) for v in kubernetes_validate.utils.all_versions()
    }
    assert len(VERSIONS) >= 2
    assert set(VERSIONS) <= shipped


@pytest.mark.parametrize("values_name", sorted(VALUE_SETS))
def test_lint_is_clean(values_name: str) -> None:
    report = helm.lint(CHART, VALUE_SETS[values_name] or None, strict=True, namespace="gateway")
    assert report["errors"] == []
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert problems == []


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("values_name", sorted(VALUE_SETS))
def test_every_builtin_object_is_valid(values_name: str, version: str) -> None:
    objects = render(VALUE_SETS[values_name])
    validated = 0
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.utils.ValidationError as error:
            name = f"{obj['kind']}/{obj['metadata']['name']}"
            pytest.fail(f"{name} invalid for {version}: {error.message} at {list(error.path)}")
        validated += 1
    assert validated == len(objects) - sum(
        (o["apiVersion"], o["kind"]) in CRD_KINDS for o in objects
    )


def test_expected_kinds() -> None:
    def kinds(objects: list[Manifest]) -> set[str]:
        return {o["kind"] for o in objects}

    assert kinds(render(VALUE_SETS["default"])) == {
        "ConfigMap",
        "Deployment",
        "PodDisruptionBudget",
        "Secret",
        "Service",
        "ServiceAccount",
    }
    assert kinds(render(VALUE_SETS["production"])) == {
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
        "ServiceMonitor",
    }


def test_service_monitor_by_hand() -> None:
    (monitor,) = [o for o in render(VALUE_SETS["production"]) if o["kind"] == "ServiceMonitor"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(monitor["spec"]) == {"selector", "endpoints"}
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s"}
    ]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"replicaCuont": 3}, "replicaCuont"),
        ({"config": {"logLevel": "VERBOSE"}}, "logLevel"),
        ({"replicaCount": "three"}, "replicaCount"),
        ({"service": {"httpPort": 80.5}}, "httpPort"),
        ({"redis": {"failOpen": "yes"}}, "failOpen"),
    ],
)
def test_schema_rejects_bad_values(values: dict[str, Any], needle: str) -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError) as caught:
        chart.render(values, name="smc", namespace="gateway")
    assert needle in str(caught.value)
    assert "schema" in str(caught.value).lower()


def test_missing_tenants_source_fails_with_the_key() -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmError, match="secrets"):
        chart.render({"secrets": {"create": False}}, name="smc", namespace="gateway")
