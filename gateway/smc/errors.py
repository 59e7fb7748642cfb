"""Errors the SMC client raises.

    SmcError                        anything that kept a call from succeeding
    ├── SmcApiError                 SMC answered with its error JSON (Code, Message, RequestId)
    │   ├── SmcThrottledError       Throttling*: rejected before execution, safe to retry
    │   ├── SmcServerError          InternalError, ServiceUnavailable, other 5xx: transient
    │   ├── SmcCredentialsError     the AccessKey, signature or STS token was refused
    │   ├── SmcRequestSigningError  timestamp or nonce refused (clock skew, replay)
    │   ├── SmcNotFoundError        *.NotFound
    │   ├── SmcInvalidStateError    the resource's state forbids the operation
    │   ├── SmcAlreadyExistsError   *.Duplicate
    │   ├── SmcQuotaExceededError   QuotaExceeded.*
    │   └── SmcInvalidParameterError InvalidParameter*, MissingParameter*, *.Mismatch, ...
    ├── SmcTransportError           no usable HTTP answer (connect failure, reset, timeout)
    ├── SmcMalformedResponseError   an answer that is not SMC's JSON
    └── SmcDeadlineExceededError    the call's deadline passed before an answer

Which class an SMC ``Code`` becomes is data: :data:`EXACT_CODES` first, then
:data:`CODE_PATTERNS` in order, then the HTTP status.  The gateway core maps
these classes to its own errors; nothing here knows gRPC or REST.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "CODE_PATTERNS",
    "EXACT_CODES",
    "SmcAlreadyExistsError",
    "SmcApiError",
    "SmcCredentialsError",
    "SmcDeadlineExceededError",
    "SmcError",
    "SmcInvalidParameterError",
    "SmcInvalidStateError",
    "SmcMalformedResponseError",
    "SmcNotFoundError",
    "SmcQuotaExceededError",
    "SmcRequestSigningError",
    "SmcServerError",
    "SmcThrottledError",
    "SmcTransportError",
    "api_error",
    "error_class_for",
]


class SmcError(Exception):
    """Base class.  ``retryable`` says whether a retry may succeed."""

    retryable = False


class SmcApiError(SmcError):
    """SMC's own error answer."""

    def __init__(self, code: str, message: str, request_id: str, http_status: int) -> None:
        super().__init__(
            f"{code}: {message}" + (f" (RequestId {request_id})" if request_id else "")
        )
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status


class SmcThrottledError(SmcApiError):
    """Flow control refused the call before SMC ran it: safe to retry any call."""

    retryable = True


class SmcServerError(SmcApiError):
    """A transient failure on SMC's side; the call may or may not have run."""

    retryable = True


class SmcCredentialsError(SmcApiError):
    """The tenant's AccessKey, signature or token was refused: an operator must act."""


class SmcRequestSigningError(SmcApiError):
    """Timestamp or nonce refused: clock skew or a replayed nonce."""


class SmcNotFoundError(SmcApiError):
    """The named resource does not exist."""


class SmcInvalidStateError(SmcApiError):
    """The resource exists but its state forbids the operation."""


class SmcAlreadyExistsError(SmcApiError):
    """A name that must be unique is taken."""


class SmcQuotaExceededError(SmcApiError):
    """An account quota is exhausted."""


class SmcInvalidParameterError(SmcApiError):
    """A parameter is missing, malformed or inconsistent."""


class SmcTransportError(SmcError):
    """No usable HTTP answer.

    ``sent`` is False only when the request certainly never reached SMC (the
    connection could not be opened), which makes any call safe to retry.
    """

    retryable = True

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class SmcMalformedResponseError(SmcError):
    """An answer that is not SMC's JSON (a proxy's HTML page, a truncated body)."""

    def __init__(self, message: str, *, http_status: int) -> None:
        super().__init__(message)
        self.http_status = http_status
        # A proxy's 502/503 page is as transient as SMC's own 5xx.
        self.retryable = http_status >= 500


class SmcDeadlineExceededError(SmcError):
    """The call's deadline passed; ``last_error`` is what the last attempt saw."""

    def __init__(self, message: str, *, last_error: SmcError | None = None) -> None:
        super().__init__(message)
        self.last_error = last_error


# Codes with a fixed meaning.  Reviewed against SMC_API.md §1 and §5.
EXACT_CODES: Mapping[str, type[SmcApiError]] = {
    "InternalError": SmcServerError,
    "ServiceUnavailable": SmcServerError,
    "UnknownError": SmcServerError,
    "SignatureDoesNotMatch": SmcCredentialsError,
    "IncompleteSignature": SmcCredentialsError,
    "InvalidSignatureMethod": SmcCredentialsError,
    "Forbidden.RAM": SmcCredentialsError,
    "Forbidden.Unauthorized": SmcCredentialsError,
    "Forbidden.RiskControl": SmcCredentialsError,
    "SignatureNonceUsed": SmcRequestSigningError,
    "IllegalTimestamp": SmcRequestSigningError,
    "SourceServerState.Invalid": SmcInvalidStateError,
    "SourceServer.WithRunningReplicationJob": SmcInvalidStateError,
    "ReplicationJob.Related": SmcInvalidStateError,
    "ReplicationJobDataDiskIndex.Invalid": SmcInvalidParameterError,
    "IdempotentParameterMismatch": SmcInvalidParameterError,
    "InvalidApi.NotFound": SmcInvalidParameterError,
    "InvalidAction.NotFound": SmcInvalidParameterError,
}

# (prefix, suffix) rules tried in order when no exact code matched.
CODE_PATTERNS: tuple[tuple[str, str, type[SmcApiError]], ...] = (
    ("Throttling", "", SmcThrottledError),
    ("InvalidAccessKeyId", "", SmcCredentialsError),
    ("InvalidSecurityToken", "", SmcCredentialsError),
    ("InvalidTimeStamp", "", SmcRequestSigningError),
    ("QuotaExceeded", "", SmcQuotaExceededError),
    ("", ".NotFound", SmcNotFoundError),
    ("", ".InvalidStatus", SmcInvalidStateError),
    ("", ".InvalidBusinessStatus", SmcInvalidStateError),
    ("", ".Duplicate", SmcAlreadyExistsError),
    ("", ".Mismatch", SmcInvalidParameterError),
    ("InvalidParameter", "", SmcInvalidParameterError),
    ("MissingParameter", "", SmcInvalidParameterError),
    ("Missing", "", SmcInvalidParameterError),
    ("Invalid", "", SmcInvalidParameterError),
)


def error_class_for(code: str, http_status: int) -> type[SmcApiError]:
    """The client error class for an SMC ``Code`` (and the HTTP status it came with)."""
    exact = EXACT_CODES.get(code)
    if exact is not None:
        return exact
    for prefix, suffix, cls in CODE_PATTERNS:
        if code.startswith(prefix) and code.endswith(suffix):
            return cls
    return SmcServerError if http_status >= 500 else SmcApiError


def api_error(code: str, message: str, request_id: str, http_status: int) -> SmcApiError:
    """Build the typed error for one SMC error answer."""
    return error_class_for(code, http_status)(code, message, request_id, http_status)
