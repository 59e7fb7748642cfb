"""SMC's request authentication, SignatureVersion 1.0 (HMAC-SHA1), as the emulator checks it.

Order of checks (each failure is one error class):

1. ``AccessKeyId``, ``Signature``, ``SignatureMethod``, ``SignatureVersion``,
   ``SignatureNonce``, ``Timestamp`` present → else ``MissingParameter`` naming it;
2. ``SignatureMethod`` is ``HMAC-SHA1`` → else ``InvalidSignatureMethod``;
   ``SignatureVersion`` is ``1.0`` → else ``IncompleteSignature``;
3. ``Timestamp`` is ISO 8601 UTC → else ``InvalidTimeStamp.Format``; within the skew window
   (15 min either way by default) → else ``InvalidTimeStamp.Expired``;
4. the AccessKey is known → else ``InvalidAccessKeyId.NotFound`` (HTTP 404);
5. the signature, recomputed with :mod:`gateway.smc.signing` over every parameter but
   ``Signature`` with the request's own method, matches (constant-time) → else
   ``SignatureDoesNotMatch``, whose message ends with the server's string to sign;
6. STS: an account with a token needs the same ``SecurityToken`` → ``MissingSecurityToken``,
   ``InvalidSecurityToken.MismatchWithAccessKey`` or ``InvalidSecurityToken.Expired``; a token
   sent for an account without one is a mismatch too;
7. the nonce was not used by this AccessKey within the window → else ``SignatureNonceUsed``.
   The nonce is recorded only once all the above passed.
"""

from __future__ import annotations

import hmac
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from gateway.emulator import errors
from gateway.emulator.accounts import Account
from gateway.emulator.clock import Clock
from gateway.smc.signing import signature, string_to_sign
from gateway.smc.wire import parse_timestamp

__all__ = ["NonceCache", "SignatureVerifier"]

_REQUIRED = (
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
)


class NonceCache:
    """Nonces seen within ``window``; older ones are forgotten, and at most ``capacity`` are
    kept (the oldest go first), so memory stays bounded under any request rate."""

    def __init__(self, window: timedelta, capacity: int) -> None:
        self._window = window
        self._capacity = capacity
        self._seen: dict[str, datetime] = {}
        self._order: deque[tuple[datetime, str]] = deque()

    def __len__(self) -> int:
        return len(self._seen)

    def _prune(self, now: datetime) -> None:
        horizon = now - self._window
        order, seen = self._order, self._seen
        while order and (order[0][0] <= horizon or len(order) > self._capacity):
            moment, nonce = order.popleft()
            if seen.get(nonce) == moment:
                del seen[nonce]

    def used(self, nonce: str, now: datetime) -> bool:
        self._prune(now)
        return nonce in self._seen

    def add(self, nonce: str, now: datetime) -> None:
        self._seen[nonce] = now
        self._order.append((now, nonce))
        self._prune(now)


class SignatureVerifier:
    """Authenticates SMC requests against the emulator's accounts."""

    def __init__(
        self,
        lookup: Callable[[str], Account | None],
        clock: Clock,
        *,
        skew: timedelta = timedelta(minutes=15),
        nonce_window: timedelta = timedelta(minutes=15),
        nonce_capacity: int = 1_000_000,
    ) -> None:
        self._lookup = lookup
        self._clock = clock
        self._skew = skew
        self._nonce_window = nonce_window
        self._nonce_capacity = nonce_capacity
        self._nonces: dict[str, NonceCache] = {}

    def reset(self) -> None:
        self._nonces.clear()

    def verify(self, method: str, params: Mapping[str, str]) -> Account:
        """Return the request's account, or raise the SMC error explaining why not."""
        for name in _REQUIRED:
            if not params.get(name):
                raise errors.MissingParameterError.named(name)
        if params["SignatureMethod"] != "HMAC-SHA1":
            raise errors.InvalidSignatureMethodError()
        if params["SignatureVersion"] != "1.0":
            raise errors.IncompleteSignatureError(
                "The request signature does not conform to Aliyun standards: "
                "SignatureVersion must be 1.0."
            )
        now = self._clock.now()
        try:
            stamp = parse_timestamp(params["Timestamp"])
        except ValueError:
            raise errors.InvalidTimeStampFormatError() from None
        if abs(now - stamp) > self._skew:
            raise errors.InvalidTimeStampExpiredError()
        account = self._lookup(params["AccessKeyId"])
        if account is None:
            raise errors.InvalidAccessKeyIdNotFoundError()
        signed = {k: v for k, v in params.items() if k != "Signature"}
        sts = string_to_sign(method, signed)
        expected = signature(sts, account.access_key_secret)
        if not hmac.compare_digest(expected.encode(), params["Signature"].encode()):
            raise errors.SignatureDoesNotMatchError.with_string_to_sign(sts)
        self._check_token(account, params.get("SecurityToken"), now)
        nonces = self._nonces.get(account.access_key_id)
        if nonces is None:
            nonces = NonceCache(self._nonce_window, self._nonce_capacity)
            self._nonces[account.access_key_id] = nonces
        nonce = params["SignatureNonce"]
        if nonces.used(nonce, now):
            raise errors.SignatureNonceUsedError()
        nonces.add(nonce, now)
        return account

    @staticmethod
    def _check_token(account: Account, token: str | None, now: datetime) -> None:
        if account.security_token is None:
            if token:
                raise errors.InvalidSecurityTokenMismatchError()
            return
        if not token:
            raise errors.MissingSecurityTokenError()
        if not hmac.compare_digest(token.encode(), account.security_token.encode()):
            raise errors.InvalidSecurityTokenMismatchError()
        if account.security_token_expires is not None and now >= account.security_token_expires:
            raise errors.InvalidSecurityTokenExpiredError()
