"""The emulator process: configuration, accounts, the aiohttp application and its lifecycle.

An SMC call goes: decode parameters → check Format/Action/Version → authenticate → faults
(before) → parse → backend (after a lazy clock tick) → faults (after) → JSON answer.  Any
exception that is not an SMC error becomes ``500 InternalError``; it is a bug if client input
can cause one (the fuzz tests check that).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import random
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.emulator import errors
from gateway.emulator.accounts import Account, generate_account
from gateway.emulator.auth import SignatureVerifier
from gateway.emulator.backend import AccountBackend, IdGenerator, Progression
from gateway.emulator.clock import Clock, OffsetClock, SystemClock
from gateway.emulator.control import ControlApi
from gateway.emulator.faults import Fault, FaultInjector
from gateway.emulator.models import UNFINISHED, SourceServer, SourceState
from gateway.emulator.params import ParamReader
from gateway.emulator.protocol import OPERATIONS, check_common, decode_params
from gateway.emulator.responses import job_to_wire, source_to_wire
from gateway.emulator.seed import (
    DEFAULT_NETWORKS,
    AccountSeed,
    SeedFile,
    demo_sources,
    source_from_json,
)
from gateway.emulator.statemachine import ProgressionMode
from gateway.smc.wire import format_timestamp

__all__ = ["BackgroundEmulator", "Emulator", "EmulatorConfig"]

log = logging.getLogger(__name__)

_JSON_HEADERS = {"Content-Type": "application/json;charset=utf-8"}
_SMC_METHODS = frozenset({"GET", "POST"})
MAX_REQUEST_LINE = 256 * 1024


@dataclass
class EmulatorConfig:
    """Everything the emulator is started with; checked at construction, naming the key."""

    host: str = "127.0.0.1"
    port: int = 9100
    accounts: list[Account] = field(default_factory=list)
    seed_file: str | Path | None = None
    progression: ProgressionMode | str = ProgressionMode.IMMEDIATE
    job_seconds: float = 60.0  # a whole run in "time" progression
    job_quota: int = 100  # [S] 100; [P] 1,000
    nonce_window_seconds: float = 900.0
    nonce_capacity: int = 1_000_000  # per AccessKey
    timestamp_skew_seconds: float = 900.0
    random_seed: int | None = None
    call_log_size: int = 1000

    def __post_init__(self) -> None:
        try:
            self.progression = ProgressionMode(self.progression)
        except ValueError:
            modes = ", ".join(m.value for m in ProgressionMode)
            raise ValueError(f"progression: must be one of {modes}") from None
        if not 0 <= self.port <= 65535:
            raise ValueError("port: must be 0 to 65535")
        if self.job_seconds <= 0:
            raise ValueError("job_seconds: must be positive")
        if self.job_quota < 0:
            raise ValueError("job_quota: must not be negative")
        if self.nonce_window_seconds <= 0 or self.timestamp_skew_seconds <= 0:
            raise ValueError("nonce_window_seconds/timestamp_skew_seconds: must be positive")
        ids = [a.access_key_id for a in self.accounts]
        if len(set(ids)) != len(ids):
            raise ValueError("accounts: an AccessKey ID is listed twice")


class Emulator:
    """An SMC (2019-06-01) emulator: ``await start()``, then point clients at :attr:`url`."""

    def __init__(self, config: EmulatorConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.base_clock: Clock = clock or SystemClock()
        self.clock = OffsetClock(self.base_clock)
        seed = config.random_seed
        self._ids = IdGenerator(random.Random(seed))
        self.faults = FaultInjector(random.Random(None if seed is None else seed + 1))
        self.demo_account: Account | None = None
        accounts = list(config.accounts)
        if not accounts:
            self.demo_account = generate_account(random.Random(seed))
            accounts.append(self.demo_account)
        self.accounts: dict[str, Account] = {a.access_key_id: a for a in accounts}
        self.progression = Progression(ProgressionMode(config.progression), config.job_seconds)
        self._seeds = self._resolve_seeds(
            SeedFile.load(config.seed_file) if config.seed_file else None
        )
        self.backends: dict[str, AccountBackend] = {}
        self.calls: deque[dict[str, Any]] = deque(maxlen=config.call_log_size)
        self.verifier = SignatureVerifier(
            self.accounts.get,
            self.base_clock,
            skew=timedelta(seconds=config.timestamp_skew_seconds),
            nonce_window=timedelta(seconds=config.nonce_window_seconds),
            nonce_capacity=config.nonce_capacity,
        )
        self.reset()
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # --- state --------------------------------------------------------------------------------

    def _resolve_seeds(
        self, seed_file: SeedFile | None
    ) -> dict[str, tuple[list[SourceServer], dict[str, str]]]:
        """Per account: the seed sources (IDs fixed once, so reset restores the same IDs)."""
        now = self.clock.now()
        resolved: dict[str, tuple[list[SourceServer], dict[str, str]]] = {}
        for key in self.accounts:
            entry = AccountSeed() if seed_file is None else seed_file.for_account(key)
            if seed_file is None:
                sources = demo_sources(self._ids, now)
            else:
                sources = [
                    source_from_json(s, self._ids, now, index=i)
                    for i, s in enumerate(entry.sources, start=1)
                ]
            ids = [s.source_id for s in sources]
            if len(set(ids)) != len(ids):
                raise ValueError(f"seed: account {key} has a SourceId twice")
            resolved[key] = (sources, {**DEFAULT_NETWORKS, **entry.networks})
        return resolved

    def reset(self) -> None:
        """Back to the seed: sources, no jobs, no faults, empty call log and nonce memory."""
        self.clock.reset()
        self.progression.mode = ProgressionMode(self.config.progression)
        self.progression.seconds = self.config.job_seconds
        self.backends = {}
        for key, (sources, networks) in self._seeds.items():
            backend = AccountBackend(
                self.clock,
                self.progression,
                self._ids,
                job_quota=self.config.job_quota,
                networks=networks,
            )
            for source in copy.deepcopy(sources):
                backend.add_source(source)
            self.backends[key] = backend
        self.faults.clear()
        self.calls.clear()
        self.verifier.reset()

    def tick_all(self) -> None:
        for backend in self.backends.values():
            backend.tick()

    def set_progression(self, mode: ProgressionMode, seconds: float | None = None) -> None:
        """Switch how jobs move; running jobs keep their progress."""
        self.tick_all()
        self.progression.mode = mode
        if seconds is not None:
            if seconds <= 0:
                raise ValueError("seconds must be positive")
            self.progression.seconds = seconds
        for backend in self.backends.values():
            backend.reanchor()

    def add_source(self, access_key_id: str, data: dict[str, object]) -> SourceServer:
        backend = self.backends.get(access_key_id)
        if backend is None:
            raise KeyError(access_key_id)
        index = len(backend.sources) + 1
        return backend.add_source(source_from_json(data, self._ids, self.clock.now(), index=index))

    def set_source_agent(
        self, access_key_id: str, source_id: str, *, online: bool, error_code: str = ""
    ) -> SourceServer:
        """Model the source's agent going offline (Unavailable) or coming back (Available).

        The API has no call for this: SMC learns it from the agent's heartbeats.  A source
        that comes back returns to InUse if it still has an unfinished job.
        """
        backend = self.backends.get(access_key_id)
        if backend is None:
            raise KeyError(access_key_id)
        source = backend.sources.get(source_id)
        if source is None:
            raise KeyError(source_id)
        if source.state is SourceState.DELETING:
            raise ValueError("a source being deleted has no agent")
        if online:
            job = backend.jobs.get(source.job_id) if source.job_id else None
            busy = job is not None and job.status in UNFINISHED
            source.state = SourceState.IN_USE if busy else SourceState.AVAILABLE
            source.error_code, source.status_info = "", ""
        else:
            code = error_code or "SourceServer.Offline"
            source.state = SourceState.UNAVAILABLE
            source.error_code = code
            source.status_info = json.dumps(
                {"error_code": code, "error_msg": "The SMC agent stopped sending heartbeats."}
            )
        return source

    def state_json(self) -> dict[str, Any]:
        self.tick_all()
        return {
            "now": format_timestamp(self.clock.now()),
            "progression": {
                "mode": self.progression.mode.value,
                "seconds": self.progression.seconds,
            },
            "accounts": {
                key: {
                    "sources": [source_to_wire(s) for s in b.sources.values()],
                    "jobs": [job_to_wire(j) for j in b.jobs.values()],
                }
                for key, b in self.backends.items()
            },
        }

    # --- SMC requests -------------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> dict[str, str]:
        body = b""
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise errors.InvalidParameterError("The request body is too large.") from None
        return decode_params(request.rel_url.raw_query_string, body)

    async def handle_smc(self, request: web.Request) -> web.StreamResponse:
        request_id = str(uuid.uuid4()).upper()
        call: dict[str, Any] = {
            "time": format_timestamp(self.base_clock.now()),
            "method": request.method,
            "request_id": request_id,
            "action": None,
            "access_key_id": None,
            "nonce": None,
            "params": {},
            "code": None,
            "http_status": 200,
        }
        self.calls.append(call)
        try:
            if request.method not in _SMC_METHODS:
                raise errors.UnsupportedHTTPMethodError()
            params = await self._read_params(request)
            call["params"] = {k: v for k, v in params.items() if k != "Signature"}
            call["action"] = params.get("Action")
            call["access_key_id"] = params.get("AccessKeyId")
            call["nonce"] = params.get("SignatureNonce")
            action = check_common(params)
            account = self.verifier.verify(request.method, params)
            fault = self.faults.pick(action, after=False)
            if fault is not None:
                await self._apply_fault(request, fault)
            operation = OPERATIONS[action]
            parsed = operation.parse(ParamReader(params))
            backend = self.backends[account.access_key_id]
            backend.tick()
            body = operation.run(backend, parsed)
            fault = self.faults.pick(action, after=True)
            if fault is not None:
                await self._apply_fault(request, fault)
        except _DroppedError:
            call["code"], call["http_status"] = "Dropped", None
            return web.Response(status=500)
        except errors.SmcError as error:
            return self._error(call, error, request_id)
        except Exception:
            log.exception("emulator bug while serving %s", call.get("action"))
            return self._error(call, errors.InternalError(), request_id)
        body["RequestId"] = request_id
        return web.Response(body=json.dumps(body).encode(), headers=_JSON_HEADERS)

    @staticmethod
    def _error(call: dict[str, Any], error: errors.SmcError, request_id: str) -> web.Response:
        call["code"], call["http_status"] = error.code, error.http_status
        return web.Response(
            status=error.http_status,
            body=errors.error_body(error, request_id),
            headers=_JSON_HEADERS,
        )

    async def _apply_fault(self, request: web.Request, fault: Fault) -> None:
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.drop:
            if request.transport is not None:
                request.transport.abort()
            raise _DroppedError()
        error = fault.error()
        if error is not None:
            raise error

    async def handle_unknown_path(self, request: web.Request) -> web.Response:
        request_id = str(uuid.uuid4()).upper()
        error = errors.InvalidApiNotFoundError()
        return web.Response(
            status=error.http_status,
            body=errors.error_body(error, request_id),
            headers=_JSON_HEADERS,
        )

    # --- lifecycle ----------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application()
        ControlApi(self).register(app.router)
        app.router.add_route("*", "/", self.handle_smc)
        app.router.add_route("*", "/{tail:.*}", self.handle_unknown_path)
        return app

    async def start(self) -> None:
        """Listen on ``config.host:config.port`` (port 0 picks a free one)."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already started")
        # SMC parameters all travel in the query string: allow long request lines.
        runner = web.AppRunner(self.app, access_log=None, max_line_size=MAX_REQUEST_LINE)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        return self._port if self._port is not None else self.config.port

    @property
    def url(self) -> str:
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


class _DroppedError(Exception):
    """The connection was aborted on purpose; nothing is sent."""


class BackgroundEmulator:
    """Serve an :class:`Emulator` from a thread with its own event loop.

    For synchronous clients (the official SDK, ``http.client``)::

        with BackgroundEmulator(EmulatorConfig(port=0)) as emulator:
            ...  # emulator.url
    """

    def __init__(self, config: EmulatorConfig, clock: Clock | None = None) -> None:
        self.emulator = Emulator(config, clock)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="smc-emulator", daemon=True
        )

    def __enter__(self) -> Emulator:
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.emulator.start(), self._loop).result(30)
        except BaseException:
            self._shutdown()
            raise
        return self.emulator

    def __exit__(self, *exc_info: object) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.emulator.stop(), self._loop).result(30)
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()
