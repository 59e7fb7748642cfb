"""Every route reaches the core with the right method, context and request message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conftest import FakeCore
from fastapi import FastAPI
from google.protobuf import timestamp_pb2

from gateway._proto.smcgateway.v1 import (
    replication_job_service_pb2 as jobs_pb2,
)
from gateway._proto.smcgateway.v1 import (
    resources_pb2,
)
from gateway._proto.smcgateway.v1 import (
    source_server_service_pb2 as sources_pb2,
)
from gateway.core.errors import (
    AbortedError,
    FieldViolation,
    NotFoundError,
    ResourceExhaustedError,
    UnavailableError,
)
from gateway.core.methods import METHODS
from gateway.rest.errors import header_name
from gateway.rest.routes import bearer_key

ROUTES = [
    ("GET", "/v1/sources", "ListSourceServers", None),
    ("GET", "/v1/sources/s-1", "GetSourceServer", None),
    ("PATCH", "/v1/sources/s-1", "UpdateSourceServer", {"name": "web"}),
    ("DELETE", "/v1/sources/s-1", "DeleteSourceServer", None),
    ("POST", "/v1/jobs", "CreateReplicationJob", {"sourceId": "s-1"}),
    ("GET", "/v1/jobs", "ListReplicationJobs", None),
    ("GET", "/v1/jobs/j-1", "GetReplicationJob", None),
    ("PATCH", "/v1/jobs/j-1", "UpdateReplicationJob", {"name": "n1"}),
    ("DELETE", "/v1/jobs/j-1", "DeleteReplicationJob", None),
    ("POST", "/v1/jobs/j-1:start", "StartReplicationJob", {}),
    ("POST", "/v1/jobs/j-1:stop", "StopReplicationJob", None),
]


def test_the_table_covers_every_unary_method() -> None:
    assert {r[2] for r in ROUTES} == {m.name for m in METHODS if not m.server_streaming}


@pytest.mark.parametrize(("verb", "path", "name", "body"), ROUTES)
async def test_route_reaches_the_core(
    client: httpx.AsyncClient,
    core: FakeCore,
    verb: str,
    path: str,
    name: str,
    body: dict[str, Any] | None,
) -> None:
    response = await client.request(
        verb, path, json=body, headers={"Authorization": "Bearer k1", "Idempotency-Key": "idem-1"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert core.last.name == name
    ctx = core.last.ctx
    assert (ctx.frontend, ctx.method, ctx.api_key, ctx.idempotency_key) == (
        "rest",
        name,
        "k1",
        "idem-1",
    )
    assert type(core.last.request).DESCRIPTOR.name == f"{name}Request"


async def test_custom_verbs_are_not_swallowed_by_the_resource_route(
    client: httpx.AsyncClient, core: FakeCore
) -> None:
    await client.post("/v1/jobs/j-9:start")
    assert core.last.name == "StartReplicationJob"
    assert core.last.request == jobs_pb2.StartReplicationJobRequest(job_id="j-9")
    await client.post("/v1/jobs/j-9:stop", json={"requestId": "r1"})
    assert core.last.request == jobs_pb2.StopReplicationJobRequest(job_id="j-9", request_id="r1")
    # A GET of ``…:start`` is a Get of a strange ID: the core's validation answers.
    await client.get("/v1/jobs/j-9:start")
    assert core.last.name == "GetReplicationJob"
    assert core.last.request == jobs_pb2.GetReplicationJobRequest(job_id="j-9:start")


async def test_body_maps_camel_and_snake_names_nested_and_timestamps(
    client: httpx.AsyncClient, core: FakeCore
) -> None:
    body = {
        "sourceId": "s-1",
        "system_disk_size": 40,
        "dataDisks": [{"index": 1, "size": 50, "parts": [{"device": "0_1", "sizeBytes": "1024"}]}],
        "netMode": "NET_MODE_VPC",
        "runOnce": False,
        "scheduledStartTime": "2030-01-02T03:04:05Z",
        "tags": [{"key": "k", "value": "v"}],
    }
    response = await client.post("/v1/jobs", json=body)
    assert response.status_code == 200
    expected = jobs_pb2.CreateReplicationJobRequest(
        source_id="s-1",
        system_disk_size=40,
        data_disks=[
            jobs_pb2.DataDiskSpec(
                index=1, size=50, parts=[jobs_pb2.DiskPartSpec(device="0_1", size_bytes=1024)]
            )
        ],
        net_mode=resources_pb2.NET_MODE_VPC,
        run_once=False,
        scheduled_start_time=timestamp_pb2.Timestamp(seconds=1893553445),
        tags=[jobs_pb2.TagSpec(key="k", value="v")],
    )
    assert core.last.request == expected
    assert core.last.request.HasField("run_once")


async def test_path_parameter_is_set_and_may_be_repeated_in_the_body(
    client: httpx.AsyncClient, core: FakeCore
) -> None:
    response = await client.patch("/v1/sources/s-7", json={"sourceId": "s-7", "description": ""})
    assert response.status_code == 200
    assert core.last.request == sources_pb2.UpdateSourceServerRequest(
        source_id="s-7", description=""
    )
    assert core.last.request.HasField("description")


async def test_percent_encoded_path_parameter_is_decoded(
    client: httpx.AsyncClient, core: FakeCore
) -> None:
    await client.get("/v1/sources/s%2D1%20x")
    assert core.last.request == sources_pb2.GetSourceServerRequest(source_id="s-1 x")


async def test_query_parameters_map_to_fields(client: httpx.AsyncClient, core: FakeCore) -> None:
    response = await client.get(
        "/v1/jobs?pageSize=20&page_token=tok&sourceIds=s-1&sourceIds=s-2&source_ids=s-3"
        "&status=REPLICATION_JOB_STATUS_RUNNING&business_status=2&name=a%0D%0Ab"
    )
    assert response.status_code == 200
    assert core.last.request == jobs_pb2.ListReplicationJobsRequest(
        page_size=20,
        page_token="tok",
        source_ids=["s-1", "s-2", "s-3"],
        status=resources_pb2.REPLICATION_JOB_STATUS_RUNNING,
        business_status=resources_pb2.REPLICATION_JOB_BUSINESS_STATUS_SYNCING,
        name="a\r\nb",  # a value: the core validates it
    )


async def test_query_bool_and_path(client: httpx.AsyncClient, core: FakeCore) -> None:
    await client.delete("/v1/sources/s-1?force=true&requestId=r-1")
    assert core.last.request == sources_pb2.DeleteSourceServerRequest(
        source_id="s-1", force=True, request_id="r-1"
    )
    await client.delete("/v1/sources/s-1?force=false")
    assert core.last.request == sources_pb2.DeleteSourceServerRequest(source_id="s-1")


async def test_body_on_get_is_ignored(client: httpx.AsyncClient, core: FakeCore) -> None:
    response = await client.request("GET", "/v1/jobs/j-1", content=b"{not json")
    assert response.status_code == 200
    assert core.last.request == jobs_pb2.GetReplicationJobRequest(job_id="j-1")


async def test_response_is_proto3_json_with_defaults(
    client: httpx.AsyncClient, core: FakeCore
) -> None:
    job = resources_pb2.ReplicationJob(
        job_id="j-1",
        status=resources_pb2.REPLICATION_JOB_STATUS_FINISHED,
        progress=100.0,
        system_disk_parts=[resources_pb2.ReplicationJobDiskPart(size_bytes=2**40)],
        creation_time=timestamp_pb2.Timestamp(seconds=0),
    )
    core.responses["GetReplicationJob"] = jobs_pb2.GetReplicationJobResponse(replication_job=job)
    data = (await client.get("/v1/jobs/j-1")).json()["replicationJob"]
    assert data["jobId"] == "j-1"
    assert data["status"] == "REPLICATION_JOB_STATUS_FINISHED"
    assert data["systemDiskParts"][0]["sizeBytes"] == str(2**40)
    assert data["creationTime"] == "1970-01-01T00:00:00Z"
    assert data["name"] == ""  # fields without presence are always printed
    assert data["tags"] == []


async def test_empty_response_is_an_empty_object(client: httpx.AsyncClient) -> None:
    response = await client.delete("/v1/jobs/j-1")
    assert response.json() == {}


async def test_response_metadata_becomes_headers(client: httpx.AsyncClient, core: FakeCore) -> None:
    core.metadata = {
        "idempotent-replayed": "true",
        "smc-request-id": "RID-1",
        "ratelimit": "limit=5, remaining=4",
        "bad": "x\r\ninjected: 1",
    }
    response = await client.post("/v1/jobs/j-1:start")
    assert response.headers["Idempotent-Replayed"] == "true"
    assert response.headers["Smc-Request-Id"] == "RID-1"
    assert response.headers["RateLimit"] == "limit=5, remaining=4"
    assert "bad" not in response.headers
    assert "injected" not in response.headers


def test_header_names() -> None:
    assert header_name("idempotent-replayed") == "Idempotent-Replayed"
    assert header_name("ratelimit-policy") == "RateLimit-Policy"
    assert header_name("x-request-id") == "X-Request-Id"


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (None, None),
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("Bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer a b", None),
        ("abc", None),
        ("", None),
    ],
)
def test_bearer_parsing(value: str | None, key: str | None) -> None:
    assert bearer_key(value) == key


@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwdw==", "Bearer "])
async def test_malformed_authorization_reaches_the_core_without_key(
    client: httpx.AsyncClient, core: FakeCore, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    await client.get("/v1/jobs", headers=headers)
    assert core.last.ctx.api_key is None
    assert core.last.ctx.idempotency_key is None


async def test_default_timeout_is_passed(make_app: Callable[..., FastAPI], core: FakeCore) -> None:
    app = make_app(default_timeout=7.5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as c:
        await c.get("/v1/jobs")
    assert core.last.ctx.timeout == 7.5


async def test_gateway_error_is_aip193(client: httpx.AsyncClient, core: FakeCore) -> None:
    core.error = NotFoundError(
        "job j-1 not found", reason="JOB_NOT_FOUND", metadata={"RequestId": "R1"}
    )
    response = await client.get("/v1/jobs/j-1")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert (error["code"], error["status"], error["message"]) == (
        404,
        "NOT_FOUND",
        "job j-1 not found",
    )
    assert error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "JOB_NOT_FOUND",
            "domain": "smc-gateway",
            "metadata": {"RequestId": "R1"},
        }
    ]


async def test_error_with_violations_and_metadata_headers(
    client: httpx.AsyncClient, core: FakeCore
) -> None:
    from gateway.core.errors import InvalidArgumentError

    core.metadata = {"ratelimit-policy": "5;w=1"}
    core.error = InvalidArgumentError(
        "bad", field_violations=[FieldViolation("source_id", "must match")]
    )
    response = await client.post("/v1/jobs", json={})
    assert response.status_code == 400
    assert response.headers["RateLimit-Policy"] == "5;w=1"
    types = [d["@type"] for d in response.json()["error"]["details"]]
    assert types == [
        "type.googleapis.com/google.rpc.ErrorInfo",
        "type.googleapis.com/google.rpc.BadRequest",
    ]


@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (ResourceExhaustedError("slow down", retry_delay=1.2), 429, "2"),
        (AbortedError("in flight", retry_delay=0.0), 409, "0"),
        (UnavailableError("down"), 503, None),
    ],
)
async def test_retry_after(
    client: httpx.AsyncClient,
    core: FakeCore,
    error: Exception,
    status: int,
    retry_after: str | None,
) -> None:
    core.error = error  # type: ignore[assignment]
    response = await client.post("/v1/jobs", json={"sourceId": "s-1"})
    assert response.status_code == status
    assert response.headers.get("Retry-After") == retry_after
    types = [d["@type"] for d in response.json()["error"]["details"]]
    assert ("type.googleapis.com/google.rpc.RetryInfo" in types) == (retry_after is not None)


async def test_unexpected_core_failure_is_internal_aip193(
    make_app: Callable[..., FastAPI], core: FakeCore
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("secret detail")

    core.call = broken  # type: ignore[method-assign, assignment]
    app = make_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://g") as c:
        response = await c.get("/v1/jobs")
    assert response.status_code == 500
    assert response.json()["error"]["status"] == "INTERNAL"
    assert "secret" not in response.text


async def test_routes_added_later_and_health_style_routes_work(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as c:
        assert (await c.get("/healthz")).json() == {"status": "ok"}
        document = (await c.get("/openapi.json")).json()
    assert "/healthz" in document["paths"]
    assert "/v1/jobs" in document["paths"]


async def test_head_goes_through_the_framework_and_reaches_the_same_handler(
    client: httpx.AsyncClient, core: FakeCore
) -> None:
    response = await client.head("/v1/jobs/j-3", headers={"Authorization": "Bearer k1"})
    assert response.status_code == 200
    assert core.last.name == "GetReplicationJob"
    assert core.last.request == jobs_pb2.GetReplicationJobRequest(job_id="j-3")


async def test_percent_encoded_path_parameters_are_decoded_like_the_framework_does(
    client: httpx.AsyncClient, core: FakeCore
) -> None:
    await client.get("/v1/jobs/j%2D7")
    assert core.last.request == jobs_pb2.GetReplicationJobRequest(job_id="j-7")
