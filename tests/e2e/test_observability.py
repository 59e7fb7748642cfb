"""Traces, logs and shutdown of a real ``smc-gateway serve`` process.

* A REST and a gRPC call carrying a caller's ``traceparent``: the exported spans (OTLP over
  HTTP, to a receiver on loopback) are the server span, child of the caller's span, and one
  SMC client span per attempt, with the SMC facts as attributes and the retry as an event;
  the call's JSON log line carries the same trace id.
* SIGTERM during steady REST and gRPC load: readiness goes first (``/readyz`` 503, gRPC
  health ``NOT_SERVING``) while calls still succeed; calls in flight when the gateway stops
  accepting still finish; no call fails; the process exits 0.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from gateway_processes import Gateway, Process, start_emulator, start_gateway
from grpc_health.v1 import health_pb2, health_pb2_grpc
from otlp_receiver import OtlpReceiver, ReceivedSpan, otlp_receiver

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources

pytestmark = pytest.mark.asyncio(loop_scope="module")

AK = ("LTAIobservability0001", "secret-observability")
API_KEY = "observability-api-key"
TENANT = "observed"
REGION = "cn-shanghai"
SERVER, CLIENT = 2, 3  # OTLP Span.SpanKind values


def write_tenants(folder: Path) -> Path:
    (folder / "secret").write_text(AK[1])
    tenants = folder / "tenants.yaml"
    tenants.write_text(
        "tenants:\n"
        f"  - id: {TENANT}\n"
        f"    api_key_sha256: ['{hashlib.sha256(API_KEY.encode()).hexdigest()}']\n"
        f"    access_key_id: {AK[0]}\n"
        f"    access_key_secret_file: {folder / 'secret'}\n"
        f"    region_id: {REGION}\n"
        "    rate_limits: {read: {per_second: 1000, burst: 1000}}\n"
    )
    return tenants


@dataclass
class Traced:
    gateway: Gateway
    emulator_url: str
    receiver: OtlpReceiver


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traced]:
    tenants = write_tenants(tmp_path_factory.mktemp("traced"))
    emulator, url = start_emulator([f"{AK[0]}:{AK[1]}"], "--progression", "manual")
    with otlp_receiver() as receiver:
        gateway = start_gateway(tenants_file=tenants, smc_endpoint=url, env=receiver.env())
        try:
            yield Traced(gateway, url, receiver)
        finally:
            assert gateway.process.stop() == 0
            emulator.stop()


def traceparent() -> tuple[str, str, str]:
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{parent_id}-01", trace_id, parent_id


async def add_fault(url: str, fault: dict[str, Any]) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/_emulator/faults", json=fault) as response,
    ):
        assert response.status == 201


def trace_of(receiver: OtlpReceiver, trace_id: str, count: int) -> list[ReceivedSpan]:
    """The trace's spans once ``count`` have arrived (and a moment for any extra one)."""
    receiver.wait_for(lambda spans: sum(s.trace_id == trace_id for s in spans) >= count)
    time.sleep(0.3)
    return [s for s in receiver.spans if s.trace_id == trace_id]


def check_trace(
    spans: list[ReceivedSpan], parent_id: str, request_id: str, attempts: int
) -> ReceivedSpan:
    """One server span under the caller's, then ``attempts`` SMC spans under it."""
    assert len(spans) == 1 + attempts, [s.name for s in spans]
    (server,) = [s for s in spans if s.kind == SERVER]
    assert server.parent_id == parent_id
    assert server.service == "smc-gateway-test"
    smc = sorted(
        (s for s in spans if s.kind == CLIENT), key=lambda s: int(str(s.attributes["smc.attempt"]))
    )
    assert len(smc) == attempts
    for number, span in enumerate(smc, start=1):
        assert span.name == "SMC DescribeSourceServers"
        assert span.parent_id == server.span_id
        attributes = span.attributes
        assert attributes["smc.action"] == "DescribeSourceServers"
        assert attributes["smc.attempt"] == number
        assert attributes["cloud.provider"] == "alibaba_cloud"
        assert attributes["cloud.region"] == REGION
        assert attributes["smc_gateway.tenant.id"] == TENANT
        assert attributes["smc.request_id"]
    assert smc[-1].attributes["smc.request_id"] == request_id
    assert "smc.error_code" not in smc[-1].attributes
    for span in smc[:-1]:
        assert span.attributes["smc.error_code"] == "InternalError"
        assert span.events == ["smc.retry"]
    return server


def log_line(gateway: Gateway, trace_id: str) -> dict[str, Any]:
    """The call's access log line: JSON, with the trace id of the exported spans."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in list(gateway.process.lines):
            if line.startswith("{") and trace_id in line:
                parsed: dict[str, Any] = json.loads(line)
                if parsed.get("logger") == "smc_gateway.access":
                    return parsed
        time.sleep(0.05)
    raise AssertionError(f"no log line with trace {trace_id}:\n{gateway.process.output}")


async def test_rest_call_joins_the_callers_trace(traced: Traced) -> None:
    header, trace_id, parent_id = traceparent()
    await add_fault(
        traced.emulator_url,
        {"action": "DescribeSourceServers", "code": "InternalError", "count": 1},
    )
    headers = {"Authorization": f"Bearer {API_KEY}", "traceparent": header}
    async with (
        aiohttp.ClientSession() as session,
        session.get(traced.gateway.rest + "/v1/sources", headers=headers) as response,
    ):
        assert response.status == 200
        request_id = response.headers["Smc-Request-Id"]
    spans = await asyncio.to_thread(trace_of, traced.receiver, trace_id, 3)
    server = check_trace(spans, parent_id, request_id, attempts=2)
    assert server.attributes.get("http.route") == "/v1/sources"
    line = await asyncio.to_thread(log_line, traced.gateway, trace_id)
    assert line["span_id"] == server.span_id
    assert line["level"] == "INFO"
    assert line["tenant"] == TENANT
    assert line["frontend"] == "rest"
    assert line["method"] == "ListSourceServers"
    assert line["code"] == "OK"
    assert line["http_status"] == 200
    assert line["smc_action"] == "DescribeSourceServers"
    assert line["smc_request_id"] == request_id
    assert line["attempts"] == 2
    assert isinstance(line["latency_ms"], float)
    assert "timestamp" in line


async def test_grpc_call_joins_the_callers_trace(traced: Traced) -> None:
    header, trace_id, parent_id = traceparent()
    async with grpc.aio.insecure_channel(traced.gateway.grpc_target) as channel:
        call = channel.unary_unary(
            "/smcgateway.v1.SourceServerService/ListSourceServers",
            request_serializer=sources.ListSourceServersRequest.SerializeToString,
            response_deserializer=sources.ListSourceServersResponse.FromString,
        )
        metadata = (("authorization", f"Bearer {API_KEY}"), ("traceparent", header))
        answer = call(sources.ListSourceServersRequest(), metadata=metadata, timeout=10)
        await answer
        trailers = dict(await answer.trailing_metadata() or ())
    request_id = str(trailers["smc-request-id"])
    spans = await asyncio.to_thread(trace_of, traced.receiver, trace_id, 2)
    server = check_trace(spans, parent_id, request_id, attempts=1)
    assert server.name == "/smcgateway.v1.SourceServerService/ListSourceServers"
    line = await asyncio.to_thread(log_line, traced.gateway, trace_id)
    assert line["span_id"] == server.span_id
    assert (line["frontend"], line["code"], line["attempts"]) == ("grpc", "OK", 1)
    assert "http_status" not in line


async def test_health_and_metrics_are_not_traced(traced: Traced) -> None:
    header, trace_id, _ = traceparent()
    async with aiohttp.ClientSession() as session:
        for path in ("/healthz", "/readyz", "/metrics"):
            async with session.get(traced.gateway.rest + path, headers={"traceparent": header}):
                pass
    # A later traced call's spans arrive; none of the probes' did.
    await test_grpc_call_joins_the_callers_trace(traced)
    assert not [s for s in traced.receiver.spans if s.trace_id == trace_id]


# --- SIGTERM under load ---------------------------------------------------------------------


@dataclass
class Load:
    ok: int = 0
    failures: list[str] | None = None
    drain: bool = False  # set once readiness is seen gone, as a load balancer would


async def _rest_worker(session: aiohttp.ClientSession, rest: str, load: Load) -> None:
    assert load.failures is not None
    while not load.drain:
        try:
            async with session.get(
                rest + "/v1/sources", headers={"Authorization": f"Bearer {API_KEY}"}
            ) as response:
                await response.read()
                if response.status != 200:
                    load.failures.append(f"REST {response.status}")
                else:
                    load.ok += 1
        except aiohttp.ClientError as error:
            load.failures.append(f"REST {error!r}")


async def _grpc_worker(channel: grpc.aio.Channel, load: Load) -> None:
    assert load.failures is not None
    call = channel.unary_unary(
        "/smcgateway.v1.SourceServerService/ListSourceServers",
        request_serializer=sources.ListSourceServersRequest.SerializeToString,
        response_deserializer=sources.ListSourceServersResponse.FromString,
    )
    while not load.drain:
        try:
            await call(
                sources.ListSourceServersRequest(),
                metadata=(("authorization", f"Bearer {API_KEY}"),),
                timeout=20,
            )
            load.ok += 1
        except grpc.aio.AioRpcError as error:
            load.failures.append(f"gRPC {error.code()} {error.details()}")


async def _slow_calls(
    session: aiohttp.ClientSession, rest: str, channel: grpc.aio.Channel
) -> tuple[int, grpc.StatusCode]:
    """One REST and one gRPC call that are still running when the delay ends."""
    headers = {"Authorization": f"Bearer {API_KEY}"}

    async def over_rest() -> int:
        async with session.get(rest + "/v1/jobs", headers=headers) as response:
            await response.read()
            return response.status

    async def over_grpc() -> grpc.StatusCode:
        call: grpc.aio.UnaryUnaryMultiCallable[Any, Any] = channel.unary_unary(
            "/smcgateway.v1.ReplicationJobService/ListReplicationJobs",
            request_serializer=jobs.ListReplicationJobsRequest.SerializeToString,
            response_deserializer=jobs.ListReplicationJobsResponse.FromString,
        )
        answer = call(
            jobs.ListReplicationJobsRequest(),
            metadata=(("authorization", f"Bearer {API_KEY}"),),
            timeout=20,
        )
        await answer
        return await answer.code()

    return await asyncio.gather(over_rest(), over_grpc())


async def test_sigterm_drains_without_failing_a_call(tmp_path: Path) -> None:
    tenants = write_tenants(tmp_path)
    emulator, url = start_emulator([f"{AK[0]}:{AK[1]}"], "--progression", "manual")
    env = {
        "SMC_GATEWAY_SHUTDOWN_DELAY_SECONDS": "1.5",
        "SMC_GATEWAY_SHUTDOWN_GRACE_SECONDS": "10",
        "SMC_GATEWAY_UPSTREAM_RATE_PER_SECOND": "10000",
        "SMC_GATEWAY_UPSTREAM_BURST": "10000",
    }
    gateway = start_gateway(tenants_file=tenants, smc_endpoint=url, env=env)
    process: Process = gateway.process
    try:
        await add_fault(url, {"action": "DescribeSourceServers", "latency_ms": 20})
        # Slow enough to outlast the delay: in flight when new calls are refused.
        await add_fault(url, {"action": "DescribeReplicationJobs", "latency_ms": 2500})
        load = Load(failures=[])
        readiness: list[tuple[str, object]] = []
        async with (
            aiohttp.ClientSession() as session,
            grpc.aio.insecure_channel(gateway.grpc_target) as channel,
            grpc.aio.insecure_channel(gateway.grpc_target) as probe_channel,
        ):
            workers = [
                *(asyncio.create_task(_rest_worker(session, gateway.rest, load)) for _ in range(4)),
                *(asyncio.create_task(_grpc_worker(channel, load)) for _ in range(4)),
            ]
            await asyncio.sleep(1.0)
            assert load.ok > 0
            assert not load.failures
            slow = asyncio.create_task(_slow_calls(session, gateway.rest, channel))
            await asyncio.sleep(0.3)
            process.popen.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            health = health_pb2_grpc.HealthStub(probe_channel)
            served_after_signal = load.ok
            async with aiohttp.ClientSession() as probes:
                rest_ready, grpc_ready = True, True
                while rest_ready or grpc_ready:
                    assert time.monotonic() - signalled < 1.5, readiness  # within the delay
                    async with probes.get(gateway.rest + "/readyz") as response:
                        body = await response.json()
                        readiness.append(("readyz", response.status))
                        if response.status == 503:
                            assert body["checks"]["shutting_down"] is True
                            rest_ready = False
                    answer = await health.Check(health_pb2.HealthCheckRequest(service=""))
                    readiness.append(("health", answer.status))
                    if answer.status == health_pb2.HealthCheckResponse.NOT_SERVING:
                        grpc_ready = False
                    await asyncio.sleep(0.02)
            load.drain = True
            await asyncio.gather(*workers)
            assert load.ok > served_after_signal  # calls kept succeeding while not ready
            rest_status, grpc_code = await slow
            assert (rest_status, grpc_code) == (200, grpc.StatusCode.OK)
        exit_code = await asyncio.to_thread(process.popen.wait, 30)
        assert exit_code == 0
        assert time.monotonic() - signalled < 1.5 + 10  # within delay + grace
        assert load.failures == []
        events = [json.loads(line).get("event") for line in process.lines if line.startswith("{")]
        assert events.index("shutting_down") < events.index("stopped")
    finally:
        process.kill()
        emulator.stop()
