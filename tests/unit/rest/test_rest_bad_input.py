"""Hostile input: always a 4xx AIP-193 naming the field, never a 500 nor FastAPI's 422."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from conftest import FakeCore

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def violation(response: httpx.Response, status: int = 400) -> tuple[str, str]:
    """(reason, field) of an INVALID_ARGUMENT, after checking its AIP-193 shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == status
    details = {d["@type"]: d for d in error["details"]}
    assert details[ERROR_INFO]["domain"] == "smc-gateway"
    reason = details[ERROR_INFO]["reason"]
    fields = [v["field"] for v in details[BAD_REQUEST]["fieldViolations"]]
    assert len(fields) == 1
    return reason, fields[0]


@pytest.mark.parametrize(
    ("body", "reason", "field"),
    [
        (b"{", "INVALID_JSON", "body"),
        (b"[1, 2]", "INVALID_JSON", "body"),
        (b'"text"', "INVALID_JSON", "body"),
        (b"null", "INVALID_JSON", "body"),
        (b"[" * 100_000 + b"]" * 100_000, "BODY_TOO_LARGE", "body"),
        (b'{"sourceId": "s-\xff"}', "INVALID_UTF8", "body"),
        (b'{"nope": 1}', "UNKNOWN_FIELD", "nope"),
        (b'{"sourceId": 5}', "INVALID_FIELD_VALUE", "sourceId"),
        (b'{"systemDiskSize": "big"}', "INVALID_FIELD_VALUE", "systemDiskSize"),
        (b'{"system_disk_size": 2147483648}', "INVALID_FIELD_VALUE", "systemDiskSize"),
        (b'{"systemDiskSize": 1.5}', "INVALID_FIELD_VALUE", "systemDiskSize"),
        (b'{"runOnce": "true"}', "INVALID_FIELD_VALUE", "runOnce"),
        (b'{"netMode": "NET_MODE_MOON"}', "INVALID_FIELD_VALUE", "netMode"),
        (b'{"scheduledStartTime": "tomorrow"}', "INVALID_FIELD_VALUE", "scheduledStartTime"),
        (b'{"tags": {}}', "INVALID_FIELD_VALUE", "tags"),
        (b'{"tags": [1]}', "INVALID_FIELD_VALUE", "tags[0]"),
        (b'{"tags": [{"key": "a"}, {"colour": "x"}]}', "UNKNOWN_FIELD", "tags[1].colour"),
        (
            b'{"dataDisks": [{"index": 1, "size": 99999999999}]}',
            "INVALID_FIELD_VALUE",
            "dataDisks[0].size",
        ),
        (
            b'{"dataDisks": [{"parts": [{"sizeBytes": "x"}]}]}',
            "INVALID_FIELD_VALUE",
            "dataDisks[0].parts[0].sizeBytes",
        ),
        (b'{"name": "\\ud800"}', "INVALID_FIELD_VALUE", "name"),
        (b'{"netMode": 1e999}', "INVALID_FIELD_VALUE", "netMode"),  # an OverflowError before
        (b'{"netMode": -Infinity}', "INVALID_FIELD_VALUE", "netMode"),
        (b'{"systemDiskSize": 1e999}', "INVALID_FIELD_VALUE", "systemDiskSize"),
        # Unpaired surrogates, which upb cannot even look up as keys (a SystemError before).
        (b'{"dataDisks": "\\ud800"}', "INVALID_FIELD_VALUE", "dataDisks"),
        (b'{"\\ud800": 1}', "UNKNOWN_FIELD", "\\ud800"),
        (b'{"tags": [{"key": "a"}, {"\\udc00x": "x"}]}', "UNKNOWN_FIELD", "tags[1].\\udc00x"),
        (
            b'{"dataDisks": [{"index": 1}, {"size": "\\uDFFF"}]}',
            "INVALID_FIELD_VALUE",
            "dataDisks[1].size",
        ),
        (b'{"sourceId": "a", "source_id": "b"}', "INVALID_FIELD_VALUE", "sourceId"),
    ],
)
async def test_bad_body(client: httpx.AsyncClient, body: bytes, reason: str, field: str) -> None:
    response = await client.post(
        "/v1/jobs", content=body, headers={"Content-Type": "application/json"}
    )
    assert violation(response) == (reason, field)


async def test_bad_body_never_reaches_the_core(client: httpx.AsyncClient, core: FakeCore) -> None:
    await client.post("/v1/jobs", content=b"{")
    assert core.calls == []


async def test_cr_lf_in_values_is_passed_to_the_core(
    client: httpx.AsyncClient, core: FakeCore
) -> None:
    response = await client.patch("/v1/sources/s-1", json={"description": "a\r\nb"})
    assert response.status_code == 200
    assert core.last.request.description == "a\r\nb"  # type: ignore[attr-defined]


async def test_path_body_conflict(client: httpx.AsyncClient, core: FakeCore) -> None:
    response = await client.patch("/v1/jobs/j-1", json={"jobId": "j-2"})
    assert violation(response) == ("PATH_BODY_CONFLICT", "jobId")
    response = await client.post("/v1/jobs/j-1:start", json={"job_id": "j-2"})
    assert violation(response) == ("PATH_BODY_CONFLICT", "jobId")
    assert core.calls == []


async def test_too_large_by_content_length(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/jobs", content=b" " * 5000)
    assert violation(response) == ("BODY_TOO_LARGE", "body")


async def test_too_large_when_streamed_without_content_length(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    response = await client.post("/v1/jobs", content=chunks())
    assert "content-length" not in response.request.headers
    assert violation(response) == ("BODY_TOO_LARGE", "body")


async def test_lying_content_length_is_caught_by_the_stream(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    response = await client.post("/v1/jobs", content=chunks(), headers={"Content-Length": "10"})
    assert violation(response) == ("BODY_TOO_LARGE", "body")


async def test_body_at_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    body = b'{"name": "' + b"a" * (4096 - 12) + b'"}'
    assert len(body) == 4096
    assert (await client.post("/v1/jobs", content=body)).status_code == 200


@pytest.mark.parametrize(
    ("query", "reason", "field"),
    [
        ("colour=red", "UNKNOWN_FIELD", "colour"),
        ("jobId=j-1", "UNKNOWN_FIELD", "jobId"),  # a path field is not a query parameter
        ("pageSize=abc", "INVALID_FIELD_VALUE", "pageSize"),
        ("page_size=2147483648", "INVALID_FIELD_VALUE", "page_size"),
        ("pageSize=1e3", "INVALID_FIELD_VALUE", "pageSize"),
        ("pageSize=1&pageSize=2", "INVALID_FIELD_VALUE", "pageSize"),
        ("status=RUNNING", "INVALID_FIELD_VALUE", "status"),
        ("name=%FF", "INVALID_UTF8", "name"),
        ("%FF=1", "INVALID_UTF8", "query"),
    ],
)
async def test_bad_query(client: httpx.AsyncClient, query: str, reason: str, field: str) -> None:
    response = await client.get(f"/v1/jobs?{query}")
    assert violation(response) == (reason, field)


@pytest.mark.parametrize("query", ["force=yes", "force=1", "force=", "force"])
async def test_bad_bool(client: httpx.AsyncClient, query: str) -> None:
    response = await client.delete(f"/v1/sources/s-1?{query}")
    assert violation(response) == ("INVALID_FIELD_VALUE", "force")


@pytest.mark.parametrize(
    "path", ["/v2/nothing", "/v1/sources/", "/v1/sources/s-1/", "/v1/jobs/a%2Fb"]
)
async def test_unknown_path_is_aip193_not_found(client: httpx.AsyncClient, path: str) -> None:
    # Never a redirect: an ID cannot contain "/", so these name no resource of the API.
    response = await client.get(path)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["status"] == "NOT_FOUND"
    assert error["details"][0]["reason"] == "UNKNOWN_PATH"


@pytest.mark.parametrize(
    ("verb", "path", "allowed"),
    [
        ("PUT", "/v1/jobs/j-1", {"GET", "HEAD", "PATCH", "DELETE"}),
        ("DELETE", "/v1/jobs", {"GET", "HEAD", "POST"}),
        ("GET", "/v1/jobs/j-1:stop", None),  # falls to GetReplicationJob: a value to validate
        ("POST", "/v1/jobs/j-1:watch", {"GET", "HEAD"}),
    ],
)
async def test_wrong_method_is_aip193_405(
    client: httpx.AsyncClient, verb: str, path: str, allowed: set[str] | None
) -> None:
    response = await client.request(verb, path)
    if allowed is None:
        assert response.status_code == 200
        return
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (405, "UNIMPLEMENTED")
    assert error["details"][0]["reason"] == "METHOD_NOT_ALLOWED"


async def test_never_fastapi_422(client: httpx.AsyncClient) -> None:
    for response in [
        await client.post("/v1/jobs", content=b"\x00\x01"),
        await client.get("/v1/jobs?pageSize="),
    ]:
        assert response.status_code == 400
        assert "detail" not in response.json()


async def test_gateway_keeps_serving_after_bad_input(client: httpx.AsyncClient) -> None:
    bad: list[Any] = [b"{", b"[]", b"\xff"]
    for body in bad:
        await client.post("/v1/jobs", content=body)
    assert (await client.get("/v1/jobs")).status_code == 200
