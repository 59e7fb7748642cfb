"""Idempotency keys in the core pipeline, with the memory store and with a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from google.protobuf.json_format import MessageToDict

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway.core import errors as g
from gateway.core.context import CallContext
from gateway.core.gateway import Gateway
from gateway.core.tenants import Tenant, TenantDirectory, api_key_digest
from gateway.emulator import Account, Emulator, EmulatorConfig
from gateway.idempotency import IdempotencyStore, store_from_url
from gateway.smc.client import SmcClient
from gateway.smc.credentials import Credentials
from gateway.smc.retry import RetryPolicy

TEAM_A = Credentials("LTAIidempotencyA0001", "secret-a")
TEAM_B = Credentials("LTAIidempotencyB0001", "secret-b")


def tenant(name: str, creds: Credentials) -> Tenant:
    return Tenant(
        id=name,
        api_key_sha256=frozenset({api_key_digest(f"key-{name}")}),
        credentials=creds,
        region_id="cn-hangzhou",
    )


class Env:
    def __init__(self, core: Gateway, emulator: Emulator, control: aiohttp.ClientSession) -> None:
        self.core, self.emulator, self.control = core, emulator, control

    async def call(
        self, method: str, request: Any, *, key: str | None = None, who: str = "a"
    ) -> tuple[Any, CallContext]:
        ctx = CallContext(frontend="rest", method=method, api_key=f"key-{who}", idempotency_key=key)
        return await self.core.call(method, ctx, request), ctx

    async def ctl(self, verb: str, path: str, body: object = None) -> Any:
        async with self.control.request(
            verb, f"{self.emulator.url}/_emulator/{path}", json=body
        ) as r:
            assert r.status < 300, await r.text()
            return await r.json()

    async def jobs_of(self, creds: Credentials) -> list[dict[str, Any]]:
        state = await self.ctl("GET", "state")
        return list(state["accounts"][creds.access_key_id]["jobs"])

    async def source(self, creds: Credentials = TEAM_A, index: int = 0) -> str:
        state = await self.ctl("GET", "state")
        return str(state["accounts"][creds.access_key_id]["sources"][index]["SourceId"])


@pytest.fixture(params=["memory", "redis"])
async def env(request: pytest.FixtureRequest) -> AsyncIterator[Env]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    store: IdempotencyStore = store_from_url(url, timeout=1.0)
    emulator = Emulator(
        EmulatorConfig(
            port=0,
            accounts=[
                Account(TEAM_A.access_key_id, TEAM_A.access_key_secret),
                Account(TEAM_B.access_key_id, TEAM_B.access_key_secret),
            ],
            progression="manual",
        )
    )
    await emulator.start()
    core = Gateway(
        client=SmcClient(emulator.url, retry_policy=RetryPolicy(initial_backoff=0.01)),
        tenants=TenantDirectory([tenant("a", TEAM_A), tenant("b", TEAM_B)]),
        idempotency=store,
        idempotency_lease=0.5,
    )
    async with aiohttp.ClientSession() as control:
        try:
            yield Env(core, emulator, control)
        finally:
            await core.close()
            await emulator.stop()


def create(source_id: str, **fields: Any) -> jobs.CreateReplicationJobRequest:
    return jobs.CreateReplicationJobRequest(source_id=source_id, system_disk_size=40, **fields)


async def test_replay_returns_the_stored_answer_marked(env: Env) -> None:
    source = await env.source()
    first, first_ctx = await env.call("CreateReplicationJob", create(source), key="k-1")
    again, again_ctx = await env.call("CreateReplicationJob", create(source), key="k-1")
    assert again == first
    assert "idempotent-replayed" not in first_ctx.response_metadata
    assert again_ctx.response_metadata["idempotent-replayed"] == "true"
    assert (
        again_ctx.response_metadata["smc-request-id"]
        == first_ctx.response_metadata["smc-request-id"]
    )
    assert len(await env.jobs_of(TEAM_A)) == 1
    # The field and the header are the same key.
    field, _ = await env.call("CreateReplicationJob", create(source, request_id="k-1"))
    assert field == first
    calls = await env.ctl("GET", "calls?action=CreateReplicationJob")
    assert len(calls["calls"]) == 1  # replays never reached SMC


async def test_same_key_other_request_is_refused(env: Env) -> None:
    await env.call("CreateReplicationJob", create(await env.source()), key="k-2")
    with pytest.raises(g.InvalidArgumentError) as caught:
        await env.call("CreateReplicationJob", create(await env.source(index=1)), key="k-2")
    assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_in_flight_key_is_aborted_with_a_retry_delay(env: Env) -> None:
    source = await env.source()
    await env.ctl(
        "POST", "faults", {"action": "CreateReplicationJob", "latency_ms": 400, "count": 1}
    )
    first = asyncio.create_task(env.call("CreateReplicationJob", create(source), key="k-3"))
    await asyncio.sleep(0.15)
    with pytest.raises(g.AbortedError) as caught:
        await env.call("CreateReplicationJob", create(source), key="k-3")
    assert caught.value.reason == "IDEMPOTENCY_KEY_IN_USE"
    assert caught.value.retry_delay is not None
    assert 0 < caught.value.retry_delay <= 0.5
    answer, _ = await first
    again, ctx = await env.call("CreateReplicationJob", create(source), key="k-3")
    assert (again, ctx.response_metadata["idempotent-replayed"]) == (answer, "true")


async def test_definitive_error_is_stored_and_replayed(env: Env) -> None:
    request = jobs.StartReplicationJobRequest(job_id="j-doesnotexist")
    with pytest.raises(g.NotFoundError) as first:
        await env.call("StartReplicationJob", request, key="k-4")
    with pytest.raises(g.NotFoundError) as again:
        await env.call("StartReplicationJob", request, key="k-4")
    # Same status, details and all (compared as dicts: map order is not part of a message).
    assert MessageToDict(again.value.to_status()) == MessageToDict(first.value.to_status())
    calls = await env.ctl("GET", "calls?action=StartReplicationJob")
    assert len(calls["calls"]) == 1


async def test_transient_error_is_not_stored(env: Env) -> None:
    job, _ = await env.call("CreateReplicationJob", create(await env.source()))
    await env.ctl(
        "POST", "faults", {"action": "StartReplicationJob", "code": "InternalError", "count": 1}
    )
    request = jobs.StartReplicationJobRequest(job_id=job.job_id)
    with pytest.raises(g.UnavailableError):
        await env.call("StartReplicationJob", request, key="k-5")
    _, ctx = await env.call("StartReplicationJob", request, key="k-5")
    assert "idempotent-replayed" not in ctx.response_metadata


async def test_keys_are_per_tenant(env: Env) -> None:
    a, _ = await env.call("CreateReplicationJob", create(await env.source(TEAM_A)), key="shared")
    b, ctx = await env.call(
        "CreateReplicationJob", create(await env.source(TEAM_B)), key="shared", who="b"
    )
    assert a.job_id != b.job_id
    assert "idempotent-replayed" not in ctx.response_metadata


async def test_lease_expiry_lets_a_retry_take_over(env: Env) -> None:
    source = await env.source()
    # The first caller is cancelled mid-call (as when its replica dies before answering).
    await env.ctl(
        "POST",
        "faults",
        {"action": "CreateReplicationJob", "latency_ms": 300, "count": 1, "after": True},
    )
    first = asyncio.create_task(env.call("CreateReplicationJob", create(source), key="k-6"))
    await asyncio.sleep(0.1)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.sleep(0.4)  # SMC has made the job by now
    answer, _ = await env.call("CreateReplicationJob", create(source), key="k-6")
    assert [j["JobId"] for j in await env.jobs_of(TEAM_A)] == [answer.job_id]


@pytest.mark.parametrize("key", ["has space", "x" * 129, "caf\u00e9"])
async def test_malformed_transport_key_is_refused(env: Env, key: str) -> None:
    with pytest.raises(g.InvalidArgumentError) as caught:
        await env.call("CreateReplicationJob", create(await env.source()), key=key)
    assert caught.value.reason == "INVALID_IDEMPOTENCY_KEY"
    assert caught.value.field_violations[0].field == "idempotency-key"
