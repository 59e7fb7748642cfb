"""CORS for browser frontends (SPEC §10), as a small ASGI middleware.

Written rather than Starlette's ``CORSMiddleware`` because the contract differs in the
details: preflights answer 204, a preflight from an origin not in the list is refused
with 403 (AIP-193 PERMISSION_DENIED, reason ``CORS_ORIGIN_NOT_ALLOWED``, no CORS
headers), and the allow/expose lists are fixed by the gateway rather than echoed.

- Origins match exactly; ``*`` in the list allows any origin.  The response always
  names the caller's origin (never ``*``) and carries ``Vary: Origin``.
- Credentials (cookies) are not used, so ``Access-Control-Allow-Credentials`` is never sent;
  the API key travels in ``Authorization``, which is listed in the allowed headers.
- An actual (non-preflight) request from a foreign origin is served without CORS
  headers: the browser then hides the answer, and non-browser clients are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.errors import PermissionDeniedError
from gateway.rest.errors import EXPOSED_HEADERS, error_response

__all__ = ["ALLOWED_HEADERS", "MAX_AGE_SECONDS", "CorsMiddleware"]

ALLOWED_HEADERS: Final[tuple[str, ...]] = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "traceparent",
    "tracestate",
)
MAX_AGE_SECONDS: Final = 600


class CorsMiddleware:
    """Answers preflights and marks actual responses for allowed origins."""

    def __init__(
        self, app: ASGIApp, *, allow_origins: Sequence[str], allow_methods: Iterable[str]
    ) -> None:
        self._app = app
        self._any_origin = "*" in allow_origins
        self._origins = frozenset(allow_origins)
        self._preflight_headers = {
            "Access-Control-Allow-Methods": ", ".join(allow_methods),
            "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
            "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
            "Vary": "Origin",
        }
        self._expose = ", ".join(EXPOSED_HEADERS)

    def allowed(self, origin: str) -> bool:
        """Exact match against the configured list, or ``*`` configured."""
        return self._any_origin or origin in self._origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if (
            origin is not None
            and scope["method"] == "OPTIONS"
            and "access-control-request-method" in headers
        ):
            await self._preflight(origin, scope, receive, send)
            return
        allowed = origin is not None and self.allowed(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.get("headers", [])
                if not allowed and all(name.lower() != b"vary" for name, _ in raw):
                    # The common case (no browser origin): one raw header, no parsing.
                    message["headers"] = [*raw, (b"vary", b"Origin")]
                else:
                    response_headers = MutableHeaders(scope=message)
                    response_headers.add_vary_header("Origin")
                    if allowed and origin is not None:
                        response_headers["Access-Control-Allow-Origin"] = origin
                        response_headers["Access-Control-Expose-Headers"] = self._expose
            await send(message)

        await self._app(scope, receive, send_with_cors)

    async def _preflight(self, origin: str, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.allowed(origin):
            refused = error_response(
                PermissionDeniedError(
                    "this origin may not call the API from a browser",
                    reason="CORS_ORIGIN_NOT_ALLOWED",
                )
            )
            refused.headers["Vary"] = "Origin"
            await refused(scope, receive, send)
            return
        answer = Response(
            status_code=204,
            headers={**self._preflight_headers, "Access-Control-Allow-Origin": origin},
        )
        await answer(scope, receive, send)
