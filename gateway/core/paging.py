"""Opaque, tamper-evident page tokens over SMC's PageNumber/PageSize paging.

A token carries the next page number and a fingerprint of everything else the listing
depended on (tenant, method, filters, page size), signed with HMAC-SHA256.  A token that
was altered, or is replayed with other filters or another page size, is refused with
INVALID_ARGUMENT.  Replicas must share the key (``page_token_key`` setting) for a token
issued by one to be accepted by another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct

from google.protobuf.message import Message

from gateway.core.errors import FieldViolation, InvalidArgumentError

__all__ = ["PageTokens"]

_VERSION = 1
_LAYOUT = struct.Struct(">BI16s")  # version, page number, fingerprint
_MAC_BYTES = 16


class PageTokens:
    """Issues and checks page tokens with one key."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _fingerprint(self, tenant_id: str, method: str, request: Message) -> bytes:
        scope = request.__class__()
        scope.CopyFrom(request)
        scope.ClearField("page_token")
        digest = hashlib.sha256(f"{tenant_id}\0{method}\0".encode())
        digest.update(scope.SerializeToString(deterministic=True))
        return digest.digest()[:16]

    def issue(self, tenant_id: str, method: str, request: Message, next_page: int) -> str:
        """The token of page ``next_page`` for the same listing as ``request``."""
        body = _LAYOUT.pack(_VERSION, next_page, self._fingerprint(tenant_id, method, request))
        mac = hmac.digest(self._key, body, "sha256")[:_MAC_BYTES]
        return base64.urlsafe_b64encode(body + mac).rstrip(b"=").decode("ascii")

    def page_number(self, tenant_id: str, method: str, request: Message, token: str) -> int:
        """The page a token points to (1 for no token); INVALID_ARGUMENT if it is not valid here."""
        if not token:
            return 1
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raw = b""
        body, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
        expected = hmac.digest(self._key, body, "sha256")[:_MAC_BYTES]
        if len(raw) != _LAYOUT.size + _MAC_BYTES or not hmac.compare_digest(mac, expected):
            raise _bad_token("page_token is not a token this gateway issued")
        version, page, fingerprint = _LAYOUT.unpack(body)
        if version != _VERSION or page < 2:
            raise _bad_token("page_token is not a token this gateway issued")
        if not hmac.compare_digest(fingerprint, self._fingerprint(tenant_id, method, request)):
            raise _bad_token("page_token was issued for other filters or another page size")
        return int(page)


def _bad_token(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        message,
        reason="INVALID_PAGE_TOKEN",
        field_violations=[FieldViolation("page_token", message, "INVALID_PAGE_TOKEN")],
    )
