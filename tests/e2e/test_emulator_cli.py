"""``python -m gateway emulator`` as a process: prints its URL, serves, exits 0 on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request


def test_cli_serves_and_stops_cleanly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "emulator", "--port", "0", "--random-seed", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("SMC emulator listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1].strip()
        key_line = process.stdout.readline()
        assert key_line.startswith("Demo AccessKeyId:")
        with urllib.request.urlopen(f"{url}/_emulator/healthz", timeout=10) as answer:  # noqa: S310
            assert json.loads(answer.read()) == {"status": "ok"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_cli_bad_account_is_an_argparse_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "emulator", "--account", "broken"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "--account" in result.stderr
