"""``smc-gateway serve``: the whole gateway in one process.

Starts, in one event loop: the SMC emulator (only when no ``smc_endpoint`` is set), the
core, the gRPC server and the REST facade (uvicorn), with tracing, metrics (``/metrics``)
and JSON logs from :mod:`gateway.observability`; prints where they listen.

On SIGTERM or SIGINT, in this order: readiness flips at once (gRPC health
``NOT_SERVING``, ``/readyz`` 503) while both front ends keep serving for
``shutdown_delay_seconds``, so load balancers stop sending; then new connections and calls
are refused and in-flight ones get ``shutdown_grace_seconds`` to finish; buffered spans are
exported; exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import os
import secrets
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import uvicorn
import uvloop
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from gateway.config import Settings
from gateway.core.gateway import Gateway, RateDefaults
from gateway.core.paging import PageTokens
from gateway.core.tenants import Rate, Tenant, TenantDirectory, api_key_digest
from gateway.core.tenants_file import TenantsFileWatcher
from gateway.emulator import Emulator, EmulatorConfig
from gateway.grpc.server import GrpcServer, build_grpc_server
from gateway.idempotency import store_from_url
from gateway.observability import (
    CONTENT_TYPE,
    Observability,
    ObservedCore,
    configure_logging,
    grpc_server_spans,
    instrument_rest_app,
)
from gateway.ratelimit import FailSafeRateLimiter, limiter_from_url
from gateway.redisio import RedisClient, shared_client
from gateway.rest.app import build_rest_app
from gateway.rest.http_protocol import HeadWithBodyProtocol
from gateway.smc.client import SmcClient
from gateway.smc.credentials import Credentials

__all__ = ["DEMO_REGION", "DEMO_TENANT", "GatewayProcess", "run"]

log = logging.getLogger("smc_gateway")

DEMO_TENANT = "demo"
DEMO_REGION = "cn-hangzhou"


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the gateway owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class _Upstream:
    endpoint: str
    emulator: Emulator | None
    demo: Tenant | None  # the demo tenant, when neither an endpoint nor tenants are given
    demo_api_key: str | None


async def _upstream(settings: Settings) -> _Upstream:
    if settings.smc_endpoint is not None:
        if settings.tenants_file is None:
            raise ValueError("smc_endpoint needs tenants_file: whose credentials would sign?")
        return _Upstream(settings.smc_endpoint, None, None, None)
    # Jobs take two minutes from start to Finished, so a demo shows progress rising.
    emulator = Emulator(
        EmulatorConfig(host="127.0.0.1", port=0, progression="time", job_seconds=120)
    )
    await emulator.start()
    account = emulator.demo_account
    assert account is not None  # no accounts configured: the emulator made one
    if settings.tenants_file is not None:
        return _Upstream(emulator.url, emulator, None, None)
    key = (
        settings.demo_api_key.get_secret_value()
        if settings.demo_api_key
        else secrets.token_urlsafe(24)
    )
    demo = Tenant(
        id=DEMO_TENANT,
        api_key_sha256=frozenset({api_key_digest(key)}),
        credentials=Credentials(account.access_key_id, account.access_key_secret),
        region_id=DEMO_REGION,
    )
    return _Upstream(emulator.url, emulator, demo, key)


def _bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio turns Nagle off (TCP_NODELAY) only on sockets that
    # say they are TCP.  With proto 0 every keep-alive answer (headers, then body) waited
    # for the client's delayed ACK: ~40 ms per REST call.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:  # worker processes share the port; the kernel spreads connections
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _add_health_routes(app: FastAPI, process: GatewayProcess) -> None:
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz() -> JSONResponse:
        ready = process.ready
        body = {"ready": ready, "checks": process.checks()}
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics() -> Response:
        return Response(process.observability.metrics.render(), media_type=CONTENT_TYPE)

    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/readyz", readyz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)


class GatewayProcess:
    """The running gateway: start it, read its ports, stop it.

    ``observability``: tracing and metrics to use; by default tracing as the process's
    ``OTEL_*`` variables say and metrics in a registry of this process's own.
    """

    def __init__(self, settings: Settings, observability: Observability | None = None) -> None:
        self.settings = settings
        self._observability = observability
        self.grpc_port = 0
        self.http_port = 0
        self.demo_api_key: str | None = None
        self.emulator: Emulator | None = None
        self.ready = False
        self.stopping = False
        self._gateway: Gateway | None = None
        self._grpc: GrpcServer | None = None
        self._http: _QuietServer | None = None
        self._http_task: asyncio.Task[None] | None = None
        self.watcher: TenantsFileWatcher | None = None
        self.limiter: FailSafeRateLimiter | None = None
        self._redis: RedisClient | None = None

    @property
    def observability(self) -> Observability:
        if self._observability is None:
            self._observability = Observability.from_env()
        return self._observability

    @property
    def smc_endpoint(self) -> str:
        assert self._gateway is not None
        return self._gateway.client.url

    async def start(self) -> None:
        s = self.settings
        obs = self.observability
        upstream = await _upstream(s)
        self.emulator, self.demo_api_key = upstream.emulator, upstream.demo_api_key
        if s.tenants_file is not None:
            self.watcher = TenantsFileWatcher(s.tenants_file, self._install_tenants)
            tenants = self.watcher.load()
        else:
            assert upstream.demo is not None
            tenants = TenantDirectory([upstream.demo])
        key = s.page_token_key.get_secret_value().encode() if s.page_token_key else None
        redis_url = s.redis_url.get_secret_value() if s.redis_url else None
        # One connection for the limiter and the idempotency store: a keyed write's charge
        # and begin leave in one write, and concurrent calls' commands share reads.
        self._redis = redis = shared_client(redis_url, timeout=s.redis_timeout_seconds)
        self.limiter = FailSafeRateLimiter(
            limiter_from_url(redis_url, timeout=s.redis_timeout_seconds, client=redis),
            fail_open=s.redis_fail_open,
            on_error=self._report_redis_error,
        )
        self._gateway = gateway = Gateway(
            client=SmcClient(
                upstream.endpoint,
                default_timeout=s.default_timeout_seconds,
                observers=(obs.observer,),
            ),
            tenants=tenants,
            page_tokens=PageTokens(key),
            limiter=self.limiter,
            idempotency=store_from_url(
                redis_url,
                timeout=s.redis_timeout_seconds,
                max_records=s.idempotency_max_records,
                client=redis,
            ),
            idempotency_ttl=s.idempotency_ttl_seconds,
            idempotency_lease=s.idempotency_lease_seconds,
            fail_open=s.redis_fail_open,
            watch_poll_seconds=s.watch_poll_seconds,
            watch_max_seconds=s.watch_max_seconds,
            rates=RateDefaults(
                read=Rate(s.default_read_rate_per_second, s.default_read_burst),
                write=Rate(s.default_write_rate_per_second, s.default_write_burst),
                upstream=Rate(s.upstream_rate_per_second, s.upstream_burst),
            ),
            default_timeout=s.default_timeout_seconds,
            events=obs.observer,
            conversion_cache_entries=s.conversion_cache_entries,
        )
        if self.watcher is not None:
            status = self.watcher.status
            obs.metrics.watch_reloads(lambda: (status.reloads_ok, status.reloads_failed))
        core = ObservedCore(gateway, obs.metrics)
        # The tracing interceptor must exist when the gRPC server is created.
        self._grpc = build_grpc_server(
            core,
            max_message_bytes=s.max_message_bytes,
            spans=grpc_server_spans(obs.provider),
            reuse_port=s.workers > 1,
        )
        self.grpc_port = self._grpc.add_port(s.host, s.grpc_port)
        sock = _bind(s.host, s.http_port, reuse_port=s.workers > 1)
        self.http_port = sock.getsockname()[1]
        app = build_rest_app(
            core,
            cors_allow_origins=s.cors_allow_origins,
            max_body_bytes=s.max_body_bytes,
            default_timeout=s.default_timeout_seconds,
            conversion_cache_entries=s.conversion_cache_entries,
        )
        _add_health_routes(app, self)
        instrument_rest_app(app, obs.provider)
        config = uvicorn.Config(
            app,
            log_level=s.log_level.lower(),
            log_config=None,  # records go to the root logger's JSON handler (if any)
            access_log=False,  # the gateway logs each call itself, with its trace id
            lifespan="off",
            # uvicorn takes whole seconds; 0 would mean "wait forever" to it.
            timeout_graceful_shutdown=max(1, math.ceil(s.shutdown_grace_seconds)),
            server_header=False,
            http=HeadWithBodyProtocol,  # uvicorn's httptools protocol, one write per answer
        )
        self._http = _QuietServer(config)
        await self._grpc.start()
        self._http_task = asyncio.create_task(self._http.serve(sockets=[sock]))
        while not self._http.started:
            if self._http_task.done():
                self._http_task.result()  # raises what stopped it
            await asyncio.sleep(0.01)
        if self.watcher is not None:
            self.watcher.start()
        await self._grpc.set_serving(True)
        self.ready = True
        log.info(
            "started",
            extra={
                "fields": {
                    "event": "started",
                    "grpc_port": self.grpc_port,
                    "http_port": self.http_port,
                    "tracing": obs.tracing,
                    "tenants_file": str(s.tenants_file) if s.tenants_file else None,
                    "redis": s.redis_url is not None,
                }
            },
        )

    def _report_redis_error(self, error: Exception) -> None:
        # The error's text names the host and port, never the URL's password.
        log.warning("rate-limit storage unavailable, applying the failure policy: %s", error)
        self.observability.observer.store_error("ratelimit", error)

    def _install_tenants(self, directory: TenantDirectory) -> None:
        # Calls in flight keep the tenant they authenticated as; new calls see the new file.
        if self._gateway is not None:
            self._gateway.tenants = directory

    def checks(self) -> dict[str, object]:
        """The /readyz detail: configuration, shared state, shutdown."""
        config: dict[str, object] = {"status": "ok"}
        if self.watcher is not None:
            status = self.watcher.status
            config = {
                "status": "ok" if status.last_error is None else "reload_failed",
                "reloads_ok": status.reloads_ok,
                "reloads_failed": status.reloads_failed,
            }
            if status.last_error is not None:
                config["error"] = status.last_error
        if self.settings.redis_url is None:
            redis: dict[str, object] = {"status": "not_configured"}
        elif self.limiter is not None and not self.limiter.healthy:
            policy = "fail_open" if self.settings.redis_fail_open else "fail_closed"
            redis = {"status": "unavailable", "policy": policy}
        else:
            redis = {"status": "ok"}
        return {"config": config, "redis": redis, "shutting_down": self.stopping}

    async def not_ready(self) -> None:
        """Report not-ready on both front ends at once; both keep serving."""
        self.ready, self.stopping = False, True
        if self._grpc is not None:
            await self._grpc.set_serving(False)

    async def stop(self, delay: float | None = None) -> None:
        """Not ready at once, serve ``delay`` more seconds, stop accepting, drain, close.

        ``delay``: ``shutdown_delay_seconds`` unless given (0 after a failed start).
        In-flight calls get ``shutdown_grace_seconds`` after the delay; gRPC calls still
        running then are cancelled, and uvicorn closes what is left of its connections.
        """
        await self.not_ready()
        s = self.settings
        delay = s.shutdown_delay_seconds if delay is None else delay
        if delay > 0 and self._http_task is not None:
            log.info("not ready; serving %ss more before draining", delay)
            await asyncio.sleep(delay)
        grace = s.shutdown_grace_seconds
        if self._http is not None:
            self._http.should_exit = True
        waits: list[Awaitable[None]] = []
        if self._grpc is not None:
            waits.append(self._grpc.stop(grace))
        if self._http_task is not None:
            waits.append(self._http_task)
        await asyncio.gather(*waits, return_exceptions=True)
        if self.watcher is not None:
            await self.watcher.stop()
        if self._gateway is not None:
            await self._gateway.close()
        if self._redis is not None:
            await self._redis.aclose()
        if self.emulator is not None:
            await self.emulator.stop()
        if self._observability is not None:
            # Flushing spans talks to the collector: off the event loop.
            await asyncio.to_thread(self._observability.shutdown)

    def banner(self) -> str:
        host = self.settings.host
        rest = f"http://{host}:{self.http_port}"
        lines = [f"smc-gateway serving gRPC on {host}:{self.grpc_port} and REST on {rest}"]
        if self.emulator is not None:
            lines.append(f"SMC: embedded emulator at {self.emulator.url}")
        else:
            lines.append(f"SMC: {self.smc_endpoint}")
        if self.demo_api_key is not None:
            key = self.demo_api_key
            lines += [
                f"Demo API key: {key}",
                "Try it:",
                f"  curl -H 'Authorization: Bearer {key}' {rest}/v1/sources",
                f"  grpcurl -plaintext -H 'authorization: Bearer {key}' {host}:{self.grpc_port} "
                "smcgateway.v1.SourceServerService/ListSourceServers",
            ]
        lines.append(f"API docs: {rest}/docs")
        return "\n".join(lines)


def freeze_startup_objects() -> None:
    """Keep what start-up built (modules, descriptors, routes, schemas: ~100k objects, all
    living as long as the process) out of the collector's passes.

    Each full collection walked them all: a pause of tens of milliseconds in the middle of
    serving, seen in p99 latency.  Garbage made during start-up is collected first.
    """
    gc.collect()
    gc.freeze()


async def _serve(
    settings: Settings,
    observability: Observability,
    announce: Callable[[str], object] | None = None,
) -> int:
    process = GatewayProcess(settings, observability)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await process.start()
    except (OSError, ValueError) as error:
        print(f"smc-gateway serve: {error}", file=sys.stderr)
        await process.stop(delay=0)
        return 1
    freeze_startup_objects()
    if announce is None:
        print(process.banner(), flush=True)
    else:
        announce(process.banner())
    await stop.wait()
    log.info(
        "shutting down: not ready now, draining after %ss for up to %ss",
        settings.shutdown_delay_seconds,
        settings.shutdown_grace_seconds,
        extra={"fields": {"event": "shutting_down"}},
    )
    await process.stop()
    log.info("stopped", extra={"fields": {"event": "stopped"}})
    return 0


def run(settings: Settings, announce: Callable[[str], object] | None = None) -> int:
    """Run the gateway until SIGTERM/SIGINT; the process exit status.

    ``announce`` receives the banner once serving (default: print it).  With
    ``settings.workers > 1`` this process is one of the workers that
    :func:`gateway.workers.run_workers` started on shared ports.
    """
    configure_logging(settings.log_level)
    try:
        observability = Observability.from_env(os.environ)
    except ValueError as error:  # a bad OTEL_* value: named, before anything starts
        print(f"smc-gateway serve: {error}", file=sys.stderr)
        return 1
    serving = _serve(settings, observability, announce)
    if settings.event_loop == "uvloop":
        return uvloop.run(serving)
    return asyncio.run(serving)
