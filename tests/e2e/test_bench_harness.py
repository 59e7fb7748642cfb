"""The benchmark harness runs end to end (tiny configuration; no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_writes_its_report(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    report = results.read_text()
    assert "## Targets" in report
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
    again = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--render",
            str(ROOT / "bench" / "out" / "results-quick.json"),
            "--results",
            str(rendered),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert again.returncode == 0, again.stderr
    assert rendered.read_text() == report


def test_conversion_benchmark_reports_each_way() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_conversions.py"), "--pages", "20"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    report = json.loads((ROOT / "bench" / "out" / "bench_conversions.json").read_text())
    assert set(report) == {
        "kept, every resource new",
        "kept, every resource kept",
        "not kept (conversion_cache_entries=0)",
    }
    assert all(us > 0 for us in report.values())
