"""SMC's errors as gateway errors: one table, reviewed in one place.

:data:`BY_CLASS` maps each client error class (``gateway.smc.errors``, itself derived from
SMC's ``Code`` by a table) to the gateway error it becomes.  The ErrorInfo reason is SMC's
code in UPPER_SNAKE_CASE (``ReplicationJob.InvalidStatus`` → ``REPLICATION_JOB_INVALID_STATUS``),
and its metadata carries ``smc_code`` and ``smc_request_id``, so callers can branch on the
reason and operators can quote SMC's RequestId.

Rejected tenant credentials are PERMISSION_DENIED with reason ``TENANT_CREDENTIALS_REJECTED``
and a message for the operator: the caller did nothing wrong and cannot fix it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gateway.core import errors as g
from gateway.smc import errors as smc

__all__ = ["BY_CLASS", "EXACT_CODES", "from_smc_error", "reason_for"]

BY_CLASS: Mapping[type[smc.SmcError], type[g.GatewayError]] = {
    smc.SmcInvalidStateError: g.FailedPreconditionError,
    smc.SmcAlreadyExistsError: g.AlreadyExistsError,
    smc.SmcQuotaExceededError: g.ResourceExhaustedError,
    smc.SmcInvalidParameterError: g.InvalidArgumentError,
    smc.SmcNotFoundError: g.NotFoundError,
    smc.SmcThrottledError: g.ResourceExhaustedError,
    smc.SmcServerError: g.UnavailableError,
    smc.SmcTransportError: g.UnavailableError,
    smc.SmcMalformedResponseError: g.UnavailableError,
    smc.SmcCredentialsError: g.PermissionDeniedError,
    smc.SmcRequestSigningError: g.UnavailableError,
    smc.SmcDeadlineExceededError: g.DeadlineExceededError,
    smc.SmcApiError: g.FailedPreconditionError,  # an SMC code this gateway does not know
}

# Codes whose gateway reason is not their own name.
EXACT_CODES: Mapping[str, str] = {
    # SMC saw the same ClientToken with other parameters: the caller reused an idempotency key.
    "IdempotentParameterMismatch": "IDEMPOTENCY_KEY_REUSED",
}

_RETRY_AFTER_SECONDS = 1.0
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def reason_for(code: str) -> str:
    """``ReplicationJob.InvalidStatus`` → ``REPLICATION_JOB_INVALID_STATUS``."""
    if code in EXACT_CODES:
        return EXACT_CODES[code]
    words = [_CAMEL.sub("_", part) for part in re.split(r"[^A-Za-z0-9]+", code) if part]
    return "_".join(words).upper() or "SMC_ERROR"


def _gateway_class(error: smc.SmcError) -> type[g.GatewayError]:
    for cls in type(error).__mro__:
        if cls in BY_CLASS:
            return BY_CLASS[cls]
    return g.UnavailableError


def from_smc_error(error: smc.SmcError, action: str) -> g.GatewayError:
    """The gateway error for an SMC client error raised while calling ``action``."""
    cls = _gateway_class(error)
    if isinstance(error, smc.SmcDeadlineExceededError) and error.last_error is not None:
        cls = g.DeadlineExceededError
    metadata = {"smc_action": action}
    if isinstance(error, smc.SmcApiError):
        metadata["smc_code"] = error.code
        if error.request_id:
            metadata["smc_request_id"] = error.request_id
        reason = reason_for(error.code)
        message = f"SMC {action} failed: {error.code}: {error.message}"
    elif isinstance(error, smc.SmcDeadlineExceededError):
        reason, message = "DEADLINE_EXCEEDED", f"SMC {action} did not complete before the deadline"
    else:
        reason, message = "SMC_UNAVAILABLE", f"SMC {action} failed: SMC could not be reached"
    retry_delay = (
        _RETRY_AFTER_SECONDS if cls in (g.UnavailableError, g.ResourceExhaustedError) else None
    )
    if isinstance(error, smc.SmcCredentialsError):
        reason = "TENANT_CREDENTIALS_REJECTED"
        # SMC's own text may quote the AccessKeyId and the string to sign: keep it out.
        message = (
            f"SMC rejected this tenant's credentials ({error.code}); "
            "the gateway operator must check the tenant's AccessKey configuration"
        )
    return cls(message, reason=reason, metadata=metadata, retry_delay=retry_delay)
