"""Errors reach callers as rich statuses; bad bytes and oversize messages are refused."""

from __future__ import annotations

import logging

import grpc
import pytest
from conftest import MAX_MESSAGE_BYTES
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from grpc_unit_helpers import Behaviour, FakeCore

from gateway._proto.smcgateway.v1 import (
    replication_job_service_pb2 as jobs,
)
from gateway._proto.smcgateway.v1 import (
    replication_job_service_pb2_grpc,
)
from gateway.core import errors
from gateway.core.context import CallContext
from gateway.core.errors import FieldViolation, GatewayError, QuotaViolation

GET_JOB = "/smcgateway.v1.ReplicationJobService/GetReplicationJob"
WATCH_JOB = "/smcgateway.v1.ReplicationJobService/WatchReplicationJob"


def _raising(error: Exception) -> Behaviour:
    async def behaviour(name: str, ctx: CallContext, request: Message) -> Message:
        raise error

    return behaviour


def _details(status: status_pb2.Status) -> dict[str, Message]:
    kinds: list[type[Message]] = [
        error_details_pb2.ErrorInfo,
        error_details_pb2.BadRequest,
        error_details_pb2.RetryInfo,
        error_details_pb2.QuotaFailure,
    ]
    found: dict[str, Message] = {}
    for any_detail in status.details:
        for kind in kinds:
            if any_detail.Is(kind.DESCRIPTOR):
                message = kind()
                any_detail.Unpack(message)
                found[kind.DESCRIPTOR.name] = message
    assert len(found) == len(status.details), "a detail of an unexpected type"
    return found


async def _get_job_error(channel: grpc.aio.Channel) -> grpc.aio.AioRpcError:
    stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetReplicationJob(jobs.GetReplicationJobRequest(job_id="j-1"))
    return caught.value


async def test_invalid_argument_carries_error_info_and_field_violations(
    core: FakeCore, channel: grpc.aio.Channel
) -> None:
    core.behaviour = _raising(
        errors.InvalidArgumentError(
            "job_id: a job ID: j- followed by letters and digits",
            reason="INVALID_FIELD",
            metadata={"Code": "InvalidParameter", "RequestId": "req-1"},
            field_violations=[FieldViolation("job_id", "a job ID: j- followed by letters")],
        )
    )

    error = await _get_job_error(channel)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "job_id: a job ID: j- followed by letters and digits"
    status = rpc_status.from_call(error)
    assert status is not None
    details = _details(status)
    info = details["ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert info.reason == "INVALID_FIELD"
    assert info.domain == errors.DOMAIN
    assert dict(info.metadata) == {"Code": "InvalidParameter", "RequestId": "req-1"}
    bad = details["BadRequest"]
    assert isinstance(bad, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("job_id", "a job ID: j- followed by letters")
    ]
    # The core's response metadata is sent on errors too.
    assert ("smc-request-id", "req-123") in tuple(error.trailing_metadata())


async def test_rate_limit_carries_retry_info_quota_failure_and_pushback(
    core: FakeCore, channel: grpc.aio.Channel
) -> None:
    core.behaviour = _raising(
        errors.ResourceExhaustedError(
            "rate limit exceeded",
            reason="RATE_LIMITED",
            retry_delay=1.5,
            quota_violations=[QuotaViolation("tenant:team-a", "read: 20/s, burst 40")],
        )
    )

    error = await _get_job_error(channel)

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = rpc_status.from_call(error)
    details = _details(status)
    retry = details["RetryInfo"]
    assert isinstance(retry, error_details_pb2.RetryInfo)
    assert retry.retry_delay.ToMilliseconds() == 1500
    quota = details["QuotaFailure"]
    assert isinstance(quota, error_details_pb2.QuotaFailure)
    assert [(v.subject, v.description) for v in quota.violations] == [
        ("tenant:team-a", "read: 20/s, burst 40")
    ]
    assert ("grpc-retry-pushback-ms", "1500") in tuple(error.trailing_metadata())


async def test_retry_delay_outside_rate_limits_sends_no_pushback(
    core: FakeCore, channel: grpc.aio.Channel
) -> None:
    core.behaviour = _raising(errors.AbortedError("in flight", retry_delay=1.0))

    error = await _get_job_error(channel)

    assert error.code() == grpc.StatusCode.ABORTED
    assert "RetryInfo" in _details(rpc_status.from_call(error))
    assert "grpc-retry-pushback-ms" not in dict(error.trailing_metadata())


@pytest.mark.parametrize(
    "error_type",
    [
        errors.InvalidArgumentError,
        errors.FailedPreconditionError,
        errors.UnauthenticatedError,
        errors.PermissionDeniedError,
        errors.NotFoundError,
        errors.AlreadyExistsError,
        errors.AbortedError,
        errors.ResourceExhaustedError,
        errors.InternalError,
        errors.UnimplementedError,
        errors.UnavailableError,
        errors.DeadlineExceededError,
    ],
)
async def test_each_gateway_error_keeps_its_code(
    error_type: type[GatewayError], core: FakeCore, channel: grpc.aio.Channel
) -> None:
    core.behaviour = _raising(error_type("nope"))

    error = await _get_job_error(channel)

    assert error.code().value[0] == error_type.code
    info = _details(rpc_status.from_call(error))["ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert info.reason == error_type.default_reason


async def test_unexpected_exception_is_internal_without_its_text(
    core: FakeCore, channel: grpc.aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    core.behaviour = _raising(RuntimeError("secret=LTAIsecret123"))

    with caplog.at_level(logging.ERROR, logger="gateway.grpc"):
        error = await _get_job_error(channel)

    assert error.code() == grpc.StatusCode.INTERNAL
    assert error.details() == "internal error"
    assert "LTAIsecret123" not in repr(error.trailing_metadata())
    status = rpc_status.from_call(error)
    assert status is not None
    assert "LTAIsecret123" not in str(status)
    logged = [r for r in caplog.records if r.name.startswith("gateway.grpc")]
    assert logged
    assert logged[0].exc_info is not None
    assert GET_JOB in logged[0].getMessage()


@pytest.mark.parametrize("path", [GET_JOB, WATCH_JOB])
@pytest.mark.parametrize(
    "garbage",
    [b"\xff\xff\xff\xff", b"\x0a\x02\xff\xfe", b"\x0a\x10short"],
    ids=["bad-tag", "bad-utf8", "truncated"],
)
async def test_garbage_bytes_are_invalid_argument(
    path: str, garbage: bytes, core: FakeCore, channel: grpc.aio.Channel
) -> None:
    def identity(data: bytes) -> bytes:
        return data

    if path == WATCH_JOB:
        stream = channel.unary_stream(path, identity, identity)(garbage)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            async for _ in stream:
                pass
    else:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await channel.unary_unary(path, identity, identity)(garbage)

    error = caught.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = _details(rpc_status.from_call(error))["ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert info.reason == "MALFORMED_REQUEST"
    assert core.calls == []


async def test_oversize_request_is_resource_exhausted(
    core: FakeCore, channel: grpc.aio.Channel
) -> None:
    stub = replication_job_service_pb2_grpc.ReplicationJobServiceStub(channel)
    request = jobs.CreateReplicationJobRequest(
        source_id="s-1", replication_parameters="x" * (MAX_MESSAGE_BYTES + 1)
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateReplicationJob(request)

    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert core.calls == []


async def test_oversize_response_is_not_sent(core: FakeCore, channel: grpc.aio.Channel) -> None:
    async def huge(name: str, ctx: CallContext, request: Message) -> Message:
        response = jobs.GetReplicationJobResponse()
        response.replication_job.description = "x" * (MAX_MESSAGE_BYTES + 1)
        return response

    core.behaviour = huge

    error = await _get_job_error(channel)

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
