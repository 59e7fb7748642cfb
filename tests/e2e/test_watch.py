"""WatchReplicationJob over gRPC (server stream) and REST (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import grpc
import pytest
import pytest_asyncio

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import replication_job_service_pb2_grpc as jobs_grpc
from gateway.config import Settings
from gateway.serve import GatewayProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")
KEY = "watch-e2e-key"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def process() -> AsyncIterator[GatewayProcess]:
    settings = Settings(
        grpc_port=0,
        http_port=0,
        demo_api_key=KEY,  # type: ignore[arg-type]
        watch_poll_seconds=0.1,
    )
    running = GatewayProcess(settings)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def _ctl(process: GatewayProcess, verb: str, path: str, body: object = None) -> Any:
    assert process.emulator is not None
    async with (
        aiohttp.ClientSession() as session,
        session.request(verb, f"{process.emulator.url}/_emulator/{path}", json=body) as response,
    ):
        assert response.status < 300, await response.text()
        return await response.json()


async def _job(process: GatewayProcess, index: int) -> str:
    await _ctl(process, "PUT", "progression", {"mode": "manual"})
    state = await _ctl(process, "GET", "state")
    (account,) = state["accounts"].values()
    source = account["sources"][index]["SourceId"]
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{process.http_port}/v1/jobs",
            json={"sourceId": source, "systemDiskSize": 40},
            headers={"Authorization": f"Bearer {KEY}"},
        ) as response,
    ):
        return str((await response.json())["jobId"])


async def _drive(process: GatewayProcess, job_id: str) -> None:
    await asyncio.sleep(0.4)
    await _ctl(process, "POST", f"jobs/{job_id}/advance", {"to": "Syncing"})
    await asyncio.sleep(0.4)
    await _ctl(process, "POST", f"jobs/{job_id}/advance", {"to": "Finished"})


async def test_grpc_stream_follows_the_job(process: GatewayProcess) -> None:
    job_id = await _job(process, 0)
    statuses: list[str] = []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{process.grpc_port}") as channel:
        stub = jobs_grpc.ReplicationJobServiceStub(channel)
        call = stub.WatchReplicationJob(
            jobs.WatchReplicationJobRequest(job_id=job_id),
            metadata=(("authorization", f"Bearer {KEY}"),),
            timeout=30,
        )
        driver = asyncio.create_task(_drive(process, job_id))
        async for answer in call:
            statuses.append(answer.replication_job.status_raw)
        await driver
        assert await call.code() == grpc.StatusCode.OK
    assert statuses[0] == "Ready"
    assert "Running" in statuses
    assert statuses[-1] == "Finished"


async def test_sse_stream_follows_the_job(process: GatewayProcess) -> None:
    job_id = await _job(process, 1)
    events: list[dict[str, Any]] = []
    url = f"http://127.0.0.1:{process.http_port}/v1/jobs/{job_id}:watch"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Authorization": f"Bearer {KEY}"}) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        driver = asyncio.create_task(_drive(process, job_id))
        async for line in response.content:
            if line.startswith(b"data: "):
                events.append(json.loads(line[6:]))
        await driver
    statuses = [e["replicationJob"]["statusRaw"] for e in events]
    assert statuses[0] == "Ready"
    assert "Running" in statuses
    assert statuses[-1] == "Finished"


async def test_unknown_job_over_both(process: GatewayProcess) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{process.grpc_port}") as channel:
        stub = jobs_grpc.ReplicationJobServiceStub(channel)
        call = stub.WatchReplicationJob(
            jobs.WatchReplicationJobRequest(job_id="j-nothere"),
            metadata=(("authorization", f"Bearer {KEY}"),),
        )
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call.read()
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"http://127.0.0.1:{process.http_port}/v1/jobs/j-nothere:watch",
            headers={"Authorization": f"Bearer {KEY}"},
        ) as response,
    ):
        assert response.status == 404
        assert (await response.json())["error"]["status"] == "NOT_FOUND"
