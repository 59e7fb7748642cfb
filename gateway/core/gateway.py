"""The gateway core: one pipeline behind both front ends.

For every call, in this order: authenticate the tenant → validate the request → charge the
rate-limit budgets → resolve the idempotency key → call SMC with the tenant's credentials →
map the answer or error.
Front ends hand in a :class:`CallContext` and a request message and get a response message
or a :class:`GatewayError`; they know nothing else.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from google.protobuf.message import Message
from google.rpc import status_pb2

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs_pb2
from gateway._proto.smcgateway.v1 import resources_pb2
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources_pb2
from gateway.core import convert, from_wire
from gateway.core.context import CallContext
from gateway.core.errors import (
    AbortedError,
    AlreadyExistsError,
    DeadlineExceededError,
    FailedPreconditionError,
    FieldViolation,
    GatewayError,
    InvalidArgumentError,
    NotFoundError,
    QuotaViolation,
    ResourceExhaustedError,
    UnavailableError,
    UnimplementedError,
    from_status,
)
from gateway.core.events import NO_EVENTS, CoreEvents
from gateway.core.methods import METHODS, method
from gateway.core.paging import PageTokens
from gateway.core.tenants import Rate, Tenant, TenantDirectory
from gateway.core.upstream_errors import from_smc_error
from gateway.core.validation import validate
from gateway.core.watch import JobWatcher
from gateway.idempotency import (
    BeginResult,
    IdempotencyStore,
    IdempotencyUnavailable,
    InFlight,
    MemoryIdempotencyStore,
    Mismatch,
    Replay,
    Started,
    StoredResponse,
)
from gateway.ratelimit import Budget, MemoryRateLimiter, RateLimiter, Verdict, rate_limit_headers
from gateway.smc import models as smc
from gateway.smc.client import SmcClient, parse_answer
from gateway.smc.errors import SmcError
from gateway.smc.models import Operation, RequestT, ResponseT

__all__ = ["DEFAULT_PAGE_SIZE", "Gateway", "RateDefaults", "client_token_for"]

log = logging.getLogger("smc_gateway.core")
T = TypeVar("T")

DEFAULT_PAGE_SIZE = 10
# Errors that are SMC's definitive answer: kept for replays of the same idempotency key.
# Transient ones (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) are not, so a retry
# with the same key can still succeed.
STORED_ERRORS: tuple[type[GatewayError], ...] = (
    InvalidArgumentError,
    FailedPreconditionError,
    AlreadyExistsError,
    NotFoundError,
)
# What a replay repeats from the first answer besides its body.
_REPLAYED_METADATA = ("smc-request-id",)
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")
# Method name → whether it writes (writes use the write budget and idempotency keys).
METHOD_KINDS: Mapping[str, bool] = {m.name: m.mutating for m in METHODS}


def client_token_for(tenant_id: str, idempotency_key: str) -> str:
    """SMC's ClientToken for a (tenant, key): deterministic, 64 hex characters.

    The same key from the same tenant always yields the same token, across retries,
    replicas and restarts, so SMC itself never creates a second job for it; two tenants
    using the same key get different tokens.
    """
    return hashlib.sha256(f"{tenant_id}\0{idempotency_key}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RateDefaults:
    """Budgets for tenants whose file entry sets none, and the per-AccessKey upstream budget."""

    read: Rate = field(default_factory=lambda: Rate(20.0, 40))
    write: Rate = field(default_factory=lambda: Rate(5.0, 10))
    upstream: Rate = field(default_factory=lambda: Rate(20.0, 40))


def _upstream_key(access_key_id: str) -> str:
    # Budget keys end up in Redis and metrics: a short digest instead of the AccessKeyId.
    return hashlib.sha256(access_key_id.encode()).hexdigest()[:16]


@dataclass(slots=True)
class _Call:
    """One call in flight: who, with what deadline and idempotency key."""

    name: str
    ctx: CallContext
    tenant: Tenant
    deadline: float  # time.monotonic() seconds
    idempotency_key: str | None
    mutating: bool

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceededError(
                "the call's deadline passed before SMC answered", reason="DEADLINE_EXCEEDED"
            )
        return left


Handler = Callable[[_Call, Any], Awaitable[Message]]


class Gateway:
    """The transport-agnostic core shared by the gRPC server and the REST facade."""

    def __init__(
        self,
        *,
        client: SmcClient,
        tenants: TenantDirectory,
        page_tokens: PageTokens | None = None,
        limiter: RateLimiter | None = None,
        rates: RateDefaults | None = None,
        idempotency: IdempotencyStore | None = None,
        idempotency_ttl: float = 86400.0,
        idempotency_lease: float = 30.0,
        fail_open: bool = True,
        watch_poll_seconds: float = 2.0,
        watch_max_seconds: float = 3600.0,
        default_timeout: float = 30.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        events: CoreEvents = NO_EVENTS,
        conversion_cache_entries: int = 1000,
    ) -> None:
        self.client = client
        self.tenants = tenants
        # ``is None``, not ``or``: an empty memory limiter or store has a length of 0, so it
        # is falsy, and ``or`` would swap the one configured (bounded) for a default one.
        self.page_tokens = PageTokens() if page_tokens is None else page_tokens
        self.limiter: RateLimiter = MemoryRateLimiter() if limiter is None else limiter
        self.rates = RateDefaults() if rates is None else rates
        self.idempotency: IdempotencyStore = (
            MemoryIdempotencyStore() if idempotency is None else idempotency
        )
        # A store across the network (Redis): a keyed write's ``begin`` is sent with the
        # rate-limit charge, so both leave in one write and share one round trip.
        self._begin_with_charge = not isinstance(self.idempotency, MemoryIdempotencyStore)
        self._background: set[asyncio.Task[None]] = set()
        self.idempotency_ttl = idempotency_ttl
        self.idempotency_lease = idempotency_lease
        self.fail_open = fail_open
        self.watcher = JobWatcher(interval=watch_poll_seconds, max_seconds=watch_max_seconds)
        self.default_timeout = default_timeout
        self._now = now
        self.events = events
        # SMC's resources read into messages, by their bytes: an unchanged one is not read again.
        self.conversions = from_wire.Conversions(conversion_cache_entries)
        self._budget_cache: dict[tuple[str, str], tuple[Tenant, list[Budget]]] = {}
        self._handlers: Mapping[str, Handler] = {
            m.name: getattr(self, f"_{m.core_name}") for m in METHODS if not m.server_streaming
        }

    async def close(self) -> None:
        if self._background:  # releases of records begun for refused calls
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.watcher.close()
        await self.client.close()
        await self.limiter.aclose()
        await self.idempotency.close()

    async def call(self, name: str, ctx: CallContext, request: Message) -> Message:
        """Run unary method ``name``; raise a :class:`GatewayError` on any failure."""
        handler = self._handlers.get(name)
        if handler is None:
            raise UnimplementedError(f"method {name} is not implemented", reason="UNIMPLEMENTED")
        call = self._begin(name, ctx, request)
        if call.mutating and call.idempotency_key:
            return await self._once(call, handler, request)  # charges the call itself
        await self._charge(call)
        return await handler(call, request)

    def watch(self, ctx: CallContext, request: Message) -> AsyncIterator[Message]:
        """WatchReplicationJob: the job's snapshot now and on each change, until it ends.

        Authentication and validation happen here, at once; the stream then starts with one
        charged GetReplicationJob (NOT_FOUND for an unknown job) and follows the job through
        the shared poller of (tenant, job).
        """
        call = self._begin("WatchReplicationJob", ctx, request)
        job_id = request.job_id  # type: ignore[attr-defined]
        return self._watch(call, job_id)

    async def _watch(self, call: _Call, job_id: str) -> AsyncIterator[Message]:
        await self._charge(call)
        first = await self._find_job(call, job_id)

        async def poll() -> Any:
            # Each poll is a call of its own: the tenant's budget, a fresh deadline.
            polled = _Call(
                name="GetReplicationJob",
                ctx=CallContext(frontend=call.ctx.frontend, method="GetReplicationJob"),
                tenant=call.tenant,
                deadline=time.monotonic() + self.default_timeout,
                idempotency_key=None,
                mutating=False,
            )
            await self._charge(polled)
            return await self._find_job(polled, job_id)

        async for job in self.watcher.watch(call.tenant.id, job_id, poll, first):
            yield jobs_pb2.WatchReplicationJobResponse(replication_job=job)

    # --- the pipeline ---------------------------------------------------------------

    def _begin(self, name: str, ctx: CallContext, request: Message) -> _Call:
        tenant = self.tenants.authenticate(ctx.api_key, name)
        ctx.tenant_id, ctx.region_id = tenant.id, tenant.region_id
        validate(request, self._now())
        timeout = self.default_timeout if ctx.timeout is None else ctx.timeout
        if timeout <= 0:
            raise DeadlineExceededError("the call's deadline has already passed")
        return _Call(
            name=name,
            ctx=ctx,
            tenant=tenant,
            deadline=time.monotonic() + timeout,
            idempotency_key=_idempotency_key(ctx, request),
            mutating=METHOD_KINDS[name],
        )

    def _budgets(self, call: _Call) -> list[Budget]:
        # The same for every call of a tenant and method: built once per tenant object
        # (a reloaded tenants file brings new objects, so a changed budget is seen).
        cached = self._budget_cache.get((call.tenant.id, call.name))
        if cached is not None and cached[0] is call.tenant:
            return cached[1]
        budgets = self._new_budgets(call)
        self._budget_cache[(call.tenant.id, call.name)] = (call.tenant, budgets)
        return budgets

    def _new_budgets(self, call: _Call) -> list[Budget]:
        tenant, name = call.tenant, call.name
        limits = tenant.rate_limits
        override = limits.methods.get(name)
        if override is not None:
            own = Budget(
                f"tenant:{tenant.id}:method:{name}", override.per_second, override.burst, name
            )
        elif call.mutating:
            rate = limits.write or self.rates.write
            own = Budget(f"tenant:{tenant.id}:write", rate.per_second, rate.burst, "write")
        else:
            rate = limits.read or self.rates.read
            own = Budget(f"tenant:{tenant.id}:read", rate.per_second, rate.burst, "read")
        upstream = self.rates.upstream
        key = f"upstream:{_upstream_key(tenant.credentials.access_key_id)}"
        return [own, Budget(key, upstream.per_second, upstream.burst, "upstream")]

    async def _charge(self, call: _Call) -> None:
        """Charge the tenant's budget and its AccessKey's upstream budget, or refuse."""
        verdict = await self.limiter.acquire(self._budgets(call))
        for header, value in rate_limit_headers(verdict).items():
            call.ctx.response_metadata[header.lower()] = value
        if not verdict.allowed:
            budget = verdict.limiting.name if verdict.limiting is not None else "unknown"
            self.events.rate_limited(call.tenant.id, budget, verdict.retry_after)
            raise _rate_limited(call, verdict)

    async def _once(self, call: _Call, handler: Handler, request: Message) -> Message:
        """Run a keyed write at most once per (tenant, key): start it, or replay its answer."""
        key, store, scope = call.idempotency_key or "", self.idempotency, call.tenant.id

        def begin() -> Coroutine[Any, Any, BeginResult]:
            return store.begin(
                scope,
                key,
                _fingerprint(call.name, request),
                lease_seconds=self.idempotency_lease,
                ttl_seconds=self.idempotency_ttl,
            )

        try:
            if self._begin_with_charge:
                begun = await self._begin_while_charging(call, begin())
            else:
                await self._charge(call)  # a refused call never touches its record
                begun = await begin()
        except IdempotencyUnavailable as error:
            self.events.store_error("idempotency", error)
            self.events.idempotency(scope, "unavailable")
            if not self.fail_open:
                raise UnavailableError(
                    "idempotency records are unavailable; retry later",
                    reason="IDEMPOTENCY_STORE_UNAVAILABLE",
                    retry_delay=1.0,
                ) from None
            # SMC's ClientToken still makes a retried create return the same job.
            log.warning("idempotency store unavailable, calling SMC without a record: %s", error)
            return await handler(call, request)
        if isinstance(begun, Replay):
            self.events.idempotency(scope, "replayed")
            return self._replay(call, begun.response)
        if isinstance(begun, Mismatch):
            self.events.idempotency(scope, "mismatch")
            raise InvalidArgumentError(
                "this idempotency key was used with a different request",
                reason="IDEMPOTENCY_KEY_REUSED",
                field_violations=[
                    FieldViolation("request_id", "already used with a different request")
                ],
            )
        if isinstance(begun, InFlight):
            self.events.idempotency(scope, "in_flight")
            raise AbortedError(
                "a call with this idempotency key is in progress; retry after the delay",
                reason="IDEMPOTENCY_KEY_IN_USE",
                retry_delay=begun.retry_after,
            )
        self.events.idempotency(scope, "started")
        return await self._run_recorded(call, handler, request, begun)

    async def _begin_while_charging(
        self, call: _Call, begin: Coroutine[Any, Any, BeginResult]
    ) -> BeginResult:
        """Charge the call while its record is begun: one round trip to Redis, not two.

        The begin runs as a task started before the charge is sent; the store and the
        limiter share one pipelined connection, so both commands leave in one write.  If
        the charge refuses the call (or fails), a record it began is released, so a retry
        of the same key starts afresh, as when the charge came first.
        """
        begun = asyncio.get_running_loop().create_task(begin)
        try:
            await self._charge(call)
        except BaseException:
            begun.add_done_callback(lambda task: self._release_unused(call, task))
            raise
        return await begun

    def _release_unused(self, call: _Call, begun: asyncio.Task[BeginResult]) -> None:
        if begun.cancelled() or begun.exception() is not None:
            return  # the begin failed or never ran: there is no record to release
        started = begun.result()
        if isinstance(started, Started):
            release = self.idempotency.release(
                call.tenant.id, call.idempotency_key or "", started.owner
            )
            task = asyncio.get_running_loop().create_task(_quietly(release))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _run_recorded(
        self, call: _Call, handler: Handler, request: Message, started: Started
    ) -> Message:
        store, scope, key = self.idempotency, call.tenant.id, call.idempotency_key or ""
        try:
            response = await handler(call, request)
        except STORED_ERRORS as error:
            await self._finish(call, started, "error", error.to_status().SerializeToString())
            raise
        except BaseException:
            # Transient failure or cancellation: free the key so a retry can go through.
            await _quietly(asyncio.shield(store.release(scope, key, started.owner)))
            raise
        await self._finish(call, started, "ok", response.SerializeToString())
        return response

    async def _finish(self, call: _Call, started: Started, kind: str, payload: bytes) -> None:
        metadata = {k: v for k, v in call.ctx.response_metadata.items() if k in _REPLAYED_METADATA}
        record = StoredResponse(
            "ok" if kind == "ok" else "error", payload, metadata, created_at=time.time()
        )
        await _quietly(
            self.idempotency.complete(
                call.tenant.id,
                call.idempotency_key or "",
                started.owner,
                record,
                ttl_seconds=self.idempotency_ttl,
            )
        )

    def _replay(self, call: _Call, stored: StoredResponse) -> Message:
        call.ctx.response_metadata.update(stored.metadata)
        call.ctx.response_metadata["idempotent-replayed"] = "true"
        if stored.kind == "error":
            raise from_status(status_pb2.Status.FromString(stored.payload))
        return method(call.name).response_type.FromString(stored.payload)

    async def _smc(
        self, call: _Call, op: Operation[RequestT, ResponseT], request: RequestT
    ) -> ResponseT:
        try:
            response = await self.client.call(
                op, request, call.tenant.credentials, timeout=call.remaining()
            )
        except SmcError as error:
            raise from_smc_error(error, op.action) from None
        call.ctx.response_metadata["smc-request-id"] = response.request_id
        return response

    async def _smc_read(
        self,
        call: _Call,
        op: Operation[RequestT, Any],
        request: RequestT,
        read: Callable[[dict[str, Any]], T],
        shape: msgspec.json.Decoder[Any] | None = None,
    ) -> T:
        """Call SMC and read its answer with ``read`` (a :mod:`from_wire` reader), the
        answer decoded as ``shape`` when it fits (see ``SmcClient.call_json``)."""
        try:
            data = await self.client.call_json(
                op, request, call.tenant.credentials, timeout=call.remaining(), shape=shape
            )
            result = parse_answer(op, data, read)
        except SmcError as error:
            raise from_smc_error(error, op.action) from None
        call.ctx.response_metadata["smc-request-id"] = str(data["RequestId"])  # read checked it
        return result

    def _page(self, call: _Call, request: Any) -> tuple[int, int]:
        size = request.page_size or DEFAULT_PAGE_SIZE
        number = self.page_tokens.page_number(
            call.tenant.id, call.name, request, request.page_token
        )
        return number, size

    def _next_token(self, call: _Call, request: Any, number: int, size: int, total: int) -> str:
        if number * size >= total:
            return ""
        return self.page_tokens.issue(call.tenant.id, call.name, request, number + 1)

    # --- SourceServerService --------------------------------------------------------

    async def _list_source_servers(
        self, call: _Call, r: sources_pb2.ListSourceServersRequest
    ) -> sources_pb2.ListSourceServersResponse:
        number, size = self._page(call, r)
        page = await self._smc_read(
            call,
            smc.DESCRIBE_SOURCE_SERVERS,
            convert.describe_sources_request(r, number, size),
            lambda data: from_wire.source_page(data, self.conversions),
            from_wire.SOURCE_PAGE,
        )
        page.next_page_token = self._next_token(call, r, number, size, page.total_size)
        return page

    async def _find_source(self, call: _Call, source_id: str) -> resources_pb2.SourceServer:
        source = await self._smc_read(
            call,
            smc.DESCRIBE_SOURCE_SERVERS,
            smc.DescribeSourceServersRequest(source_ids=[source_id]),
            lambda data: from_wire.find_source(data, source_id, self.conversions),
            from_wire.SOURCE_PAGE,
        )
        if source is not None:
            return source
        raise NotFoundError(
            f"source server {source_id} not found",
            reason="SOURCE_SERVER_NOT_FOUND",
            metadata={"source_id": source_id},
        )

    async def _get_source_server(
        self, call: _Call, r: sources_pb2.GetSourceServerRequest
    ) -> sources_pb2.GetSourceServerResponse:
        source = await self._find_source(call, r.source_id)
        return sources_pb2.GetSourceServerResponse(source_server=source)

    async def _update_source_server(
        self, call: _Call, r: sources_pb2.UpdateSourceServerRequest
    ) -> sources_pb2.UpdateSourceServerResponse:
        request = smc.ModifySourceServerAttributeRequest(
            source_id=r.source_id,
            name=r.name if r.HasField("name") else None,
            description=r.description if r.HasField("description") else None,
        )
        await self._smc(call, smc.MODIFY_SOURCE_SERVER_ATTRIBUTE, request)
        source = await self._find_source(call, r.source_id)
        return sources_pb2.UpdateSourceServerResponse(source_server=source)

    async def _delete_source_server(
        self, call: _Call, r: sources_pb2.DeleteSourceServerRequest
    ) -> sources_pb2.DeleteSourceServerResponse:
        request = smc.DeleteSourceServerRequest(source_id=r.source_id, force=r.force or None)
        await self._smc(call, smc.DELETE_SOURCE_SERVER, request)
        return sources_pb2.DeleteSourceServerResponse()

    # --- ReplicationJobService ------------------------------------------------------

    async def _create_replication_job(
        self, call: _Call, r: jobs_pb2.CreateReplicationJobRequest
    ) -> jobs_pb2.CreateReplicationJobResponse:
        key = call.idempotency_key
        token = client_token_for(call.tenant.id, key) if key else None
        request = convert.create_job_request(r, r.region_id or call.tenant.region_id, token)
        answer = await self._smc(call, smc.CREATE_REPLICATION_JOB, request)
        return jobs_pb2.CreateReplicationJobResponse(job_id=answer.job_id)

    async def _list_replication_jobs(
        self, call: _Call, r: jobs_pb2.ListReplicationJobsRequest
    ) -> jobs_pb2.ListReplicationJobsResponse:
        number, size = self._page(call, r)
        page = await self._smc_read(
            call,
            smc.DESCRIBE_REPLICATION_JOBS,
            convert.describe_jobs_request(r, number, size),
            lambda data: from_wire.job_page(data, self.conversions),
            from_wire.JOB_PAGE,
        )
        page.next_page_token = self._next_token(call, r, number, size, page.total_size)
        return page

    async def _find_job(self, call: _Call, job_id: str) -> resources_pb2.ReplicationJob:
        job = await self._smc_read(
            call,
            smc.DESCRIBE_REPLICATION_JOBS,
            smc.DescribeReplicationJobsRequest(job_ids=[job_id]),
            lambda data: from_wire.find_job(data, job_id, self.conversions),
            from_wire.JOB_PAGE,
        )
        if job is not None:
            return job
        raise NotFoundError(
            f"replication job {job_id} not found",
            reason="REPLICATION_JOB_NOT_FOUND",
            metadata={"job_id": job_id},
        )

    async def _get_replication_job(
        self, call: _Call, r: jobs_pb2.GetReplicationJobRequest
    ) -> jobs_pb2.GetReplicationJobResponse:
        job = await self._find_job(call, r.job_id)
        return jobs_pb2.GetReplicationJobResponse(replication_job=job)

    async def _update_replication_job(
        self, call: _Call, r: jobs_pb2.UpdateReplicationJobRequest
    ) -> jobs_pb2.UpdateReplicationJobResponse:
        await self._smc(call, smc.MODIFY_REPLICATION_JOB_ATTRIBUTE, convert.modify_job_request(r))
        job = await self._find_job(call, r.job_id)
        return jobs_pb2.UpdateReplicationJobResponse(replication_job=job)

    async def _delete_replication_job(
        self, call: _Call, r: jobs_pb2.DeleteReplicationJobRequest
    ) -> jobs_pb2.DeleteReplicationJobResponse:
        request = smc.DeleteReplicationJobRequest(job_id=r.job_id)
        await self._smc(call, smc.DELETE_REPLICATION_JOB, request)
        return jobs_pb2.DeleteReplicationJobResponse()

    async def _start_replication_job(
        self, call: _Call, r: jobs_pb2.StartReplicationJobRequest
    ) -> jobs_pb2.StartReplicationJobResponse:
        request = smc.StartReplicationJobRequest(job_id=r.job_id)
        await self._smc(call, smc.START_REPLICATION_JOB, request)
        return jobs_pb2.StartReplicationJobResponse()

    async def _stop_replication_job(
        self, call: _Call, r: jobs_pb2.StopReplicationJobRequest
    ) -> jobs_pb2.StopReplicationJobResponse:
        request = smc.StopReplicationJobRequest(job_id=r.job_id)
        await self._smc(call, smc.STOP_REPLICATION_JOB, request)
        return jobs_pb2.StopReplicationJobResponse()


def _fingerprint(name: str, request: Message) -> bytes:
    """What makes two keyed calls "the same request": method and fields, key excluded."""
    scope = request.__class__()
    scope.CopyFrom(request)
    if "request_id" in scope.DESCRIPTOR.fields_by_name:
        scope.ClearField("request_id")
    digest = hashlib.sha256(name.encode() + b"\0")
    digest.update(scope.SerializeToString(deterministic=True))
    return digest.digest()


async def _quietly(operation: Awaitable[object]) -> None:
    """Record keeping must not turn an answered call into an error: log and go on."""
    try:
        await operation
    except IdempotencyUnavailable as error:
        log.warning("idempotency record not updated (it expires by its lease): %s", error)


def _idempotency_key(ctx: CallContext, request: Message) -> str | None:
    """The call's idempotency key: the ``request_id`` field or the transport's key.

    Both may be given only if they agree.  Reads have no key.
    """
    field_key = getattr(request, "request_id", "") or None
    transport_key = ctx.idempotency_key or None
    if transport_key is not None and not _IDEMPOTENCY_KEY.fullmatch(transport_key):
        raise InvalidArgumentError(
            "the idempotency key must be 1 to 128 printable ASCII characters without spaces",
            reason="INVALID_IDEMPOTENCY_KEY",
            field_violations=[FieldViolation("idempotency-key", "1 to 128 printable ASCII")],
        )
    if field_key and transport_key and field_key != transport_key:
        raise InvalidArgumentError(
            "request_id and the idempotency-key header/metadata differ",
            reason="IDEMPOTENCY_KEY_CONFLICT",
            field_violations=[
                FieldViolation("request_id", "differs from the idempotency-key header/metadata")
            ],
        )
    return field_key or transport_key


def _rate_limited(call: _Call, verdict: Verdict) -> ResourceExhaustedError:
    budget = verdict.limiting
    name = budget.name if budget is not None else "unknown"
    subject = "upstream" if name == "upstream" else f"tenant:{call.tenant.id}"
    description = (
        f"{name} budget: {budget.burst} calls at once, {budget.rate:g} per second"
        if budget is not None
        else "rate limit"
    )
    return ResourceExhaustedError(
        f"rate limit exceeded ({name} budget); retry after {verdict.retry_after:.2f} s",
        reason="RATE_LIMITED",
        metadata={"budget": name, "tenant": call.tenant.id},
        retry_delay=max(verdict.retry_after, 0.001),
        quota_violations=[QuotaViolation(subject, description)],
    )
