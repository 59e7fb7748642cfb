"""The SMC Code → client error table, row by row."""

from __future__ import annotations

import pytest

from gateway.smc import errors as e


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        # Documented SMC business codes (SMC_API.md §1, §5.2).
        ("SourceServerState.Invalid", 400, e.SmcInvalidStateError),
        ("SourceServer.WithRunningReplicationJob", 400, e.SmcInvalidStateError),
        ("ReplicationJob.Related", 400, e.SmcInvalidStateError),
        ("ReplicationJob.InvalidStatus", 400, e.SmcInvalidStateError),
        ("ReplicationJob.InvalidBusinessStatus", 400, e.SmcInvalidStateError),
        ("SourceServerName.Duplicate", 400, e.SmcAlreadyExistsError),
        ("ReplicationJobName.Duplicate", 400, e.SmcAlreadyExistsError),
        ("ReplicationJobDataDiskIndex.Invalid", 400, e.SmcInvalidParameterError),
        ("VSwitchIdVpcId.Mismatch", 400, e.SmcInvalidParameterError),
        ("InvalidSecurityGroupId.IncorrectNetworkType", 400, e.SmcInvalidParameterError),
        ("InvalidSecurityGroupId.VPCMismatch", 400, e.SmcInvalidParameterError),
        ("QuotaExceeded.ReplicationJob", 400, e.SmcQuotaExceededError),
        ("IdempotentParameterMismatch", 400, e.SmcInvalidParameterError),
        ("InvalidSourceId.NotFound", 404, e.SmcNotFoundError),
        ("InvalidJobId.NotFound", 404, e.SmcNotFoundError),
        # Common gateway codes (SMC_API.md §5.1).
        ("MissingParameter", 400, e.SmcInvalidParameterError),
        ("MissingSourceId", 400, e.SmcInvalidParameterError),
        ("InvalidParameter", 400, e.SmcInvalidParameterError),
        ("InvalidParameter.Format", 400, e.SmcInvalidParameterError),
        ("InvalidApi.NotFound", 404, e.SmcInvalidParameterError),
        ("InvalidAccessKeyId.NotFound", 404, e.SmcCredentialsError),
        ("InvalidAccessKeyId.Inactive", 400, e.SmcCredentialsError),
        ("SignatureDoesNotMatch", 400, e.SmcCredentialsError),
        ("IncompleteSignature", 400, e.SmcCredentialsError),
        ("InvalidSecurityToken.Mismatch", 400, e.SmcCredentialsError),
        ("Forbidden.RAM", 403, e.SmcCredentialsError),
        ("Forbidden.Unauthorized", 403, e.SmcCredentialsError),
        ("SignatureNonceUsed", 400, e.SmcRequestSigningError),
        ("InvalidTimeStamp.Expired", 400, e.SmcRequestSigningError),
        ("InvalidTimeStamp.Format", 400, e.SmcRequestSigningError),
        ("Throttling", 400, e.SmcThrottledError),
        ("Throttling.User", 400, e.SmcThrottledError),
        ("Throttling.Api", 400, e.SmcThrottledError),
        ("InternalError", 500, e.SmcServerError),
        ("ServiceUnavailable", 503, e.SmcServerError),
        # Unknown codes fall back on the HTTP status.
        ("SomethingNew", 502, e.SmcServerError),
        ("SomethingNew", 400, e.SmcApiError),
    ],
)
def test_code_maps_to_class(code: str, status: int, expected: type[e.SmcApiError]) -> None:
    error = e.api_error(code, "msg", "REQ-1", status)
    assert type(error) is expected
    assert (error.code, error.message, error.request_id, error.http_status) == (
        code,
        "msg",
        "REQ-1",
        status,
    )


def test_only_transient_classes_are_retryable() -> None:
    retryable = {
        cls
        for cls in (
            e.SmcThrottledError,
            e.SmcServerError,
            e.SmcCredentialsError,
            e.SmcRequestSigningError,
            e.SmcNotFoundError,
            e.SmcInvalidStateError,
            e.SmcAlreadyExistsError,
            e.SmcQuotaExceededError,
            e.SmcInvalidParameterError,
            e.SmcApiError,
        )
        if cls.retryable
    }
    assert retryable == {e.SmcThrottledError, e.SmcServerError}
    assert e.SmcTransportError("x", sent=True).retryable
    assert e.SmcMalformedResponseError("x", http_status=502).retryable
    assert not e.SmcMalformedResponseError("x", http_status=200).retryable


def test_message_names_code_and_request_id() -> None:
    error = e.api_error("InternalError", "try again", "ABC", 500)
    assert str(error) == "InternalError: try again (RequestId ABC)"
