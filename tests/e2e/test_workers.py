"""``smc-gateway serve --workers 2``: two gateway processes on the same two ports.

Shown over real sockets: new connections reach both workers (REST and gRPC), a page token
issued by one worker is accepted by the other (one key for the set), SIGTERM stops the
launcher and every worker with exit 0, and the launcher refuses to start workers without
an SMC endpoint.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import grpc
import pytest
from gateway_processes import Gateway, Process, start_emulator, start_gateway

from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway._proto.smcgateway.v1 import source_server_service_pb2_grpc as sources_grpc

API_KEY = "workers-key"
AK = ("LTAIworkers000000001", "workers-secret")


def write_tenants(root: Path) -> Path:
    (root / "secret").write_text(AK[1])
    (root / "tenants.yaml").write_text(
        "tenants:\n  - id: team\n"
        f"    api_key_sha256: ['{hashlib.sha256(API_KEY.encode()).hexdigest()}']\n"
        f"    access_key_id: {AK[0]}\n    access_key_secret_file: {root / 'secret'}\n"
        "    region_id: cn-hangzhou\n"
    )
    return root / "tenants.yaml"


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    root = tmp_path_factory.mktemp("workers")
    write_tenants(root)
    emulator, url = start_emulator([f"{AK[0]}:{AK[1]}"])
    try:
        gateway = start_gateway(
            tenants_file=root / "tenants.yaml",
            smc_endpoint=url,
            # The workers run on uvloop here: the other event loop gets its calls too.
            extra=("--workers", "2", "--event-loop", "uvloop"),
        )
        try:
            gateway.process.wait_for(r"workers: 2 processes share these ports")
            yield gateway
        finally:
            assert gateway.process.stop() == 0
    finally:
        emulator.stop()


def _pids(gateway: Gateway, frontend: str) -> set[int]:
    """The pids in the access log lines of ``frontend`` calls."""
    found = set()
    for line in list(gateway.process.lines):
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("logger") == "smc_gateway.access" and record["frontend"] == frontend:
                found.add(record["pid"])
    return found


@pytest.mark.asyncio(loop_scope="module")
async def test_rest_connections_reach_both_workers_and_share_page_tokens(
    workers: Gateway,
) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}", "Connection": "close"}
    token = ""
    for _ in range(30):  # a new connection each time: the kernel picks a worker for each
        async with aiohttp.ClientSession() as session:
            query = {"pageSize": "1", **({"pageToken": token} if token else {})}
            async with session.get(
                workers.rest + "/v1/sources", params=query, headers=headers
            ) as response:
                assert response.status == 200, await response.text()
                body = await response.json()
        token = body["nextPageToken"] or ""
    assert len(_pids(workers, "rest")) == 2


@pytest.mark.asyncio(loop_scope="module")
async def test_grpc_connections_reach_both_workers(workers: Gateway) -> None:
    for _ in range(30):
        async with grpc.aio.insecure_channel(workers.grpc_target) as channel:
            stub = sources_grpc.SourceServerServiceStub(channel)
            answer = await stub.ListSourceServers(
                sources.ListSourceServersRequest(page_size=1),
                metadata=(("authorization", f"Bearer {API_KEY}"),),
                timeout=10,
            )
            assert answer.total_size == 3
    assert len(_pids(workers, "grpc")) == 2


def test_workers_need_an_smc_endpoint(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--workers", "2", "--http-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--workers above 1 needs smc_endpoint" in done.stderr


def test_sigterm_stops_every_worker(tmp_path: Path) -> None:
    tenants = write_tenants(tmp_path)
    emulator, url = start_emulator([f"{AK[0]}:{AK[1]}"])
    try:
        gateway = start_gateway(tenants_file=tenants, smc_endpoint=url, extra=("--workers", "2"))
        gateway.process.wait_for(r"workers: 2 processes share these ports")
        children = _children(gateway.process)
        assert len(children) == 2
        assert gateway.process.stop() == 0
        assert all(not Path(f"/proc/{pid}").exists() for pid in children)
    finally:
        emulator.stop()


def _children(process: Process) -> list[int]:
    """The launcher's worker processes (multiprocessing's resource tracker excluded)."""
    pid = process.popen.pid
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found
