"""The control API under /_emulator/ and fault injection, over a real socket."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
from emulator_wire_helpers import AK_ID, FakeClock, SmcCaller

from gateway.emulator import Emulator


async def control(
    session: aiohttp.ClientSession, emulator: Emulator, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    async with session.request(method, f"{emulator.url}/_emulator{path}", json=body) as response:
        return response.status, await response.json()


async def first_source(smc: SmcCaller) -> str:
    answer = await smc.call("DescribeSourceServers")
    return str(answer.body["SourceServers"]["SourceServer"][0]["SourceId"])


async def create_job(smc: SmcCaller, source_id: str, **extra: str) -> Any:
    params = {"RegionId": "cn-hangzhou", "SourceId": source_id, "SystemDiskSize": "40", **extra}
    # POST: aiohttp re-sends an idempotent GET once when a reused connection drops.
    return await smc.call("CreateReplicationJob", params, method="POST")


async def test_healthz_and_state(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    assert await control(session, emulator, "GET", "/healthz") == (200, {"status": "ok"})
    status, state = await control(session, emulator, "GET", "/state")
    assert status == 200
    assert len(state["accounts"][AK_ID]["sources"]) == 3
    assert state["accounts"][AK_ID]["jobs"] == []
    assert state["progression"]["mode"] == "manual"


async def test_add_source(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    status, source = await control(
        session,
        emulator,
        "POST",
        "/sources",
        {
            "access_key_id": AK_ID,
            "source": {
                "Name": "added-01",
                "DataDisks": [{"Index": 1, "Size": 30}],
                "Platform": "Debian",
            },
        },
    )
    assert status == 201
    assert source["SourceId"].startswith("s-")
    listed = await smc.call("DescribeSourceServers", {"Name": "added-01"})
    assert listed.body["SourceServers"]["SourceServer"][0]["Platform"] == "Debian"
    unknown = await control(
        session, emulator, "POST", "/sources", {"access_key_id": "nobody", "source": {}}
    )
    assert unknown[0] == 404
    bad = await control(
        session,
        emulator,
        "POST",
        "/sources",
        {"access_key_id": AK_ID, "source": {"State": "Flying"}},
    )
    assert bad[0] == 400
    assert "State" in bad[1]["error"]


async def test_progression_and_advance(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator, clock: FakeClock
) -> None:
    job_id = (await create_job(smc, await first_source(smc))).body["JobId"]
    assert (await smc.call("StartReplicationJob", {"JobId": job_id})).status == 200
    status, job = await control(session, emulator, "POST", f"/jobs/{job_id}/advance")
    assert (status, job["BusinessStatus"]) == (200, "Syncing")
    status, job = await control(
        session, emulator, "POST", f"/jobs/{job_id}/advance", {"to": "InError", "error_code": "S2"}
    )
    assert (job["Status"], job["ErrorCode"]) == ("InError", "S2")
    assert (await smc.call("StartReplicationJob", {"JobId": job_id})).status == 200
    status, progression = await control(
        session, emulator, "PUT", "/progression", {"mode": "time", "seconds": 100}
    )
    assert progression == {"mode": "time", "seconds": 100.0}
    status, _ = await control(session, emulator, "POST", "/clock", {"advance_seconds": 1000})
    assert status == 200
    jobs = await smc.call("DescribeReplicationJobs", {"JobId.1": job_id})
    assert jobs.body["ReplicationJobs"]["ReplicationJob"][0]["Status"] == "Finished"
    assert (await control(session, emulator, "POST", "/jobs/j-nope/advance"))[0] == 404
    assert (await control(session, emulator, "PUT", "/progression", {"mode": "warp"}))[0] == 400
    assert (await control(session, emulator, "POST", "/clock", {"advance_seconds": -1}))[0] == 400
    assert (await control(session, emulator, "POST", "/clock", "not an object"))[0] == 400


async def test_reset_restores_the_seed(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    before = await first_source(smc)
    await smc.call("DeleteSourceServer", {"SourceId": before})
    await control(
        session, emulator, "POST", "/faults", {"action": "Nothing", "code": "InternalError"}
    )
    assert await control(session, emulator, "POST", "/reset") == (200, {"reset": True})
    assert await first_source(smc) == before
    assert (await control(session, emulator, "GET", "/faults"))[1] == {"faults": []}


async def test_call_log(smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator) -> None:
    await smc.call("DescribeSourceServers", nonce="logged-nonce")
    await smc.call("StartReplicationJob", {"JobId": "j-none"})
    _, log = await control(session, emulator, "GET", "/calls")
    first, second = log["calls"][-2:]
    assert (first["action"], first["nonce"], first["access_key_id"], first["code"]) == (
        "DescribeSourceServers",
        "logged-nonce",
        AK_ID,
        None,
    )
    assert "Signature" not in first["params"]
    assert "SignatureNonce" in first["params"]
    assert (second["code"], second["http_status"]) == ("InvalidJobId.NotFound", 404)
    _, only = await control(session, emulator, "GET", "/calls?action=StartReplicationJob")
    assert [c["action"] for c in only["calls"]] == ["StartReplicationJob"]


async def test_fault_with_count_prevents_the_call(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    status, fault = await control(
        session,
        emulator,
        "POST",
        "/faults",
        {"action": "CreateReplicationJob", "code": "InternalError", "rate": 1.0, "count": 2},
    )
    assert status == 201
    assert fault["id"]
    sid = await first_source(smc)
    for _ in range(2):
        answer = await create_job(smc, sid)
        assert (answer.status, answer.body["Code"]) == (500, "InternalError")
    assert (await control(session, emulator, "GET", "/state"))[1]["accounts"][AK_ID]["jobs"] == []
    assert (await create_job(smc, sid)).status == 200
    # Other actions were never affected.
    assert (await smc.call("DescribeSourceServers")).status == 200


async def test_fault_is_after_authentication(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await control(
        session, emulator, "POST", "/faults", {"action": "*", "code": "ServiceUnavailable"}
    )
    unsigned = await smc.call("DescribeSourceServers", secret="wrong")
    assert unsigned.body["Code"] == "SignatureDoesNotMatch"
    signed = await smc.call("DescribeSourceServers")
    assert (signed.status, signed.body["Code"]) == (503, "ServiceUnavailable")
    await control(session, emulator, "DELETE", "/faults")
    assert (await smc.call("DescribeSourceServers")).status == 200


async def test_fault_after_backend_keeps_the_change(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await control(
        session,
        emulator,
        "POST",
        "/faults",
        {"action": "CreateReplicationJob", "code": "InternalError", "after": True, "count": 1},
    )
    answer = await create_job(smc, await first_source(smc), Name="lost-answer")
    assert answer.body["Code"] == "InternalError"
    jobs = (await control(session, emulator, "GET", "/state"))[1]["accounts"][AK_ID]["jobs"]
    assert [j["Name"] for j in jobs] == ["lost-answer"]


async def test_throttle_fault(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await control(session, emulator, "POST", "/faults", {"throttle": True, "count": 1})
    answer = await smc.call("DescribeSourceServers")
    assert (answer.status, answer.body["Code"]) == (400, "Throttling.User")


async def test_latency_fault(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await control(session, emulator, "POST", "/faults", {"latency_ms": 200, "count": 1})
    started = time.monotonic()
    answer = await smc.call("DescribeSourceServers")
    assert answer.status == 200
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize("after", [False, True])
async def test_drop_fault_closes_the_connection(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator, after: bool
) -> None:
    await control(
        session,
        emulator,
        "POST",
        "/faults",
        {"action": "CreateReplicationJob", "drop": True, "after": after, "count": 1},
    )
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await create_job(smc, await first_source(smc))
    jobs = (await control(session, emulator, "GET", "/state"))[1]["accounts"][AK_ID]["jobs"]
    assert len(jobs) == (1 if after else 0)


async def test_rate_zero_never_fires_and_bad_faults_are_refused(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await control(session, emulator, "POST", "/faults", {"code": "InternalError", "rate": 0.0})
    for _ in range(5):
        assert (await smc.call("DescribeSourceServers")).status == 200
    for bad in (
        {"code": "NoSuchCode"},
        {"rate": 2},
        {"count": 0},
        {"color": "red"},
        {"drop": "yes"},
    ):
        status, _ = await control(session, emulator, "POST", "/faults", bad)
        assert status == 400, bad
    _, listed = await control(session, emulator, "GET", "/faults")
    fault_id = listed["faults"][0]["id"]
    assert (await control(session, emulator, "DELETE", f"/faults/{fault_id}"))[0] == 200
    assert (await control(session, emulator, "DELETE", f"/faults/{fault_id}"))[0] == 404


async def test_source_agent_goes_offline_and_back(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    source_id = await first_source(smc)
    path = f"/sources/{source_id}/agent"
    status, offline = await control(
        session, emulator, "PUT", path, {"access_key_id": AK_ID, "online": False}
    )
    assert status == 200
    assert (offline["State"], offline["ErrorCode"]) == ("Unavailable", "SourceServer.Offline")
    assert "heartbeats" in offline["StatusInfo"]
    refused = await create_job(smc, source_id)
    assert (refused.status, refused.body["Code"]) == (400, "SourceServerState.Invalid")

    status, online = await control(
        session, emulator, "PUT", path, {"access_key_id": AK_ID, "online": True}
    )
    assert status == 200
    assert (online["State"], online["ErrorCode"], online["StatusInfo"]) == ("Available", "", "")
    created = await create_job(smc, source_id)
    assert created.status == 200
    # Offline and back while a job is unfinished: the source returns to InUse.
    await control(session, emulator, "PUT", path, {"access_key_id": AK_ID, "online": False})
    _, back = await control(
        session, emulator, "PUT", path, {"access_key_id": AK_ID, "online": True}
    )
    assert back["State"] == "InUse"


@pytest.mark.parametrize(
    ("path_source", "body", "status"),
    [
        ("first", {"access_key_id": AK_ID}, 400),
        ("first", {"access_key_id": AK_ID, "online": "no"}, 400),
        ("first", {"access_key_id": AK_ID, "online": False, "error_code": 7}, 400),
        ("first", {"access_key_id": "nobody", "online": False}, 404),
        ("s-missing", {"access_key_id": AK_ID, "online": False}, 404),
    ],
)
async def test_source_agent_rejects_bad_requests(
    smc: SmcCaller,
    session: aiohttp.ClientSession,
    emulator: Emulator,
    path_source: str,
    body: dict[str, Any],
    status: int,
) -> None:
    source_id = await first_source(smc) if path_source == "first" else path_source
    answer = await control(session, emulator, "PUT", f"/sources/{source_id}/agent", body)
    assert answer[0] == status
    assert "error" in answer[1]
