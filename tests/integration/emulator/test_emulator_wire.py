"""SMC's wire protocol over a real socket: signing, common errors, answer shapes."""

from __future__ import annotations

import re

import aiohttp
import pytest
from emulator_wire_helpers import (
    AK_SECRET,
    OTHER_AK_ID,
    OTHER_SECRET,
    STS_AK_ID,
    STS_SECRET,
    STS_TOKEN,
    FakeClock,
    SmcCaller,
)

from gateway.emulator import Emulator

REQUEST_ID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}")


async def test_describe_sources_shape(smc: SmcCaller) -> None:
    answer = await smc.call("DescribeSourceServers", {"PageSize": "2"})
    assert answer.status == 200
    assert answer.content_type == "application/json;charset=utf-8"
    body = answer.body
    assert REQUEST_ID.fullmatch(body["RequestId"])
    assert (body["TotalCount"], body["PageNumber"], body["PageSize"]) == (3, 1, 2)
    sources = body["SourceServers"]["SourceServer"]
    assert len(sources) == 2
    first = sources[0]
    assert re.fullmatch(r"s-[a-z0-9]{20}", first["SourceId"])
    assert first["State"] == "Available"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["CreationTime"])
    disks = first["DataDisks"]["DataDisk"]
    assert [(d["Index"], type(d["Size"])) for d in disks] == [(1, int), (2, int)]
    assert isinstance(first["SystemDiskSize"], int)
    assert "hostname" in first["SystemInfo"]


@pytest.mark.parametrize(
    ("method", "where"), [("GET", "query"), ("POST", "query"), ("POST", "body"), ("POST", "split")]
)
async def test_methods_and_parameter_places(smc: SmcCaller, method: str, where: str) -> None:
    answer = await smc.call(
        "DescribeSourceServers", {"Name": "web-server-01"}, method=method, where=where
    )
    assert answer.status == 200, answer.body
    assert answer.body["TotalCount"] == 1


async def test_full_job_flow_over_the_wire(smc: SmcCaller, emulator: Emulator) -> None:
    sources = (await smc.call("DescribeSourceServers")).body["SourceServers"]["SourceServer"]
    sid = sources[0]["SourceId"]
    params = {
        "RegionId": "cn-hangzhou",
        "SourceId": sid,
        "SystemDiskSize": "60",
        "Name": "wire-job",
        "DataDisk.1.Index": "1",
        "DataDisk.1.Size": "150",
        "ClientToken": "wire-token",
        "Description": "Created over the wire",
    }
    created = await smc.call("CreateReplicationJob", params, method="POST")
    assert created.status == 200, created.body
    job_id = created.body["JobId"]
    assert re.fullmatch(r"j-[a-z0-9]{20}", job_id)
    again = await smc.call("CreateReplicationJob", params, method="POST")
    assert again.body["JobId"] == job_id
    mismatch = await smc.call("CreateReplicationJob", {**params, "SystemDiskSize": "70"})
    assert (mismatch.status, mismatch.body["Code"]) == (400, "IdempotentParameterMismatch")
    jobs = await smc.call("DescribeReplicationJobs", {"JobId.1": job_id})
    job = jobs.body["ReplicationJobs"]["ReplicationJob"][0]
    assert (job["Status"], job["Progress"], job["SystemDiskSize"]) == ("Ready", 0.0, 60)
    assert job["DataDisks"]["DataDisk"] == [{"Index": 1, "Size": 150, "Parts": {"Part": []}}]
    assert jobs.body["TotalCount"] == 1
    assert (await smc.call("StartReplicationJob", {"JobId": job_id})).status == 200
    stop = await smc.call("StopReplicationJob", {"JobId": job_id})
    assert (stop.status, stop.body["Code"]) == (400, "ReplicationJob.InvalidStatus")
    source = (await smc.call("DescribeSourceServers", {"SourceId.1": sid})).body
    assert source["SourceServers"]["SourceServer"][0]["State"] == "InUse"
    assert source["SourceServers"]["SourceServer"][0]["JobId"] == job_id
    running_delete = await smc.call("DeleteSourceServer", {"SourceId": sid, "Force": "True"})
    assert running_delete.body["Code"] == "SourceServer.WithRunningReplicationJob"
    assert (await smc.call("DeleteReplicationJob", {"JobId": job_id})).status == 200
    gone = await smc.call("DescribeReplicationJobs", {"JobId.1": job_id})
    assert gone.body["TotalCount"] == 0
    not_found = await smc.call("StartReplicationJob", {"JobId": job_id})
    assert (not_found.status, not_found.body["Code"]) == (404, "InvalidJobId.NotFound")


async def test_accounts_are_isolated(smc: SmcCaller) -> None:
    mine = (await smc.call("DescribeSourceServers")).body["SourceServers"]["SourceServer"]
    theirs = await smc.call("DescribeSourceServers", access_key_id=OTHER_AK_ID, secret=OTHER_SECRET)
    their_ids = {s["SourceId"] for s in theirs.body["SourceServers"]["SourceServer"]}
    assert their_ids.isdisjoint({s["SourceId"] for s in mine})
    foreign = await smc.call(
        "ModifySourceServerAttribute",
        {"SourceId": mine[0]["SourceId"], "Name": "hijack"},
        access_key_id=OTHER_AK_ID,
        secret=OTHER_SECRET,
    )
    assert (foreign.status, foreign.body["Code"]) == (404, "InvalidSourceId.NotFound")


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_wrong_secret_message_ends_with_string_to_sign(smc: SmcCaller, method: str) -> None:
    answer = await smc.call("DescribeSourceServers", method=method, secret="wrong-secret")
    assert (answer.status, answer.body["Code"]) == (400, "SignatureDoesNotMatch")
    message = answer.body["Message"]
    assert message.endswith("server string to sign is:" + answer.string_to_sign)
    assert answer.string_to_sign.startswith(f"{method}&%2F&")
    assert AK_SECRET not in message
    assert answer.body["HostId"] == "smc.aliyuncs.com"
    assert "Recommend" in answer.body


async def test_signature_covers_the_http_method(smc: SmcCaller) -> None:
    answer = await smc.call("DescribeSourceServers", method="POST", sign_method="GET")
    assert answer.body["Code"] == "SignatureDoesNotMatch"


async def test_tampered_parameter_fails(smc: SmcCaller) -> None:
    answer = await smc.call("DescribeSourceServers", {"PageSize": "5"})
    assert answer.status == 200
    params = {"PageSize": "5"}
    tampered = await smc.call("DescribeSourceServers", params, overrides={"Signature": "AAAA"})
    assert tampered.body["Code"] == "SignatureDoesNotMatch"


async def test_unknown_access_key(smc: SmcCaller) -> None:
    answer = await smc.call("DescribeSourceServers", access_key_id="LTAInobody")
    assert (answer.status, answer.body["Code"]) == (404, "InvalidAccessKeyId.NotFound")


@pytest.mark.parametrize(
    "missing",
    [
        "AccessKeyId",
        "Signature",
        "SignatureNonce",
        "Timestamp",
        "SignatureMethod",
        "SignatureVersion",
    ],
)
async def test_missing_common_parameter_is_named(smc: SmcCaller, missing: str) -> None:
    answer = await smc.call("DescribeSourceServers", drop=(missing,))
    assert (answer.status, answer.body["Code"]) == (400, "MissingParameter")
    assert missing in answer.body["Message"]


async def test_signature_method_and_version(smc: SmcCaller) -> None:
    method = await smc.call("DescribeSourceServers", overrides={"SignatureMethod": "HMAC-SHA256"})
    assert method.body["Code"] == "InvalidSignatureMethod"
    version = await smc.call("DescribeSourceServers", overrides={"SignatureVersion": "2.0"})
    assert version.body["Code"] == "IncompleteSignature"


@pytest.mark.parametrize(
    ("minutes", "code"),
    [(-16, "InvalidTimeStamp.Expired"), (16, "InvalidTimeStamp.Expired"), (-14, None), (14, None)],
)
async def test_timestamp_window(
    smc: SmcCaller, clock: FakeClock, minutes: int, code: str | None
) -> None:
    from datetime import timedelta

    from gateway.smc.wire import format_timestamp

    stamp = format_timestamp(clock.now() + timedelta(minutes=minutes))
    answer = await smc.call("DescribeSourceServers", overrides={"Timestamp": stamp})
    assert answer.body.get("Code") == code


async def test_timestamp_format(smc: SmcCaller) -> None:
    answer = await smc.call("DescribeSourceServers", overrides={"Timestamp": "2026-03-01 08:00:00"})
    assert answer.body["Code"] == "InvalidTimeStamp.Format"


async def test_nonce_replay(smc: SmcCaller, clock: FakeClock) -> None:
    first = await smc.call("DescribeSourceServers", nonce="nonce-1")
    assert first.status == 200
    replay = await smc.call("DescribeSourceServers", nonce="nonce-1")
    assert (replay.status, replay.body["Code"]) == (400, "SignatureNonceUsed")
    # Another AccessKey may use the same nonce.
    other = await smc.call(
        "DescribeSourceServers", nonce="nonce-1", access_key_id=OTHER_AK_ID, secret=OTHER_SECRET
    )
    assert other.status == 200
    clock.advance(minutes=16)
    assert (await smc.call("DescribeSourceServers", nonce="nonce-1")).status == 200


async def test_nonce_recorded_only_after_signature_verifies(smc: SmcCaller) -> None:
    bad = await smc.call("DescribeSourceServers", nonce="nonce-2", secret="wrong")
    assert bad.body["Code"] == "SignatureDoesNotMatch"
    assert (await smc.call("DescribeSourceServers", nonce="nonce-2")).status == 200


async def test_sts_token(smc: SmcCaller, clock: FakeClock) -> None:
    kwargs = {"access_key_id": STS_AK_ID, "secret": STS_SECRET}
    missing = await smc.call("DescribeSourceServers", **kwargs)  # type: ignore[arg-type]
    assert missing.body["Code"] == "MissingSecurityToken"
    wrong = await smc.call("DescribeSourceServers", {"SecurityToken": "other"}, **kwargs)  # type: ignore[arg-type]
    assert wrong.body["Code"] == "InvalidSecurityToken.MismatchWithAccessKey"
    right = await smc.call("DescribeSourceServers", {"SecurityToken": STS_TOKEN}, **kwargs)  # type: ignore[arg-type]
    assert right.status == 200
    unexpected = await smc.call("DescribeSourceServers", {"SecurityToken": STS_TOKEN})
    assert unexpected.body["Code"] == "InvalidSecurityToken.MismatchWithAccessKey"
    clock.advance(hours=2)
    expired = await smc.call("DescribeSourceServers", {"SecurityToken": STS_TOKEN}, **kwargs)  # type: ignore[arg-type]
    assert expired.body["Code"] == "InvalidSecurityToken.Expired"


# --- common errors ----------------------------------------------------------------------------


async def test_invalid_and_missing_parameters_are_named(smc: SmcCaller) -> None:
    bad = await smc.call(
        "CreateReplicationJob",
        {"RegionId": "cn-hangzhou", "SourceId": "s-1", "SystemDiskSize": "abc"},
    )
    assert (bad.status, bad.body["Code"]) == (400, "InvalidParameter")
    assert bad.body["Message"].startswith("The specified parameter SystemDiskSize is not valid.")
    missing = await smc.call("CreateReplicationJob", {"SourceId": "s-1"})
    assert (missing.body["Code"], "RegionId" in missing.body["Message"]) == (
        "MissingParameter",
        True,
    )


async def test_unknown_action_version_format(smc: SmcCaller) -> None:
    unknown = await smc.call("DescribeEverything")
    assert (unknown.status, unknown.body["Code"]) == (404, "InvalidApi.NotFound")
    version = await smc.call("DescribeSourceServers", overrides={"Version": "2014-08-28"})
    assert (version.status, version.body["Code"]) == (400, "NoSuchVersion")
    xml = await smc.call("DescribeSourceServers", overrides={"Format": "XML"})
    assert xml.body["Code"] == "InvalidParameter.Format"
    lower = await smc.call("DescribeSourceServers", overrides={"Format": "json"})
    assert lower.status == 200
    no_action = await smc.call("DescribeSourceServers", drop=("Action",))
    assert (no_action.body["Code"], "Action" in no_action.body["Message"]) == (
        "MissingParameter",
        True,
    )


async def test_duplicate_parameter(
    smc: SmcCaller, session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    async with session.post(
        f"{emulator.url}/?Action=DescribeSourceServers&PageSize=1", data={"PageSize": "2"}
    ) as response:
        body = await response.json()
    assert (response.status, body["Code"]) == (400, "InvalidParameter")
    assert "PageSize" in body["Message"]


async def test_other_methods_and_paths(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    async with session.put(f"{emulator.url}/?Action=DescribeSourceServers") as response:
        assert (await response.json())["Code"] == "UnsupportedHTTPMethod"
    async with session.get(f"{emulator.url}/some/path") as response:
        assert response.status == 404
        assert (await response.json())["Code"] == "InvalidApi.NotFound"
