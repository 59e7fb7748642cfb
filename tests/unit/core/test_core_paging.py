"""Page tokens: round trip, and every way a token can be wrong."""

from __future__ import annotations

import base64

import pytest

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway.core.errors import InvalidArgumentError
from gateway.core.paging import PageTokens

LIST = "ListReplicationJobs"


def request(**fields: object) -> jobs.ListReplicationJobsRequest:
    values: dict[str, object] = {"page_size": 5, "name": "job-a", **fields}
    return jobs.ListReplicationJobsRequest(**values)  # type: ignore[arg-type]


def refused(tokens: PageTokens, req: jobs.ListReplicationJobsRequest, tenant: str = "t1") -> str:
    with pytest.raises(InvalidArgumentError) as caught:
        tokens.page_number(tenant, LIST, req, req.page_token)
    error = caught.value
    assert error.reason == "INVALID_PAGE_TOKEN"
    assert [v.field for v in error.field_violations] == ["page_token"]
    return error.message


def test_no_token_is_page_one() -> None:
    assert PageTokens().page_number("t1", LIST, request(), "") == 1


def test_round_trip_ignores_the_token_itself() -> None:
    tokens = PageTokens(b"k" * 32)
    token = tokens.issue("t1", LIST, request(), 3)
    assert "=" not in token
    assert token.isascii()
    follow_up = request(page_token=token)
    assert tokens.page_number("t1", LIST, follow_up, token) == 3


def test_same_key_works_across_replicas() -> None:
    token = PageTokens(b"shared" * 6).issue("t1", LIST, request(), 2)
    assert PageTokens(b"shared" * 6).page_number("t1", LIST, request(page_token=token), token) == 2


def test_other_key_is_refused() -> None:
    token = PageTokens(b"a" * 32).issue("t1", LIST, request(), 2)
    assert "not a token" in refused(PageTokens(b"b" * 32), request(page_token=token))


@pytest.mark.parametrize(
    "changed",
    [
        {"name": "job-b"},
        {"status": 2},
        {"source_ids": ["s-1"]},
        {"region_id": "cn-shanghai"},
    ],
)
def test_token_with_other_filters_is_refused(changed: dict[str, object]) -> None:
    tokens = PageTokens()
    token = tokens.issue("t1", LIST, request(), 2)
    assert "other filters" in refused(tokens, request(page_token=token, **changed))


def test_token_with_other_page_size_is_refused() -> None:
    tokens = PageTokens()
    token = tokens.issue("t1", LIST, request(), 2)
    other = jobs.ListReplicationJobsRequest(page_size=6, name="job-a", page_token=token)
    assert "other filters" in refused(tokens, other)


def test_token_of_another_tenant_or_method_is_refused() -> None:
    tokens = PageTokens()
    token = tokens.issue("t1", LIST, request(), 2)
    assert "other filters" in refused(tokens, request(page_token=token), tenant="t2")
    with pytest.raises(InvalidArgumentError):
        tokens.page_number("t1", "ListSourceServers", request(page_token=token), token)


@pytest.mark.parametrize(
    "mangle",
    [
        # A character in the middle (the last one may only carry base64 padding bits).
        lambda t: t[:20] + ("A" if t[20] != "A" else "B") + t[21:],
        lambda t: t[:10],
        lambda t: t + "AAAA",
        lambda t: "!!!not base64!!!",
        lambda t: "\u00e9t\u00e9",
        lambda t: base64.urlsafe_b64encode(b"\x00" * 37).decode(),
    ],
)
def test_altered_token_is_refused(mangle: object) -> None:
    tokens = PageTokens()
    token = tokens.issue("t1", LIST, request(), 2)
    bad = mangle(token)  # type: ignore[operator]
    assert "not a token" in refused(tokens, request(page_token=bad))


def test_forged_page_one_is_refused() -> None:
    tokens = PageTokens(b"k" * 32)
    # A token for "page 1" is never issued; one that says so was made elsewhere.
    token = tokens.issue("t1", LIST, request(), 1)
    assert "not a token" in refused(tokens, request(page_token=token))
