"""The gateway's gRPC server: API services, health and reflection on one ``grpc.aio`` server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from gateway.grpc.handlers import GatewayCore, ServerSpans, method_handlers

__all__ = ["DEFAULT_MAX_MESSAGE_BYTES", "GatewayCore", "GrpcServer", "build_grpc_server"]

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024

_HEALTH_SERVICE: str = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


class GrpcServer:
    """A started-on-demand ``grpc.aio.Server`` with the API, health and reflection.

    Health reports ``NOT_SERVING`` for the whole server (``""``) and each API service
    until :meth:`set_serving` says otherwise, so that load balancers only send traffic
    once the caller (the ``serve`` command) knows the gateway is ready.
    """

    def __init__(
        self, server: grpc.aio.Server, health: HealthServicer, services: Sequence[str]
    ) -> None:
        self._server = server
        self._health = health
        self._services = ("", *services)
        self._ports: list[int] = []

    @property
    def server(self) -> grpc.aio.Server:
        """The underlying server, e.g. to add interceptors' companions or TLS ports."""
        return self._server

    @property
    def health(self) -> HealthServicer:
        """The ``grpc.health.v1.Health`` servicer (async ``set``)."""
        return self._health

    @property
    def health_services(self) -> tuple[str, ...]:
        """The names health reports on: ``""`` (the whole server) and each API service."""
        return self._services

    @property
    def ports(self) -> tuple[int, ...]:
        """The ports bound so far by :meth:`add_port`, in order."""
        return tuple(self._ports)

    def add_port(self, host: str, port: int) -> int:
        """Listen on ``host:port`` without TLS (0: a free port); returns the bound port.

        Raises ``OSError`` when the address cannot be bound (e.g. already in use).
        """
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # IPv6 literal
        address = f"{host}:{port}"
        try:
            bound = self._server.add_insecure_port(address)
        except RuntimeError as exc:  # grpcio's way of saying "cannot bind"
            raise OSError(f"cannot listen for gRPC on {address}: {exc}") from exc
        if bound == 0:
            raise OSError(f"cannot listen for gRPC on {address}")
        self._ports.append(bound)
        return bound

    async def start(self) -> None:
        """Start serving; health says ``NOT_SERVING`` until :meth:`set_serving`."""
        await self.set_serving(False)
        await self._server.start()

    async def set_serving(self, serving: bool) -> None:
        """Report ``SERVING`` (ready) or ``NOT_SERVING`` (starting, draining) for all names."""
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for service in self._services:
            await self._health.set(service, status)

    async def stop(self, grace: float | None) -> None:
        """Stop: refuse new calls at once, let in-flight ones finish within ``grace`` seconds.

        Health turns ``NOT_SERVING`` for good first; calls still running after ``grace``
        are cancelled (``None``: cancel at once).
        """
        await self._health.enter_graceful_shutdown()
        await self._server.stop(grace)

    async def wait_for_termination(self, timeout: float | None = None) -> bool:
        """Wait until the server stops; ``False`` if ``timeout`` passed first."""
        return await self._server.wait_for_termination(timeout)


def build_grpc_server(
    core: GatewayCore,
    *,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    max_concurrent_rpcs: int | None = None,
    interceptors: Sequence[Any] = (),
    spans: ServerSpans | None = None,
    reuse_port: bool = False,
) -> GrpcServer:
    """A gRPC server for ``core``, not yet listening: call ``add_port`` then ``start``.

    Call it inside the running event loop.  Requests and responses above
    ``max_message_bytes`` are refused with ``RESOURCE_EXHAUSTED`` by grpcio itself, as are
    calls beyond ``max_concurrent_rpcs`` (``None``: no limit).  ``interceptors`` are fixed
    here: grpcio takes them only when the server is created.  ``spans`` (tracing on) gives
    each API call its server span.  ``reuse_port`` lets several worker processes listen on
    one port.
    """
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            # grpcio sets SO_REUSEPORT by default, so a second gateway on the same port
            # would start "fine" and steal half the connections; fail to bind instead,
            # unless this is one of the workers meant to share it (``serve --workers``).
            ("grpc.so_reuseport", 1 if reuse_port else 0),
        ],
        maximum_concurrent_rpcs=max_concurrent_rpcs,
        interceptors=list(interceptors) or None,
    )
    services = method_handlers(core, spans=spans)
    for service, handlers in services.items():
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
        server.add_registered_method_handlers(service, handlers)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        (*services, _HEALTH_SERVICE, reflection.SERVICE_NAME), server
    )
    return GrpcServer(server, health, tuple(services))
