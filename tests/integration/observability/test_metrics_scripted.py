"""``/metrics`` after a scripted mix of calls shows exactly the expected counters.

The whole gateway runs in-process (``GatewayProcess``: embedded emulator, both front ends,
its own metrics registry) over loopback sockets.  The mix: reads that succeed, one read
retried after an SMC server error, one refused by SMC (not retried), one refused by the
tenant's read budget, one unauthenticated, keyed creates (started, replayed, mismatch)
and one gRPC read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway.config import Settings
from gateway.serve import GatewayProcess

API_KEY = "metrics-demo-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
async def process() -> AsyncIterator[GatewayProcess]:
    settings = Settings(
        grpc_port=0,
        http_port=0,
        demo_api_key=API_KEY,  # type: ignore[arg-type]  # pydantic turns it into a SecretStr
        default_read_burst=5,
        default_read_rate_per_second=0.001,
    )
    gateway = GatewayProcess(settings)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
           **labels: str) -> float | None:  # fmt: skip
    return samples.get((name, tuple(sorted(labels.items()))))


async def test_counters_after_a_scripted_mix(process: GatewayProcess) -> None:
    rest = f"http://127.0.0.1:{process.http_port}"
    assert process.emulator is not None
    faults = f"{process.emulator.url}/_emulator/faults"
    async with aiohttp.ClientSession() as session:

        async def get(path: str, headers: dict[str, str] = AUTH) -> int:
            async with session.get(rest + path, headers=headers) as response:
                await response.read()
                return response.status

        async with session.get(rest + "/v1/sources", headers=AUTH) as response:  # read 1
            assert response.status == 200
            source_id = (await response.json())["sourceServers"][0]["sourceId"]
        fault = {"action": "DescribeSourceServers", "code": "InternalError", "count": 1}
        async with session.post(faults, json=fault) as response:
            assert response.status == 201
        assert await get("/v1/sources") == 200  # read 2: retried once, then OK
        fault = {"action": "DescribeSourceServers", "code": "InvalidParameter", "count": 1}
        async with session.post(faults, json=fault) as response:
            assert response.status == 201
        assert await get("/v1/sources") == 400  # read 3: SMC refuses, not retried
        assert await get("/v1/sources", {"Authorization": "Bearer wrong"}) == 401
        job = {"sourceId": source_id, "systemDiskSize": 40}
        keyed = {**AUTH, "Idempotency-Key": "metrics-1"}
        for _ in range(2):  # started, then replayed
            async with session.post(rest + "/v1/jobs", json=job, headers=keyed) as response:
                assert response.status == 200, await response.text()
        other = {**job, "systemDiskSize": 50}
        async with session.post(rest + "/v1/jobs", json=other, headers=keyed) as response:
            assert response.status == 422  # same key, another request (SPEC §6)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{process.grpc_port}") as channel:
            call = channel.unary_unary(
                "/smcgateway.v1.SourceServerService/ListSourceServers",
                request_serializer=sources.ListSourceServersRequest.SerializeToString,
                response_deserializer=sources.ListSourceServersResponse.FromString,
            )
            await call(
                sources.ListSourceServersRequest(),
                metadata=(("authorization", f"Bearer {API_KEY}"),),
                timeout=10,
            )  # read 4
        assert await get("/v1/sources") == 200  # read 5: the last of the burst
        assert await get("/v1/sources") == 429  # refused by the read budget
        async with session.get(rest + "/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            text = await response.text()

    s = _samples(text)
    requests = "smc_gateway_requests_total"
    rest_list = {"frontend": "rest", "method": "ListSourceServers"}
    assert _value(s, requests, **rest_list, code="OK", tenant="demo") == 3
    assert _value(s, requests, **rest_list, code="INVALID_ARGUMENT", tenant="demo") == 1
    assert _value(s, requests, **rest_list, code="RESOURCE_EXHAUSTED", tenant="demo") == 1
    assert _value(s, requests, **rest_list, code="UNAUTHENTICATED", tenant="") == 1
    create = {"frontend": "rest", "method": "CreateReplicationJob", "tenant": "demo"}
    assert _value(s, requests, **create, code="OK") == 2
    assert _value(s, requests, **create, code="INVALID_ARGUMENT") == 1
    grpc_list = {"frontend": "grpc", "method": "ListSourceServers", "tenant": "demo"}
    assert _value(s, requests, **grpc_list, code="OK") == 1
    assert sum(v for (name, _), v in s.items() if name == requests) == 10

    attempts = "smc_gateway_upstream_attempts_total"
    assert _value(s, attempts, action="DescribeSourceServers", code="OK") == 4
    assert _value(s, attempts, action="DescribeSourceServers", code="InternalError") == 1
    assert _value(s, attempts, action="DescribeSourceServers", code="InvalidParameter") == 1
    assert _value(s, attempts, action="CreateReplicationJob", code="OK") == 1
    retries = "smc_gateway_upstream_retries_total"
    assert _value(s, retries, action="DescribeSourceServers") == 1
    assert _value(s, "smc_gateway_rate_limited_total", tenant="demo", budget="read") == 1
    decisions = "smc_gateway_idempotency_decisions_total"
    assert _value(s, decisions, decision="started") == 1
    assert _value(s, decisions, decision="replayed") == 1
    assert _value(s, decisions, decision="mismatch") == 1
    assert _value(s, "smc_gateway_in_flight_calls", frontend="rest") == 0
    latency = "smc_gateway_request_duration_seconds_count"
    assert _value(s, latency, **rest_list) == 6
    assert _value(s, "smc_gateway_config_reloads_total", result="failed") == 0
    assert not any(name == "smc_gateway_redis_errors_total" for name, _ in s)
