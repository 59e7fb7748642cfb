"""The HTTP layer under the SMC client: the interface and its aiohttp implementation.

The client needs one thing from HTTP: POST a form body, get status, content
type and body back, within a timeout.  :class:`Transport` is that interface.
The SMC client's default is :class:`gateway.smc.http1.Http1Transport`, the
cheapest per request (``bench/bench_transport.py``); :class:`AiohttpTransport`
is kept as the framework-standard one: the benchmark's bare pass-through uses
it, and it was chosen over httpx 0.28 (several times less CPU per request; its
connection pool and anyio locks dominate a proxied call).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from gateway.smc.errors import SmcTransportError

__all__ = ["AiohttpTransport", "HttpResponse", "Transport"]

_FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An HTTP answer, body fully read."""

    status: int
    content_type: str
    body: bytes


class Transport(Protocol):
    """POSTs a form body; raises :class:`SmcTransportError` when no answer came."""

    async def post_form(self, url: str, body: str, timeout: float) -> HttpResponse: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """aiohttp ``ClientSession`` with a keep-alive connection pool.

    The session is created lazily inside the running event loop and reused by
    every call.  ``max_connections`` bounds the sockets open to SMC.
    """

    def __init__(self, *, max_connections: int = 100, keepalive_seconds: float = 30.0) -> None:
        self._max_connections = max_connections
        self._keepalive_seconds = keepalive_seconds
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                keepalive_timeout=self._keepalive_seconds,
                ttl_dns_cache=300,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                headers=_FORM,
                skip_auto_headers=("User-Agent",),
                auto_decompress=True,
            )
            self._session = session
        return session

    async def post_form(self, url: str, body: str, timeout: float) -> HttpResponse:
        session = self._get_session()
        try:
            async with session.post(
                url,
                data=body.encode("ascii"),
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as response:
                payload = await response.read()
                return HttpResponse(response.status, response.content_type, payload)
        except aiohttp.ClientConnectorError as exc:
            # The TCP (or TLS) connection never opened: nothing reached SMC.
            raise SmcTransportError(f"cannot connect to SMC: {exc.os_error}", sent=False) from exc
        except TimeoutError as exc:
            raise SmcTransportError("SMC did not answer in time", sent=True) from exc
        except (aiohttp.ClientError, asyncio.IncompleteReadError) as exc:
            raise SmcTransportError(
                f"connection to SMC failed: {type(exc).__name__}", sent=True
            ) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
