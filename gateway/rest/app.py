"""The REST facade's application factory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway._proto.smcgateway.v1 import resources_pb2
from gateway.core.methods import METHODS
from gateway.rest.cors import CorsMiddleware
from gateway.rest.errors import (
    http_exception_handler,
    unexpected_exception_handler,
    validation_exception_handler,
)
from gateway.rest.jsonmap import ResponseEncoder
from gateway.rest.openapi import build_openapi
from gateway.rest.routes import (
    ApiRoutes,
    GatewayCore,
    RouteOptions,
    api_endpoint,
    build_routes,
)

__all__ = ["GatewayCore", "RestApp", "build_rest_app"]

TITLE = "smc-gateway"
VERSION = "v1"


class RestApp(FastAPI):
    """FastAPI whose OpenAPI document is the one generated from the proto descriptors.

    FastAPI would regenerate its document from route signatures (ours have none); routes
    added later with FastAPI decorators (``/healthz``, ``/readyz``) are merged in.
    """

    def __init__(self, *, document: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api = ApiRoutes(())
        self._api_app: ASGIApp = api_endpoint
        self._document = document
        self._merged: dict[str, Any] = document
        self._merged_from: dict[str, Any] | None = None

    def serve_api(self, routes: Sequence[Route], cors: CorsMiddleware) -> None:
        """Answer ``routes`` through ``cors`` straight from :meth:`__call__`.

        The API's calls skip the framework's layers (error middlewares, exit stack, router,
        endpoint wrapper): on this gateway they cost about as much as the core's own
        pipeline.  Everything else (docs, health, wrong verbs, unknown paths) goes through
        the framework as before.
        """
        self._api = ApiRoutes(routes)
        self._api_app = cors

    def wrap_api(self, middleware: Callable[[ASGIApp], ASGIApp]) -> None:
        """Put ``middleware`` around the API's calls (as ``add_middleware`` does for the rest)."""
        self._api_app = middleware(self._api_app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self._api.match(scope["method"], scope["path"])
            if found is not None:
                scope["app"] = self
                scope["endpoint"], scope["path_params"] = found
                await self._api_app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        """The proto-generated document plus FastAPI's own for any routes added by others."""
        generated = super().openapi()
        if generated is not self._merged_from:
            components = dict(self._document["components"])
            components["schemas"] = {
                **generated.get("components", {}).get("schemas", {}),
                **components["schemas"],
            }
            self._merged = {
                **self._document,
                "paths": {**generated.get("paths", {}), **self._document["paths"]},
                "components": components,
            }
            self._merged_from = generated
        return self._merged


def build_rest_app(
    core: GatewayCore,
    *,
    cors_allow_origins: Sequence[str] = (),
    max_body_bytes: int = 1_048_576,
    default_timeout: float | None = None,
    conversion_cache_entries: int = 1000,
) -> FastAPI:
    """The REST facade over ``core``: a route per method of the proto, CORS, OpenAPI.

    ``cors_allow_origins``: browser origins allowed (exact match; ``*`` for any);
    ``max_body_bytes``: larger bodies get INVALID_ARGUMENT ``BODY_TOO_LARGE``;
    ``default_timeout``: the ``CallContext.timeout`` of every call (REST has no deadline
    header); ``conversion_cache_entries``: how many sources' and jobs' JSON are kept for
    answers that repeat them (0: none; see :class:`ResponseEncoder`).  The returned app is
    an ordinary FastAPI app: add ``/healthz`` and the like with its decorators.
    """
    if max_body_bytes < 0:
        raise ValueError("max_body_bytes must be at least 0")
    resources = (resources_pb2.SourceServer, resources_pb2.ReplicationJob)
    options = RouteOptions(
        max_body_bytes=max_body_bytes,
        default_timeout=default_timeout,
        encode_response=ResponseEncoder(conversion_cache_entries, resources).encode,
    )
    document = build_openapi(METHODS, title=TITLE, version=VERSION)
    # No redirects: "/v1/sources/s-1/" is not a resource of this API (an ID cannot hold "/").
    app = RestApp(
        document=document,
        title=TITLE,
        version=VERSION,
        redirect_slashes=False,
        # FastAPI's native OpenTelemetry layer turns itself on whenever a global SDK
        # provider exists; the gateway's own server span does that job here (one HTTP
        # instrumentation, see gateway.observability.rest_spans), so it stays off.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    routes = build_routes(METHODS, core, options)
    app.router.routes.extend(routes)
    # FastAPI's own handlers answer {"detail": ...}; every error here is AIP-193.
    app.add_exception_handler(HTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
    app.add_exception_handler(Exception, unexpected_exception_handler)
    methods = sorted({m.http_method for m in METHODS})
    app.add_middleware(CorsMiddleware, allow_origins=cors_allow_origins, allow_methods=methods)
    app.serve_api(
        routes,
        CorsMiddleware(api_endpoint, allow_origins=cors_allow_origins, allow_methods=methods),
    )
    return app
