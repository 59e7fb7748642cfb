"""Parity: one table of cases, each run through gRPC and through REST, same outcome.

The whole gateway runs in-process (``GatewayProcess``: embedded emulator, gRPC server,
uvicorn) on loopback ports.  Before each front end's run the emulator is reset to its
seed, so both see the same state.  For every case the test asserts the expected status
and reason AND that both front ends agree on status, reason, message and body (errors:
the google.rpc.Status details; successes: the response in the proto3 JSON mapping, with
generated IDs, request IDs and times normalised).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import grpc
import pytest
import pytest_asyncio
from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_status import rpc_status

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import resources_pb2 as res
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway.config import Settings
from gateway.core import errors as g
from gateway.core.errors import HTTP_STATUS_BY_REASON
from gateway.core.methods import Method, method
from gateway.serve import GatewayProcess
from gateway.smc import models as smc
from gateway.smc.client import SmcClient
from gateway.smc.credentials import Credentials

API_KEY = "parity-test-key"
HTTP_STATUS = {
    cls.status_name: cls.http_status
    for cls in (
        g.InvalidArgumentError,
        g.FailedPreconditionError,
        g.UnauthenticatedError,
        g.PermissionDeniedError,
        g.NotFoundError,
        g.AlreadyExistsError,
        g.AbortedError,
        g.ResourceExhaustedError,
        g.InternalError,
        g.UnimplementedError,
        g.UnavailableError,
        g.DeadlineExceededError,
    )
} | {"OK": 200}


@dataclass
class Outcome:
    status: str  # "OK" or the google.rpc.Code name
    reason: str | None
    body: Any  # success: the response JSON; error: {"message", "details"}
    http_status: int | None = None


@dataclass
class World:
    """What a case's setup may use, and the IDs it found, for building requests."""

    process: GatewayProcess
    smc: SmcClient
    creds: Credentials
    control: aiohttp.ClientSession
    ids: dict[str, str] = field(default_factory=dict)

    async def ctl(self, verb: str, path: str, body: object = None) -> Any:
        assert self.process.emulator is not None
        url = f"{self.process.emulator.url}/_emulator/{path}"
        async with self.control.request(verb, url, json=body) as response:
            assert response.status < 300, await response.text()
            return await response.json()

    async def reset(self) -> None:
        await self.ctl("POST", "reset")
        state = await self.ctl("GET", "state")
        (account,) = state["accounts"].values()
        self.ids = {f"source{i}": s["SourceId"] for i, s in enumerate(account["sources"])}

    async def new_job(self, source: str = "source0", **fields: Any) -> str:
        request = smc.CreateReplicationJobRequest(
            region_id="cn-hangzhou", source_id=self.ids[source], system_disk_size=40, **fields
        )
        job_id = (await self.smc.call(smc.CREATE_REPLICATION_JOB, request, self.creds)).job_id
        self.ids["job"] = job_id
        return job_id

    async def fault(self, action: str, code: str) -> None:
        await self.ctl("POST", "faults", {"action": action, "code": code})


Setup = Callable[[World], Awaitable[Any]]
Build = Callable[[World], Message]


@dataclass
class Case:
    name: str
    method: str
    build: Build
    status: str
    reason: str | None = None
    setup: Setup | None = None
    api_key: str | None = API_KEY
    idempotency_key: str | None = None


async def _no_setup(world: World) -> None:
    return None


def _inject(action: str, code: str) -> Setup:
    async def setup(world: World) -> None:
        await world.fault(action, code)

    return setup


CASES: list[Case] = [
    # --- every method, succeeding ---------------------------------------------------------
    Case(
        "list-sources",
        "ListSourceServers",
        lambda w: sources.ListSourceServersRequest(page_size=2),
        "OK",
    ),
    Case(
        "list-sources-filtered",
        "ListSourceServers",
        lambda w: sources.ListSourceServersRequest(
            state=res.SOURCE_SERVER_STATE_AVAILABLE, source_ids=[w.ids["source1"]]
        ),
        "OK",
    ),
    Case(
        "get-source",
        "GetSourceServer",
        lambda w: sources.GetSourceServerRequest(source_id=w.ids["source0"]),
        "OK",
    ),
    Case(
        "update-source",
        "UpdateSourceServer",
        lambda w: sources.UpdateSourceServerRequest(
            source_id=w.ids["source0"], name="renamed", description="moved"
        ),
        "OK",
    ),
    Case(
        "delete-source",
        "DeleteSourceServer",
        lambda w: sources.DeleteSourceServerRequest(source_id=w.ids["source2"]),
        "OK",
    ),
    Case(
        "create-job",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(
            source_id=w.ids["source0"],
            system_disk_size=50,
            name="parity-job",
            data_disks=[jobs.DataDiskSpec(index=1, size=120)],
            request_id="create-1",
        ),
        "OK",
    ),
    Case(
        "list-jobs",
        "ListReplicationJobs",
        lambda w: jobs.ListReplicationJobsRequest(),
        "OK",
        setup=lambda w: w.new_job(name="listed"),
    ),
    Case(
        "get-job",
        "GetReplicationJob",
        lambda w: jobs.GetReplicationJobRequest(job_id=w.ids["job"]),
        "OK",
        setup=lambda w: w.new_job(),
    ),
    Case(
        "update-job",
        "UpdateReplicationJob",
        lambda w: jobs.UpdateReplicationJobRequest(
            job_id=w.ids["job"], name="job-b", system_disk_size=90
        ),
        "OK",
        setup=lambda w: w.new_job(),
    ),
    Case(
        "start-job",
        "StartReplicationJob",
        lambda w: jobs.StartReplicationJobRequest(job_id=w.ids["job"]),
        "OK",
        setup=lambda w: w.new_job(),
    ),
    Case(
        "delete-job",
        "DeleteReplicationJob",
        lambda w: jobs.DeleteReplicationJobRequest(job_id=w.ids["job"]),
        "OK",
        setup=lambda w: w.new_job(),
    ),
    # --- authentication -------------------------------------------------------------------
    Case(
        "no-api-key",
        "ListSourceServers",
        lambda w: sources.ListSourceServersRequest(),
        "UNAUTHENTICATED",
        "MISSING_API_KEY",
        api_key=None,
    ),
    Case(
        "wrong-api-key",
        "GetReplicationJob",
        lambda w: jobs.GetReplicationJobRequest(job_id="j-1"),
        "UNAUTHENTICATED",
        "INVALID_API_KEY",
        api_key="not-the-key",
    ),
    # --- validation rules -----------------------------------------------------------------
    Case(
        "name-too-short",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(source_id="s-1", system_disk_size=40, name="a"),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "name-alphabet",
        "UpdateSourceServer",
        lambda w: sources.UpdateSourceServerRequest(source_id="s-1", name="bad name\r\n"),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "name-url",
        "UpdateReplicationJob",
        lambda w: jobs.UpdateReplicationJobRequest(job_id="j-1", name="https://x"),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "description-url",
        "UpdateSourceServer",
        lambda w: sources.UpdateSourceServerRequest(source_id="s-1", description="http://x"),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "system-disk-range",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(source_id="s-1", system_disk_size=501),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "system-disk-required",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(source_id="s-1"),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "data-disk-index-and-size",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(
            source_id="s-1",
            system_disk_size=40,
            data_disks=[
                jobs.DataDiskSpec(index=17, size=19),
                jobs.DataDiskSpec(index=1, size=32769),
            ],
        ),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "scheduled-start-too-far",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(
            source_id="s-1",
            system_disk_size=40,
            scheduled_start_time=Timestamp(seconds=4_102_444_800),
        ),  # 2100-01-01
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "valid-time-too-soon",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(
            source_id="s-1", system_disk_size=40, valid_time=Timestamp(seconds=946_684_800)
        ),  # 2000
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "replication-parameters",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(
            source_id="s-1", system_disk_size=40, replication_parameters="{" + "x" * 2048
        ),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "vpc-needs-vswitch",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(
            source_id="s-1", system_disk_size=40, net_mode=res.NET_MODE_VPC
        ),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "page-size",
        "ListReplicationJobs",
        lambda w: jobs.ListReplicationJobsRequest(page_size=51),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "id-alphabet",
        "GetSourceServer",
        lambda w: sources.GetSourceServerRequest(source_id="s-x!"),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "too-many-ids",
        "ListSourceServers",
        lambda w: sources.ListSourceServersRequest(source_ids=[f"s-{i}" for i in range(51)]),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "bad-page-token",
        "ListSourceServers",
        lambda w: sources.ListSourceServersRequest(page_token="forged"),
        "INVALID_ARGUMENT",
        "INVALID_PAGE_TOKEN",
    ),
    Case(
        "update-nothing",
        "UpdateReplicationJob",
        lambda w: jobs.UpdateReplicationJobRequest(job_id="j-1"),
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    ),
    Case(
        "key-conflict",
        "StartReplicationJob",
        lambda w: jobs.StartReplicationJobRequest(job_id="j-1", request_id="a"),
        "INVALID_ARGUMENT",
        "IDEMPOTENCY_KEY_CONFLICT",
        idempotency_key="b",
    ),
    # --- SMC's answers, mapped ------------------------------------------------------------
    Case(
        "source-not-found",
        "GetSourceServer",
        lambda w: sources.GetSourceServerRequest(source_id="s-nothere"),
        "NOT_FOUND",
        "SOURCE_SERVER_NOT_FOUND",
    ),
    Case(
        "job-not-found",
        "StartReplicationJob",
        lambda w: jobs.StartReplicationJobRequest(job_id="j-nothere"),
        "NOT_FOUND",
        "INVALID_JOB_ID_NOT_FOUND",
    ),
    Case(
        "stop-ready-job",
        "StopReplicationJob",
        lambda w: jobs.StopReplicationJobRequest(job_id=w.ids["job"]),
        "FAILED_PRECONDITION",
        "REPLICATION_JOB_INVALID_STATUS",
        setup=lambda w: w.new_job(),
    ),
    Case(
        "source-busy",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(source_id=w.ids["source0"], system_disk_size=40),
        "FAILED_PRECONDITION",
        "SOURCE_SERVER_STATE_INVALID",
        setup=lambda w: w.new_job(),
    ),
    Case(
        "source-has-job",
        "DeleteSourceServer",
        lambda w: sources.DeleteSourceServerRequest(source_id=w.ids["source0"]),
        "FAILED_PRECONDITION",
        "REPLICATION_JOB_RELATED",
        setup=lambda w: w.new_job(),
    ),
    Case(
        "job-name-taken",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(
            source_id=w.ids["source1"], system_disk_size=40, name="taken"
        ),
        "ALREADY_EXISTS",
        "REPLICATION_JOB_NAME_DUPLICATE",
        setup=lambda w: w.new_job(name="taken"),
    ),
    Case(
        "unknown-disk",
        "CreateReplicationJob",
        lambda w: jobs.CreateReplicationJobRequest(
            source_id=w.ids["source0"],
            system_disk_size=40,
            data_disks=[jobs.DataDiskSpec(index=9, size=50)],
        ),
        "INVALID_ARGUMENT",
        "REPLICATION_JOB_DATA_DISK_INDEX_INVALID",
    ),
    *[
        Case(
            f"smc-{code}",
            action,
            build,
            status,
            reason,
            setup=_inject(smc_action, code),
        )
        for code, status, reason, action, smc_action, build in [
            (
                "SourceServerName.Duplicate",
                "ALREADY_EXISTS",
                "SOURCE_SERVER_NAME_DUPLICATE",
                "UpdateSourceServer",
                "ModifySourceServerAttribute",
                lambda w: sources.UpdateSourceServerRequest(source_id=w.ids["source0"], name="dup"),
            ),
            (
                "SourceServer.WithRunningReplicationJob",
                "FAILED_PRECONDITION",
                "SOURCE_SERVER_WITH_RUNNING_REPLICATION_JOB",
                "DeleteSourceServer",
                "DeleteSourceServer",
                lambda w: sources.DeleteSourceServerRequest(source_id=w.ids["source0"]),
            ),
            (
                "VSwitchIdVpcId.Mismatch",
                "INVALID_ARGUMENT",
                "V_SWITCH_ID_VPC_ID_MISMATCH",
                "CreateReplicationJob",
                "CreateReplicationJob",
                lambda w: jobs.CreateReplicationJobRequest(
                    source_id=w.ids["source0"], system_disk_size=40
                ),
            ),
            (
                "QuotaExceeded.ReplicationJob",
                "RESOURCE_EXHAUSTED",
                "QUOTA_EXCEEDED_REPLICATION_JOB",
                "CreateReplicationJob",
                "CreateReplicationJob",
                lambda w: jobs.CreateReplicationJobRequest(
                    source_id=w.ids["source0"], system_disk_size=40
                ),
            ),
            (
                "InvalidSecurityGroupId.VPCMismatch",
                "INVALID_ARGUMENT",
                "INVALID_SECURITY_GROUP_ID_VPC_MISMATCH",
                "CreateReplicationJob",
                "CreateReplicationJob",
                lambda w: jobs.CreateReplicationJobRequest(
                    source_id=w.ids["source0"], system_disk_size=40
                ),
            ),
            (
                "IdempotentParameterMismatch",
                "INVALID_ARGUMENT",
                "IDEMPOTENCY_KEY_REUSED",
                "CreateReplicationJob",
                "CreateReplicationJob",
                lambda w: jobs.CreateReplicationJobRequest(
                    source_id=w.ids["source0"], system_disk_size=40
                ),
            ),
            (
                "ReplicationJob.InvalidStatus",
                "FAILED_PRECONDITION",
                "REPLICATION_JOB_INVALID_STATUS",
                "DeleteReplicationJob",
                "DeleteReplicationJob",
                lambda w: jobs.DeleteReplicationJobRequest(job_id="j-anything"),
            ),
            (
                "InvalidParameter",
                "INVALID_ARGUMENT",
                "INVALID_PARAMETER",
                "ListReplicationJobs",
                "DescribeReplicationJobs",
                lambda w: jobs.ListReplicationJobsRequest(),
            ),
            (
                "Throttling.User",
                "RESOURCE_EXHAUSTED",
                "THROTTLING_USER",
                "ListSourceServers",
                "DescribeSourceServers",
                lambda w: sources.ListSourceServersRequest(),
            ),
            (
                "InternalError",
                "UNAVAILABLE",
                "INTERNAL_ERROR",
                "GetReplicationJob",
                "DescribeReplicationJobs",
                lambda w: jobs.GetReplicationJobRequest(job_id="j-any"),
            ),
            (
                "ServiceUnavailable",
                "UNAVAILABLE",
                "SERVICE_UNAVAILABLE",
                "ListSourceServers",
                "DescribeSourceServers",
                lambda w: sources.ListSourceServersRequest(),
            ),
            (
                "SignatureDoesNotMatch",
                "PERMISSION_DENIED",
                "TENANT_CREDENTIALS_REJECTED",
                "ListSourceServers",
                "DescribeSourceServers",
                lambda w: sources.ListSourceServersRequest(),
            ),
            (
                "InvalidAccessKeyId.NotFound",
                "PERMISSION_DENIED",
                "TENANT_CREDENTIALS_REJECTED",
                "StopReplicationJob",
                "StopReplicationJob",
                lambda w: jobs.StopReplicationJobRequest(job_id="j-any"),
            ),
        ]
    ],
]


# --- the two front ends ---------------------------------------------------------------------

_ID = re.compile(r"\b(j|m|i)-[a-z0-9]{20}\b")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
_UUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")


def normalise(value: Any) -> Any:
    """Replace what differs run to run (generated IDs, times, request IDs, page tokens)."""
    if isinstance(value, dict):
        return {
            k: ("<token>" if k == "nextPageToken" and v else normalise(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        return _UUID.sub("<request-id>", _TIME.sub("<time>", _ID.sub(r"\1-<id>", value)))
    return value


def _metadata(case: Case) -> list[tuple[str, str]]:
    pairs = []
    if case.api_key is not None:
        pairs.append(("authorization", f"Bearer {case.api_key}"))
    if case.idempotency_key is not None:
        pairs.append(("idempotency-key", case.idempotency_key))
    return pairs


async def via_grpc(channel: grpc.aio.Channel, m: Method, request: Message, case: Case) -> Outcome:
    call: grpc.aio.UnaryUnaryMultiCallable[Message, Message] = channel.unary_unary(
        m.full_name,
        request_serializer=lambda msg: msg.SerializeToString(),
        response_deserializer=m.response_type.FromString,
    )
    try:
        response = await call(request, metadata=_metadata(case), timeout=20)
    except grpc.aio.AioRpcError as error:
        status = rpc_status.from_call(error)
        if status is None:
            return Outcome(error.code().name, None, {"message": "no rich status"})
        details = [json_format.MessageToDict(d) for d in status.details]
        reason = next((d.get("reason") for d in details if "ErrorInfo" in d["@type"]), None)
        return Outcome(error.code().name, reason, {"message": status.message, "details": details})
    body = json_format.MessageToDict(response, always_print_fields_with_no_presence=True)
    return Outcome("OK", None, body)


def _rest_target(m: Method, request: Message) -> tuple[str, dict[str, Any]]:
    body = json_format.MessageToDict(request)
    path = m.http_path
    for name in re.findall(r"{(\w+)}", path):
        value = getattr(request, name)
        path = path.replace("{" + name + "}", value)
        body.pop(_camel(name), None)
    return path, body


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def via_rest(
    session: aiohttp.ClientSession, base: str, m: Method, request: Message, case: Case
) -> Outcome:
    path, fields = _rest_target(m, request)
    headers = {}
    if case.api_key is not None:
        headers["Authorization"] = f"Bearer {case.api_key}"
    if case.idempotency_key is not None:
        headers["Idempotency-Key"] = case.idempotency_key
    kwargs: dict[str, Any] = {"headers": headers}
    if m.http_body:
        kwargs["json"] = fields
    else:
        query: list[tuple[str, str]] = []
        for key, value in fields.items():
            for item in value if isinstance(value, list) else [value]:
                query.append(
                    (
                        key,
                        item
                        if isinstance(item, str)
                        else str(item).lower()
                        if isinstance(item, bool)
                        else str(item),
                    )
                )
        kwargs["params"] = query
    async with session.request(m.http_method, base + path, **kwargs) as response:
        payload = await response.json(content_type=None)
        if response.status == 200:
            return Outcome("OK", None, payload, 200)
        error = payload["error"]
        reason = next(
            (d.get("reason") for d in error["details"] if "ErrorInfo" in d["@type"]), None
        )
        assert error["code"] == response.status
        return Outcome(
            error["status"],
            reason,
            {"message": error["message"], "details": error["details"]},
            response.status,
        )


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world() -> AsyncIterator[World]:
    # Budgets far above what the cases spend: rate limiting has its own tests.
    settings = Settings(
        grpc_port=0,
        http_port=0,
        demo_api_key=API_KEY,  # type: ignore[arg-type]
        default_read_rate_per_second=1000,
        default_read_burst=1000,
        default_write_rate_per_second=1000,
        default_write_burst=1000,
        upstream_rate_per_second=1000,
        upstream_burst=1000,
    )
    process = GatewayProcess(settings)
    await process.start()
    assert process.emulator is not None
    account = process.emulator.demo_account
    assert account is not None
    client = SmcClient(process.emulator.url)
    async with aiohttp.ClientSession() as control:
        try:
            yield World(
                process,
                client,
                Credentials(account.access_key_id, account.access_key_secret),
                control,
            )
        finally:
            await client.close()
            await process.stop()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_both_front_ends_agree(world: World, case: Case) -> None:
    m = method(case.method)
    outcomes = []
    for front in ("grpc", "rest"):
        await world.reset()
        await (case.setup or _no_setup)(world)
        request = case.build(world)
        if front == "grpc":
            async with grpc.aio.insecure_channel(f"127.0.0.1:{world.process.grpc_port}") as channel:
                outcomes.append(await via_grpc(channel, m, request, case))
        else:
            async with aiohttp.ClientSession() as session:
                base = f"http://127.0.0.1:{world.process.http_port}"
                outcomes.append(await via_rest(session, base, m, request, case))
    grpc_outcome, rest_outcome = outcomes
    assert (grpc_outcome.status, grpc_outcome.reason) == (case.status, case.reason), grpc_outcome
    assert (rest_outcome.status, rest_outcome.reason) == (case.status, case.reason), rest_outcome
    assert rest_outcome.http_status == HTTP_STATUS_BY_REASON.get(
        case.reason or "", HTTP_STATUS[case.status]
    )
    assert normalise(grpc_outcome.body) == normalise(rest_outcome.body)
