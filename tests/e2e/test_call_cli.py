"""The emulator's printed example works as printed: ``smc-gateway call`` against it."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def printed_example() -> Iterator[tuple[str, dict[str, str], list[str]]]:
    """Start ``smc-gateway emulator``; yield its URL, the example's env and argv."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        url = lines[0].rsplit(" ", 1)[1].strip()
        assert lines[3].startswith("Try it")
        words = shlex.split(lines[4])
        env = dict(w.split("=", 1) for w in words if w.startswith("ALIBABA_CLOUD_"))
        argv = [w for w in words if not w.startswith("ALIBABA_CLOUD_")]
        yield url, env, argv
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    return subprocess.run(
        argv, env={**clean, **env}, capture_output=True, text=True, timeout=60, check=False
    )


def test_printed_example_lists_demo_sources(
    printed_example: tuple[str, dict[str, str], list[str]],
) -> None:
    url, env, argv = printed_example
    assert argv[:4] == [sys.executable, "-m", "gateway", "call"]
    assert argv[argv.index("--endpoint") + 1] == url
    result = _run(argv, env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["TotalCount"] == 3
    assert len(answer["SourceServers"]["SourceServer"]) == 3
    assert answer["PageSize"] == 5


def test_wrong_secret_is_reported_as_smc_error(
    printed_example: tuple[str, dict[str, str], list[str]],
) -> None:
    _, env, argv = printed_example
    result = _run(argv, {**env, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "wrong-secret"})
    assert result.returncode == 1
    failure = json.loads(result.stderr)
    assert failure["Code"] == "SignatureDoesNotMatch"
    assert failure["RequestId"]
    assert "wrong-secret" not in result.stderr


def test_missing_credentials_are_named(
    printed_example: tuple[str, dict[str, str], list[str]],
) -> None:
    _, env, argv = printed_example
    result = _run(argv, {"ALIBABA_CLOUD_ACCESS_KEY_ID": env["ALIBABA_CLOUD_ACCESS_KEY_ID"]})
    assert result.returncode == 2
    assert "ALIBABA_CLOUD_ACCESS_KEY_SECRET is not set" in result.stderr


def test_malformed_parameter_is_an_argparse_error() -> None:
    result = _run([sys.executable, "-m", "gateway", "call", "DescribeSourceServers", "oops"], {})
    assert result.returncode == 2
    assert "expected NAME=VALUE" in result.stderr
