"""One gRPC handler per API method, all built from :data:`gateway.core.methods.METHODS`.

Every handler goes through the same steps, in this order and nowhere else:

1. parse the request bytes (bytes that do not parse are answered ``INVALID_ARGUMENT``
   without calling the core);
2. read the call's transport facts into a :class:`~gateway.core.context.CallContext`
   (``authorization: Bearer <key>``, ``idempotency-key``, the caller's deadline);
3. await one core call (``GatewayCore.call``, or iterate ``GatewayCore.watch``), inside
   the call's server span when tracing is on;
4. send ``ctx.response_metadata`` as trailing metadata, on success and on error;
5. turn a :class:`~gateway.core.errors.GatewayError` into a rich status
   (``grpc-status-details-bin``), and anything else into a generic ``INTERNAL``.

No validation, retries or SMC knowledge live here: that is the core's job.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

import grpc
from google.protobuf.message import DecodeError, Message
from grpc_status import rpc_status

from gateway.core.context import CallContext
from gateway.core.errors import (
    GatewayError,
    InternalError,
    InvalidArgumentError,
    ResourceExhaustedError,
)
from gateway.core.methods import METHODS, Method

__all__ = [
    "RETRY_PUSHBACK_KEY",
    "GatewayCore",
    "ServerSpans",
    "call_context",
    "method_handlers",
]

_LOGGER = logging.getLogger(__name__)

#: Trailer gRPC clients' retry policies honour (gRFC A6) as the delay before a retry.
RETRY_PUSHBACK_KEY = "grpc-retry-pushback-ms"

_Context = grpc.aio.ServicerContext[Any, Any]


class ServerSpans(Protocol):
    """Tracing of the API's calls (``gateway.observability.GrpcServerSpans``)."""

    def span(
        self, full_method: str, metadata: Iterable[tuple[str, str | bytes]]
    ) -> AbstractContextManager[Any]:
        """The call's server span, current while the handler runs."""
        ...

    def finish(self, span: Any, code: int) -> None:
        """Note the call's final status code (a ``google.rpc.Code`` number)."""
        ...


class GatewayCore(Protocol):
    """What the gRPC adapter needs from the core (``gateway.core.gateway.Gateway``)."""

    async def call(self, name: str, ctx: CallContext, request: Message) -> Message:
        """Run the unary method ``name`` (e.g. ``"GetReplicationJob"``) for one caller."""
        ...

    def watch(self, ctx: CallContext, request: Message) -> AsyncIterator[Message]:
        """Stream ``WatchReplicationJob`` snapshots until the job ends."""
        ...


@dataclass(frozen=True, slots=True)
class _Undecodable:
    """Stands for request bytes that did not parse, so the handler can answer them.

    grpcio turns an exception raised by a deserializer into ``UNKNOWN`` with the
    exception text; returning this marker instead lets the handler send the gateway's
    ``INVALID_ARGUMENT`` with a rich status.
    """

    error: InvalidArgumentError


def _deserializer(message_type: type[Message]) -> Callable[[bytes], Message | _Undecodable]:
    def parse(data: bytes) -> Message | _Undecodable:
        try:
            return message_type.FromString(data)
        except DecodeError as exc:
            # protobuf's text names the type and the defect ("bad UTF-8"), never the bytes.
            return _Undecodable(InvalidArgumentError(str(exc), reason="MALFORMED_REQUEST"))

    return parse


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def _bearer(value: str | bytes) -> str | None:
    """The key of an ``authorization: Bearer <key>`` value (scheme case-insensitive)."""
    if not isinstance(value, str):
        return None
    scheme, _, key = value.strip().partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def call_context(method: Method, context: _Context) -> CallContext:
    """The core's view of this call: API key, idempotency key and deadline budget."""
    api_key: str | None = None
    idempotency_key: str | None = None
    seen: set[str] = set()
    for key, value in context.invocation_metadata() or ():
        if key in seen:  # the first value of a repeated key wins
            continue
        seen.add(key)
        if key == "authorization":
            api_key = _bearer(value)
        elif key == "idempotency-key" and isinstance(value, str):
            idempotency_key = value
    return CallContext(
        frontend="grpc",
        method=method.name,
        api_key=api_key,
        idempotency_key=idempotency_key,
        timeout=context.time_remaining(),
    )


def _trailers(ctx: CallContext) -> tuple[tuple[str, str], ...]:
    return tuple(ctx.response_metadata.items())


def _as_gateway_error(exc: Exception, method: Method) -> GatewayError:
    if isinstance(exc, GatewayError):
        return exc
    # The exception's text may hold anything (even a secret): log it, never send it.
    _LOGGER.error("unexpected error in %s", method.full_name, exc_info=exc)
    return InternalError("internal error")


async def _abort(context: _Context, error: GatewayError, ctx: CallContext) -> NoReturn:
    """End the call with ``error`` as a rich status, plus the core's trailing metadata."""
    status = rpc_status.to_status(error.to_status())
    trailers: list[tuple[str, str | bytes]] = [*status.trailing_metadata, *_trailers(ctx)]
    if isinstance(error, ResourceExhaustedError) and error.retry_delay is not None:
        trailers.append((RETRY_PUSHBACK_KEY, str(max(0, round(error.retry_delay * 1000)))))
    await context.abort(status.code, status.details, tuple(trailers))


def _span(
    spans: ServerSpans | None, method: Method, context: _Context
) -> AbstractContextManager[Any]:
    if spans is None:
        return nullcontext()
    return spans.span(method.full_name, context.invocation_metadata() or ())


def _unary(
    core: GatewayCore, method: Method, spans: ServerSpans | None
) -> grpc.RpcMethodHandler[Any, Any]:
    async def handle(request: Message | _Undecodable, context: _Context) -> Message:
        ctx = call_context(method, context)
        with _span(spans, method, context) as span:
            try:
                if isinstance(request, _Undecodable):
                    raise request.error
                response = await core.call(method.name, ctx, request)
            except Exception as exc:
                error = _as_gateway_error(exc, method)
                if spans is not None:
                    spans.finish(span, error.code)
                await _abort(context, error, ctx)
            if spans is not None:
                spans.finish(span, 0)
            context.set_trailing_metadata(_trailers(ctx))
            return response

    return grpc.unary_unary_rpc_method_handler(
        handle,
        request_deserializer=_deserializer(method.request_type),
        response_serializer=_serialize,
    )


def _server_stream(
    core: GatewayCore, method: Method, spans: ServerSpans | None
) -> grpc.RpcMethodHandler[Any, Any]:
    async def handle(request: Message | _Undecodable, context: _Context) -> AsyncIterator[Message]:
        ctx = call_context(method, context)
        with _span(spans, method, context) as span:
            stream: AsyncIterator[Message] | None = None
            try:
                if isinstance(request, _Undecodable):
                    raise request.error
                stream = core.watch(ctx, request)
                async for message in stream:
                    yield message
            except Exception as exc:
                error = _as_gateway_error(exc, method)
                if spans is not None:
                    spans.finish(span, error.code)
                await _abort(context, error, ctx)
            finally:
                # A client that goes away cancels us mid-stream: close the core's generator
                # now (e.g. to leave a shared poller) instead of whenever it is collected.
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            if spans is not None:
                spans.finish(span, 0)
            context.set_trailing_metadata(_trailers(ctx))

    return grpc.unary_stream_rpc_method_handler(
        handle,
        request_deserializer=_deserializer(method.request_type),
        response_serializer=_serialize,
    )


def method_handlers(
    core: GatewayCore, methods: Sequence[Method] = METHODS, spans: ServerSpans | None = None
) -> dict[str, dict[str, grpc.RpcMethodHandler[Any, Any]]]:
    """``{service full name: {method name: handler}}`` for every method of the API.

    With ``spans`` (tracing on) each call runs inside its server span.
    """
    services: dict[str, dict[str, grpc.RpcMethodHandler[Any, Any]]] = {}
    for method in methods:
        build = _server_stream if method.server_streaming else _unary
        services.setdefault(method.service, {})[method.name] = build(core, method, spans)
    return services
