"""The gateway's own cost per REST call, in process, without sockets or the emulator's CPU.

    .venv/bin/python bench/overhead.py [--calls 2000] [--repeat 7] [--profile]

Both apps are driven through ASGI directly (the part uvicorn and the network add is the same
for both, and on a 2-core machine shared with the emulator and the load generator it is
what makes the end-to-end figures noisy).  SMC's answers are the emulator's real bodies,
recorded once at start and then served by a transport that returns them at once:

* **bare**: ``passthrough.rest_app`` (FastAPI route: sign, send, return SMC's bytes);
* **gateway**: the REST app ``serve`` builds, production configuration: authentication,
  validation, rate limits (far from binding), the core, the metrics and a JSON log line per
  call (to /dev/null), tracing at the default sampler (parent-based 10 %) with a batch
  processor whose exporter drops the spans.

It prints µs per call (min and median of ``--repeat`` interleaved rounds) and the
difference: the CPU the gateway adds to each call.  ``--profile`` writes a cProfile table of
the gateway's GetReplicationJob and CreateReplicationJob to ``bench/profiles/overhead-*.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import os
import pstats
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from passthrough import Upstream, rest_app

from gateway.core.gateway import Gateway, RateDefaults
from gateway.core.tenants import Rate, Tenant, TenantDirectory, api_key_digest
from gateway.emulator import Account, Emulator, EmulatorConfig
from gateway.observability import Observability, ObservedCore, configure_logging
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.tracing import instrument_rest_app
from gateway.rest.app import build_rest_app
from gateway.smc.client import SmcClient, build_request_body, new_client_token
from gateway.smc.credentials import Credentials
from gateway.smc.transport import AiohttpTransport, HttpResponse
from gateway.smc.wire import TIMESTAMP_FORMAT

AK, SECRET, API_KEY = "LTAIoverheadbench001", "overhead-secret", "overhead-key"
PROFILES = Path(__file__).resolve().parent / "profiles"
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class CannedTransport:
    """Answers each Action with the body the emulator gave for it."""

    def __init__(self, answers: dict[str, tuple[int, bytes]]) -> None:
        self.answers = answers

    async def post_form(self, url: str, body: str, timeout: float) -> HttpResponse:
        action = body.split("Action=", 1)[1].split("&", 1)[0]
        status, answer = self.answers[action]
        return HttpResponse(status, "application/json", answer)

    async def close(self) -> None:
        return None


class DropSpans(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def record_bodies() -> tuple[dict[str, tuple[int, bytes]], str]:
    """The emulator's answers to DescribeSourceServers(10), DescribeReplicationJobs and a
    CreateReplicationJob it refuses (the source already has a job): status and body."""
    seed = {
        "accounts": {
            "*": {
                "sources": [
                    {"Name": f"bench-{i:03d}", "DataDisks": [{"Index": 1, "Size": 100}]}
                    for i in range(12)
                ]
            }
        }
    }
    seed_file = Path(tempfile.mkdtemp()) / "seed.json"
    seed_file.write_text(json.dumps(seed))
    emulator = Emulator(EmulatorConfig(port=0, accounts=[Account(AK, SECRET)], seed_file=seed_file))
    await emulator.start()
    creds = Credentials(AK, SECRET)
    async with SmcClient(emulator.url) as client:
        page = {"PageSize": "10", "PageNumber": "1"}
        sources = await client.call_raw("DescribeSourceServers", page, creds)
        source_id = sources["SourceServers"]["SourceServer"][0]["SourceId"]
        created = await client.call_raw(
            "CreateReplicationJob",
            {"RegionId": "cn-hangzhou", "SourceId": source_id, "SystemDiskSize": "40"},
            creds,
        )
        job_id = created["JobId"]
        jobs = await client.call_raw("DescribeReplicationJobs", {"JobId.1": job_id}, creds)
        transport = AiohttpTransport()
        refused = await transport.post_form(
            emulator.url + "/",
            build_request_body(
                "CreateReplicationJob",
                {"RegionId": "cn-hangzhou", "SourceId": source_id, "SystemDiskSize": "40"},
                creds,
                new_client_token(),
                time.strftime(TIMESTAMP_FORMAT, time.gmtime()),
            ),
            30.0,
        )
        await transport.close()
    await emulator.stop()
    answers = {
        "DescribeSourceServers": (200, json.dumps(sources).encode()),
        "DescribeReplicationJobs": (200, json.dumps(jobs).encode()),
        "CreateReplicationJob": (refused.status, refused.body),
    }
    return answers, job_id


def gateway_app(transport: CannedTransport) -> App:
    provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(0.1)))
    provider.add_span_processor(BatchSpanProcessor(DropSpans()))
    obs = Observability(provider, GatewayMetrics())
    tenant = Tenant(
        id="bench",
        api_key_sha256=frozenset({api_key_digest(API_KEY)}),
        credentials=Credentials(AK, SECRET),
        region_id="cn-hangzhou",
    )
    unlimited = Rate(1e9, 10**9)
    core = Gateway(
        client=SmcClient("http://smc.invalid", transport=transport, observers=(obs.observer,)),
        tenants=TenantDirectory([tenant]),
        rates=RateDefaults(read=unlimited, write=unlimited, upstream=unlimited),
        events=obs.observer,
    )
    app = build_rest_app(ObservedCore(core, obs.metrics), default_timeout=30.0)
    instrument_rest_app(app, provider)
    app_call: App = app
    return app_call


def bare_app(transport: CannedTransport) -> App:
    upstream = Upstream("http://smc.invalid", Credentials(AK, SECRET))
    upstream.transport = transport  # type: ignore[assignment]
    app: App = rest_app(upstream)
    return app


async def call(app: App, path: str, query: bytes = b"", body: bytes | None = None) -> int:
    """One GET (or, with ``body``, a keyed POST) through ``app``; its status."""
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body or b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET" if body is None else "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {API_KEY}".encode()),
            *(
                []
                if body is None
                else [
                    (b"content-type", b"application/json"),
                    (b"idempotency-key", uuid.uuid4().hex.encode()),
                ]
            ),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    await app(scope, receive, send)
    return status


def log_to_nowhere() -> None:
    """The gateway's JSON log lines, at INFO, written to /dev/null."""
    configure_logging("INFO")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115


async def per_call_us(
    app: App, path: str, query: bytes, calls: int, body: bytes | None = None
) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await call(app, path, query, body)
    return (time.perf_counter() - started) / calls * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    bodies, job_id = await record_bodies()
    log_to_nowhere()
    transport = CannedTransport(bodies)
    apps = {"bare": bare_app(transport), "gateway": gateway_app(transport)}
    source_id = json.loads(bodies["DescribeSourceServers"][1])["SourceServers"]["SourceServer"]
    write = json.dumps({"sourceId": source_id[0]["SourceId"], "systemDiskSize": 40}).encode()
    # route: (path, query, body, expected status); the write is refused by SMC (400).
    routes: dict[str, tuple[str, bytes, bytes | None, int]] = {
        "GetReplicationJob": (f"/v1/jobs/{job_id}", b"", None, 200),
        "ListSourceServers(10)": ("/v1/sources", b"pageSize=10", None, 200),
        "CreateReplicationJob": ("/v1/jobs", b"", write, 400),
    }
    for app in apps.values():
        for path, query, body, expected in routes.values():
            assert await call(app, path, query, body) == expected
            await per_call_us(app, path, query, 200, body)  # warm-up
    print(f"µs per call, {args.calls} calls × {args.repeat} interleaved rounds (min / median)")
    for route, (path, query, body, _) in routes.items():
        times: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(args.repeat):
            for name, app in apps.items():
                times[name].append(await per_call_us(app, path, query, args.calls, body))
        bare, gateway = min(times["bare"]), min(times["gateway"])
        print(
            f"{route:<24} bare {bare:7.1f} / {statistics.median(times['bare']):7.1f}   "
            f"gateway {gateway:7.1f} / {statistics.median(times['gateway']):7.1f}   "
            f"added {gateway - bare:7.1f} µs ({gateway / bare:.2f}×)"
        )
    if args.profile:
        PROFILES.mkdir(exist_ok=True)
        for route, name in (
            ("GetReplicationJob", "get-job"),
            ("ListSourceServers(10)", "list-sources"),
            ("CreateReplicationJob", "create"),
        ):
            path, query, body, _ = routes[route]
            profile = cProfile.Profile()
            profile.enable()
            await per_call_us(apps["gateway"], path, query, args.calls, body)
            profile.disable()
            text = io.StringIO()
            stats = pstats.Stats(profile, stream=text)
            stats.sort_stats("tottime").print_stats(40)
            stats.sort_stats("cumulative").print_stats(60)
            (PROFILES / f"overhead-{name}.txt").write_text(text.getvalue())
            print(f"wrote {PROFILES / f'overhead-{name}.txt'}")


if __name__ == "__main__":
    asyncio.run(main())
