"""Rate limits in the core pipeline, in memory and in a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway.core import errors as g
from gateway.core.context import CallContext
from gateway.core.gateway import Gateway, RateDefaults
from gateway.core.tenants import Rate, RateLimits, Tenant, TenantDirectory, api_key_digest
from gateway.emulator import Account, Emulator, EmulatorConfig
from gateway.ratelimit import RateLimiter, limiter_from_url
from gateway.smc.client import SmcClient
from gateway.smc.credentials import Credentials

SHARED = Credentials("LTAIsharedratelimit01", "shared-secret")
OWN = Credentials("LTAIownratelimit00001", "own-secret")
# Slow refill so that timing noise never changes a count.
SLOW = 0.001


def tenant(name: str, creds: Credentials, limits: RateLimits) -> Tenant:
    return Tenant(
        id=name,
        api_key_sha256=frozenset({api_key_digest(f"key-{name}")}),
        credentials=creds,
        region_id="cn-hangzhou",
        rate_limits=limits,
    )


TENANTS = [
    tenant("small", SHARED, RateLimits(read=Rate(SLOW, 3), write=Rate(SLOW, 2))),
    tenant("roomy", SHARED, RateLimits(read=Rate(SLOW, 100), write=Rate(SLOW, 100))),
    tenant(
        "override",
        OWN,
        RateLimits(read=Rate(SLOW, 100), methods={"GetSourceServer": Rate(SLOW, 1)}),
    ),
]


@pytest.fixture(params=["memory", "redis"])
async def gateway(request: pytest.FixtureRequest) -> AsyncIterator[Gateway]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    limiter: RateLimiter = limiter_from_url(url, timeout=1.0)
    emulator = Emulator(
        EmulatorConfig(
            port=0,
            accounts=[
                Account(SHARED.access_key_id, SHARED.access_key_secret),
                Account(OWN.access_key_id, OWN.access_key_secret),
            ],
        )
    )
    await emulator.start()
    core = Gateway(
        client=SmcClient(emulator.url),
        tenants=TenantDirectory(TENANTS),
        limiter=limiter,
        rates=RateDefaults(upstream=Rate(SLOW, 8)),
    )
    try:
        yield core
    finally:
        await core.close()
        await emulator.stop()


async def call(core: Gateway, who: str, method: str, request: Any) -> CallContext:
    ctx = CallContext(frontend="rest", method=method, api_key=f"key-{who}")
    await core.call(method, ctx, request)
    return ctx


LIST = sources.ListSourceServersRequest()


async def test_burst_then_refused_with_retry_and_quota_details(gateway: Gateway) -> None:
    for remaining in (2, 1, 0):
        ctx = await call(gateway, "small", "ListSourceServers", LIST)
        assert ctx.response_metadata["ratelimit"].startswith('"read";r=' + str(remaining))
        assert '"read";q=3' in ctx.response_metadata["ratelimit-policy"]
        assert '"upstream";q=8' in ctx.response_metadata["ratelimit-policy"]
    ctx = CallContext(frontend="grpc", method="ListSourceServers", api_key="key-small")
    with pytest.raises(g.ResourceExhaustedError) as caught:
        await gateway.call("ListSourceServers", ctx, LIST)
    error = caught.value
    assert error.reason == "RATE_LIMITED"
    assert error.metadata == {"budget": "read", "tenant": "small"}
    assert error.retry_delay is not None
    assert error.retry_delay > 100  # one call per 1000 s
    assert [(q.subject, q.description) for q in error.quota_violations] == [
        ("tenant:small", "read budget: 3 calls at once, 0.001 per second")
    ]
    assert ctx.response_metadata["ratelimit"] == '"read";r=0;t=3000'


async def test_writes_have_their_own_budget(gateway: Gateway) -> None:
    for _ in range(3):
        await call(gateway, "small", "ListSourceServers", LIST)
    # Reads are spent; a write still passes the rate limit (and SMC then answers).
    with pytest.raises(g.NotFoundError):
        await call(
            gateway, "small", "StartReplicationJob", jobs.StartReplicationJobRequest(job_id="j-x")
        )


async def test_other_tenant_unaffected_but_shared_upstream_budget_binds(gateway: Gateway) -> None:
    for _ in range(3):
        await call(gateway, "small", "ListSourceServers", LIST)
    # "roomy" signs with the same AccessKey: 5 upstream calls are left of 8.
    for _ in range(5):
        await call(gateway, "roomy", "ListSourceServers", LIST)
    with pytest.raises(g.ResourceExhaustedError) as caught:
        await call(gateway, "roomy", "ListSourceServers", LIST)
    assert caught.value.metadata["budget"] == "upstream"
    assert caught.value.quota_violations[0].subject == "upstream"
    # A tenant with its own AccessKey is not affected at all.
    await call(gateway, "override", "ListSourceServers", LIST)


async def test_method_override(gateway: Gateway) -> None:
    await call(gateway, "override", "ListSourceServers", LIST)
    with pytest.raises(g.NotFoundError):
        await call(
            gateway, "override", "GetSourceServer", sources.GetSourceServerRequest(source_id="s-x")
        )
    with pytest.raises(g.ResourceExhaustedError) as caught:
        await call(
            gateway, "override", "GetSourceServer", sources.GetSourceServerRequest(source_id="s-x")
        )
    assert caught.value.metadata["budget"] == "GetSourceServer"
    await call(gateway, "override", "ListSourceServers", LIST)  # other reads unaffected


async def test_refused_before_the_budget_costs_nothing(gateway: Gateway) -> None:
    for _ in range(5):
        with pytest.raises(g.InvalidArgumentError):
            await call(
                gateway,
                "small",
                "GetSourceServer",
                sources.GetSourceServerRequest(source_id="bad id"),
            )
    for _ in range(3):
        await call(gateway, "small", "ListSourceServers", LIST)
