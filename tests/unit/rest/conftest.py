"""A fake core for the REST facade's unit tests: records calls, returns canned answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf.message import Message

from gateway.core.context import CallContext
from gateway.core.errors import GatewayError
from gateway.core.methods import method
from gateway.rest import build_rest_app


@dataclass
class Recorded:
    name: str
    ctx: CallContext
    request: Message


@dataclass
class FakeCore:
    """Implements the GatewayCore protocol without any gateway behind it."""

    calls: list[Recorded] = field(default_factory=list)
    responses: dict[str, Message] = field(default_factory=dict)
    error: GatewayError | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    events: list[Message] = field(default_factory=list)
    error_after_events: GatewayError | None = None
    watch_closed: bool = False

    async def call(self, name: str, ctx: CallContext, request: Message) -> Message:
        self.calls.append(Recorded(name, ctx, request))
        ctx.response_metadata.update(self.metadata)
        if self.error is not None:
            raise self.error
        return self.responses.get(name) or method(name).response_type()

    def watch(self, ctx: CallContext, request: Message) -> AsyncIterator[Message]:
        self.calls.append(Recorded("WatchReplicationJob", ctx, request))
        ctx.response_metadata.update(self.metadata)
        return self._stream()

    async def _stream(self) -> AsyncIterator[Message]:
        try:
            if self.error is not None:
                raise self.error
            for event in self.events:
                yield event
            if self.error_after_events is not None:
                raise self.error_after_events
        finally:
            self.watch_closed = True

    @property
    def last(self) -> Recorded:
        assert self.calls, "the core was not called"
        return self.calls[-1]


@pytest.fixture
def core() -> FakeCore:
    return FakeCore()


@pytest.fixture
def make_app(core: FakeCore) -> Callable[..., FastAPI]:
    def make(**kwargs: object) -> FastAPI:
        return build_rest_app(core, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def client(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(cors_allow_origins=["https://ui.example"], max_body_bytes=4096)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
        yield c
