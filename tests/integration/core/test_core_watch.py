"""WatchReplicationJob in the core: snapshots on change, one shared poller, ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import resources_pb2 as res
from gateway.core import errors as g
from gateway.core.context import CallContext
from gateway.core.gateway import Gateway, RateDefaults
from gateway.core.tenants import Rate, Tenant, TenantDirectory, api_key_digest
from gateway.emulator import Account, Emulator, EmulatorConfig
from gateway.smc.client import SmcClient
from gateway.smc.credentials import Credentials

CREDS = Credentials("LTAIwatchtest0000001", "watch-secret")


class Env:
    def __init__(self, core: Gateway, emulator: Emulator, control: aiohttp.ClientSession) -> None:
        self.core, self.emulator, self.control = core, emulator, control

    def watch(self, job_id: str) -> AsyncIterator[Any]:
        ctx = CallContext(frontend="grpc", method="WatchReplicationJob", api_key="watch-key")
        return self.core.watch(ctx, jobs.WatchReplicationJobRequest(job_id=job_id))

    async def ctl(self, verb: str, path: str, body: object = None) -> Any:
        async with self.control.request(
            verb, f"{self.emulator.url}/_emulator/{path}", json=body
        ) as r:
            assert r.status < 300, await r.text()
            return await r.json()

    async def new_job(self) -> str:
        state = await self.ctl("GET", "state")
        source = state["accounts"][CREDS.access_key_id]["sources"][0]["SourceId"]
        ctx = CallContext(frontend="grpc", method="CreateReplicationJob", api_key="watch-key")
        request = jobs.CreateReplicationJobRequest(source_id=source, system_disk_size=40)
        created = await self.core.call("CreateReplicationJob", ctx, request)
        return str(created.job_id)  # type: ignore[attr-defined]

    async def describes(self) -> int:
        calls = await self.ctl("GET", "calls?action=DescribeReplicationJobs")
        return len(calls["calls"])


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    emulator = Emulator(
        EmulatorConfig(
            port=0,
            accounts=[Account(CREDS.access_key_id, CREDS.access_key_secret)],
            progression="manual",
        )
    )
    await emulator.start()
    tenant = Tenant(
        id="watcher",
        api_key_sha256=frozenset({api_key_digest("watch-key")}),
        credentials=CREDS,
        region_id="cn-hangzhou",
    )
    core = Gateway(
        client=SmcClient(emulator.url),
        tenants=TenantDirectory([tenant]),
        rates=RateDefaults(
            read=Rate(1000, 1000), write=Rate(1000, 1000), upstream=Rate(1000, 1000)
        ),
        watch_poll_seconds=0.05,
    )
    async with aiohttp.ClientSession() as control:
        try:
            yield Env(core, emulator, control)
        finally:
            await core.close()
            await emulator.stop()


async def test_snapshots_follow_the_job_to_the_end(env: Env) -> None:
    job_id = await env.new_job()
    seen: list[tuple[int, int]] = []

    async def follow() -> None:
        async for answer in env.watch(job_id):
            job = answer.replication_job
            seen.append((job.status, job.business_status))

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.2)
    await env.ctl("POST", f"jobs/{job_id}/advance", {"to": "Syncing"})
    await asyncio.sleep(0.2)
    await env.ctl("POST", f"jobs/{job_id}/advance", {"to": "Finished"})
    await asyncio.wait_for(follower, 10)  # the stream ends by itself at Finished
    assert seen[0] == (res.REPLICATION_JOB_STATUS_READY, 0)
    assert (res.REPLICATION_JOB_STATUS_RUNNING, res.REPLICATION_JOB_BUSINESS_STATUS_SYNCING) in seen
    assert seen[-1][0] == res.REPLICATION_JOB_STATUS_FINISHED
    assert len(seen) == len(set(seen))  # only changes are sent
    assert env.core.watcher.active == 0


async def test_many_watchers_share_one_poller(env: Env) -> None:
    job_id = await env.new_job()
    streams = [env.watch(job_id) for _ in range(5)]
    firsts = await asyncio.gather(*(anext(s) for s in streams))
    assert {f.replication_job.job_id for f in firsts} == {job_id}
    assert env.core.watcher.active == 1
    before = await env.describes()
    await asyncio.sleep(1.0)
    polls = await env.describes() - before
    # About 20 polls in a second at 0.05 s for one poller; five pollers would make ~100.
    assert 5 <= polls <= 30
    for stream in streams:
        await stream.aclose()  # type: ignore[attr-defined]
    await asyncio.sleep(0.1)
    assert env.core.watcher.active == 0


async def test_deleted_job_ends_the_stream(env: Env) -> None:
    job_id = await env.new_job()
    stream = env.watch(job_id)
    await anext(stream)
    ctx = CallContext(frontend="grpc", method="DeleteReplicationJob", api_key="watch-key")
    await env.core.call(
        "DeleteReplicationJob", ctx, jobs.DeleteReplicationJobRequest(job_id=job_id)
    )
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(stream), 5)


async def test_unknown_job_is_not_found_and_bad_id_invalid(env: Env) -> None:
    with pytest.raises(g.NotFoundError):
        await anext(env.watch("j-nothere"))
    with pytest.raises(g.InvalidArgumentError):
        env.watch("not a job")
    assert env.core.watcher.active == 0
