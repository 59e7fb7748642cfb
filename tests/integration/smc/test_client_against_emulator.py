"""SmcClient against the real emulator over loopback HTTP.

Every operation, every documented error code of the 9 operations reached and
mapped to its client error class, and the retry rules observed from the
emulator's side (its call log shows each attempt and its nonce).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from gateway.emulator import Account, Emulator, EmulatorConfig
from gateway.smc import errors as e
from gateway.smc.client import SmcClient
from gateway.smc.credentials import Credentials
from gateway.smc.models import (
    CREATE_REPLICATION_JOB,
    DELETE_REPLICATION_JOB,
    DELETE_SOURCE_SERVER,
    DESCRIBE_REPLICATION_JOBS,
    DESCRIBE_SOURCE_SERVERS,
    MODIFY_REPLICATION_JOB_ATTRIBUTE,
    MODIFY_SOURCE_SERVER_ATTRIBUTE,
    START_REPLICATION_JOB,
    STOP_REPLICATION_JOB,
    BusinessStatus,
    CreateReplicationJobRequest,
    CreateReplicationJobResponse,
    DataDiskSpec,
    DeleteReplicationJobRequest,
    DeleteSourceServerRequest,
    DescribeReplicationJobsRequest,
    DescribeSourceServersRequest,
    JobStatus,
    ModifyReplicationJobAttributeRequest,
    ModifySourceServerAttributeRequest,
    NetMode,
    SourceServerState,
    StartReplicationJobRequest,
    StopReplicationJobRequest,
)
from gateway.smc.retry import RetryPolicy

AK = Credentials("LTAIintegration0001", "integration-secret-1")
STS = Credentials("LTAIstsintegration01", "sts-secret-1", "sts-token-1")


@dataclass
class Env:
    emulator: Emulator
    client: SmcClient
    control: aiohttp.ClientSession

    async def ctl(self, method: str, path: str, body: object = None) -> Any:
        async with self.control.request(
            method, f"{self.emulator.url}/_emulator/{path}", json=body
        ) as response:
            assert response.status < 300, await response.text()
            return await response.json()

    async def calls(self, action: str) -> list[dict[str, Any]]:
        return list((await self.ctl("GET", f"calls?action={action}"))["calls"])

    async def fault(self, **spec: object) -> None:
        await self.ctl("POST", "faults", spec)

    async def source_ids(self) -> list[str]:
        listed = await self.client.call(
            DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(page_size=50), AK
        )
        return [s.source_id for s in listed.source_servers]

    async def create(self, source_id: str, **fields: Any) -> str:
        request = CreateReplicationJobRequest(
            region_id="cn-hangzhou", source_id=source_id, system_disk_size=40, **fields
        )
        return (await self.client.call(CREATE_REPLICATION_JOB, request, AK)).job_id

    async def job(self, job_id: str) -> Any:
        listed = await self.client.call(
            DESCRIBE_REPLICATION_JOBS, DescribeReplicationJobsRequest(job_ids=[job_id]), AK
        )
        assert len(listed.replication_jobs) == 1
        return listed.replication_jobs[0]


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    config = EmulatorConfig(
        port=0,
        accounts=[
            Account(AK.access_key_id, AK.access_key_secret),
            Account(STS.access_key_id, STS.access_key_secret, STS.security_token),
        ],
        progression="manual",
        job_quota=5,
        random_seed=11,
    )
    emulator = Emulator(config)
    await emulator.start()
    client = SmcClient(
        emulator.url,
        retry_policy=RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05),
        default_timeout=10,
    )
    async with aiohttp.ClientSession() as control:
        try:
            yield Env(emulator, client, control)
        finally:
            await client.close()
            await emulator.stop()


async def test_lifecycle_of_every_operation(env: Env) -> None:
    c = env.client
    sources = await c.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), AK)
    assert sources.total_count == 3
    assert [s.state for s in sources.source_servers] == [SourceServerState.AVAILABLE] * 3
    first = sources.source_servers[0]
    assert first.data_disks
    assert first.data_disks[0].index == 1

    await c.call(
        MODIFY_SOURCE_SERVER_ATTRIBUTE,
        ModifySourceServerAttributeRequest(
            source_id=first.source_id, name="renamed-web", description="moved by test"
        ),
        AK,
    )
    by_name = await c.call(
        DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(name="renamed-web"), AK
    )
    assert [s.source_id for s in by_name.source_servers] == [first.source_id]
    assert by_name.source_servers[0].description == "moved by test"

    created = await c.call(
        CREATE_REPLICATION_JOB,
        CreateReplicationJobRequest(
            region_id="cn-hangzhou",
            source_id=first.source_id,
            system_disk_size=60,
            data_disks=[DataDiskSpec(index=1, size=120)],
            name="job-one",
            image_name="img-one",
            net_mode=NetMode.PUBLIC,
        ),
        AK,
    )
    assert isinstance(created, CreateReplicationJobResponse)
    job = await env.job(created.job_id)
    assert (job.status, job.name, job.system_disk_size) == (JobStatus.READY, "job-one", 60)
    assert [(d.index, d.size) for d in job.data_disks] == [(1, 120)]

    await c.call(
        MODIFY_REPLICATION_JOB_ATTRIBUTE,
        ModifyReplicationJobAttributeRequest(job_id=created.job_id, system_disk_size=80),
        AK,
    )
    assert (await env.job(created.job_id)).system_disk_size == 80

    await c.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id=created.job_id), AK)
    await env.ctl("POST", f"jobs/{created.job_id}/advance", {"to": "Syncing"})
    job = await env.job(created.job_id)
    assert (job.status, job.business_status) == (JobStatus.RUNNING, BusinessStatus.SYNCING)

    await c.call(STOP_REPLICATION_JOB, StopReplicationJobRequest(job_id=created.job_id), AK)
    assert (await env.job(created.job_id)).status == JobStatus.STOPPED
    await c.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id=created.job_id), AK)
    await env.ctl("POST", f"jobs/{created.job_id}/advance", {"to": "Finished"})
    job = await env.job(created.job_id)
    assert job.status == JobStatus.FINISHED
    assert job.progress == 100
    assert job.image_id.startswith("m-")
    assert job.end_time is not None

    await c.call(DELETE_REPLICATION_JOB, DeleteReplicationJobRequest(job_id=created.job_id), AK)
    listed = await c.call(
        DESCRIBE_REPLICATION_JOBS, DescribeReplicationJobsRequest(job_ids=[created.job_id]), AK
    )
    assert len(listed.replication_jobs) == 0

    await c.call(DELETE_SOURCE_SERVER, DeleteSourceServerRequest(source_id=first.source_id), AK)
    assert first.source_id not in await env.source_ids()


async def test_sts_credentials_sign_with_their_token(env: Env) -> None:
    listed = await env.client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), STS)
    assert listed.total_count == 3
    wrong = Credentials(STS.access_key_id, STS.access_key_secret, "other-token")
    with pytest.raises(e.SmcCredentialsError):
        await env.client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), wrong)


# --- every documented error code of the 9 operations, reached and mapped -------------------

Scenario = Callable[[Env], Awaitable[object]]


async def _delete_source_in_state(env: Env, state: str) -> object:
    added = await env.ctl(
        "POST", "sources", {"access_key_id": AK.access_key_id, "source": {"State": state}}
    )
    return await env.client.call(
        DELETE_SOURCE_SERVER, DeleteSourceServerRequest(source_id=added["SourceId"]), AK
    )


async def _delete_source_with_running_job(env: Env) -> object:
    source = (await env.source_ids())[0]
    job = await env.create(source)
    await env.client.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id=job), AK)
    return await env.client.call(
        DELETE_SOURCE_SERVER, DeleteSourceServerRequest(source_id=source, force=True), AK
    )


async def _delete_source_with_ready_job(env: Env) -> object:
    source = (await env.source_ids())[0]
    await env.create(source)
    return await env.client.call(
        DELETE_SOURCE_SERVER, DeleteSourceServerRequest(source_id=source), AK
    )


async def _rename_source_to_taken_name(env: Env) -> object:
    first, second, _ = await env.source_ids()
    await env.client.call(
        MODIFY_SOURCE_SERVER_ATTRIBUTE,
        ModifySourceServerAttributeRequest(source_id=first, name="taken-name"),
        AK,
    )
    return await env.client.call(
        MODIFY_SOURCE_SERVER_ATTRIBUTE,
        ModifySourceServerAttributeRequest(source_id=second, name="taken-name"),
        AK,
    )


async def _modify_deleting_source(env: Env) -> object:
    added = await env.ctl(
        "POST", "sources", {"access_key_id": AK.access_key_id, "source": {"State": "Deleting"}}
    )
    return await env.client.call(
        MODIFY_SOURCE_SERVER_ATTRIBUTE,
        ModifySourceServerAttributeRequest(source_id=added["SourceId"], description="x"),
        AK,
    )


async def _create_on_unavailable_source(env: Env) -> object:
    added = await env.ctl(
        "POST", "sources", {"access_key_id": AK.access_key_id, "source": {"State": "Unavailable"}}
    )
    return await env.create(added["SourceId"])


async def _create_with_unknown_disk(env: Env) -> object:
    return await env.create(
        (await env.source_ids())[0], data_disks=[DataDiskSpec(index=9, size=50)]
    )


async def _create_with_foreign_vswitch(env: Env) -> object:
    return await env.create(
        (await env.source_ids())[0],
        net_mode=NetMode.VPC,
        vswitch_id="vsw-emu0001a",
        vpc_id="vpc-emu0002",
    )


async def _create_over_quota(env: Env) -> object:
    for index in range(6):
        added = await env.ctl(
            "POST", "sources", {"access_key_id": AK.access_key_id, "source": {"Name": f"q{index}"}}
        )
        await env.create(added["SourceId"])
    return None


async def _create_with_taken_name(env: Env) -> object:
    first, second, _ = await env.source_ids()
    await env.create(first, name="same-name")
    return await env.create(second, name="same-name")


async def _create_with_mismatched_token(env: Env) -> object:
    first, second, _ = await env.source_ids()
    await env.create(first, client_token="token-1")
    return await env.create(second, client_token="token-1")


def _injected(code: str) -> Scenario:
    async def scenario(env: Env) -> object:
        await env.fault(action="CreateReplicationJob", code=code, count=1)
        return await env.create((await env.source_ids())[0])

    return scenario


async def _delete_deleting_job(env: Env) -> object:
    job = await env.create((await env.source_ids())[0])
    await env.ctl("POST", f"jobs/{job}/advance", {"to": "Deleting"})
    return await env.client.call(
        DELETE_REPLICATION_JOB, DeleteReplicationJobRequest(job_id=job), AK
    )


async def _start_running_job(env: Env) -> object:
    job = await env.create((await env.source_ids())[0])
    await env.client.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id=job), AK)
    return await env.client.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id=job), AK)


async def _start_job_of_unavailable_source(env: Env) -> object:
    source = (await env.source_ids())[0]
    job = await env.create(source)
    await env.ctl("POST", f"jobs/{job}/advance", {"to": "InError"})
    # The source's agent stops sending heartbeats while the job is in error.
    await env.ctl(
        "PUT", f"sources/{source}/agent", {"access_key_id": AK.access_key_id, "online": False}
    )
    return await env.client.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id=job), AK)


async def _stop_ready_job(env: Env) -> object:
    job = await env.create((await env.source_ids())[0])
    return await env.client.call(STOP_REPLICATION_JOB, StopReplicationJobRequest(job_id=job), AK)


async def _stop_preparing_job(env: Env) -> object:
    job = await env.create((await env.source_ids())[0])
    await env.client.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id=job), AK)
    return await env.client.call(STOP_REPLICATION_JOB, StopReplicationJobRequest(job_id=job), AK)


async def _start_unknown_job(env: Env) -> object:
    return await env.client.call(
        START_REPLICATION_JOB, StartReplicationJobRequest(job_id="j-doesnotexist0000000"), AK
    )


async def _delete_unknown_source(env: Env) -> object:
    return await env.client.call(
        DELETE_SOURCE_SERVER, DeleteSourceServerRequest(source_id="s-doesnotexist0000000"), AK
    )


async def _create_with_bad_disk_size(env: Env) -> object:
    return await env.create((await env.source_ids())[0], data_disks=[DataDiskSpec(index=1, size=5)])


async def _wrong_secret(env: Env) -> object:
    bad = Credentials(AK.access_key_id, "not-the-secret")
    return await env.client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), bad)


async def _unknown_key(env: Env) -> object:
    bad = Credentials("LTAIunknown", "whatever")
    return await env.client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), bad)


def _internal_error(action: str, call: Scenario) -> Scenario:
    async def scenario(env: Env) -> object:
        await env.fault(action=action, code="InternalError", rate=1.0)
        return await call(env)

    return scenario


async def _describe(env: Env) -> object:
    return await env.client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), AK)


async def _stop_some_job(env: Env) -> object:
    return await env.client.call(STOP_REPLICATION_JOB, StopReplicationJobRequest(job_id="j-x"), AK)


ERROR_CASES: list[tuple[str, Scenario, str, type[e.SmcError]]] = [
    # DeleteSourceServer
    ("delete-deleting-source", lambda env: _delete_source_in_state(env, "Deleting"),
     "SourceServerState.Invalid", e.SmcInvalidStateError),
    ("delete-source-running-job", _delete_source_with_running_job,
     "SourceServer.WithRunningReplicationJob", e.SmcInvalidStateError),
    ("delete-source-related-job", _delete_source_with_ready_job,
     "ReplicationJob.Related", e.SmcInvalidStateError),
    ("delete-unknown-source", _delete_unknown_source,
     "InvalidSourceId.NotFound", e.SmcNotFoundError),
    # ModifySourceServerAttribute
    ("modify-deleting-source", _modify_deleting_source,
     "SourceServerState.Invalid", e.SmcInvalidStateError),
    ("rename-source-duplicate", _rename_source_to_taken_name,
     "SourceServerName.Duplicate", e.SmcAlreadyExistsError),
    # CreateReplicationJob
    ("create-unavailable-source", _create_on_unavailable_source,
     "SourceServerState.Invalid", e.SmcInvalidStateError),
    ("create-unknown-disk", _create_with_unknown_disk,
     "ReplicationJobDataDiskIndex.Invalid", e.SmcInvalidParameterError),
    ("create-vswitch-vpc-mismatch", _create_with_foreign_vswitch,
     "VSwitchIdVpcId.Mismatch", e.SmcInvalidParameterError),
    ("create-security-group-network", _injected("InvalidSecurityGroupId.IncorrectNetworkType"),
     "InvalidSecurityGroupId.IncorrectNetworkType", e.SmcInvalidParameterError),
    ("create-security-group-vpc", _injected("InvalidSecurityGroupId.VPCMismatch"),
     "InvalidSecurityGroupId.VPCMismatch", e.SmcInvalidParameterError),
    ("create-over-quota", _create_over_quota,
     "QuotaExceeded.ReplicationJob", e.SmcQuotaExceededError),
    ("create-name-duplicate", _create_with_taken_name,
     "ReplicationJobName.Duplicate", e.SmcAlreadyExistsError),
    ("create-token-mismatch", _create_with_mismatched_token,
     "IdempotentParameterMismatch", e.SmcInvalidParameterError),
    ("create-bad-disk-size", _create_with_bad_disk_size,
     "InvalidParameter", e.SmcInvalidParameterError),
    # DeleteReplicationJob / StartReplicationJob / StopReplicationJob
    ("delete-deleting-job", _delete_deleting_job,
     "ReplicationJob.InvalidStatus", e.SmcInvalidStateError),
    ("start-running-job", _start_running_job,
     "ReplicationJob.InvalidStatus", e.SmcInvalidStateError),
    ("start-unavailable-source", _start_job_of_unavailable_source,
     "SourceServerState.Invalid", e.SmcInvalidStateError),
    ("start-unknown-job", _start_unknown_job, "InvalidJobId.NotFound", e.SmcNotFoundError),
    ("stop-ready-job", _stop_ready_job, "ReplicationJob.InvalidStatus", e.SmcInvalidStateError),
    ("stop-preparing-job", _stop_preparing_job,
     "ReplicationJob.InvalidStatus", e.SmcInvalidStateError),
    # InternalError on each operation (a write is not retried; a read exhausts its retries).
    ("internal-error-describe", _internal_error("DescribeSourceServers", _describe),
     "InternalError", e.SmcServerError),
    ("internal-error-stop", _internal_error("StopReplicationJob", _stop_some_job),
     "InternalError", e.SmcServerError),
    # The tenant's credentials.
    ("wrong-secret", _wrong_secret, "SignatureDoesNotMatch", e.SmcCredentialsError),
    ("unknown-access-key", _unknown_key, "InvalidAccessKeyId.NotFound", e.SmcCredentialsError),
]  # fmt: skip


@pytest.mark.parametrize(
    ("scenario", "code", "cls"),
    [pytest.param(s, code, cls, id=name) for name, s, code, cls in ERROR_CASES],
)
async def test_documented_error_is_reached_and_mapped(
    env: Env, scenario: Scenario, code: str, cls: type[e.SmcError]
) -> None:
    with pytest.raises(cls) as caught:
        await scenario(env)
    error = caught.value
    assert isinstance(error, e.SmcApiError)
    assert error.code == code
    assert error.request_id  # SMC's RequestId travels with the error
    assert error.http_status in (400, 403, 404, 500)


# --- retries, seen from the emulator's call log --------------------------------------------


async def test_read_is_retried_under_internal_error_with_new_nonces(env: Env) -> None:
    await env.fault(action="DescribeSourceServers", code="InternalError", count=2)
    listed = await env.client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), AK)
    assert listed.total_count == 3
    calls = await env.calls("DescribeSourceServers")
    assert [c["code"] for c in calls] == ["InternalError", "InternalError", None]
    assert len({c["nonce"] for c in calls}) == 3


async def test_unprotected_write_is_retried_under_throttling(env: Env) -> None:
    job = await env.create((await env.source_ids())[0])
    await env.fault(action="StartReplicationJob", throttle=True, count=2)
    await env.client.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id=job), AK)
    calls = await env.calls("StartReplicationJob")
    assert [c["code"] for c in calls] == ["Throttling.User", "Throttling.User", None]
    assert len({c["nonce"] for c in calls}) == 3
    assert (await env.job(job)).status == JobStatus.RUNNING


async def test_unprotected_write_is_not_retried_under_internal_error(env: Env) -> None:
    job = await env.create((await env.source_ids())[0])
    await env.fault(action="StartReplicationJob", code="InternalError", count=1)
    with pytest.raises(e.SmcServerError):
        await env.client.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id=job), AK)
    assert [c["code"] for c in await env.calls("StartReplicationJob")] == ["InternalError"]
    assert (await env.job(job)).status == JobStatus.READY


async def test_unprotected_write_is_not_retried_after_lost_answer(env: Env) -> None:
    job = await env.create((await env.source_ids())[0])
    # SMC deletes the job, then the connection drops before the answer.
    await env.fault(action="DeleteReplicationJob", drop=True, after=True, count=1)
    with pytest.raises(e.SmcTransportError):
        await env.client.call(DELETE_REPLICATION_JOB, DeleteReplicationJobRequest(job_id=job), AK)
    assert len(await env.calls("DeleteReplicationJob")) == 1


async def test_create_retried_after_lost_answer_yields_one_job(env: Env) -> None:
    source = (await env.source_ids())[0]
    # SMC creates the job, then the answer is lost: the retry carries the same ClientToken.
    await env.fault(action="CreateReplicationJob", drop=True, after=True, count=1)
    job_id = await env.create(source)
    calls = await env.calls("CreateReplicationJob")
    assert len(calls) == 2
    assert calls[0]["params"]["ClientToken"] == calls[1]["params"]["ClientToken"]
    assert calls[0]["nonce"] != calls[1]["nonce"]
    state = await env.ctl("GET", "state")
    jobs = state["accounts"][AK.access_key_id]["jobs"]
    assert [j["JobId"] for j in jobs] == [job_id]


async def test_create_retried_under_internal_error_after_execution_yields_one_job(
    env: Env,
) -> None:
    source = (await env.source_ids())[0]
    await env.fault(action="CreateReplicationJob", code="InternalError", after=True, count=1)
    job_id = await env.create(source)
    state = await env.ctl("GET", "state")
    assert [j["JobId"] for j in state["accounts"][AK.access_key_id]["jobs"]] == [job_id]
