"""The SMC RPC client: build, sign, send, parse, retry.

One :class:`SmcClient` serves every tenant: credentials are an argument of each
call, so the client holds no secret.  A call is::

    response = await client.call(CREATE_REPLICATION_JOB, request, credentials, timeout=10)

Every attempt gets a fresh ``SignatureNonce``, ``Timestamp`` and ``Signature``.
Retries follow :class:`RetryPolicy` within the call's deadline and the shared
:class:`RetryBudget`, and only where repeating cannot do harm:

* throttling answers and connections that never opened: any call (SMC did not run it);
* server errors, timeouts and dropped connections: only reads and attribute
  setters (``Operation.retry_safe``) and calls carrying a ``ClientToken``.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import msgspec

from gateway.smc.credentials import Credentials
from gateway.smc.errors import (
    SmcApiError,
    SmcDeadlineExceededError,
    SmcError,
    SmcMalformedResponseError,
    SmcThrottledError,
    SmcTransportError,
    api_error,
)
from gateway.smc.http1 import Http1Transport
from gateway.smc.models import MalformedResponseError, Operation, RequestT, ResponseT
from gateway.smc.retry import Clock, RetryBudget, RetryPolicy, SystemClock
from gateway.smc.signing import signed_query
from gateway.smc.transport import HttpResponse, Transport
from gateway.smc.wire import API_VERSION, DEFAULT_ENDPOINT, TIMESTAMP_FORMAT

T = TypeVar("T")

__all__ = [
    "Attempt",
    "AttemptObserver",
    "SmcClient",
    "build_request_body",
    "new_client_token",
    "parse_answer",
]

_POST = "POST"


def new_client_token() -> str:
    """A fresh idempotency token: 32 hex characters, 128 random bits (SMC allows 64 ASCII)."""
    return os.urandom(16).hex()  # a quarter of uuid4().hex's cost: no UUID object


def build_request_body(
    action: str,
    params: Mapping[str, str],
    credentials: Credentials,
    nonce: str,
    timestamp: str,
) -> str:
    """The signed form body of one attempt: common + operation parameters + Signature."""
    signed = {
        **params,
        "Action": action,
        "Version": API_VERSION,
        "Format": "JSON",
        "AccessKeyId": credentials.access_key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce,
        "Timestamp": timestamp,
    }
    if credentials.security_token:
        signed["SecurityToken"] = credentials.security_token
    return signed_query(_POST, signed, credentials.access_key_secret)


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt did; handed to observers (tracing, metrics, tests)."""

    action: str
    number: int
    nonce: str
    seconds: float
    http_status: int | None
    request_id: str | None
    error: SmcError | None
    region_id: str | None = None  # the ``RegionId`` parameter, when the action takes one
    # Seconds before the next attempt when the client decided to retry; ``None``: no retry.
    retry_delay: float | None = None

    @property
    def error_code(self) -> str | None:
        return self.error.code if isinstance(self.error, SmcApiError) else None


# Called after every attempt (tracing, metrics, tests).
AttemptObserver = Callable[[Attempt], None]


def _field(body: Mapping[str, Any], name: str) -> str:
    # The SDK reads error fields as "Code" or "code": do the same.
    value = body.get(name, body.get(name[0].lower() + name[1:], ""))
    return value if isinstance(value, str) else str(value)


class SmcClient:
    """Async client for the SMC RPC API (2019-06-01); see the module docstring."""

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        transport: Transport | None = None,
        retry_policy: RetryPolicy | None = None,
        retry_budget: RetryBudget | None = None,
        clock: Clock | None = None,
        default_timeout: float = 30.0,
        rng: random.Random | None = None,
        nonce_factory: Callable[[], str] = new_client_token,
        observers: Iterable[AttemptObserver] = (),
    ) -> None:
        self.url = endpoint.rstrip("/") + "/"
        self._transport: Transport = transport or Http1Transport()
        self.retry_policy = retry_policy or RetryPolicy()
        self.retry_budget = retry_budget or RetryBudget()
        self._clock: Clock = clock or SystemClock()
        self.default_timeout = default_timeout
        self._rng = rng or random.Random()
        self._new_nonce = nonce_factory
        self._observers = tuple(observers)

    async def __aenter__(self) -> SmcClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._transport.close()

    async def call(
        self,
        op: Operation[RequestT, ResponseT],
        request: RequestT,
        credentials: Credentials,
        *,
        timeout: float | None = None,
    ) -> ResponseT:
        """Run one SMC operation; raise an :class:`SmcError` subclass on failure.

        ``timeout`` bounds the whole call, retries and backoff included
        (default ``default_timeout``).  A ``CreateReplicationJob`` request
        without a ``ClientToken`` gets one here, reused by every attempt.
        """
        data = await self.call_json(op, request, credentials, timeout=timeout)
        return parse_answer(op, data, op.parse)

    async def call_json(
        self,
        op: Operation[RequestT, ResponseT],
        request: RequestT,
        credentials: Credentials,
        *,
        timeout: float | None = None,
        shape: msgspec.json.Decoder[Any] | None = None,
    ) -> dict[str, Any]:
        """:meth:`call`, up to SMC's decoded JSON answer (for callers with their own reader).

        ``shape`` decodes a successful answer that fits it (a ``TypedDict``: e.g. a page
        whose resources stay raw JSON, ``msgspec.Raw``); one that does not fit is decoded
        as any JSON object, as without it.
        """
        params = request.to_params()
        if op.client_token and "ClientToken" not in params:
            params["ClientToken"] = new_client_token()
        return await self.call_raw(
            op.action,
            params,
            credentials,
            repeatable=op.retry_safe,
            timeout=timeout,
            shape=shape,
        )

    async def call_raw(
        self,
        action: str,
        params: Mapping[str, str],
        credentials: Credentials,
        *,
        repeatable: bool = False,
        timeout: float | None = None,
        shape: msgspec.json.Decoder[Any] | None = None,
    ) -> dict[str, Any]:
        """Run any SMC action with wire parameters; return SMC's JSON answer.

        ``repeatable`` says the action is safe to repeat; a ``ClientToken``
        parameter makes it so too.  Retries, deadline and errors as :meth:`call`;
        ``shape`` as :meth:`call_json`.
        """
        repeatable = repeatable or "ClientToken" in params
        deadline = self._clock.monotonic() + (
            timeout if timeout is not None else self.default_timeout
        )
        policy = self.retry_policy
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                raise SmcDeadlineExceededError(
                    f"{action}: deadline exceeded before attempt {attempt}"
                )
            data, record = await self._attempt(
                action, params, credentials, attempt, remaining, shape=shape
            )
            error = record.error
            if error is None:
                self._notify(record)
                self.retry_budget.refund()
                assert data is not None
                return data
            if not self._should_retry(error, repeatable, attempt, policy):
                self._notify(record)
                raise error
            delay = policy.backoff(attempt, self._rng)
            if self._clock.monotonic() + delay >= deadline:
                self._notify(record)
                raise SmcDeadlineExceededError(
                    f"{action}: no time left to retry after {error}", last_error=error
                ) from error
            # Observers hear of the retry with the attempt it follows (a span event, a count).
            self._notify(replace(record, retry_delay=delay))
            await self._clock.sleep(delay)

    def _should_retry(
        self, error: SmcError, repeatable: bool, attempt: int, policy: RetryPolicy
    ) -> bool:
        if attempt >= policy.max_attempts or not error.retryable:
            return False
        never_ran = isinstance(error, SmcThrottledError) or (
            isinstance(error, SmcTransportError) and not error.sent
        )
        if not (never_ran or repeatable):
            return False
        return self.retry_budget.try_spend(timeout=isinstance(error, SmcTransportError))

    async def _attempt(
        self,
        action: str,
        params: Mapping[str, str],
        credentials: Credentials,
        number: int,
        timeout: float,
        *,
        shape: msgspec.json.Decoder[Any] | None = None,
    ) -> tuple[dict[str, Any] | None, Attempt]:
        """One signed POST: SMC's JSON answer (or ``None``) and the attempt's record.

        An :class:`SmcError` is returned in the record, not raised, so that the caller can
        tell observers whether it retries before they see the attempt.
        """
        nonce = self._new_nonce()
        timestamp = time.strftime(TIMESTAMP_FORMAT, time.gmtime(self._clock.wall()))
        body = build_request_body(action, params, credentials, nonce, timestamp)
        started = self._clock.monotonic()
        response: HttpResponse | None = None
        request_id: str | None = None
        data: dict[str, Any] | None = None
        failure: SmcError | None = None
        try:
            response = await self._transport.post_form(self.url, body, timeout)
            data = _decode(response, shape)
            request_id = _field(data, "RequestId") or None
            if not 200 <= response.status < 300:
                raise api_error(
                    _field(data, "Code") or f"HTTP{response.status}",
                    _field(data, "Message"),
                    request_id or "",
                    response.status,
                )
        except SmcError as error:
            failure, data = error, None
        record = Attempt(
            action=action,
            number=number,
            nonce=nonce,
            seconds=self._clock.monotonic() - started,
            http_status=response.status if response is not None else None,
            request_id=request_id,
            error=failure,
            region_id=params.get("RegionId"),
        )
        return data, record

    def _notify(self, record: Attempt) -> None:
        for observer in self._observers:
            observer(record)


def _decode(
    response: HttpResponse, shape: msgspec.json.Decoder[Any] | None = None
) -> dict[str, Any]:
    """SMC's JSON object (read with ``shape`` if it is a success that fits), or
    :class:`SmcMalformedResponseError`."""
    if shape is not None and 200 <= response.status < 300:
        try:
            shaped: dict[str, Any] = shape.decode(response.body)
            return shaped
        except msgspec.DecodeError:  # the shape's types refused, or not strict JSON
            pass
    try:
        data = msgspec.json.decode(response.body)
    except msgspec.DecodeError:
        # Strict JSON failed; Python's reader takes what it also takes (NaN, a BOM, ...).
        try:
            data = json.loads(response.body)
        except (UnicodeDecodeError, ValueError):
            data = None
    if not isinstance(data, dict):
        raise SmcMalformedResponseError(
            f"HTTP {response.status} answer is not a JSON object "
            f"(content type {response.content_type or 'none'})",
            http_status=response.status,
        )
    return data


def parse_answer(
    op: Operation[Any, Any], data: dict[str, Any], read: Callable[[dict[str, Any]], T]
) -> T:
    """``read(data)``, with a malformed answer raised as :class:`SmcMalformedResponseError`."""
    try:
        return read(data)
    except MalformedResponseError as exc:
        raise SmcMalformedResponseError(
            f"{op.action}: unexpected answer: {exc}", http_status=200
        ) from exc
