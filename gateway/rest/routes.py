"""One Starlette route per REST path of :data:`gateway.core.methods.METHODS`.

Each method gets a handler closure built once: it reads the bearer key and the
``Idempotency-Key`` header, decodes the request message (body or query, then path
parameters), awaits one core call and encodes the answer.  Nothing else happens here.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from google.protobuf.message import Message
from opentelemetry import trace
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.core.context import CallContext
from gateway.core.errors import GatewayError
from gateway.core.methods import Method
from gateway.rest.errors import (
    JSON_TYPE,
    bad_input,
    error_json,
    error_response,
    metadata_headers,
    unexpected_exception_handler,
)
from gateway.rest.jsonmap import MessageDecoder, message_to_dict, message_to_json

__all__ = [
    "ApiRoutes",
    "GatewayCore",
    "api_endpoint",
    "build_routes",
    "path_params",
    "sorted_methods",
]

Handler = Callable[[Request], Awaitable[Response]]

_PATH_PARAM: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_UNSUPPORTED_TEMPLATE: Final = re.compile(r"\{[^}]*[=.*][^}]*\}|\*")
_SSE_HEADERS: Final[Mapping[str, str]] = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class GatewayCore(Protocol):
    """What the REST facade needs of the core (:class:`gateway.core.gateway.Gateway`)."""

    async def call(self, name: str, ctx: CallContext, request: Message) -> Message:
        """Runs one unary method; raises :class:`GatewayError` subclasses."""
        ...

    def watch(self, ctx: CallContext, request: Message) -> AsyncIterator[Message]:
        """Streams WatchReplicationJob snapshots; raises :class:`GatewayError` subclasses."""
        ...


@dataclass(frozen=True, slots=True)
class RouteOptions:
    """Per-app settings every handler closes over."""

    max_body_bytes: int
    default_timeout: float | None
    # Responses to JSON bytes (a ResponseEncoder's ``encode``, keeping resources' JSON).
    encode_response: Callable[[Message], bytes] = message_to_json


def path_params(template: str) -> tuple[str, ...]:
    """Field names bound by a path template (``/v1/jobs/{job_id}:start`` → ``("job_id",)``).

    Only single-segment ``{field}`` variables are supported; anything else fails at
    start-up rather than routing wrongly.
    """
    if _UNSUPPORTED_TEMPLATE.search(template):
        raise ValueError(f"unsupported path template {template!r}")
    return tuple(_PATH_PARAM.findall(template))


def bearer_key(authorization: str | None) -> str | None:
    """The key of ``Authorization: Bearer <key>``; ``None`` if absent or malformed.

    The core answers UNAUTHENTICATED to ``None``: the facade never rejects a call itself.
    """
    if authorization is None:
        return None
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key or any(ch.isspace() for ch in key):
        return None
    return key


def _context(method: Method, request: Request, options: RouteOptions) -> CallContext:
    headers = request.headers
    return CallContext(
        frontend="rest",
        method=method.name,
        api_key=bearer_key(headers.get("authorization")),
        idempotency_key=headers.get("idempotency-key"),
        timeout=options.default_timeout,
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it exceeds ``limit``: by Content-Length or as streamed."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> GatewayError:
    return bad_input("BODY_TOO_LARGE", "body", f"the body exceeds {limit} bytes")


def _decoder(method: Method) -> MessageDecoder:
    return MessageDecoder.for_message(method.request_type, path_params(method.http_path))


def _request_reader(
    method: Method, options: RouteOptions
) -> Callable[[Request], Awaitable[Message]]:
    decoder = _decoder(method)
    limit = options.max_body_bytes
    if method.http_body == "*":

        async def from_body(request: Request) -> Message:
            body = await read_body(request, limit)
            return decoder.from_body(body, request.path_params)

        return from_body
    if method.http_body:
        raise ValueError(f"{method.name}: only body '*' or none is supported")

    async def from_query(request: Request) -> Message:
        # A body on a GET or DELETE is ignored, as HTTP says it has no meaning there.
        return decoder.from_query(request.scope["query_string"], request.path_params)

    return from_query


def unary_handler(method: Method, core: GatewayCore, options: RouteOptions) -> Handler:
    """The handler of one unary method: decode → ``core.call`` → encode."""
    read_request = _request_reader(method, options)
    name = method.name
    encode = options.encode_response

    async def handle(request: Request) -> Response:
        ctx = _context(method, request, options)
        try:
            message = await read_request(request)
            response = await core.call(name, ctx, message)
        except GatewayError as error:
            return error_response(error, ctx.response_metadata)
        return Response(
            encode(response),
            headers=metadata_headers(ctx.response_metadata),
            media_type=JSON_TYPE,
        )

    return handle


def _sse_data(message: Message) -> bytes:
    data = message_to_dict(message)
    return b"data: " + json.dumps(data, separators=(",", ":")).encode("ascii") + b"\n\n"


def _sse_error(error: GatewayError) -> bytes:
    return b"event: error\ndata: " + error_json(error) + b"\n\n"


def streaming_handler(method: Method, core: GatewayCore, options: RouteOptions) -> Handler:
    """The handler of the server-streaming method, as Server-Sent Events.

    An error before the first snapshot is an ordinary JSON error response (the status line
    is not sent yet); after it, an ``event: error`` carrying the same AIP-193 JSON, then
    the end of the stream.
    """
    read_request = _request_reader(method, options)

    async def handle(request: Request) -> Response:
        ctx = _context(method, request, options)
        try:
            message = await read_request(request)
            stream = core.watch(ctx, message)
            try:
                first: Message | None = await anext(stream)
            except StopAsyncIteration:
                first = None
        except GatewayError as error:
            return error_response(error, ctx.response_metadata)
        headers = {**_SSE_HEADERS, **metadata_headers(ctx.response_metadata)}
        return StreamingResponse(
            _events(first, stream), media_type="text/event-stream", headers=headers
        )

    return handle


async def _events(first: Message | None, stream: AsyncIterator[Message]) -> AsyncIterator[bytes]:
    """The SSE body; closes the core's stream however it ends (done, error, disconnect)."""
    try:
        if first is None:
            return
        yield _sse_data(first)
        try:
            async for message in stream:
                yield _sse_data(message)
        except GatewayError as error:
            yield _sse_error(error)
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def sorted_methods(methods: Iterable[Method]) -> list[Method]:
    """Custom-verb paths (``…/{job_id}:start``) first, so ``/{job_id}`` cannot swallow them."""
    return sorted(methods, key=lambda m: ":" not in m.http_path.rsplit("}", 1)[-1])


def _dispatcher(path: str, handlers: Mapping[str, Handler]) -> Handler:
    async def dispatch(request: Request) -> Response:
        span = trace.get_current_span()
        if span.is_recording():  # the route template, known only here
            span.update_name(f"{request.method} {path}")
            span.set_attribute("http.route", path)
        return await handlers[request.method](request)

    return dispatch


def build_routes(
    methods: Iterable[Method], core: GatewayCore, options: RouteOptions
) -> list[Route]:
    """One route per path serving all its verbs, so a wrong verb gets a complete ``Allow``."""
    by_path: dict[str, dict[str, Handler]] = defaultdict(dict)
    for method in sorted_methods(methods):
        build = streaming_handler if method.server_streaming else unary_handler
        handler = build(method, core, options)
        by_path[method.http_path][method.http_method] = handler
        if method.http_method == "GET":
            by_path[method.http_path]["HEAD"] = handler
    return [
        Route(path, _dispatcher(path, handlers), methods=list(handlers), include_in_schema=False)
        for path, handlers in by_path.items()
    ]


class ApiRoutes:
    """The API's routes matched in one pass, for :func:`api_endpoint`.

    The same compiled path patterns as the framework's router, tried in the same order;
    only an exact (verb, path) match is taken.  Anything else (HEAD, a wrong verb, an
    unknown path) is left to the framework, which answers it as before (405 with
    ``Allow``, 404).
    """

    def __init__(self, routes: Iterable[Route]) -> None:
        self._table = [
            (route.path_regex, route.param_convertors, route.methods or set(), route.endpoint)
            for route in routes
        ]

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, object]] | None:
        """The endpoint and path parameters for ``method`` on ``path``, if the API has it."""
        if method == "HEAD":
            return None
        for regex, convertors, methods, endpoint in self._table:
            found = regex.match(path)
            if found is not None:
                if method not in methods:
                    return None
                params = {k: convertors[k].convert(v) for k, v in found.groupdict().items()}
                return endpoint, params
        return None


async def api_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI app of one API call matched by :class:`ApiRoutes` (``scope["endpoint"]``).

    Does what the framework's layers did for these routes and nothing more: the handler's
    response, or for an unexpected exception the AIP-193 INTERNAL answer, after which the
    exception is raised for the server to log (as the framework's error middleware does).
    """
    request = Request(scope, receive, send)
    try:
        response = await scope["endpoint"](request)
    except Exception as exc:
        await (await unexpected_exception_handler(request, exc))(scope, receive, send)
        raise
    await response(scope, receive, send)
