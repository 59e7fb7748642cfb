"""The gRPC front end: a thin adapter from ``grpc.aio`` to the transport-neutral core.

Each RPC of ``smcgateway.v1`` (the table :data:`gateway.core.methods.METHODS`) gets one
handler, and every handler goes through the same wrapper (:mod:`gateway.grpc.handlers`):
parse the request, read ``authorization: Bearer <key>``, ``idempotency-key`` and the
caller's deadline into a :class:`~gateway.core.context.CallContext`, await ONE core call,
send the core's ``response_metadata`` as trailing metadata, and turn a
:class:`~gateway.core.errors.GatewayError` into a ``google.rpc.Status`` in
``grpc-status-details-bin`` (plus ``grpc-retry-pushback-ms`` when rate limited).
Unexpected exceptions become ``INTERNAL`` with a generic message; request bytes that are
not a valid message become ``INVALID_ARGUMENT`` (reason ``MALFORMED_REQUEST``).

:mod:`gateway.grpc.server` assembles the ``grpc.aio`` server: the API services,
``grpc.health.v1`` (``NOT_SERVING`` until the ``serve`` command says ready) and server
reflection, with message-size and concurrency limits and a graceful stop.

Validation, authentication, rate limits, idempotency and SMC calls all live in the core,
so the gRPC and REST front ends behave the same.
"""

from gateway.grpc.handlers import GatewayCore
from gateway.grpc.server import GrpcServer, build_grpc_server

__all__ = ["GatewayCore", "GrpcServer", "build_grpc_server"]
