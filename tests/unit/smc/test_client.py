"""SmcClient's request building, response handling and retry decisions.

The HTTP layer is replaced by a scripted transport and time by a fake clock, so
every retry path runs instantly and deterministically.  The same behaviour is
shown against the real emulator over loopback in tests/integration/smc.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict
from urllib.parse import parse_qsl

import msgspec
import pytest

from gateway.smc import errors as e
from gateway.smc.client import Attempt, SmcClient
from gateway.smc.credentials import Credentials
from gateway.smc.models import (
    CREATE_REPLICATION_JOB,
    DELETE_REPLICATION_JOB,
    DESCRIBE_SOURCE_SERVERS,
    START_REPLICATION_JOB,
    CreateReplicationJobRequest,
    DeleteReplicationJobRequest,
    DescribeSourceServersRequest,
    StartReplicationJobRequest,
)
from gateway.smc.retry import RetryBudget, RetryPolicy
from gateway.smc.signing import sign_rpc_v1
from gateway.smc.transport import HttpResponse

CREDS = Credentials("LTAItest", "secret-value", None)
EMPTY_LIST = {"RequestId": "R-OK", "TotalCount": 0, "PageNumber": 1, "PageSize": 10}


class FakeClock:
    """Monotonic time moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_561_604_289.0  # 2019-06-27T02:58:09Z

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


Step = HttpResponse | e.SmcTransportError


def answer(status: int, body: object, content_type: str = "application/json") -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, content_type, raw)


def smc_error(code: str, status: int = 400) -> HttpResponse:
    return answer(status, {"RequestId": f"R-{code}", "Code": code, "Message": "m"})


@dataclass
class ScriptedTransport:
    """Answers each POST with the next scripted step; records what was sent."""

    steps: list[Step]
    bodies: list[dict[str, str]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    timeouts: list[float] = field(default_factory=list)
    closed: bool = False

    async def post_form(self, url: str, body: str, timeout: float) -> HttpResponse:
        self.urls.append(url)
        self.bodies.append(dict(parse_qsl(body, keep_blank_values=True, strict_parsing=True)))
        self.timeouts.append(timeout)
        step = self.steps.pop(0)
        if isinstance(step, e.SmcTransportError):
            raise step
        return step

    async def close(self) -> None:
        self.closed = True


def make_client(
    steps: Sequence[Step],
    *,
    policy: RetryPolicy | None = None,
    budget: RetryBudget | None = None,
    observers: tuple[Callable[[Attempt], None], ...] = (),
) -> tuple[SmcClient, ScriptedTransport, FakeClock]:
    transport = ScriptedTransport(list(steps))
    clock = FakeClock()
    client = SmcClient(
        "http://smc.test:9100/",
        transport=transport,
        clock=clock,
        retry_policy=policy or RetryPolicy(max_attempts=4, initial_backoff=0.1, max_backoff=1.0),
        retry_budget=budget,
        rng=random.Random(1),
        default_timeout=10.0,
        observers=observers,
    )
    return client, transport, clock


async def test_request_is_signed_with_common_parameters() -> None:
    client, transport, _ = make_client([answer(200, EMPTY_LIST)])
    creds = Credentials("LTAIsts", "s3cret", "sts-token")
    request = DescribeSourceServersRequest(source_ids=["s-1", "s-2"], page_size=5)
    result = await client.call(DESCRIBE_SOURCE_SERVERS, request, creds)
    assert result.request_id == "R-OK"
    assert transport.urls == ["http://smc.test:9100/"]
    sent = transport.bodies[0]
    signature = sent.pop("Signature")
    assert sent == {
        "Action": "DescribeSourceServers",
        "Version": "2019-06-01",
        "Format": "JSON",
        "AccessKeyId": "LTAIsts",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": sent["SignatureNonce"],
        "Timestamp": "2019-06-27T02:58:09Z",
        "SecurityToken": "sts-token",
        "SourceId.1": "s-1",
        "SourceId.2": "s-2",
        "PageSize": "5",
    }
    assert len(sent["SignatureNonce"]) == 32
    assert signature == sign_rpc_v1("POST", sent, "s3cret")
    assert "s3cret" not in json.dumps(transport.bodies)


async def test_read_retries_server_errors_with_fresh_nonce_and_signature() -> None:
    seen: list[Attempt] = []
    client, transport, clock = make_client(
        [
            smc_error("InternalError", 500),
            smc_error("ServiceUnavailable", 503),
            answer(200, EMPTY_LIST),
        ],
        observers=(seen.append,),
    )
    await client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), CREDS)
    nonces = [b["SignatureNonce"] for b in transport.bodies]
    signatures = [b["Signature"] for b in transport.bodies]
    assert len(set(nonces)) == 3
    assert len(set(signatures)) == 3
    assert [a.number for a in seen] == [1, 2, 3]
    assert [a.error_code for a in seen] == ["InternalError", "ServiceUnavailable", None]
    assert [a.request_id for a in seen] == ["R-InternalError", "R-ServiceUnavailable", "R-OK"]
    assert [a.nonce for a in seen] == nonces
    # Full jitter under the exponential ceilings 0.1 and 0.2.
    assert len(clock.sleeps) == 2
    assert 0 <= clock.sleeps[0] <= 0.1
    assert 0 <= clock.sleeps[1] <= 0.2
    # Each attempt's timeout is what is left of the call's deadline.
    assert transport.timeouts[0] == pytest.approx(10.0)
    assert transport.timeouts[2] == pytest.approx(10.0 - sum(clock.sleeps))


async def test_unprotected_write_is_not_retried_after_server_error() -> None:
    client, transport, _ = make_client([smc_error("InternalError", 500), answer(200, {})])
    with pytest.raises(e.SmcServerError) as caught:
        await client.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id="j-1"), CREDS)
    assert caught.value.code == "InternalError"
    assert caught.value.request_id == "R-InternalError"
    assert len(transport.bodies) == 1


async def test_unprotected_write_is_not_retried_after_dropped_connection() -> None:
    client, transport, _ = make_client([e.SmcTransportError("reset", sent=True)])
    with pytest.raises(e.SmcTransportError):
        await client.call(DELETE_REPLICATION_JOB, DeleteReplicationJobRequest(job_id="j-1"), CREDS)
    assert len(transport.bodies) == 1


async def test_any_call_is_retried_when_smc_never_ran_it() -> None:
    client, transport, _ = make_client(
        [
            smc_error("Throttling.User"),
            e.SmcTransportError("refused", sent=False),
            answer(200, {"RequestId": "R-1"}),
        ]
    )
    result = await client.call(
        START_REPLICATION_JOB, StartReplicationJobRequest(job_id="j-1"), CREDS
    )
    assert result.request_id == "R-1"
    assert len(transport.bodies) == 3


async def test_create_gets_one_client_token_reused_by_every_attempt() -> None:
    client, transport, _ = make_client(
        [
            smc_error("InternalError", 500),
            e.SmcTransportError("timeout", sent=True),
            answer(200, {"RequestId": "R-1", "JobId": "j-new"}),
        ]
    )
    request = CreateReplicationJobRequest(region_id="cn-hangzhou", source_id="s-1")
    result = await client.call(CREATE_REPLICATION_JOB, request, CREDS)
    assert result.job_id == "j-new"
    tokens = {b["ClientToken"] for b in transport.bodies}
    assert len(tokens) == 1
    assert len(tokens.pop()) <= 64
    assert len({b["SignatureNonce"] for b in transport.bodies}) == 3


async def test_caller_client_token_is_kept() -> None:
    client, transport, _ = make_client([answer(200, {"RequestId": "R-1", "JobId": "j-1"})])
    request = CreateReplicationJobRequest(region_id="r", source_id="s-1", client_token="tok-1")
    await client.call(CREATE_REPLICATION_JOB, request, CREDS)
    assert transport.bodies[0]["ClientToken"] == "tok-1"


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("ReplicationJob.InvalidStatus", 400, e.SmcInvalidStateError),
        ("InvalidJobId.NotFound", 404, e.SmcNotFoundError),
        ("SignatureDoesNotMatch", 400, e.SmcCredentialsError),
        ("InvalidParameter", 400, e.SmcInvalidParameterError),
    ],
)
async def test_definitive_errors_are_not_retried(code: str, status: int, cls: type) -> None:
    client, transport, _ = make_client([smc_error(code, status), answer(200, EMPTY_LIST)])
    with pytest.raises(cls):
        await client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), CREDS)
    assert len(transport.bodies) == 1


async def test_attempts_are_bounded() -> None:
    client, transport, _ = make_client(
        [smc_error("Throttling.User")] * 5, policy=RetryPolicy(max_attempts=3)
    )
    with pytest.raises(e.SmcThrottledError):
        await client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), CREDS)
    assert len(transport.bodies) == 3


async def test_deadline_stops_retries() -> None:
    policy = RetryPolicy(max_attempts=10, initial_backoff=5.0, max_backoff=5.0, multiplier=1.0)
    client, transport, clock = make_client([smc_error("InternalError", 500)] * 10, policy=policy)
    with pytest.raises(e.SmcDeadlineExceededError) as caught:
        await client.call(
            DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), CREDS, timeout=6.0
        )
    assert isinstance(caught.value.last_error, e.SmcServerError)
    # Never slept past the deadline.
    assert clock.now <= 1000.0 + 6.0
    assert len(transport.bodies) < 10


async def test_budget_exhaustion_stops_retries() -> None:
    budget = RetryBudget(capacity=5, retry_cost=5, timeout_cost=10, success_refund=1)
    client, transport, _ = make_client(
        [smc_error("InternalError", 500)] * 3 + [smc_error("InternalError", 500)] * 2,
        budget=budget,
    )
    with pytest.raises(e.SmcServerError):
        await client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), CREDS)
    assert len(transport.bodies) == 2  # one retry paid, the second refused
    assert budget.available == 0


async def test_success_refunds_budget() -> None:
    budget = RetryBudget(capacity=10, retry_cost=5)
    assert budget.try_spend(timeout=False)
    client, _, _ = make_client([answer(200, EMPTY_LIST)], budget=budget)
    await client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), CREDS)
    assert budget.available == 6


async def test_proxy_error_page_is_malformed_and_transient() -> None:
    client, transport, _ = make_client(
        [answer(502, b"<html>bad gateway</html>", "text/html"), answer(200, EMPTY_LIST)]
    )
    await client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), CREDS)
    assert len(transport.bodies) == 2


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"TotalCount": "many", "RequestId": "R"}', b"\xff\xfe"],
)
async def test_unusable_success_answer_is_malformed(body: bytes) -> None:
    client, transport, _ = make_client([answer(200, body)])
    with pytest.raises(e.SmcMalformedResponseError) as caught:
        await client.call(DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), CREDS)
    assert caught.value.http_status == 200
    assert len(transport.bodies) == 1


async def test_error_fields_are_read_case_insensitively() -> None:
    client, _, _ = make_client(
        [answer(404, {"requestId": "r-9", "code": "InvalidJobId.NotFound", "message": "gone"})]
    )
    with pytest.raises(e.SmcNotFoundError) as caught:
        await client.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id="j"), CREDS)
    assert (caught.value.code, caught.value.message, caught.value.request_id) == (
        "InvalidJobId.NotFound",
        "gone",
        "r-9",
    )


async def test_error_without_code_is_named_by_status() -> None:
    client, _, _ = make_client([answer(403, {"RequestId": "r"})])
    with pytest.raises(e.SmcApiError) as caught:
        await client.call(START_REPLICATION_JOB, StartReplicationJobRequest(job_id="j"), CREDS)
    assert caught.value.code == "HTTP403"


async def test_close_closes_transport() -> None:
    client, transport, _ = make_client([])
    async with client:
        pass
    assert transport.closed


# --- answers read with a shape ---------------------------------------------------------------

PAGE_OF_ONE = {
    **EMPTY_LIST,
    "TotalCount": 1,
    "SourceServers": {"SourceServer": [{"SourceId": "s-1"}]},
}


class _Sources(TypedDict, total=False):
    SourceServer: list[msgspec.Raw]


class _Page(TypedDict, total=False):
    RequestId: Any
    TotalCount: Any
    PageNumber: Any
    PageSize: Any
    SourceServers: _Sources


SOURCE_PAGE = msgspec.json.Decoder(_Page)


async def _listed(body: object, status: int = 200) -> dict[str, Any]:
    client, _, _ = make_client([answer(status, body)])
    return await client.call_json(
        DESCRIBE_SOURCE_SERVERS, DescribeSourceServersRequest(), CREDS, shape=SOURCE_PAGE
    )


async def test_an_answer_that_fits_the_shape_keeps_its_resources_as_raw_json() -> None:
    data = await _listed(PAGE_OF_ONE)
    (item,) = data["SourceServers"]["SourceServer"]
    assert isinstance(item, msgspec.Raw)
    assert msgspec.json.decode(item) == {"SourceId": "s-1"}
    assert (data["RequestId"], data["TotalCount"]) == ("R-OK", 1)


@pytest.mark.parametrize(
    "body",
    [
        {**EMPTY_LIST, "SourceServers": {"SourceServer": {"SourceId": "s-1"}}},  # a lone object
        {**EMPTY_LIST, "SourceServers": [{"SourceId": "s-1"}]},
        b'{"RequestId": "R-OK", "TotalCount": NaN, "SourceServers": {"SourceServer": []}}',
    ],
    ids=["lone-object", "list-for-wrapper", "not-strict-json"],
)
async def test_an_answer_off_the_shape_is_decoded_as_any_json_object(body: object) -> None:
    data = await _listed(body)
    expected = json.loads(body) if isinstance(body, bytes) else body
    assert json.dumps(data, sort_keys=True) == json.dumps(expected, sort_keys=True)


async def test_an_error_answer_is_read_whatever_the_shape() -> None:
    with pytest.raises(e.SmcApiError) as caught:
        await _listed({"RequestId": "R-E", "Code": "InvalidParameter", "Message": "m"}, 400)
    assert caught.value.code == "InvalidParameter"
