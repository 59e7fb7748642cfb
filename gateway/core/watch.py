"""Watching jobs: one shared poller per (tenant, job), however many clients watch.

A poller asks SMC for the job once per interval while anyone is subscribed, and hands each
subscriber the job's snapshot when it changed.  It ends the stream when the job is Finished
or Expired, or gone (deleted).  Subscribers that go away leave; the last one stops the poller.
Each poll is charged to the tenant's read budget like any call: a poll the budget refuses is
skipped, not failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from gateway._proto.smcgateway.v1 import resources_pb2 as pb
from gateway.core.errors import GatewayError, NotFoundError, ResourceExhaustedError

__all__ = ["JobWatcher", "Poll"]

log = logging.getLogger("smc_gateway.watch")

# Status values after which a job never changes again.
_FINAL = frozenset({pb.REPLICATION_JOB_STATUS_FINISHED, pb.REPLICATION_JOB_STATUS_EXPIRED})

# One poll: the job now, or NotFoundError once it is gone.
Poll = Callable[[], Awaitable[pb.ReplicationJob]]


@dataclass
class _Poller:
    poll: Poll
    subscribers: set[asyncio.Queue[pb.ReplicationJob | GatewayError | None]] = field(
        default_factory=set
    )
    latest: pb.ReplicationJob | None = None
    task: asyncio.Task[None] | None = None


class JobWatcher:
    """The shared pollers of one gateway."""

    def __init__(self, *, interval: float, max_seconds: float) -> None:
        self.interval = interval
        self.max_seconds = max_seconds
        self._pollers: dict[tuple[str, str], _Poller] = {}

    @property
    def active(self) -> int:
        """Pollers running now (one per watched job)."""
        return len(self._pollers)

    async def watch(
        self, tenant_id: str, job_id: str, poll: Poll, first: pb.ReplicationJob
    ) -> AsyncIterator[pb.ReplicationJob]:
        """Snapshots of the job: ``first`` (just fetched), then each change, until it ends."""
        key = (tenant_id, job_id)
        poller = self._pollers.get(key)
        if poller is None:
            poller = self._pollers[key] = _Poller(poll, latest=first)
        queue: asyncio.Queue[pb.ReplicationJob | GatewayError | None] = asyncio.Queue()
        poller.subscribers.add(queue)
        queue.put_nowait(poller.latest or first)
        if first.status in _FINAL:
            queue.put_nowait(None)
        if poller.task is None:
            poller.task = asyncio.get_running_loop().create_task(self._run(key, poller))
        try:
            async with asyncio.timeout(self.max_seconds):
                while True:
                    item = await queue.get()
                    if item is None:
                        return
                    if isinstance(item, GatewayError):
                        raise item
                    yield item
        except TimeoutError:
            return  # the longest a stream lasts; the client may watch again
        finally:
            poller.subscribers.discard(queue)
            if not poller.subscribers:
                self._stop(key, poller)

    def _stop(self, key: tuple[str, str], poller: _Poller) -> None:
        if self._pollers.get(key) is poller:
            del self._pollers[key]
        if poller.task is not None and poller.task is not asyncio.current_task():
            poller.task.cancel()

    def _publish(self, poller: _Poller, item: pb.ReplicationJob | GatewayError | None) -> None:
        for queue in poller.subscribers:
            queue.put_nowait(item)

    async def _run(self, key: tuple[str, str], poller: _Poller) -> None:
        while poller.subscribers:
            await asyncio.sleep(self.interval)
            if not poller.subscribers:
                break
            try:
                job = await poller.poll()
            except ResourceExhaustedError:
                job = None  # the tenant's budget is spent: skip this round
            except NotFoundError:
                self._publish(poller, None)  # deleted: the stream ends
                break
            except GatewayError as error:
                self._publish(poller, error)
                break
            if job is not None and job != poller.latest:
                poller.latest = job
                self._publish(poller, job)
                if job.status in _FINAL:
                    self._publish(poller, None)
                    break
        if self._pollers.get(key) is poller:
            del self._pollers[key]

    async def close(self) -> None:
        """Stop every poller (shutdown)."""
        pollers = list(self._pollers.values())
        self._pollers.clear()
        for poller in pollers:
            self._publish(poller, None)
            if poller.task is not None:
                poller.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller.task
