"""Gateway errors in their REST wire form, and the REST facade's own bad-input errors.

:func:`error_response` is the one place where any :class:`GatewayError` becomes an HTTP
response: the AIP-193 JSON body (:func:`gateway.core.errors.to_http_json`) with the
error's own ``http_status``, ``Retry-After`` when the error carries a retry delay, and
the call's response metadata as headers.  No branching on exception types: each error
class carries its mapping.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gateway.core.errors import (
    FieldViolation,
    GatewayError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    UnimplementedError,
    to_http_json,
)

__all__ = [
    "EXPOSED_HEADERS",
    "JSON_TYPE",
    "MethodNotAllowedError",
    "bad_input",
    "error_json",
    "error_response",
    "header_name",
    "http_exception_handler",
    "metadata_headers",
    "unexpected_exception_handler",
    "validation_exception_handler",
]

JSON_TYPE: Final = "application/json"

# Response-metadata keys whose HTTP spelling is not plain Title-Case (IETF RateLimit draft).
_HEADER_NAMES: Final[Mapping[str, str]] = {
    "ratelimit": "RateLimit",
    "ratelimit-policy": "RateLimit-Policy",
}

# Response headers a browser page may read (CORS ``Access-Control-Expose-Headers``): the
# replay marker, retry and rate-limit hints and request ids the core puts in metadata.
EXPOSED_HEADERS: Final[tuple[str, ...]] = (
    "Idempotent-Replayed",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "X-Request-Id",
    "Smc-Request-Id",
)


class MethodNotAllowedError(UnimplementedError):
    """A known path asked with a verb it does not serve: REST-only, hence defined here.

    Its status is UNIMPLEMENTED (as gRPC answers an unknown method) but the HTTP status is
    405 so that HTTP clients and proxies see the usual answer, with an ``Allow`` header.
    """

    http_status = 405
    default_reason: ClassVar[str] = "METHOD_NOT_ALLOWED"


def header_name(key: str) -> str:
    """The HTTP header of a metadata key: ``idempotent-replayed`` → ``Idempotent-Replayed``.

    HTTP header names are case-insensitive (and Starlette sends them in lower case); the
    spelling matters for documentation and for the CORS expose list only.
    """
    lowered = key.lower()
    return _HEADER_NAMES.get(lowered) or "-".join(p.capitalize() for p in lowered.split("-"))


def _safe_header_value(value: str) -> bool:
    """A value that cannot split or break the response head (CR, LF, NUL, non-Latin-1)."""
    if not value.isprintable():
        return False
    if value.isascii():  # nearly always: no per-character look
        return True
    return all(ord(ch) < 256 for ch in value)


def metadata_headers(metadata: Mapping[str, str]) -> dict[str, str]:
    """Response metadata as HTTP headers; unsafe values are dropped rather than sent broken."""
    return {header_name(k): v for k, v in metadata.items() if _safe_header_value(v)}


def error_response(error: GatewayError, metadata: Mapping[str, str] | None = None) -> Response:
    """The REST form of any gateway error: AIP-193 JSON, ``http_status``, ``Retry-After``.

    ASCII-escaped JSON, so that no input echoed in a message (even an unpaired surrogate)
    can make the encoding fail.
    """
    headers = metadata_headers(metadata or {})
    if error.retry_delay is not None:
        headers["Retry-After"] = str(max(0, math.ceil(error.retry_delay)))
    return Response(
        error_json(error), status_code=error.http_status, headers=headers, media_type=JSON_TYPE
    )


def error_json(error: GatewayError) -> bytes:
    """The AIP-193 body as compact ASCII JSON (shared by responses and SSE error events)."""
    return json.dumps(to_http_json(error), separators=(",", ":")).encode("ascii")


def bad_input(reason: str, field: str, description: str) -> InvalidArgumentError:
    """An INVALID_ARGUMENT naming ``field``, shaped like the core's own validation errors."""
    return InvalidArgumentError(
        f"invalid request: {field}: {description}",
        reason=reason,
        field_violations=[FieldViolation(field=field, description=description, reason=reason)],
    )


def _unknown_path(request: Request, exc: HTTPException) -> GatewayError:
    return NotFoundError(f"no route for {request.url.path}", reason="UNKNOWN_PATH")


def _wrong_method(request: Request, exc: HTTPException) -> GatewayError:
    allowed = (exc.headers or {}).get("Allow", "")
    return MethodNotAllowedError(
        f"{request.method} is not served on {request.url.path}; allowed: {allowed}",
        metadata={"allow": allowed},
    )


def _other_http(request: Request, exc: HTTPException) -> GatewayError:
    return InvalidArgumentError(str(exc.detail), reason="BAD_REQUEST")


_HTTP_EXCEPTIONS: Final = {404: _unknown_path, 405: _wrong_method}


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's routing errors (404 unknown path, 405 wrong verb) in AIP-193 shape."""
    assert isinstance(exc, HTTPException)
    error = _HTTP_EXCEPTIONS.get(exc.status_code, _other_http)(request, exc)
    response = error_response(error)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


async def validation_exception_handler(request: Request, exc: Exception) -> Response:
    """FastAPI's parameter validation (routes added by others) as AIP-193, never a bare 422."""
    raw_errors: list[dict[str, Any]] = list(getattr(exc, "errors", list)())
    violations = [
        FieldViolation(
            field=".".join(str(p) for p in item.get("loc", ()) if p not in ("body", "query")),
            description=str(item.get("msg", "invalid value")),
            reason="INVALID_FIELD_VALUE",
        )
        for item in raw_errors
    ]
    error = InvalidArgumentError(
        "invalid request", reason="INVALID_FIELD_VALUE", field_violations=violations
    )
    return error_response(error)


async def unexpected_exception_handler(request: Request, exc: Exception) -> Response:
    """A bug or an unexpected core failure: INTERNAL, without leaking the exception text."""
    return error_response(InternalError("internal error", reason="INTERNAL"))
