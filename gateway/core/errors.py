"""The gateway's errors: one class per ``google.rpc.Code``, each knowing its wire forms.

    GatewayError
    ├── InvalidArgumentError     INVALID_ARGUMENT     400
    ├── FailedPreconditionError  FAILED_PRECONDITION  400
    ├── UnauthenticatedError     UNAUTHENTICATED      401
    ├── PermissionDeniedError    PERMISSION_DENIED    403
    ├── NotFoundError            NOT_FOUND            404
    ├── AlreadyExistsError       ALREADY_EXISTS       409
    ├── AbortedError             ABORTED              409
    ├── ResourceExhaustedError   RESOURCE_EXHAUSTED   429
    ├── InternalError            INTERNAL             500
    ├── UnimplementedError       UNIMPLEMENTED        501
    ├── UnavailableError         UNAVAILABLE          503
    └── DeadlineExceededError    DEADLINE_EXCEEDED    504

Every error carries an ``ErrorInfo`` (reason in UPPER_SNAKE_CASE, domain, metadata with
the SMC ``Code`` and ``RequestId`` where there is one) and, where useful, ``BadRequest``
field violations, ``RetryInfo`` and ``QuotaFailure``.  :meth:`GatewayError.to_status`
builds the ``google.rpc.Status`` both front ends send: gRPC in ``grpc-status-details-bin``,
REST as the AIP-193 JSON body (:func:`gateway.core.errors.to_http_json`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

__all__ = [
    "DOMAIN",
    "HTTP_STATUS_BY_REASON",
    "AbortedError",
    "AlreadyExistsError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "FieldViolation",
    "GatewayError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaViolation",
    "ResourceExhaustedError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "from_status",
    "to_http_json",
]

DOMAIN = "smc-gateway"

# Reasons whose REST status is not their code's: a reused idempotency key is 422 Unprocessable
# Content (SPEC §6 and the IETF Idempotency-Key draft), though its gRPC code is
# INVALID_ARGUMENT (400 for every other reason).
HTTP_STATUS_BY_REASON: Mapping[str, int] = {"IDEMPOTENCY_KEY_REUSED": 422}


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One violated rule: the field's path (``data_disks[0].size``) and what is wrong."""

    field: str
    description: str
    reason: str = "INVALID_FIELD"


@dataclass(frozen=True, slots=True)
class QuotaViolation:
    """One exhausted quota: whose (``subject``) and which (``description``)."""

    subject: str
    description: str


class GatewayError(Exception):
    """Base class; subclasses fix the code.  Never carries a secret in any field."""

    code: ClassVar[int] = code_pb2.UNKNOWN
    status_name: ClassVar[str] = "UNKNOWN"
    # The class's HTTP status; an instance whose reason has its own (see HTTP_STATUS_BY_REASON)
    # carries that one instead.
    http_status: int = 500
    default_reason: ClassVar[str] = "UNKNOWN"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        field_violations: Sequence[FieldViolation] = (),
        retry_delay: float | None = None,
        quota_violations: Sequence[QuotaViolation] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        if self.reason in HTTP_STATUS_BY_REASON:
            self.http_status = HTTP_STATUS_BY_REASON[self.reason]
        self.metadata = dict(metadata or {})
        self.field_violations = tuple(field_violations)
        self.retry_delay = retry_delay
        self.quota_violations = tuple(quota_violations)

    def to_status(self) -> status_pb2.Status:
        """The ``google.rpc.Status`` with its details, as both front ends send it."""
        status = status_pb2.Status(code=self.code, message=self.message)
        info = error_details_pb2.ErrorInfo(reason=self.reason, domain=DOMAIN)
        info.metadata.update(self.metadata)
        status.details.add().Pack(info)
        if self.field_violations:
            bad = error_details_pb2.BadRequest()
            for violation in self.field_violations:
                bad.field_violations.add(
                    field=violation.field,
                    description=violation.description,
                    reason=violation.reason,
                )
            status.details.add().Pack(bad)
        if self.retry_delay is not None:
            delay = duration_pb2.Duration()
            delay.FromMilliseconds(max(0, round(self.retry_delay * 1000)))
            status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
        if self.quota_violations:
            quota = error_details_pb2.QuotaFailure()
            for q in self.quota_violations:
                quota.violations.add(subject=q.subject, description=q.description)
            status.details.add().Pack(quota)
        return status


class InvalidArgumentError(GatewayError):
    code = code_pb2.INVALID_ARGUMENT
    status_name = "INVALID_ARGUMENT"
    http_status = 400
    default_reason = "INVALID_ARGUMENT"


class FailedPreconditionError(GatewayError):
    code = code_pb2.FAILED_PRECONDITION
    status_name = "FAILED_PRECONDITION"
    http_status = 400
    default_reason = "FAILED_PRECONDITION"


class UnauthenticatedError(GatewayError):
    code = code_pb2.UNAUTHENTICATED
    status_name = "UNAUTHENTICATED"
    http_status = 401
    default_reason = "UNAUTHENTICATED"


class PermissionDeniedError(GatewayError):
    code = code_pb2.PERMISSION_DENIED
    status_name = "PERMISSION_DENIED"
    http_status = 403
    default_reason = "PERMISSION_DENIED"


class NotFoundError(GatewayError):
    code = code_pb2.NOT_FOUND
    status_name = "NOT_FOUND"
    http_status = 404
    default_reason = "NOT_FOUND"


class AlreadyExistsError(GatewayError):
    code = code_pb2.ALREADY_EXISTS
    status_name = "ALREADY_EXISTS"
    http_status = 409
    default_reason = "ALREADY_EXISTS"


class AbortedError(GatewayError):
    code = code_pb2.ABORTED
    status_name = "ABORTED"
    http_status = 409
    default_reason = "ABORTED"


class ResourceExhaustedError(GatewayError):
    code = code_pb2.RESOURCE_EXHAUSTED
    status_name = "RESOURCE_EXHAUSTED"
    http_status = 429
    default_reason = "RESOURCE_EXHAUSTED"


class InternalError(GatewayError):
    code = code_pb2.INTERNAL
    status_name = "INTERNAL"
    http_status = 500
    default_reason = "INTERNAL"


class UnimplementedError(GatewayError):
    code = code_pb2.UNIMPLEMENTED
    status_name = "UNIMPLEMENTED"
    http_status = 501
    default_reason = "UNIMPLEMENTED"


class UnavailableError(GatewayError):
    code = code_pb2.UNAVAILABLE
    status_name = "UNAVAILABLE"
    http_status = 503
    default_reason = "UNAVAILABLE"


class DeadlineExceededError(GatewayError):
    code = code_pb2.DEADLINE_EXCEEDED
    status_name = "DEADLINE_EXCEEDED"
    http_status = 504
    default_reason = "DEADLINE_EXCEEDED"


_BY_CODE: dict[int, type[GatewayError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        FailedPreconditionError,
        UnauthenticatedError,
        PermissionDeniedError,
        NotFoundError,
        AlreadyExistsError,
        AbortedError,
        ResourceExhaustedError,
        InternalError,
        UnimplementedError,
        UnavailableError,
        DeadlineExceededError,
    )
}


def from_status(status: status_pb2.Status) -> GatewayError:
    """The error a ``google.rpc.Status`` describes (inverse of :meth:`GatewayError.to_status`).

    Used to answer a replayed idempotent call with exactly the error first answered.
    """
    cls = _BY_CODE.get(status.code, InternalError)
    reason: str | None = None
    metadata: dict[str, str] = {}
    violations: list[FieldViolation] = []
    retry_delay: float | None = None
    quotas: list[QuotaViolation] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations = [
                FieldViolation(v.field, v.description, v.reason) for v in bad.field_violations
            ]
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_delay = retry.retry_delay.ToMilliseconds() / 1000
        elif detail.Is(error_details_pb2.QuotaFailure.DESCRIPTOR):
            quota = error_details_pb2.QuotaFailure()
            detail.Unpack(quota)
            quotas = [QuotaViolation(q.subject, q.description) for q in quota.violations]
    return cls(
        status.message,
        reason=reason,
        metadata=metadata,
        field_violations=violations,
        retry_delay=retry_delay,
        quota_violations=quotas,
    )


def to_http_json(error: GatewayError) -> dict[str, Any]:
    """The AIP-193 JSON error body: ``{"error": {code, status, message, details}}``.

    ``details`` are the same messages as in the gRPC status, in the proto3 JSON mapping
    with their ``@type``.
    """
    return {
        "error": {
            "code": error.http_status,
            "status": error.status_name,
            "message": error.message,
            "details": _details_json(error),
        }
    }


_RPC_TYPE = "type.googleapis.com/google.rpc."


def _present(**fields: object) -> dict[str, object]:
    # The proto3 JSON mapping leaves out fields at their default (empty) value.
    return {name: value for name, value in fields.items() if value}


def _details_json(error: GatewayError) -> list[dict[str, object]]:
    """``to_status().details`` in the proto3 JSON mapping (as ``json_format`` writes them),
    built straight from the error: on an error answer this was the costliest step."""
    details: list[dict[str, object]] = [
        {
            "@type": _RPC_TYPE + "ErrorInfo",
            **_present(reason=error.reason, domain=DOMAIN, metadata=dict(error.metadata)),
        }
    ]
    if error.field_violations:
        violations = [
            _present(field=v.field, description=v.description, reason=v.reason)
            for v in error.field_violations
        ]
        details.append({"@type": _RPC_TYPE + "BadRequest", "fieldViolations": violations})
    if error.retry_delay is not None:
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(max(0, round(error.retry_delay * 1000)))
        details.append({"@type": _RPC_TYPE + "RetryInfo", "retryDelay": delay.ToJsonString()})
    if error.quota_violations:
        quotas = [
            _present(subject=q.subject, description=q.description) for q in error.quota_violations
        ]
        details.append({"@type": _RPC_TYPE + "QuotaFailure", "violations": quotas})
    return details
