"""The emulator's control API under ``/_emulator/``: JSON in and out, no signing.

Tests and demos use it to do what SMC's agent or SMC itself would: register sources, choose how
jobs progress and push them along, inject faults, move the clock, inspect and reset state.

=======  ==============================  ===================================================
Method   Path                            Body → answer
=======  ==============================  ===================================================
POST     /_emulator/sources              ``{"access_key_id", "source": {...}}`` → the source
PUT      /_emulator/progression          ``{"mode": "immediate|manual|time", "seconds": N}``
POST     /_emulator/jobs/{job_id}/advance ``{"to": "Syncing|Finished|InError|..."}`` or none
POST     /_emulator/faults               a fault (see :mod:`.faults`) → ``{"id": ...}``
GET      /_emulator/faults               the active faults
DELETE   /_emulator/faults               remove every fault
DELETE   /_emulator/faults/{fault_id}    remove one fault
POST     /_emulator/clock                ``{"advance_seconds": N}`` → ``{"now": ...}``
POST     /_emulator/reset                back to the seed
GET      /_emulator/state                every account's sources and jobs (SMC shapes)
GET      /_emulator/calls                the recent SMC calls (``?action=`` filters)
GET      /_emulator/healthz              ``{"status": "ok"}``
=======  ==============================  ===================================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from gateway.emulator.backend import ControlError
from gateway.emulator.responses import job_to_wire, source_to_wire
from gateway.emulator.statemachine import ProgressionMode
from gateway.smc.wire import format_timestamp

if TYPE_CHECKING:
    from gateway.emulator.server import Emulator

__all__ = ["PREFIX", "ControlApi"]

PREFIX = "/_emulator"
_Handler = Callable[[web.Request], Awaitable[web.Response]]


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _fail(message: str, status: int = 400) -> web.Response:
    return _json({"error": message}, status)


async def _body(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip() and optional:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ControlError("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ControlError("the body must be a JSON object")
    return data


class ControlApi:
    """Handlers of ``/_emulator/``; each answers JSON, errors as ``{"error": ...}``."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def register(self, router: web.UrlDispatcher) -> None:
        routes = [
            ("POST", "/sources", self.add_source),
            ("PUT", "/sources/{source_id}/agent", self.set_agent),
            ("PUT", "/progression", self.set_progression),
            ("GET", "/progression", self.get_progression),
            ("POST", "/jobs/{job_id}/advance", self.advance_job),
            ("POST", "/faults", self.add_fault),
            ("GET", "/faults", self.list_faults),
            ("DELETE", "/faults", self.clear_faults),
            ("DELETE", "/faults/{fault_id}", self.delete_fault),
            ("POST", "/clock", self.advance_clock),
            ("POST", "/reset", self.reset),
            ("GET", "/state", self.state),
            ("GET", "/calls", self.calls),
            ("GET", "/healthz", self.healthz),
        ]
        for method, path, handler in routes:
            router.add_route(method, PREFIX + path, self._guard(handler))

    @staticmethod
    def _guard(handler: _Handler) -> _Handler:
        async def guarded(request: web.Request) -> web.Response:
            try:
                response = await handler(request)
            except ControlError as error:
                return _fail(str(error), error.status)
            except ValueError as error:
                return _fail(str(error))
            return response

        return guarded

    async def add_source(self, request: web.Request) -> web.Response:
        body = await _body(request)
        key = body.get("access_key_id")
        source = body.get("source", {})
        if not isinstance(key, str) or not isinstance(source, dict):
            raise ControlError("expected {'access_key_id': str, 'source': {...}}")
        try:
            created = self.emulator.add_source(key, source)
        except KeyError:
            raise ControlError(f"unknown account {key}", 404) from None
        return _json(source_to_wire(created), 201)

    async def set_agent(self, request: web.Request) -> web.Response:
        body = await _body(request)
        key, online, code = body.get("access_key_id"), body.get("online"), body.get("error_code")
        if not isinstance(key, str) or not isinstance(online, bool):
            raise ControlError("expected {'access_key_id': str, 'online': bool}")
        if code is not None and not isinstance(code, str):
            raise ControlError("error_code must be a string")
        source_id = request.match_info["source_id"]
        try:
            source = self.emulator.set_source_agent(
                key, source_id, online=online, error_code=code or ""
            )
        except KeyError as missing:
            raise ControlError(f"unknown account or source {missing}", 404) from None
        return _json(source_to_wire(source))

    async def get_progression(self, request: web.Request) -> web.Response:
        p = self.emulator.progression
        return _json({"mode": p.mode.value, "seconds": p.seconds})

    async def set_progression(self, request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            mode = ProgressionMode(str(body.get("mode")))
        except ValueError:
            raise ControlError("mode must be immediate, manual or time") from None
        seconds = body.get("seconds")
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int | float)
        ):
            raise ControlError("seconds must be a number")
        self.emulator.set_progression(mode, None if seconds is None else float(seconds))
        return await self.get_progression(request)

    async def advance_job(self, request: web.Request) -> web.Response:
        body = await _body(request, optional=True)
        to = body.get("to")
        code = body.get("error_code")
        if (to is not None and not isinstance(to, str)) or (
            code is not None and not isinstance(code, str)
        ):
            raise ControlError("'to' and 'error_code' must be strings")
        job_id = request.match_info["job_id"]
        for backend in self.emulator.backends.values():
            if job_id in backend.jobs:
                backend.tick()
                return _json(job_to_wire(backend.advance_job(job_id, to, code)))
        raise ControlError(f"job {job_id} not found", 404)

    async def add_fault(self, request: web.Request) -> web.Response:
        fault = self.emulator.faults.add(await _body(request))
        return _json(fault.to_json(), 201)

    async def list_faults(self, request: web.Request) -> web.Response:
        return _json({"faults": [f.to_json() for f in self.emulator.faults.faults]})

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.emulator.faults.clear()
        return _json({"faults": []})

    async def delete_fault(self, request: web.Request) -> web.Response:
        if not self.emulator.faults.remove(request.match_info["fault_id"]):
            raise ControlError("no such fault", 404)
        return _json({"deleted": request.match_info["fault_id"]})

    async def advance_clock(self, request: web.Request) -> web.Response:
        seconds = (await _body(request)).get("advance_seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ControlError("advance_seconds must be a non-negative number")
        self.emulator.clock.advance(float(seconds))
        self.emulator.tick_all()
        return _json({"now": format_timestamp(self.emulator.clock.now())})

    async def reset(self, request: web.Request) -> web.Response:
        self.emulator.reset()
        return _json({"reset": True})

    async def state(self, request: web.Request) -> web.Response:
        return _json(self.emulator.state_json())

    async def calls(self, request: web.Request) -> web.Response:
        action = request.query.get("action")
        calls = [c for c in self.emulator.calls if action is None or c["action"] == action]
        return _json({"calls": calls})

    async def healthz(self, request: web.Request) -> web.Response:
        return _json({"status": "ok"})
