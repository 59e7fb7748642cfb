"""A Node.js service calls the gateway over gRPC (``tests/e2e/node/client.js``).

The gateway runs as a process (``python -m gateway serve`` on its embedded emulator);
the client is @grpc/grpc-js with the protos loaded at run time by @grpc/proto-loader,
decoding rich errors from ``grpc-status-details-bin`` as any non-Python caller must.
Node and npm are required: without them these tests fail, they do not skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from google.rpc import status_pb2

from gateway.core.errors import DOMAIN

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).resolve().parent / "node"
API_KEY = "e2e-node-demo-key"
READY = re.compile(
    r"smc-gateway serving gRPC on 127\.0\.0\.1:(\d+) and REST on http://127\.0\.0\.1:(\d+)"
)
START_TIMEOUT = 60.0


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not on PATH: the Node.js gRPC end-to-end tests need Node.js 20+ "
            "and npm (install them, e.g. `apt-get install nodejs npm`)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def node() -> str:
    """The ``node`` executable, with the client's locked dependencies installed."""
    node_path = _tool("node")
    npm_path = _tool("npm")
    if not (NODE_DIR / "node_modules").is_dir():
        result = subprocess.run(
            [npm_path, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"`npm ci` in {NODE_DIR} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}",
                pytrace=False,
            )
    return node_path


@pytest.fixture(scope="module")
def google_protos() -> Path:
    """Where googleapis-common-protos keeps ``google/rpc/status.proto``."""
    root = Path(status_pb2.__file__).resolve().parents[2]
    if not (root / "google" / "rpc" / "error_details.proto").is_file():
        pytest.fail(f"google/rpc/*.proto not found under {root}", pytrace=False)
    return root


@dataclass
class Gateway:
    """A running ``smc-gateway serve`` process; its output is drained in the background."""

    process: subprocess.Popen[str]
    grpc_port: int
    http_port: int
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit status (killed after ``timeout`` seconds)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self.close()

    def close(self) -> None:
        """Release the output pipe once the process has ended."""
        if self.reader is not None:
            self.reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _start_gateway() -> Gateway:
    env = {**os.environ, "SMC_GATEWAY_DEMO_API_KEY": API_KEY, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--grpc-port", "0", "--http-port", "0"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready: list[re.Match[str]] = []
    seen_ready = threading.Event()

    def drain() -> None:
        # Keep reading after the ready line so that a chatty server never blocks on a full pipe.
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = READY.search(line)
            if match and not ready:
                ready.append(match)
                seen_ready.set()
        seen_ready.set()  # EOF: the process ended

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    seen_ready.wait(START_TIMEOUT)
    if not ready:
        if process.poll() is None:
            process.kill()
        process.wait()
        reader.join(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
        pytest.fail(
            "`python -m gateway serve` did not print 'smc-gateway serving gRPC on "
            "127.0.0.1:<port> and REST on http://127.0.0.1:<port>' within "
            f"{START_TIMEOUT:.0f} s (exit status {process.returncode}); output:\n"
            + "".join(output),
            pytrace=False,
        )
    return Gateway(process, int(ready[0].group(1)), int(ready[0].group(2)), output, reader)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    running = _start_gateway()
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.terminate()


def _run_client(node: str, google_protos: Path, target: str, scenario: str) -> dict[str, Any]:
    result = subprocess.run(
        [node, str(NODE_DIR / "client.js"), target, API_KEY, scenario, str(google_protos)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"client.js {scenario} failed:\n{result.stderr}"
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line, got:\n{result.stdout}"
    answer: dict[str, Any] = json.loads(lines[0])
    assert answer["scenario"] == scenario
    return answer


def test_list_source_servers(node: str, google_protos: Path, gateway: Gateway) -> None:
    answer = _run_client(node, google_protos, gateway.grpc_target, "list")

    assert answer["ok"] is True, answer
    assert answer["total_size"] >= 1
    assert len(answer["ids"]) == answer["total_size"]
    assert all(re.fullmatch(r"s-[A-Za-z0-9]+", i) for i in answer["ids"]), answer["ids"]


def test_malformed_job_id_is_a_rich_invalid_argument(
    node: str, google_protos: Path, gateway: Gateway
) -> None:
    answer = _run_client(node, google_protos, gateway.grpc_target, "error")

    assert answer["ok"] is False, answer
    assert answer["code"] == 3
    assert answer["code_name"] == "INVALID_ARGUMENT"
    assert answer["status"] == {"code": 3, "message": answer["message"]}
    assert "google.rpc.ErrorInfo" in answer["detail_types"]
    assert "google.rpc.BadRequest" in answer["detail_types"]
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*", answer["reason"]), answer["reason"]
    assert answer["domain"] == DOMAIN
    fields = [v["field"] for v in answer["field_violations"]]
    assert "job_id" in fields, answer["field_violations"]
    assert all(v["description"] for v in answer["field_violations"])


def test_job_lifecycle(node: str, google_protos: Path, gateway: Gateway) -> None:
    answer = _run_client(node, google_protos, gateway.grpc_target, "lifecycle")

    steps = {s["step"]: s for s in answer["steps"]}
    assert list(steps) == ["list_sources", "create", "get", "update", "start", "stop", "delete"], (
        answer
    )
    for name in ("list_sources", "create", "get", "update", "start", "delete"):
        assert steps[name]["ok"] is True, steps[name]
    assert re.fullmatch(r"j-[A-Za-z0-9]+", steps["create"]["job_id"])
    assert steps["get"]["name"].startswith("e2e-node-")
    assert steps["update"]["name"] == steps["get"]["name"] + "-renamed"
    # Stop needs Running + Syncing: right after start it may be too early.
    assert steps["stop"]["code_name"] in {"OK", "FAILED_PRECONDITION"}, steps["stop"]


def test_sigterm_after_calls_exits_zero(node: str, google_protos: Path) -> None:
    running = _start_gateway()
    try:
        assert _run_client(node, google_protos, running.grpc_target, "list")["ok"] is True
    finally:
        status = running.terminate()
    assert status == 0, "".join(running.output)
