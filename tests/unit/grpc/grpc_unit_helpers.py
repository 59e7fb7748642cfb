"""A fake core and sample messages for the gRPC adapter's tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from google.protobuf.message import Message

from gateway._proto.smcgateway.v1 import (
    replication_job_service_pb2 as jobs,
)
from gateway._proto.smcgateway.v1 import (
    resources_pb2,
)
from gateway._proto.smcgateway.v1 import (
    source_server_service_pb2 as sources,
)
from gateway.core.context import CallContext

Behaviour = Callable[[str, CallContext, Message], Awaitable[Message]]


def _job(job_id: str, name: str = "job-a") -> resources_pb2.ReplicationJob:
    return resources_pb2.ReplicationJob(job_id=job_id, name=name, source_id="s-1")


def _source(source_id: str) -> resources_pb2.SourceServer:
    return resources_pb2.SourceServer(source_id=source_id, name="web-1")


#: One request and the response the fake core answers it with, per unary method.
SAMPLES: dict[str, tuple[Message, Message]] = {
    "ListSourceServers": (
        sources.ListSourceServersRequest(page_size=5, name="web-1"),
        sources.ListSourceServersResponse(
            source_servers=[_source("s-1"), _source("s-2")], total_size=2
        ),
    ),
    "GetSourceServer": (
        sources.GetSourceServerRequest(source_id="s-1"),
        sources.GetSourceServerResponse(source_server=_source("s-1")),
    ),
    "UpdateSourceServer": (
        sources.UpdateSourceServerRequest(source_id="s-1", name="web-2", request_id="r-1"),
        sources.UpdateSourceServerResponse(source_server=_source("s-1")),
    ),
    "DeleteSourceServer": (
        sources.DeleteSourceServerRequest(source_id="s-1", force=True),
        sources.DeleteSourceServerResponse(),
    ),
    "CreateReplicationJob": (
        jobs.CreateReplicationJobRequest(source_id="s-1", name="job-a", system_disk_size=40),
        jobs.CreateReplicationJobResponse(job_id="j-1"),
    ),
    "ListReplicationJobs": (
        jobs.ListReplicationJobsRequest(page_size=2, job_ids=["j-1", "j-2"]),
        jobs.ListReplicationJobsResponse(
            replication_jobs=[_job("j-1"), _job("j-2")], next_page_token="t2", total_size=3
        ),
    ),
    "GetReplicationJob": (
        jobs.GetReplicationJobRequest(job_id="j-1"),
        jobs.GetReplicationJobResponse(replication_job=_job("j-1")),
    ),
    "UpdateReplicationJob": (
        jobs.UpdateReplicationJobRequest(job_id="j-1", name="job-b"),
        jobs.UpdateReplicationJobResponse(replication_job=_job("j-1", "job-b")),
    ),
    "DeleteReplicationJob": (
        jobs.DeleteReplicationJobRequest(job_id="j-1"),
        jobs.DeleteReplicationJobResponse(),
    ),
    "StartReplicationJob": (
        jobs.StartReplicationJobRequest(job_id="j-1"),
        jobs.StartReplicationJobResponse(),
    ),
    "StopReplicationJob": (
        jobs.StopReplicationJobRequest(job_id="j-1"),
        jobs.StopReplicationJobResponse(),
    ),
}


def snapshot(progress: float) -> jobs.WatchReplicationJobResponse:
    """A watch message for job ``j-1`` at ``progress`` percent."""
    job = _job("j-1")
    job.progress = progress
    return jobs.WatchReplicationJobResponse(replication_job=job)


@dataclass
class Call:
    """What the fake core received."""

    name: str
    ctx: CallContext
    request: Message


@dataclass
class FakeCore:
    """Implements ``gateway.grpc.GatewayCore``; answers from :data:`SAMPLES` by default.

    Set ``behaviour`` to raise or to block; set ``stream`` to choose what ``watch``
    yields (messages, or an exception to raise at that point).
    """

    calls: list[Call] = field(default_factory=list)
    behaviour: Behaviour | None = None
    stream: list[Message | Exception] = field(default_factory=list)
    called: asyncio.Event = field(default_factory=asyncio.Event)
    stream_closed: asyncio.Event = field(default_factory=asyncio.Event)
    response_metadata: dict[str, str] = field(default_factory=lambda: {"smc-request-id": "req-123"})

    async def call(self, name: str, ctx: CallContext, request: Message) -> Message:
        self.calls.append(Call(name, ctx, request))
        self.called.set()
        ctx.response_metadata.update(self.response_metadata)
        if self.behaviour is not None:
            return await self.behaviour(name, ctx, request)
        return SAMPLES[name][1]

    def watch(self, ctx: CallContext, request: Message) -> AsyncIterator[Message]:
        self.calls.append(Call("WatchReplicationJob", ctx, request))
        self.called.set()
        return self._watch(ctx)

    async def _watch(self, ctx: CallContext) -> AsyncIterator[Message]:
        try:
            ctx.response_metadata.update(self.response_metadata)
            for item in self.stream:
                if isinstance(item, Exception):
                    raise item
                yield item
            if not self.stream:  # nothing scripted: stay open until cancelled
                await asyncio.Event().wait()
        finally:
            self.stream_closed.set()
