"""The OpenAPI document: every route, real schemas generated from the descriptors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.core.methods import METHODS
from gateway.rest.openapi import _comments_of_file
from gateway.rest.routes import path_params


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def walk(node: Any, path: str = "#") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}/{index}")


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_every_method_is_documented(document: dict[str, Any]) -> None:
    for method in METHODS:
        operation = document["paths"][method.http_path][method.http_method.lower()]
        assert operation["operationId"] == method.name
        assert {"200", "4XX", "5XX"} <= set(operation["responses"])
        in_path = [p["name"] for p in operation["parameters"] if p["in"] == "path"]
        assert in_path == list(path_params(method.http_path))
        assert ("requestBody" in operation) == (method.http_body == "*")


def schemas_in(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every JSON Schema nested in ``node`` (itself a schema)."""
    yield path, node
    for key, value in node.get("properties", {}).items():
        yield from schemas_in(value, f"{path}/properties/{key}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from schemas_in(node[key], f"{path}/{key}")
    for index, member in enumerate(node.get("allOf", [])):
        yield from schemas_in(member, f"{path}/allOf/{index}")


def all_schemas(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, schema in document["components"]["schemas"].items():
        yield from schemas_in(schema, f"#/components/schemas/{name}")
    for path, node in walk(document["paths"], "#/paths"):
        if path.endswith("/schema"):
            yield from schemas_in(node, path)


def test_refs_resolve_and_no_schema_is_empty(document: dict[str, Any]) -> None:
    refs = [node["$ref"] for _, node in walk(document) if isinstance(node, dict) and "$ref" in node]
    assert len(refs) > 20
    for ref in refs:
        assert resolve(document, ref), ref
    checked = 0
    for path, schema in all_schemas(document):
        checked += 1
        assert isinstance(schema, dict), path
        assert {"type", "$ref", "allOf"} & set(schema), path
    assert checked > 200


def test_schemas_follow_the_json_mapping(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    job = schemas["smcgateway.v1.ReplicationJob"]["properties"]
    assert job["jobId"]["type"] == "string"
    assert job["creationTime"]["format"] == "date-time"
    assert job["progress"]["type"] == "number"
    assert job["runOnce"]["type"] == "boolean"
    assert job["systemDiskSize"]["type"] == "integer"
    assert job["tags"]["type"] == "array"
    assert job["tags"]["items"] == {"$ref": "#/components/schemas/smcgateway.v1.Tag"}
    part = schemas["smcgateway.v1.ReplicationJobDiskPart"]["properties"]
    assert part["sizeBytes"] == {
        "type": "string",
        "format": "int64",
        "pattern": "^-?[0-9]+$",
        "description": "Size of the partition, in bytes.",
    }
    status = schemas["smcgateway.v1.ReplicationJobStatus"]
    assert status["type"] == "string"
    assert "REPLICATION_JOB_STATUS_RUNNING" in status["enum"]


def test_rules_and_required_fields(document: dict[str, Any]) -> None:
    operation = document["paths"]["/v1/jobs"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["sourceId"]
    assert body["properties"]["systemDiskSize"]["minimum"] == 20
    assert body["properties"]["sourceId"]["pattern"] == "^s-[A-Za-z0-9]+$"
    start = document["paths"]["/v1/jobs/{job_id}:start"]["post"]
    start_body = start["requestBody"]["content"]["application/json"]["schema"]
    assert "jobId" not in start_body["properties"]  # it is in the path
    assert any(p["name"] == "Idempotency-Key" for p in start["parameters"])


def test_query_parameters(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in document["paths"]["/v1/jobs"]["get"]["parameters"]}
    assert set(parameters) == {
        "pageSize",
        "pageToken",
        "jobIds",
        "sourceIds",
        "instanceIds",
        "name",
        "status",
        "businessStatus",
        "regionId",
    }
    assert parameters["jobIds"]["schema"]["type"] == "array"
    assert parameters["jobIds"]["explode"] is True


def test_watch_is_event_stream(document: dict[str, Any]) -> None:
    operation = document["paths"]["/v1/jobs/{job_id}:watch"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]


def test_security_and_errors(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["security"] == [{"bearer": []}]
    error = document["components"]["schemas"]["google.rpc.Status.AIP193"]
    assert error["properties"]["error"]["required"] == ["code", "status", "message", "details"]


def test_descriptions_come_from_proto_comments(document: dict[str, Any]) -> None:
    create = document["paths"]["/v1/jobs"]["post"]
    assert create["summary"].startswith("Creates a migration job")
    job = document["components"]["schemas"]["smcgateway.v1.ReplicationJob"]
    assert job["description"] == 'A migration job (SMC "replication job").'


def test_comment_reader_handles_braces_in_strings_and_options() -> None:
    text = """
syntax = "proto3";
package p.v1;
// A service.
service S {
  // Does it.
  rpc Do(A) returns (B) {
    option (google.api.http) = {get: "/v1/a"};
  }
}
// Message A.
message A {
  // Field x.
  string x = 1 [(rules).pattern = "^[a-z]{2,}$"];
  // Inner.
  message In {
    // Field y.
    int32 y = 1;
  }
  // Field z.
  repeated In z = 2;
}
// Colour.
enum Colour {
  // None.
  COLOUR_UNSPECIFIED = 0;
}
"""
    assert _comments_of_file(text) == {
        "p.v1.S": "A service.",
        "p.v1.S.Do": "Does it.",
        "p.v1.A": "Message A.",
        "p.v1.A.x": "Field x.",
        "p.v1.A.In": "Inner.",
        "p.v1.A.In.y": "Field y.",
        "p.v1.A.z": "Field z.",
        "p.v1.Colour": "Colour.",
        "p.v1.Colour.COLOUR_UNSPECIFIED": "None.",
    }


async def test_docs_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "/openapi.json" in response.text
