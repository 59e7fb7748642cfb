"""No secret ever leaves the gateway: logs, responses, headers and trailers are scanned.

The AccessKey secret, the STS token and the API key are canary strings; every front end
and error path is exercised with the log level at DEBUG; then everything the gateway
printed or answered, the ``/metrics`` text and every span exported (OTLP to a receiver on
loopback, every call sampled) is searched for the canaries.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from gateway_processes import Gateway, Process, start_emulator, start_gateway
from otlp_receiver import OtlpReceiver, otlp_receiver

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway.core.methods import METHODS

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "CANARY-ACCESS-KEY-SECRET-7f3a9"
TOKEN = "CANARY-STS-TOKEN-51c2e"
API_KEY = "CANARY-API-KEY-d8e4b0"
REDIS_PASSWORD = "CANARY-REDIS-PASSWORD-93a1"
AK = "LTAIleakscanner000001"
CANARIES = (SECRET, TOKEN, API_KEY, REDIS_PASSWORD)


@dataclass
class Scan:
    gateway: Gateway
    emulator: Process
    emulator_url: str
    tenants: Path
    receiver: OtlpReceiver
    seen: list[str] = field(default_factory=list)  # every answer, header and trailer


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scan]:
    folder = tmp_path_factory.mktemp("leaks")
    (folder / "secret").write_text(SECRET)
    (folder / "token").write_text(TOKEN)
    tenants = folder / "tenants.yaml"
    tenants.write_text(
        "tenants:\n"
        "  - id: scanned\n"
        f"    api_key_sha256: ['{hashlib.sha256(API_KEY.encode()).hexdigest()}']\n"
        f"    access_key_id: {AK}\n"
        f"    access_key_secret_file: {folder / 'secret'}\n"
        f"    security_token_file: {folder / 'token'}\n"
        "    region_id: cn-hangzhou\n"
        "    rate_limits: {read: {per_second: 0.01, burst: 30}}\n"
    )
    emulator, url = start_emulator([f"{AK}:{SECRET}:{TOKEN}"], "--progression", "manual")
    # A Redis URL with a password, on a port nobody listens on: every Redis call fails (and
    # the gateway fails open), so the error paths that mention Redis are exercised too.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with otlp_receiver() as receiver:
        env = {
            **receiver.env(),
            "SMC_GATEWAY_LOG_LEVEL": "DEBUG",
            "SMC_GATEWAY_REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:{closed_port}/2",
        }
        gateway = start_gateway(tenants_file=tenants, smc_endpoint=url, env=env)
        try:
            yield Scan(gateway, emulator, url, tenants, receiver)
        finally:
            gateway.process.stop()
            emulator.stop()


async def _rest(
    scan: Scan, session: aiohttp.ClientSession, verb: str, path: str, **kw: Any
) -> None:
    async with session.request(verb, scan.gateway.rest + path, **kw) as response:
        scan.seen.append(await response.text())
        scan.seen.append(json.dumps(dict(response.headers)))


async def test_exercise_every_path(scan: Scan) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    async with aiohttp.ClientSession() as session:
        await _rest(scan, session, "GET", "/v1/sources", headers=auth)
        await _rest(
            scan, session, "GET", "/v1/sources", headers={"Authorization": f"Bearer {API_KEY}x"}
        )
        await _rest(scan, session, "GET", "/v1/sources", headers={"Authorization": API_KEY})
        await _rest(scan, session, "POST", "/v1/jobs", data=b"{not json", headers=auth)
        await _rest(
            scan,
            session,
            "POST",
            "/v1/jobs",
            json={"sourceId": "s-x", "apiKey": API_KEY},
            headers=auth,
        )
        await _rest(scan, session, "GET", "/v1/jobs/j-missing", headers=auth)
        keyed = {**auth, "Idempotency-Key": "k1"}
        job = {"sourceId": "s-x", "systemDiskSize": 40}
        await _rest(scan, session, "POST", "/v1/jobs", json=job, headers=keyed)
        await _rest(scan, session, "OPTIONS", "/v1/jobs", headers={"Origin": "http://evil.test"})
        # Upstream failures, including SMC refusing the credentials.
        for code in (
            "SignatureDoesNotMatch",
            "InvalidSecurityToken.MismatchWithAccessKey",
            "InternalError",
        ):
            fault = {"action": "DescribeSourceServers", "code": code, "count": 1}
            async with session.post(f"{scan.emulator_url}/_emulator/faults", json=fault) as r:
                assert r.status == 201
            await _rest(scan, session, "GET", "/v1/sources", headers=auth)
        for _ in range(40):  # into the rate limit
            await _rest(scan, session, "GET", "/v1/sources?pageSize=1", headers=auth)
        # Every method over REST with the real key.
        for m in METHODS:
            path = m.http_path.replace("{source_id}", "s-nothere").replace("{job_id}", "j-nothere")
            body: dict[str, str] | None = {} if m.http_body else None
            await _rest(scan, session, m.http_method, path, json=body, headers=auth)
        # A broken tenants file: the reload error is logged.
        good = scan.tenants.read_text()
        scan.tenants.write_text(good.replace("region_id: cn-hangzhou", "region_id: ???"))
        await asyncio.sleep(2.5)
        await _rest(scan, session, "GET", "/readyz")
        scan.tenants.write_text(good)
        await asyncio.sleep(2.5)
    async with grpc.aio.insecure_channel(scan.gateway.grpc_target) as channel:
        for m in METHODS:
            if m.server_streaming:
                continue
            call: grpc.aio.UnaryUnaryMultiCallable[Any, Any] = channel.unary_unary(
                m.full_name,
                request_serializer=lambda msg: msg.SerializeToString(),
                response_deserializer=m.response_type.FromString,
            )
            for key in (API_KEY, "wrong-" + API_KEY):
                request = _sample(m.name)
                try:
                    answer = await call(
                        request, metadata=(("authorization", f"Bearer {key}"),), timeout=10
                    )
                    scan.seen.append(str(answer))
                except grpc.aio.AioRpcError as error:
                    scan.seen.append(
                        f"{error.code()} {error.details()} {error.trailing_metadata()}"
                    )
    assert len(scan.seen) > 100
    async with (
        aiohttp.ClientSession() as session,
        session.get(scan.gateway.rest + "/metrics") as response,
    ):
        metrics = await response.text()
    assert "smc_gateway_redis_errors_total" in metrics  # the error paths were counted
    scan.seen.append(metrics)


def _sample(name: str) -> Any:
    samples: dict[str, Any] = {
        "GetSourceServer": sources.GetSourceServerRequest(source_id="s-nothere"),
        "UpdateSourceServer": sources.UpdateSourceServerRequest(source_id="s-nothere", name="n1"),
        "DeleteSourceServer": sources.DeleteSourceServerRequest(source_id="s-nothere"),
        "CreateReplicationJob": jobs.CreateReplicationJobRequest(
            source_id="s-nothere", system_disk_size=40
        ),
        "GetReplicationJob": jobs.GetReplicationJobRequest(job_id="j-nothere"),
        "UpdateReplicationJob": jobs.UpdateReplicationJobRequest(job_id="j-nothere", name="n2"),
        "DeleteReplicationJob": jobs.DeleteReplicationJobRequest(job_id="j-nothere"),
        "StartReplicationJob": jobs.StartReplicationJobRequest(job_id="j-nothere"),
        "StopReplicationJob": jobs.StopReplicationJobRequest(job_id="j-nothere"),
        "ListSourceServers": sources.ListSourceServersRequest(),
        "ListReplicationJobs": jobs.ListReplicationJobsRequest(),
    }
    return samples[name]


async def test_no_secret_in_logs_or_answers(scan: Scan) -> None:
    logs = scan.gateway.process.output
    assert "DEBUG" in logs  # the scan covers the most talkative level
    assert "reload failed" in logs  # and the error paths ran
    assert "rate-limit storage unavailable" in logs
    assert "idempotency store unavailable" in logs
    spans = await asyncio.to_thread(
        scan.receiver.wait_for, lambda spans: sum(s.name.startswith("SMC ") for s in spans) > 10
    )
    await asyncio.sleep(0.5)  # the last batch
    assert any(s.name.startswith("GET /v1/") for s in spans)  # REST server spans
    assert any(s.name.startswith("/smcgateway.v1.") for s in spans)  # gRPC server spans
    everything = "\n".join([logs, *scan.seen, *scan.receiver.raw])
    for canary in CANARIES:
        assert canary not in everything, canary
