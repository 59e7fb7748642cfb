"""SMC errors → gateway errors (SPEC §4), row by row."""

from __future__ import annotations

import pytest

from gateway.core import errors as g
from gateway.core.upstream_errors import from_smc_error, reason_for
from gateway.smc import errors as smc


@pytest.mark.parametrize(
    ("code", "status", "cls", "reason"),
    [
        ("ReplicationJob.InvalidStatus", 400, g.FailedPreconditionError,
         "REPLICATION_JOB_INVALID_STATUS"),
        ("SourceServerState.Invalid", 400, g.FailedPreconditionError,
         "SOURCE_SERVER_STATE_INVALID"),
        ("SourceServer.WithRunningReplicationJob", 400, g.FailedPreconditionError,
         "SOURCE_SERVER_WITH_RUNNING_REPLICATION_JOB"),
        ("ReplicationJob.Related", 400, g.FailedPreconditionError, "REPLICATION_JOB_RELATED"),
        ("ReplicationJobName.Duplicate", 400, g.AlreadyExistsError,
         "REPLICATION_JOB_NAME_DUPLICATE"),
        ("SourceServerName.Duplicate", 400, g.AlreadyExistsError, "SOURCE_SERVER_NAME_DUPLICATE"),
        ("QuotaExceeded.ReplicationJob", 400, g.ResourceExhaustedError,
         "QUOTA_EXCEEDED_REPLICATION_JOB"),
        ("InvalidParameter", 400, g.InvalidArgumentError, "INVALID_PARAMETER"),
        ("MissingParameter", 400, g.InvalidArgumentError, "MISSING_PARAMETER"),
        ("VSwitchIdVpcId.Mismatch", 400, g.InvalidArgumentError, "V_SWITCH_ID_VPC_ID_MISMATCH"),
        ("ReplicationJobDataDiskIndex.Invalid", 400, g.InvalidArgumentError,
         "REPLICATION_JOB_DATA_DISK_INDEX_INVALID"),
        ("IdempotentParameterMismatch", 400, g.InvalidArgumentError, "IDEMPOTENCY_KEY_REUSED"),
        ("InvalidJobId.NotFound", 404, g.NotFoundError, "INVALID_JOB_ID_NOT_FOUND"),
        ("InvalidSourceId.NotFound", 404, g.NotFoundError, "INVALID_SOURCE_ID_NOT_FOUND"),
        ("Throttling.User", 400, g.ResourceExhaustedError, "THROTTLING_USER"),
        ("InternalError", 500, g.UnavailableError, "INTERNAL_ERROR"),
        ("ServiceUnavailable", 503, g.UnavailableError, "SERVICE_UNAVAILABLE"),
        ("InvalidAccessKeyId.NotFound", 404, g.PermissionDeniedError,
         "TENANT_CREDENTIALS_REJECTED"),
        ("SignatureDoesNotMatch", 400, g.PermissionDeniedError, "TENANT_CREDENTIALS_REJECTED"),
        ("Forbidden.RAM", 403, g.PermissionDeniedError, "TENANT_CREDENTIALS_REJECTED"),
        ("InvalidTimeStamp.Expired", 400, g.UnavailableError, "INVALID_TIME_STAMP_EXPIRED"),
        ("BrandNew.Code", 400, g.FailedPreconditionError, "BRAND_NEW_CODE"),
    ],
)  # fmt: skip
def test_smc_code_maps_to_gateway_error(
    code: str, status: int, cls: type[g.GatewayError], reason: str
) -> None:
    error = from_smc_error(
        smc.api_error(code, "smc says no", "REQ-9", status), "StartReplicationJob"
    )
    assert type(error) is cls
    assert error.reason == reason
    assert error.metadata == {
        "smc_action": "StartReplicationJob",
        "smc_code": code,
        "smc_request_id": "REQ-9",
    }


def test_transient_errors_suggest_a_retry_delay() -> None:
    for error in (
        smc.api_error("InternalError", "", "R", 500),
        smc.api_error("Throttling.User", "", "R", 400),
        smc.SmcTransportError("reset", sent=True),
        smc.SmcMalformedResponseError("html", http_status=502),
    ):
        assert from_smc_error(error, "DescribeSourceServers").retry_delay == 1.0
    definitive = from_smc_error(smc.api_error("InvalidParameter", "", "R", 400), "X")
    assert definitive.retry_delay is None


def test_network_failure_is_unavailable_without_smc_code() -> None:
    error = from_smc_error(smc.SmcTransportError("refused", sent=False), "DescribeSourceServers")
    assert type(error) is g.UnavailableError
    assert error.reason == "SMC_UNAVAILABLE"
    assert error.metadata == {"smc_action": "DescribeSourceServers"}


def test_deadline_is_deadline_exceeded() -> None:
    last = smc.api_error("InternalError", "", "R", 500)
    error = from_smc_error(smc.SmcDeadlineExceededError("late", last_error=last), "X")
    assert type(error) is g.DeadlineExceededError
    assert error.http_status == 504


def test_rejected_credentials_message_addresses_the_operator_not_smc_text() -> None:
    upstream = smc.api_error(
        "SignatureDoesNotMatch", "server string to sign is: GET&%2F&AccessKeyId%3DLTAIx", "R", 400
    )
    error = from_smc_error(upstream, "DescribeSourceServers")
    assert "operator" in error.message
    assert "LTAIx" not in error.message
    assert "string to sign" not in error.message


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("Throttling", "THROTTLING"),
        ("InvalidApi.NotFound", "INVALID_API_NOT_FOUND"),
        ("", "SMC_ERROR"),
    ],
)
def test_reason_for(code: str, reason: str) -> None:
    assert reason_for(code) == reason
