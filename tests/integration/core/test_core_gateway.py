"""The core pipeline against the real emulator over loopback (no front end)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import resources_pb2 as res
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway.core import errors as g
from gateway.core.context import CallContext
from gateway.core.gateway import Gateway, client_token_for
from gateway.core.tenants import Tenant, TenantDirectory, api_key_digest
from gateway.emulator import Account, Emulator, EmulatorConfig
from gateway.idempotency import MemoryIdempotencyStore
from gateway.ratelimit.memory import MemoryRateLimiter
from gateway.smc.client import SmcClient
from gateway.smc.credentials import Credentials
from gateway.smc.retry import RetryPolicy

KEY_A, KEY_B, KEY_READER = "api-key-a", "api-key-b", "api-key-reader"
AK_A = Credentials("LTAIcoreteamA0000001", "secret-a")
AK_B = Credentials("LTAIcoreteamB0000001", "secret-b")


def tenant(name: str, key: str, creds: Credentials, methods: frozenset[str]) -> Tenant:
    return Tenant(
        id=name,
        api_key_sha256=frozenset({api_key_digest(key)}),
        credentials=creds,
        region_id="cn-beijing",
        allowed_methods=methods,
    )


class Env:
    def __init__(self, emulator: Emulator, gateway: Gateway, control: aiohttp.ClientSession):
        self.emulator, self.gateway, self.control = emulator, gateway, control

    async def call(self, method: str, request: Any, key: str | None = KEY_A, **ctx: Any) -> Any:
        context = CallContext(frontend="grpc", method=method, api_key=key, **ctx)
        self.last_context = context
        return await self.gateway.call(method, context, request)

    async def smc_calls(self) -> list[dict[str, Any]]:
        async with self.control.get(f"{self.emulator.url}/_emulator/calls") as response:
            return list((await response.json())["calls"])

    async def jobs_of(self, access_key_id: str) -> list[dict[str, Any]]:
        async with self.control.get(f"{self.emulator.url}/_emulator/state") as response:
            return list((await response.json())["accounts"][access_key_id]["jobs"])


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    emulator = Emulator(
        EmulatorConfig(
            port=0,
            accounts=[
                Account(AK_A.access_key_id, AK_A.access_key_secret),
                Account(AK_B.access_key_id, AK_B.access_key_secret),
            ],
            progression="manual",
        )
    )
    await emulator.start()
    directory = TenantDirectory(
        [
            tenant("team-a", KEY_A, AK_A, frozenset({"*"})),
            tenant("team-b", KEY_B, AK_B, frozenset({"*"})),
            tenant("reader", KEY_READER, AK_A, frozenset({"ListSourceServers", "GetSourceServer"})),
        ]
    )
    client = SmcClient(emulator.url, retry_policy=RetryPolicy(initial_backoff=0.01))
    gateway = Gateway(client=client, tenants=directory)
    async with aiohttp.ClientSession() as control:
        try:
            yield Env(emulator, gateway, control)
        finally:
            await gateway.close()
            await emulator.stop()


async def test_list_pages_through_all_sources_with_tokens(env: Env) -> None:
    first = await env.call("ListSourceServers", sources.ListSourceServersRequest(page_size=2))
    assert first.total_size == 3
    assert len(first.source_servers) == 2
    assert first.next_page_token
    second = await env.call(
        "ListSourceServers",
        sources.ListSourceServersRequest(page_size=2, page_token=first.next_page_token),
    )
    assert len(second.source_servers) == 1
    assert second.next_page_token == ""
    ids = [s.source_id for s in (*first.source_servers, *second.source_servers)]
    assert len(set(ids)) == 3
    assert all(s.state == res.SOURCE_SERVER_STATE_AVAILABLE for s in first.source_servers)
    assert env.last_context.response_metadata["smc-request-id"]


async def test_tampered_or_reused_token_is_refused_before_smc(env: Env) -> None:
    first = await env.call("ListSourceServers", sources.ListSourceServersRequest(page_size=1))
    before = len(await env.smc_calls())
    with pytest.raises(g.InvalidArgumentError) as caught:
        await env.call(
            "ListSourceServers",
            sources.ListSourceServersRequest(
                page_size=1, name="web", page_token=first.next_page_token
            ),
        )
    assert caught.value.reason == "INVALID_PAGE_TOKEN"
    assert len(await env.smc_calls()) == before


async def test_get_missing_resources_is_not_found(env: Env) -> None:
    with pytest.raises(g.NotFoundError) as caught:
        await env.call("GetSourceServer", sources.GetSourceServerRequest(source_id="s-missing1"))
    assert caught.value.reason == "SOURCE_SERVER_NOT_FOUND"
    with pytest.raises(g.NotFoundError) as caught_job:
        await env.call("GetReplicationJob", jobs.GetReplicationJobRequest(job_id="j-missing1"))
    assert caught_job.value.reason == "REPLICATION_JOB_NOT_FOUND"


async def test_job_lifecycle_and_tenant_region(env: Env) -> None:
    listed = await env.call("ListSourceServers", sources.ListSourceServersRequest())
    source = listed.source_servers[0]
    created = await env.call(
        "CreateReplicationJob",
        jobs.CreateReplicationJobRequest(
            source_id=source.source_id,
            system_disk_size=60,
            name="core-job",
            data_disks=[jobs.DataDiskSpec(index=1, size=120)],
        ),
    )
    got = await env.call("GetReplicationJob", jobs.GetReplicationJobRequest(job_id=created.job_id))
    job = got.replication_job
    assert (job.name, job.region_id, job.status) == (
        "core-job",
        "cn-beijing",
        res.REPLICATION_JOB_STATUS_READY,
    )
    assert [(d.index, d.size) for d in job.data_disks] == [(1, 120)]
    updated = await env.call(
        "UpdateReplicationJob",
        jobs.UpdateReplicationJobRequest(
            job_id=created.job_id, name="core-job-2", system_disk_size=80
        ),
    )
    assert (updated.replication_job.name, updated.replication_job.system_disk_size) == (
        "core-job-2",
        80,
    )
    await env.call("StartReplicationJob", jobs.StartReplicationJobRequest(job_id=created.job_id))
    with pytest.raises(g.FailedPreconditionError) as caught:
        await env.call("StopReplicationJob", jobs.StopReplicationJobRequest(job_id=created.job_id))
    assert caught.value.reason == "REPLICATION_JOB_INVALID_STATUS"
    assert caught.value.metadata["smc_code"] == "ReplicationJob.InvalidStatus"
    await env.call("DeleteReplicationJob", jobs.DeleteReplicationJobRequest(job_id=created.job_id))
    renamed = await env.call(
        "UpdateSourceServer",
        sources.UpdateSourceServerRequest(
            source_id=source.source_id, name="renamed", description=""
        ),
    )
    assert renamed.source_server.name == "renamed"
    await env.call(
        "DeleteSourceServer", sources.DeleteSourceServerRequest(source_id=source.source_id)
    )
    with pytest.raises(g.NotFoundError):
        await env.call(
            "GetSourceServer", sources.GetSourceServerRequest(source_id=source.source_id)
        )


async def test_idempotency_key_makes_one_job_per_tenant_and_key(env: Env) -> None:
    listed = await env.call("ListSourceServers", sources.ListSourceServersRequest())
    request = jobs.CreateReplicationJobRequest(
        source_id=listed.source_servers[0].source_id, system_disk_size=40
    )
    first = await env.call("CreateReplicationJob", request, idempotency_key="key-1")
    again = await env.call("CreateReplicationJob", request, idempotency_key="key-1")
    assert first.job_id == again.job_id
    assert len(await env.jobs_of(AK_A.access_key_id)) == 1
    tokens = {
        c["params"]["ClientToken"]
        for c in await env.smc_calls()
        if c["action"] == "CreateReplicationJob"
    }
    assert tokens == {client_token_for("team-a", "key-1")}
    # The same key with another request: SMC refuses, the caller learns the key was reused.
    other = jobs.CreateReplicationJobRequest(
        source_id=listed.source_servers[1].source_id, system_disk_size=40
    )
    with pytest.raises(g.InvalidArgumentError) as caught:
        await env.call("CreateReplicationJob", other, idempotency_key="key-1")
    assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_request_id_and_header_key_must_agree(env: Env) -> None:
    request = jobs.CreateReplicationJobRequest(
        source_id="s-abc", system_disk_size=40, request_id="k1"
    )
    with pytest.raises(g.InvalidArgumentError) as caught:
        await env.call("CreateReplicationJob", request, idempotency_key="k2")
    assert caught.value.reason == "IDEMPOTENCY_KEY_CONFLICT"
    assert await env.smc_calls() == []


async def test_tenants_are_isolated_by_credentials(env: Env) -> None:
    mine = await env.call("ListSourceServers", sources.ListSourceServersRequest())
    theirs = await env.call("ListSourceServers", sources.ListSourceServersRequest(), key=KEY_B)
    assert {s.source_id for s in mine.source_servers}.isdisjoint(
        {s.source_id for s in theirs.source_servers}
    )
    keys = {c["access_key_id"] for c in await env.smc_calls()}
    assert keys == {AK_A.access_key_id, AK_B.access_key_id}
    with pytest.raises(g.NotFoundError):
        await env.call(
            "GetSourceServer",
            sources.GetSourceServerRequest(source_id=theirs.source_servers[0].source_id),
        )


@pytest.mark.parametrize(
    ("key", "method", "request_", "error"),
    [
        (None, "ListSourceServers", sources.ListSourceServersRequest(), g.UnauthenticatedError),
        ("nope", "ListSourceServers", sources.ListSourceServersRequest(), g.UnauthenticatedError),
        (KEY_READER, "DeleteSourceServer", sources.DeleteSourceServerRequest(source_id="s-1"),
         g.PermissionDeniedError),
        (KEY_A, "GetReplicationJob", jobs.GetReplicationJobRequest(job_id="bad id"),
         g.InvalidArgumentError),
    ],
)  # fmt: skip
async def test_refused_calls_never_reach_smc(
    env: Env, key: str | None, method: str, request_: Any, error: type[g.GatewayError]
) -> None:
    with pytest.raises(error):
        await env.call(method, request_, key=key)
    assert await env.smc_calls() == []


async def test_reader_tenant_may_read(env: Env) -> None:
    listed = await env.call("ListSourceServers", sources.ListSourceServersRequest(), key=KEY_READER)
    assert listed.total_size == 3


async def test_expired_deadline_and_unknown_method(env: Env) -> None:
    with pytest.raises(g.DeadlineExceededError):
        await env.call("ListSourceServers", sources.ListSourceServersRequest(), timeout=0.0)
    with pytest.raises(g.UnimplementedError):
        await env.call("NoSuchMethod", sources.ListSourceServersRequest())


async def test_upstream_outage_is_unavailable_with_retry_delay(env: Env) -> None:
    async with env.control.post(
        f"{env.emulator.url}/_emulator/faults",
        json={"action": "DescribeSourceServers", "code": "ServiceUnavailable"},
    ) as response:
        assert response.status == 201
    with pytest.raises(g.UnavailableError) as caught:
        await env.call("ListSourceServers", sources.ListSourceServersRequest(), timeout=2.0)
    error = caught.value
    assert error.retry_delay == 1.0
    assert error.metadata["smc_code"] == "ServiceUnavailable"
    assert error.metadata["smc_request_id"]


async def test_a_kept_job_is_answered_as_smc_now_has_it(env: Env) -> None:
    listed = await env.call("ListSourceServers", sources.ListSourceServersRequest())
    created = await env.call(
        "CreateReplicationJob",
        jobs.CreateReplicationJobRequest(
            source_id=listed.source_servers[0].source_id, system_disk_size=60
        ),
    )
    get = jobs.GetReplicationJobRequest(job_id=created.job_id)
    first = await env.call("GetReplicationJob", get)
    assert await env.call("GetReplicationJob", get) == first
    assert len(env.gateway.conversions.jobs) == 1  # read once, then kept
    await env.call("StartReplicationJob", jobs.StartReplicationJobRequest(job_id=created.job_id))
    started = await env.call("GetReplicationJob", get)
    assert first.replication_job.status == res.REPLICATION_JOB_STATUS_READY
    assert started.replication_job.status == res.REPLICATION_JOB_STATUS_RUNNING
    assert started.replication_job.start_time.seconds > 0
    relisted = await env.call("ListSourceServers", sources.ListSourceServersRequest())
    assert listed.source_servers[0].job_id == ""
    assert relisted.source_servers[0].job_id == created.job_id  # the source changed too


def test_the_limiter_and_store_given_are_used_even_when_empty() -> None:
    # Both have a length, 0 when new: the core must not take them for "none given".
    limiter, store = MemoryRateLimiter(), MemoryIdempotencyStore(max_records=3)
    assert len(limiter) == len(store) == 0
    core = Gateway(
        client=SmcClient("http://smc.invalid"),
        tenants=TenantDirectory([]),
        limiter=limiter,
        idempotency=store,
    )
    assert core.limiter is limiter
    assert core.idempotency is store
