"""What helm/smc-gateway renders: security, probes, secrets as files, checksums, policies."""

from __future__ import annotations

import base64
import copy
from typing import Any

from helm_chart_support import (
    PRODUCTION_VALUES,
    Manifest,
    by_kind,
    container,
    container_env,
    load_values,
    only,
    render,
)

AK_SECRET = "aks-Zq8wT1nV4mR7pL2x"  # the AccessKey secret of the test tenant
STS_TOKEN = "sts-CAIS9kJ3hQ0pW6yE"
REDIS_PASSWORD = "redis-pw-Xf5Gd8Lk"  # in a plain redis.url
PAGE_KEY = "page-key-Rt7Hy2Mn"

TENANT_VALUES: dict[str, Any] = {
    "secrets": {
        "tenants": [
            {
                "id": "team-a",
                "apiKeySha256": ["ab" * 32],
                "accessKeyId": "LTAI5tExampleKeyId",
                "accessKeySecret": AK_SECRET,
                "securityToken": STS_TOKEN,
                "regionId": "cn-hangzhou",
            }
        ]
    },
    "redis": {"url": f"redis://:{REDIS_PASSWORD}@redis-master:6379/0"},
    "pageTokenKey": {"value": PAGE_KEY},
}


def _with(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    values = copy.deepcopy(base)
    node = values
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return values


def _pod_spec(objects: list[Manifest]) -> Manifest:
    spec: Manifest = only(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def _annotations(values: dict[str, Any]) -> dict[str, str]:
    annotations: dict[str, str] = only(render(values), "Deployment")["spec"]["template"][
        "metadata"
    ]["annotations"]
    return annotations


def test_secure_defaults() -> None:
    objects = render()
    pod = _pod_spec(objects)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["runAsGroup"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert only(objects, "ServiceAccount")["automountServiceAccountToken"] is False
    context = container(objects)["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == 10001
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    resources = container(objects)["resources"]
    assert set(resources) == {"requests", "limits"}
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert "emptyDir" in tmp
    mounts = {m["name"]: m["mountPath"] for m in container(objects)["volumeMounts"]}
    assert mounts["tmp"] == "/tmp"  # noqa: S108 (an emptyDir: the one writable path)


def test_replicas_and_spread() -> None:
    objects = render()
    assert only(objects, "Deployment")["spec"]["replicas"] == 2
    keys = {c["topologyKey"] for c in _pod_spec(objects)["topologySpreadConstraints"]}
    assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}


def test_probes_use_the_real_ports_and_paths() -> None:
    for values in ({}, load_values(PRODUCTION_VALUES), {"service": {"httpPort": 9000}}):
        objects = render(values)
        gateway = container(objects)
        ports = {p["name"]: p["containerPort"] for p in gateway["ports"]}
        env = container_env(objects)
        assert env["SMC_GATEWAY_HTTP_PORT"] == str(ports["http"])
        assert env["SMC_GATEWAY_GRPC_PORT"] == str(ports["grpc"])
        assert env["SMC_GATEWAY_HOST"] == "0.0.0.0"
        probes = {
            name: gateway[f"{name}Probe"]["httpGet"]
            for name in ("readiness", "liveness", "startup")
        }
        assert probes["readiness"]["path"] == "/readyz"
        assert probes["liveness"]["path"] == "/healthz"
        assert probes["startup"]["path"] == "/healthz"
        for probe in probes.values():
            assert probe["port"] in (ports["http"], "http")


def test_termination_grace_covers_delay_and_drain() -> None:
    for values in ({}, load_values(PRODUCTION_VALUES)):
        objects = render(values)
        env = container_env(objects)
        delay = float(env["SMC_GATEWAY_SHUTDOWN_DELAY_SECONDS"])
        grace = float(env["SMC_GATEWAY_SHUTDOWN_GRACE_SECONDS"])
        assert delay > 0
        assert _pod_spec(objects)["terminationGracePeriodSeconds"] > delay + grace
        assert "lifecycle" not in container(objects)  # the app itself serves through the delay


def test_checksums_follow_config_and_secret() -> None:
    base = _annotations(TENANT_VALUES)
    assert base == _annotations(TENANT_VALUES)  # stable for the same values
    config_changed = _annotations(_with(TENANT_VALUES, "config.logLevel", "DEBUG"))
    assert config_changed["checksum/config"] != base["checksum/config"]
    assert config_changed["checksum/secret"] == base["checksum/secret"]
    changed_tenants = copy.deepcopy(TENANT_VALUES["secrets"]["tenants"])
    changed_tenants[0]["accessKeySecret"] = "rotated-secret"
    secret_changed = _annotations(_with(TENANT_VALUES, "secrets.tenants", changed_tenants))
    assert secret_changed["checksum/secret"] != base["checksum/secret"]
    assert secret_changed["checksum/config"] == base["checksum/config"]


def test_secrets_are_files_and_never_in_the_configmap() -> None:
    objects = render(TENANT_VALUES)
    pod = _pod_spec(objects)
    secret = only(objects, "Secret")
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in container(objects)["volumeMounts"]}
    for name, path in (
        ("tenants", "/etc/smc-gateway/tenants"),
        ("secrets", "/etc/smc-gateway/secrets"),
    ):
        assert volumes[name]["secret"]["secretName"] == secret["metadata"]["name"]
        assert mounts[name]["mountPath"] == path
        assert mounts[name]["readOnly"] is True
        assert "subPath" not in mounts[name]  # subPath mounts never see Secret updates
    files = {item["path"] for item in volumes["secrets"]["secret"]["items"]}
    assert {"team-a", "team-a-sts"} <= files
    assert "redis-url" not in files
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data["team-a"] == AK_SECRET
    assert data["team-a-sts"] == STS_TOKEN
    assert "access_key_secret_file: /etc/smc-gateway/secrets/team-a\n" in data["tenants.yaml"]
    assert "security_token_file: /etc/smc-gateway/secrets/team-a-sts" in data["tenants.yaml"]
    assert AK_SECRET not in data["tenants.yaml"]
    env = container_env(objects)
    assert env["SMC_GATEWAY_TENANTS_FILE"] == "/etc/smc-gateway/tenants/tenants.yaml"
    assert env["SMC_GATEWAY_REDIS_URL"] == {
        "secretKeyRef": {"name": secret["metadata"]["name"], "key": "redis-url"}
    }
    assert env["SMC_GATEWAY_PAGE_TOKEN_KEY"] == {
        "secretKeyRef": {"name": secret["metadata"]["name"], "key": "page-token-key"}
    }
    # Nothing secret outside the Secret: ConfigMap data, or plain env values.
    plain = " ".join(str(v) for v in only(objects, "ConfigMap")["data"].values())
    plain += " ".join(str(e.get("value", "")) for e in container(objects)["env"])
    for secret_value in (AK_SECRET, STS_TOKEN, REDIS_PASSWORD, PAGE_KEY):
        assert secret_value not in plain


def test_existing_secrets_are_referenced() -> None:
    objects = render(load_values(PRODUCTION_VALUES))
    assert by_kind(objects, "Secret") == []
    volumes = {v["name"]: v["secret"] for v in _pod_spec(objects)["volumes"] if "secret" in v}
    assert volumes["secrets"] == {"secretName": "smc-gateway-tenants", "defaultMode": 0o440}
    assert volumes["tenants"]["secretName"] == "smc-gateway-tenants"
    env = container_env(objects)
    assert env["SMC_GATEWAY_REDIS_URL"] == {
        "secretKeyRef": {"name": "smc-gateway-redis", "key": "url"}
    }
    assert env["SMC_GATEWAY_PAGE_TOKEN_KEY"] == {
        "secretKeyRef": {"name": "smc-gateway-page-token", "key": "key"}
    }


def test_service_app_protocols() -> None:
    ports = only(render(), "Service")["spec"]["ports"]
    assert {(p["name"], p["port"], p["targetPort"], p["appProtocol"]) for p in ports} == {
        ("grpc", 50051, "grpc", "grpc"),
        ("http", 8080, "http", "http"),
    }


def test_pdb_and_hpa() -> None:
    assert by_kind(render(), "HorizontalPodAutoscaler") == []
    assert by_kind(render({"podDisruptionBudget": {"enabled": False}}), "PodDisruptionBudget") == []
    objects = render(load_values(PRODUCTION_VALUES))
    deployment = only(objects, "Deployment")
    assert "replicas" not in deployment["spec"]  # the HPA owns it
    hpa = only(objects, "HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert hpa["minReplicas"] == 3
    assert [m["type"] for m in hpa["metrics"]] == ["Resource", "Pods"]
    pdb = only(objects, "PodDisruptionBudget")["spec"]
    assert pdb["minAvailable"] == 2
    assert pdb["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_network_policy_ports() -> None:
    objects = render(load_values(PRODUCTION_VALUES))
    policy = only(objects, "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["podSelector"] == only(objects, "Deployment")["spec"]["selector"]
    (ingress,) = policy["ingress"]
    assert {p["port"] for p in ingress["ports"]} == {"grpc", "http"}
    egress = [
        ({(p["port"], p["protocol"]) for p in rule["ports"]}, rule.get("to"))
        for rule in policy["egress"]
    ]
    assert egress[0][0] == {(53, "UDP"), (53, "TCP")}
    assert egress[1] == ({(443, "TCP")}, [{"ipBlock": {"cidr": "0.0.0.0/0"}}])
    assert egress[2][0] == {(6379, "TCP")}
    assert egress[3][0] == {(4317, "TCP")}
    assert by_kind(render(), "NetworkPolicy") == []


def test_ingress_routes_to_http() -> None:
    objects = render(load_values(PRODUCTION_VALUES))
    (rule,) = only(objects, "Ingress")["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"]["port"] == {"name": "http"}
    assert path["backend"]["service"]["name"] == only(objects, "Service")["metadata"]["name"]
