"""``smc-gateway serve`` as a process, used the way the README's quick start says."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from gateway_processes import http_json

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import replication_job_service_pb2_grpc as jobs_grpc
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway._proto.smcgateway.v1 import source_server_service_pb2_grpc as sources_grpc

ALLOWED_ORIGIN = "http://app.test"
BANNER = re.compile(r"smc-gateway serving gRPC on 127\.0\.0\.1:(\d+) and REST on (http://\S+)")


@dataclass
class Served:
    process: subprocess.Popen[str]
    lines: list[str]
    grpc_target: str
    rest: str
    api_key: str
    emulator: str
    curl: str


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMC_GATEWAY_")}
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--grpc-port", "0", "--http-port", "0",
         "--cors-allow-origin", ALLOWED_ORIGIN],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    lines: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("API docs:"):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        assert ready.wait(60), "\n".join(lines)
        text = "\n".join(lines)
        found = BANNER.search(text)
        assert found is not None, text
        key = re.search(r"Demo API key: (\S+)", text)
        emulator = re.search(r"SMC: embedded emulator at (\S+)", text)
        curl = next(line.strip() for line in lines if line.strip().startswith("curl "))
        assert key is not None
        assert emulator is not None
        yield Served(process, lines, f"127.0.0.1:{found[1]}", found[2], key[1], emulator[1], curl)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def test_printed_curl_line_lists_the_demo_sources(served: Served) -> None:
    words = shlex.split(served.curl)
    header = words[words.index("-H") + 1]
    url = words[-1]
    name, _, value = header.partition(": ")
    status, _, body = http_json("GET", url, headers={name: value})
    assert status == 200
    assert body["totalSize"] == 3
    assert [s["stateRaw"] for s in body["sourceServers"]] == ["Available"] * 3
    assert any("grpcurl" in line for line in served.lines)


def test_rest_lifecycle(served: Served) -> None:
    auth = {"Authorization": f"Bearer {served.api_key}"}
    _, _, listed = http_json("GET", f"{served.rest}/v1/sources?pageSize=1", headers=auth)
    source_id = listed["sourceServers"][0]["sourceId"]
    status, headers, created = http_json(
        "POST", f"{served.rest}/v1/jobs",
        {"sourceId": source_id, "systemDiskSize": 40, "name": "rest-job"}, auth,
    )  # fmt: skip
    assert status == 200, created
    job_id = created["jobId"]
    assert {k.lower() for k in headers} >= {"smc-request-id"}
    status, _, got = http_json("GET", f"{served.rest}/v1/jobs/{job_id}", headers=auth)
    assert (status, got["replicationJob"]["status"]) == (200, "REPLICATION_JOB_STATUS_READY")
    status, _, updated = http_json(
        "PATCH", f"{served.rest}/v1/jobs/{job_id}", {"name": "rest-job-2"}, auth
    )
    assert (status, updated["replicationJob"]["name"]) == (200, "rest-job-2")
    assert http_json("POST", f"{served.rest}/v1/jobs/{job_id}:start", {}, auth)[0] == 200
    advanced = http_json(
        "POST", f"{served.emulator}/_emulator/jobs/{job_id}/advance", {"to": "Syncing"}
    )
    assert advanced[0] == 200
    assert http_json("POST", f"{served.rest}/v1/jobs/{job_id}:stop", {}, auth)[0] == 200
    _, _, stopped = http_json("GET", f"{served.rest}/v1/jobs/{job_id}", headers=auth)
    assert stopped["replicationJob"]["status"] == "REPLICATION_JOB_STATUS_STOPPED"
    assert http_json("DELETE", f"{served.rest}/v1/jobs/{job_id}", headers=auth)[0] == 200
    status, _, gone = http_json("GET", f"{served.rest}/v1/jobs/{job_id}", headers=auth)
    assert (status, gone["error"]["status"]) == (404, "NOT_FOUND")


def test_grpc_lifecycle(served: Served) -> None:
    metadata = (("authorization", f"Bearer {served.api_key}"),)
    with grpc.insecure_channel(served.grpc_target) as channel:
        source_stub = sources_grpc.SourceServerServiceStub(channel)
        job_stub = jobs_grpc.ReplicationJobServiceStub(channel)
        listed = source_stub.ListSourceServers(
            sources.ListSourceServersRequest(), metadata=metadata, timeout=20
        )
        source_id = listed.source_servers[1].source_id
        request = jobs.CreateReplicationJobRequest(
            source_id=source_id, system_disk_size=40, name="grpc-job"
        )
        created = job_stub.CreateReplicationJob(request, metadata=metadata, timeout=20)
        job_id = created.job_id
        got = job_stub.GetReplicationJob(
            jobs.GetReplicationJobRequest(job_id=job_id), metadata=metadata, timeout=20
        )
        assert got.replication_job.name == "grpc-job"
        updated = job_stub.UpdateReplicationJob(
            jobs.UpdateReplicationJobRequest(job_id=job_id, name="grpc-job-2"), metadata=metadata
        )
        assert updated.replication_job.name == "grpc-job-2"
        job_stub.StartReplicationJob(
            jobs.StartReplicationJobRequest(job_id=job_id), metadata=metadata
        )
        status, _, _ = http_json(
            "POST", f"{served.emulator}/_emulator/jobs/{job_id}/advance", {"to": "Syncing"}
        )
        assert status == 200
        job_stub.StopReplicationJob(
            jobs.StopReplicationJobRequest(job_id=job_id), metadata=metadata
        )
        job_stub.DeleteReplicationJob(
            jobs.DeleteReplicationJobRequest(job_id=job_id), metadata=metadata
        )
        with pytest.raises(grpc.RpcError) as caught:
            job_stub.GetReplicationJob(
                jobs.GetReplicationJobRequest(job_id=job_id), metadata=metadata
            )
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_cors_preflight(served: Served) -> None:
    asked = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": (
            "authorization, idempotency-key, content-type, traceparent"
        ),
    }
    status, headers, _ = http_json(
        "OPTIONS", f"{served.rest}/v1/jobs", headers={"Origin": ALLOWED_ORIGIN, **asked}
    )
    lowered = {k.lower(): v for k, v in headers.items()}
    assert status == 204
    assert lowered["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in lowered["access-control-allow-methods"]
    allowed = lowered["access-control-allow-headers"].lower()
    for header in ("authorization", "idempotency-key", "traceparent", "content-type"):
        assert header in allowed
    status, headers, _ = http_json(
        "OPTIONS", f"{served.rest}/v1/jobs", headers={"Origin": "http://evil.test", **asked}
    )
    assert status == 403
    assert "access-control-allow-origin" not in {k.lower() for k in headers}


def test_health_docs_and_openapi(served: Served) -> None:
    assert http_json("GET", f"{served.rest}/healthz") == (
        200,
        http_json("GET", f"{served.rest}/healthz")[1],
        {"status": "ok"},
    )
    status, _, ready = http_json("GET", f"{served.rest}/readyz")
    assert (status, ready["ready"]) == (200, True)
    status, _, document = http_json("GET", f"{served.rest}/openapi.json")
    assert status == 200
    assert "/v1/jobs/{job_id}:start" in document["paths"]
    with urllib.request.urlopen(f"{served.rest}/docs", timeout=20) as response:  # noqa: S310
        assert response.status == 200
        assert b"swagger" in response.read().lower()
    with grpc.insecure_channel(served.grpc_target) as channel:
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_serve_refuses_external_endpoint_without_tenants() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--smc-endpoint", "http://127.0.0.1:9",
         "--grpc-port", "0", "--http-port", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "smc_endpoint needs tenants_file" in result.stderr
    assert time.monotonic() - started < 60


def test_serve_rejects_invalid_settings() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--grpc-port", "70000"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "grpc_port" in result.stderr
