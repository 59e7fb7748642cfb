"""Random bodies and query strings at a few routes: a 4xx or a 200, never a 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from urllib.parse import quote_from_bytes

import httpx
import pytest
from conftest import FakeCore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.rest import build_rest_app

BODY_ROUTES = [("POST", "/v1/jobs"), ("PATCH", "/v1/jobs/j-1"), ("POST", "/v1/jobs/j-1:start")]
QUERY_ROUTES = ["/v1/jobs", "/v1/sources", "/v1/sources/s-1", "/v1/jobs/j-1:watch"]
KEYS = [
    "sourceId",
    "source_id",
    "dataDisks",
    "tags",
    "systemDiskSize",
    "netMode",
    "runOnce",
    "scheduledStartTime",
    "jobId",
    "name",
    "pageSize",
    "sourceIds",
    "status",
    "force",
    "x",
]

# JSON allows escapes of unpaired surrogates and numbers beyond a double (1e999, read as
# infinity); both once reached protobuf and raised instead of being refused.
ODD_TEXT = st.sampled_from(["\ud800", "\udfff", "a\udc00b", "\ud83d\ude00"])
ODD_NUMBERS = st.sampled_from([float("inf"), float("-inf"), 1e308, 2**64, -(2**63) - 1])
keys = st.sampled_from(KEYS) | st.text(max_size=8) | ODD_TEXT
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | ODD_NUMBERS
    | st.text(max_size=20)
    | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)
json_objects = st.dictionaries(keys, json_values, max_size=6)


class SyncClient:
    """Drives the ASGI app from Hypothesis's synchronous tests on one private event loop.

    (Starlette's TestClient would need ``httpx2``.)  App exceptions are raised, so a
    crash fails the example even if a 500 page were produced.
    """

    def __init__(self, runner: asyncio.Runner) -> None:
        self._runner = runner
        transport = httpx.ASGITransport(app=build_rest_app(FakeCore(), max_body_bytes=2048))
        self._client = httpx.AsyncClient(transport=transport, base_url="http://g")

    def request(self, verb: str, url: str, content: bytes | None = None) -> httpx.Response:
        return self._runner.run(self._client.request(verb, url, content=content))

    def get(self, url: str) -> httpx.Response:
        return self.request("GET", url)


@pytest.fixture(scope="module")
def http() -> Iterator[SyncClient]:
    with asyncio.Runner() as runner:
        yield SyncClient(runner)


def check(status: int) -> None:
    assert status < 500, status


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(BODY_ROUTES), body=json_objects)
def test_random_json_bodies(http: SyncClient, route: tuple[str, str], body: object) -> None:
    response = http.request(route[0], route[1], content=json.dumps(body).encode())
    check(response.status_code)
    if response.status_code >= 400:
        assert response.json()["error"]["status"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(BODY_ROUTES), body=st.binary(max_size=3000))
def test_random_bytes_bodies(http: SyncClient, route: tuple[str, str], body: bytes) -> None:
    check(http.request(route[0], route[1], content=body).status_code)


query_parts = st.lists(
    st.tuples(
        st.sampled_from(KEYS) | st.binary(max_size=6).map(quote_from_bytes),
        st.binary(max_size=12).map(quote_from_bytes)
        | st.text(max_size=12).map(lambda t: quote_from_bytes(t.encode("utf-8", "surrogatepass"))),
    ),
    max_size=5,
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(QUERY_ROUTES), parts=query_parts)
def test_random_query_strings(http: SyncClient, path: str, parts: list[tuple[str, str]]) -> None:
    query = "&".join(f"{k}={v}" for k, v in parts)
    response = http.get(f"{path}?{query}")
    check(response.status_code)
