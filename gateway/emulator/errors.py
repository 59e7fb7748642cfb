"""SMC error codes as exception classes, one class per ``Code``.

Class names are the code without dots plus ``Error``.  Every class declares its wire
``code``, ``http_status`` and default ``message`` (the SMC_API.md text where documented).
Subclassing registers the class in :data:`ERRORS`, so faults and tests can look codes up.

Exception tree::

    SmcError
    ├── common gateway errors (MissingParameterError, SignatureDoesNotMatchError, ...)
    └── SMC business errors (SourceServerState.Invalid, ReplicationJob.InvalidStatus, ...)

Choices for codes SMC does not document (SMC_API.md §6.2):

* unknown ``SourceId`` → ``InvalidSourceId.NotFound`` (HTTP 404);
* unknown ``JobId`` → ``InvalidJobId.NotFound`` (HTTP 404);
* a ClientToken reused with other parameters → ``IdempotentParameterMismatch`` (HTTP 400),
  the code Alibaba's ECS uses for the same situation;
* STS: a missing ``SecurityToken`` for an STS account → ``MissingSecurityToken``; a wrong one
  (or one sent for a non-STS AccessKey) → ``InvalidSecurityToken.MismatchWithAccessKey``; an
  expired one → ``InvalidSecurityToken.Expired`` (codes of Alibaba's API gateway).
"""

from __future__ import annotations

import json
from typing import ClassVar

__all__ = ["ERRORS", "SmcError", "error_body", "error_class"]

HOST_ID = "smc.aliyuncs.com"
_RECOMMEND = "https://error-center.aliyun.com/status/search?Keyword={code}&source=PopGw"

# code → class; filled by SmcError.__init_subclass__.
ERRORS: dict[str, type[SmcError]] = {}


class SmcError(Exception):
    """An error answer of SMC; ``message`` defaults to the class's documented text."""

    code: ClassVar[str] = ""
    http_status: ClassVar[int] = 400
    default_message: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.code:
            if cls.code in ERRORS:
                raise TypeError(f"duplicate SMC error code {cls.code}")
            ERRORS[cls.code] = cls

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(f"{self.code}: {self.message}")


def error_class(code: str) -> type[SmcError] | None:
    """The class registered for ``code``, or ``None``."""
    return ERRORS.get(code)


def error_body(error: SmcError, request_id: str) -> bytes:
    """Alibaba's JSON error body for ``error``."""
    return json.dumps(
        {
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": error.code,
            "Message": error.message,
            "Recommend": _RECOMMEND.format(code=error.code),
        }
    ).encode()


# --- parameters -------------------------------------------------------------------------------


class MissingParameterError(SmcError):
    code = "MissingParameter"
    default_message = "A required parameter is not supplied."

    @classmethod
    def named(cls, name: str) -> MissingParameterError:
        return cls(
            f"The input parameter {name} that is mandatory for processing this request "
            "is not supplied."
        )


class InvalidParameterError(SmcError):
    code = "InvalidParameter"
    default_message = "The specified parameter is not valid."

    @classmethod
    def named(cls, name: str, why: str = "") -> InvalidParameterError:
        suffix = f" {why}" if why else ""
        return cls(f"The specified parameter {name} is not valid.{suffix}")


class InvalidParameterFormatError(SmcError):
    code = "InvalidParameter.Format"
    default_message = "Specified parameter format is not valid."


class InvalidApiNotFoundError(SmcError):
    code = "InvalidApi.NotFound"
    http_status = 404
    default_message = "Specified api is not found, please check your url and method."


class NoSuchVersionError(SmcError):
    code = "NoSuchVersion"
    default_message = "The specified API version does not exist."


class UnsupportedHTTPMethodError(SmcError):
    code = "UnsupportedHTTPMethod"
    default_message = "This http method not supported."


# --- authentication ---------------------------------------------------------------------------


class InvalidAccessKeyIdNotFoundError(SmcError):
    code = "InvalidAccessKeyId.NotFound"
    http_status = 404
    default_message = "Specified access key is not found."


class IncompleteSignatureError(SmcError):
    code = "IncompleteSignature"
    default_message = "The request signature does not conform to Aliyun standards."


class InvalidSignatureMethodError(SmcError):
    code = "InvalidSignatureMethod"
    default_message = "Specified signature method is not valid."


class SignatureDoesNotMatchError(SmcError):
    code = "SignatureDoesNotMatch"
    default_message = "Specified signature is not matched with our calculation."

    @classmethod
    def with_string_to_sign(cls, string_to_sign: str) -> SignatureDoesNotMatchError:
        return cls(f"{cls.default_message} server string to sign is:{string_to_sign}")


class SignatureNonceUsedError(SmcError):
    code = "SignatureNonceUsed"
    default_message = "Specified signature nonce was used already."


class InvalidTimeStampFormatError(SmcError):
    code = "InvalidTimeStamp.Format"
    default_message = "Specified time stamp or date value is not well formatted."


class InvalidTimeStampExpiredError(SmcError):
    code = "InvalidTimeStamp.Expired"
    default_message = "Specified time stamp or date value is expired."


class MissingSecurityTokenError(SmcError):
    code = "MissingSecurityToken"
    default_message = "SecurityToken is mandatory for this action."


class InvalidSecurityTokenMismatchError(SmcError):
    code = "InvalidSecurityToken.MismatchWithAccessKey"
    default_message = "Specified SecurityToken mismatch with the AccessKey."


class InvalidSecurityTokenExpiredError(SmcError):
    code = "InvalidSecurityToken.Expired"
    default_message = "Specified SecurityToken is expired."


# --- flow control and server side --------------------------------------------------------------


class ThrottlingError(SmcError):
    code = "Throttling"
    default_message = "Request was denied due to request throttling."


class ThrottlingUserError(SmcError):
    code = "Throttling.User"
    default_message = "Request was denied due to user flow control."


class ThrottlingApiError(SmcError):
    code = "Throttling.Api"
    default_message = "Request was denied due to api flow control."


class InternalError(SmcError):
    code = "InternalError"
    http_status = 500
    default_message = (
        "An error occurred while processing your request. Please try again. "
        "If the problem still exists, please submit a ticket."
    )


class ServiceUnavailableError(SmcError):
    code = "ServiceUnavailable"
    http_status = 503
    default_message = "The request has failed due to a temporary failure of the server."


# --- SMC business errors ----------------------------------------------------------------------


class SourceServerStateInvalidError(SmcError):
    code = "SourceServerState.Invalid"
    default_message = "The specified source server status is invalid."


class SourceServerWithRunningReplicationJobError(SmcError):
    code = "SourceServer.WithRunningReplicationJob"
    default_message = "The specified source server has related replication jobs that are running."


class ReplicationJobRelatedError(SmcError):
    code = "ReplicationJob.Related"
    default_message = "The specified source server has related replication jobs."


class SourceServerNameDuplicateError(SmcError):
    code = "SourceServerName.Duplicate"
    default_message = (
        "The specified source server name already exists. Please modify the source server name."
    )


class ReplicationJobDataDiskIndexInvalidError(SmcError):
    code = "ReplicationJobDataDiskIndex.Invalid"
    default_message = (
        "The specified replication job contains data disk index not found in source server."
    )


class VSwitchIdVpcIdMismatchError(SmcError):
    code = "VSwitchIdVpcId.Mismatch"
    default_message = "The specified VSwitchId and VpcId does not match."


class InvalidSecurityGroupIdIncorrectNetworkTypeError(SmcError):
    # Documented for CreateReplicationJob, which has no security-group parameter: the
    # emulator never raises it by itself; fault injection can.
    code = "InvalidSecurityGroupId.IncorrectNetworkType"
    default_message = (
        "The network type of the specified security group does not support this action."
    )


class InvalidSecurityGroupIdVPCMismatchError(SmcError):
    # As above: reachable through fault injection only.
    code = "InvalidSecurityGroupId.VPCMismatch"
    default_message = (
        "The specified security group and the specified virtual switch are not in the same VPC."
    )


class QuotaExceededReplicationJobError(SmcError):
    code = "QuotaExceeded.ReplicationJob"
    default_message = (
        "The maximum number of replication jobs is exceeded. "
        "Please submit a ticket to raise the quota."
    )


class ReplicationJobNameDuplicateError(SmcError):
    code = "ReplicationJobName.Duplicate"
    default_message = "The specified replication job name already exists."


class ReplicationJobInvalidStatusError(SmcError):
    code = "ReplicationJob.InvalidStatus"
    default_message = "The specified replication job status is invalid."


class IdempotentParameterMismatchError(SmcError):
    code = "IdempotentParameterMismatch"
    default_message = (
        "The request uses the same client token as a previous, but non-identical request."
    )


class InvalidSourceIdNotFoundError(SmcError):
    code = "InvalidSourceId.NotFound"
    http_status = 404
    default_message = "The specified source server does not exist."


class InvalidJobIdNotFoundError(SmcError):
    code = "InvalidJobId.NotFound"
    http_status = 404
    default_message = "The specified replication job does not exist."
