"""``idempotency_max_records`` holds in a served gateway with the memory store.

Beyond the bound the oldest finished records are dropped: a retry of a dropped key runs
again (SMC's ``ClientToken``, derived from the key, still returns the same job), a retry of
a key still held is replayed, and the process says once that it started dropping.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from gateway_processes import Gateway, http_json, start_emulator, start_gateway

from gateway.core.tenants import api_key_digest

API_KEY = "bound-test-key"
AK = ("LTAIboundtestteam001", "secret-bound-test")
BOUND = 2


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, str]]:
    folder = tmp_path_factory.mktemp("bound")
    (folder / "secret").write_text(AK[1])
    tenants = folder / "tenants.yaml"
    tenants.write_text(
        f"""tenants:
  - id: team-bound
    api_key_sha256: ["{api_key_digest(API_KEY)}"]
    access_key_id: {AK[0]}
    access_key_secret_file: {folder / "secret"}
    region_id: cn-hangzhou
"""
    )
    emulator, url = start_emulator([f"{AK[0]}:{AK[1]}"])
    gateway: Gateway | None = None
    try:
        gateway = start_gateway(
            tenants_file=tenants,
            smc_endpoint=url,
            env={"SMC_GATEWAY_IDEMPOTENCY_MAX_RECORDS": str(BOUND)},
        )
        yield gateway, url
    finally:
        if gateway is not None:
            gateway.process.stop()
        emulator.stop()


def _new_source(emulator: str) -> str:
    body = {"access_key_id": AK[0], "source": {"Name": f"bound-src-{time.time_ns()}"}}
    status, _, created = http_json("POST", f"{emulator}/_emulator/sources", body)
    assert status < 300, created
    return str(created["SourceId"])


def _create(gateway: Gateway, source_id: str, key: str) -> tuple[str, bool]:
    """The job a keyed create answers, and whether the answer was a replay."""
    status, headers, body = http_json(
        "POST",
        f"{gateway.rest}/v1/jobs",
        {"sourceId": source_id, "systemDiskSize": 40},
        {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": key},
    )
    assert status == 200, body
    return str(body["jobId"]), headers.get("idempotent-replayed") == "true"


def _jobs(emulator: str) -> list[Any]:
    status, _, state = http_json("GET", f"{emulator}/_emulator/state")
    assert status == 200
    return list(state["accounts"][AK[0]]["jobs"])


def test_the_oldest_finished_record_is_dropped_beyond_the_bound(
    served: tuple[Gateway, str],
) -> None:
    gateway, emulator = served
    keys = [f"bound-key-{n}-{time.time_ns()}" for n in range(BOUND + 1)]
    sources = [_new_source(emulator) for _ in keys]
    first = [_create(gateway, source, key) for source, key in zip(sources, keys, strict=True)]
    assert [replayed for _, replayed in first] == [False] * len(keys)

    # The newest record is held: its retry is the stored answer.
    assert _create(gateway, sources[-1], keys[-1]) == (first[-1][0], True)
    # The oldest was dropped to stay within the bound: its retry runs again, and SMC's
    # ClientToken makes it the same job, not a second one.
    assert _create(gateway, sources[0], keys[0]) == (first[0][0], False)
    assert len(_jobs(emulator)) == len(keys)
    assert f"idempotency records in memory reached {BOUND}" in gateway.process.output
