"""WatchReplicationJob as Server-Sent Events."""

from __future__ import annotations

import json

import httpx
from conftest import FakeCore

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs_pb2
from gateway._proto.smcgateway.v1 import resources_pb2
from gateway.core.errors import NotFoundError, UnavailableError, UnimplementedError


def snapshot(progress: float) -> jobs_pb2.WatchReplicationJobResponse:
    return jobs_pb2.WatchReplicationJobResponse(
        replication_job=resources_pb2.ReplicationJob(job_id="j-1", progress=progress)
    )


def events(text: str) -> list[tuple[str, dict[str, object]]]:
    """(event name, JSON data) of each SSE event."""
    parsed = []
    for block in text.split("\n\n"):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        parsed.append((fields.get("event", "message"), json.loads(fields["data"])))
    return parsed


async def test_each_snapshot_is_a_data_event(client: httpx.AsyncClient, core: FakeCore) -> None:
    core.events = [snapshot(10), snapshot(55.5)]
    core.metadata = {"smc-request-id": "R-1"}
    response = await client.get("/v1/jobs/j-1:watch", headers={"Authorization": "Bearer k"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["smc-request-id"] == "R-1"
    assert response.text.endswith("\n\n")
    parsed = events(response.text)
    assert [e[0] for e in parsed] == ["message", "message"]
    assert [e[1]["replicationJob"]["progress"] for e in parsed] == [10, 55.5]  # type: ignore[index]
    assert core.last.name == "WatchReplicationJob"
    assert core.last.request == jobs_pb2.WatchReplicationJobRequest(job_id="j-1")
    assert core.last.ctx.api_key == "k"
    assert core.watch_closed


async def test_error_before_the_first_event_is_a_json_error(
    client: httpx.AsyncClient, core: FakeCore
) -> None:
    core.error = NotFoundError("no such job")
    response = await client.get("/v1/jobs/j-1:watch")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


async def test_unimplemented_watch_is_501(client: httpx.AsyncClient, core: FakeCore) -> None:
    core.error = UnimplementedError("not yet")
    response = await client.get("/v1/jobs/j-1:watch")
    assert response.status_code == 501
    assert response.json()["error"]["status"] == "UNIMPLEMENTED"


async def test_error_after_the_stream_started_is_an_error_event(
    client: httpx.AsyncClient, core: FakeCore
) -> None:
    core.events = [snapshot(1)]
    core.error_after_events = UnavailableError("SMC is down", retry_delay=2)
    response = await client.get("/v1/jobs/j-1:watch")
    assert response.status_code == 200
    parsed = events(response.text)
    assert [e[0] for e in parsed] == ["message", "error"]
    error = parsed[1][1]["error"]
    assert error["status"] == "UNAVAILABLE"  # type: ignore[index]
    assert error["code"] == 503  # type: ignore[index]
    assert core.watch_closed


async def test_empty_stream_is_an_empty_200(client: httpx.AsyncClient, core: FakeCore) -> None:
    response = await client.get("/v1/jobs/j-1:watch")
    assert response.status_code == 200
    assert response.text == ""


async def test_watch_query_is_strict_too(client: httpx.AsyncClient, core: FakeCore) -> None:
    response = await client.get("/v1/jobs/j-1:watch?since=now")
    assert response.status_code == 400
    assert core.calls == []
