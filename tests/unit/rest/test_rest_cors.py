"""CORS (SPEC §10): allowed origins exactly, preflight 204, refused preflight 403."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

ORIGIN = "https://ui.example"


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/jobs/j-1", "/v1/jobs/j-1:start", "/v1/sources"])
async def test_preflight_from_allowed_origin(client: httpx.AsyncClient, path: str) -> None:
    response = await client.options(path, headers=preflight(ORIGIN))
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert set(response.headers["Access-Control-Allow-Methods"].split(", ")) >= {
        "GET",
        "POST",
        "PATCH",
        "DELETE",
    }
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert allowed >= {
        "authorization",
        "content-type",
        "idempotency-key",
        "traceparent",
        "tracestate",
    }
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "https://ui.example.evil", "http://ui.example", "null"]
)
async def test_preflight_from_other_origin_is_refused(
    client: httpx.AsyncClient, origin: str
) -> None:
    response = await client.options("/v1/jobs", headers=preflight(origin))
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers
    error = response.json()["error"]
    assert error["status"] == "PERMISSION_DENIED"
    assert error["details"][0]["reason"] == "CORS_ORIGIN_NOT_ALLOWED"


async def test_actual_response_exposes_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/jobs", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed >= {
        "Idempotent-Replayed",
        "Retry-After",
        "RateLimit",
        "RateLimit-Policy",
        "X-Request-Id",
        "Smc-Request-Id",
    }
    assert "Origin" in response.headers["Vary"]


async def test_error_responses_carry_cors_headers(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/jobs", content=b"{", headers={"Origin": ORIGIN})
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


async def test_actual_request_from_other_origin_has_no_cors_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/jobs", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


async def test_no_origin_no_cors(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/jobs")
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_wildcard_only_when_configured(make_app: Callable[..., FastAPI]) -> None:
    for origins, status in ((["*"], 204), ([], 403)):
        app = make_app(cors_allow_origins=origins)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://g") as c:
            response = await c.options("/v1/jobs", headers=preflight("https://any.example"))
        assert response.status_code == status
        if status == 204:
            assert response.headers["Access-Control-Allow-Origin"] == "https://any.example"


async def test_plain_options_is_not_a_preflight(client: httpx.AsyncClient) -> None:
    response = await client.options("/v1/jobs", headers={"Origin": ORIGIN})
    assert response.status_code == 405
