"""Start and stop gateway and emulator processes for end-to-end tests, and call them.

Every process listens on 127.0.0.1 free ports, is read line by line on a background thread
(so a full pipe never blocks it) and is stopped by PID: SIGTERM (expecting exit 0), or
SIGKILL for crash tests.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


class Process:
    """A child process whose output lines are collected as they come."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SMC_GATEWAY_")}
        full_env.update(env or {})
        full_env["PYTHONUNBUFFERED"] = "1"
        self.popen = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env
        )
        self.lines: list[str] = []
        self._ended = False  # the output is closed: no more lines will come
        self._changed = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        """The first output match of ``pattern``; fails with the output so far if none comes."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    found = compiled.search(line)
                    if found:
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or self._ended:
                    raise AssertionError(f"no line matching {pattern!r}:\n{self.output}")
                self._changed.wait(min(left, 0.2))

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()


def start_emulator(accounts: list[str], *extra: str) -> tuple[Process, str]:
    """``smc-gateway emulator`` with ``AK:SECRET`` accounts; returns it and its URL."""
    argv = [sys.executable, "-m", "gateway", "emulator", "--port", "0"]
    for account in accounts:
        argv += ["--account", account]
    process = Process([*argv, *extra])
    url = process.wait_for(r"SMC emulator listening on (http://\S+)")[1]
    return process, url


class Gateway:
    """A running ``smc-gateway serve``."""

    def __init__(self, process: Process) -> None:
        found = process.wait_for(
            r"smc-gateway serving gRPC on 127\.0\.0\.1:(\d+) and REST on (http://\S+)"
        )
        self.process = process
        self.grpc_target = f"127.0.0.1:{found[1]}"
        self.rest = found[2]


def start_gateway(
    *,
    tenants_file: Path,
    smc_endpoint: str,
    env: dict[str, str] | None = None,
    extra: tuple[str, ...] = (),
) -> Gateway:
    argv = [
        sys.executable, "-m", "gateway", "serve", "--grpc-port", "0", "--http-port", "0",
        "--smc-endpoint", smc_endpoint, "--tenants", str(tenants_file), *extra,
    ]  # fmt: skip
    return Gateway(Process(argv, env))


def http_json(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    """One HTTP call with a JSON body (if any): status, headers (names lower-cased), JSON."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            status, answer_headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, error.headers, error.read()
    lowered = {name.lower(): value for name, value in answer_headers.items()}
    return status, lowered, json.loads(raw) if raw else None
