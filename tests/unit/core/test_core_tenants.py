"""Tenants: authentication, method permissions and the tenants file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.core.errors import PermissionDeniedError, UnauthenticatedError
from gateway.core.tenants import Rate, RateLimits, Tenant, TenantDirectory, api_key_digest
from gateway.core.tenants_file import TenantsFileError, load_tenants_file, parse_tenants
from gateway.smc.credentials import Credentials

KEY_A, KEY_B = "key-for-team-a", "key-for-team-b"


def tenant(name: str, key: str, methods: frozenset[str] = frozenset({"*"})) -> Tenant:
    return Tenant(
        id=name,
        api_key_sha256=frozenset({api_key_digest(key)}),
        credentials=Credentials(f"LTAI{name}", f"secret-{name}"),
        region_id="cn-hangzhou",
        allowed_methods=methods,
    )


def test_key_selects_its_tenant() -> None:
    directory = TenantDirectory([tenant("team-a", KEY_A), tenant("team-b", KEY_B)])
    assert directory.authenticate(KEY_A, "ListSourceServers").id == "team-a"
    assert directory.authenticate(KEY_B, "ListSourceServers").id == "team-b"
    found = directory.authenticate(KEY_B, "ListSourceServers")
    assert found.credentials.access_key_id == "LTAIteam-b"


@pytest.mark.parametrize(("key", "reason"), [(None, "MISSING_API_KEY"), ("", "MISSING_API_KEY"),
                                             ("wrong", "INVALID_API_KEY"),
                                             (KEY_A + " ", "INVALID_API_KEY")])  # fmt: skip
def test_missing_or_unknown_key_is_unauthenticated(key: str | None, reason: str) -> None:
    directory = TenantDirectory([tenant("team-a", KEY_A)])
    with pytest.raises(UnauthenticatedError) as caught:
        directory.authenticate(key, "ListSourceServers")
    assert caught.value.reason == reason
    assert KEY_A not in caught.value.message


def test_read_only_tenant_cannot_write() -> None:
    reader = tenant("reader", KEY_A, frozenset({"ListSourceServers", "GetSourceServer"}))
    directory = TenantDirectory([reader])
    assert directory.authenticate(KEY_A, "GetSourceServer").id == "reader"
    with pytest.raises(PermissionDeniedError) as caught:
        directory.authenticate(KEY_A, "DeleteSourceServer")
    assert caught.value.reason == "METHOD_NOT_ALLOWED"
    assert caught.value.metadata == {"tenant": "reader", "method": "DeleteSourceServer"}


def test_duplicate_tenant_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="defined twice"):
        TenantDirectory([tenant("a", KEY_A), tenant("a", KEY_B)])


def entry(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "team-a",
        "api_key_sha256": [api_key_digest(KEY_A)],
        "access_key_id": "LTAIteamA",
        "access_key_secret_env": "TEAM_A_SECRET",
        "region_id": "cn-hangzhou",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


ENV = {"TEAM_A_SECRET": "s3cret-a"}


def test_file_with_secret_file_and_sts_token(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("from-file\n")
    (tmp_path / "sts").write_text("sts-token\n")
    (tmp_path / "tenants.yaml").write_text(
        "tenants:\n"
        "  - id: team-a\n"
        f"    api_key_sha256: ['{api_key_digest(KEY_A)}']\n"
        "    access_key_id: LTAIteamA\n"
        f"    access_key_secret_file: {tmp_path / 'secret'}\n"
        f"    security_token_file: {tmp_path / 'sts'}\n"
        "    region_id: cn-shanghai\n"
        "    allowed_methods: [ListSourceServers]\n"
    )
    (loaded,) = load_tenants_file(tmp_path / "tenants.yaml", env={})
    assert loaded.id == "team-a"
    assert loaded.credentials == Credentials("LTAIteamA", "from-file", "sts-token")
    assert loaded.region_id == "cn-shanghai"
    assert loaded.allowed_methods == frozenset({"ListSourceServers"})
    assert "from-file" not in repr(loaded)


def test_rate_limits_are_read() -> None:
    limits = {
        "read": {"per_second": 2.5, "burst": 5},
        "methods": {"CreateReplicationJob": {"per_second": 1, "burst": 2}},
    }
    (loaded,) = parse_tenants({"tenants": [entry(rate_limits=limits)]}, ENV)
    assert loaded.rate_limits == RateLimits(
        read=Rate(2.5, 5), write=None, methods={"CreateReplicationJob": Rate(1.0, 2)}
    )
    (plain,) = parse_tenants({"tenants": [entry()]}, ENV)
    assert plain.rate_limits == RateLimits()


def test_secret_from_environment() -> None:
    (loaded,) = parse_tenants({"tenants": [entry()]}, ENV)
    assert loaded.credentials.access_key_secret == "s3cret-a"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"tenants": [entry(colour="blue")]}, "tenant 'team-a': unknown keys ['colour']"),
        ({"tenants": [entry(id="Team A")]}, "tenant 'Team A'.id"),
        ({"tenants": [entry(api_key_sha256=["abc"])]}, "tenant 'team-a'.api_key_sha256"),
        ({"tenants": [entry(api_key_sha256=[])]}, "tenant 'team-a'.api_key_sha256"),
        ({"tenants": [entry(access_key_id=None)]}, "tenant 'team-a'.access_key_id: required"),
        ({"tenants": [entry(access_key_secret_env="NOPE")]}, "NOPE is not set"),
        (
            {"tenants": [entry(access_key_secret_file="/nonexistent/secret")]},
            "set exactly one of",
        ),
        (
            {"tenants": [entry(access_key_secret_env=None, access_key_secret_file="/nonexistent")]},
            "tenant 'team-a'.access_key_secret_file: cannot read /nonexistent",
        ),
        ({"tenants": [entry(region_id="Hangzhou")]}, "tenant 'team-a'.region_id"),
        ({"tenants": [entry(allowed_methods=["Nope"])]}, "unknown methods ['Nope']"),
        ({"tenants": [entry(), entry()]}, "tenant 'team-a': id used twice"),
        (
            {"tenants": [entry(), entry(id="team-b")]},
            "tenant 'team-b'.api_key_sha256: key also belongs to 'team-a'",
        ),
        ({"tenants": []}, "non-empty list"),
        ({"tenant": []}, "single key 'tenants'"),
        ({"tenants": ["x"]}, "tenants[0]: must be a mapping"),
        ([], "single key 'tenants'"),
        (
            {"tenants": [entry(rate_limits={"read": {"per_second": 0, "burst": 1}})]},
            "tenant 'team-a'.rate_limits.read.per_second: must be a positive number",
        ),
        (
            {"tenants": [entry(rate_limits={"write": {"per_second": 1, "burst": 0.5}})]},
            "tenant 'team-a'.rate_limits.write.burst",
        ),
        (
            {"tenants": [entry(rate_limits={"write": {"per_second": 1}})]},
            "tenant 'team-a'.rate_limits.write: must be {per_second",
        ),
        (
            {"tenants": [entry(rate_limits={"reads": {}})]},
            "tenant 'team-a'.rate_limits: may only hold read, write and methods",
        ),
        (
            {"tenants": [entry(rate_limits={"methods": {"Nope": {"per_second": 1, "burst": 1}}})]},
            "tenant 'team-a'.rate_limits.methods: unknown methods ['Nope']",
        ),
    ],
)
def test_invalid_file_names_tenant_and_key(document: Any, message: str) -> None:
    with pytest.raises(TenantsFileError) as caught:
        parse_tenants(document, ENV)
    assert message in str(caught.value)
    assert "s3cret-a" not in str(caught.value)


def test_unreadable_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(TenantsFileError, match="cannot read tenants file"):
        load_tenants_file(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("tenants: [\n")
    with pytest.raises(TenantsFileError, match="not valid YAML"):
        load_tenants_file(tmp_path / "bad.yaml")
