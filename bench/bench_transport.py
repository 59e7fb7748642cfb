"""HTTP client comparison behind the transport choice (gateway.smc.transport uses aiohttp).

Run from the repository root::

    .venv/bin/python bench/bench_transport.py [--requests 3000] [--concurrency 16] [--rounds 3]

A tiny aiohttp.web upstream runs in a SUBPROCESS on 127.0.0.1 (free port) and answers
``POST /`` with a fixed ~1 KB JSON body, so the server's CPU is not charged to the
client. In this process, for each client, a warm-up of ``--warmup`` requests is followed
by ``--requests`` POSTs (an ~800-byte form body, like a signed SMC request) issued by
``--concurrency`` workers over keep-alive connections. Measured per round:

* client CPU per request: ``time.process_time()`` delta / requests (this process only);
* wall throughput: requests / ``time.perf_counter()`` delta.

Clients: (a) aiohttp ClientSession + keep-alive TCPConnector, (b) the gateway's own
``gateway.smc.http1.Http1Transport`` (the SMC client's default), (c) httpx.AsyncClient as
installed (httpcore transport), (d) httpx.AsyncClient over ``httpx_aiohttp.AiohttpTransport``,
(e) aiohttp on a uvloop event loop. Rounds are interleaved (a b c d e a b c d e ...); medians
and ratios to (a) are reported. Writes ``bench/out/bench_transport.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"

RESPONSE = json.dumps(
    {
        "RequestId": "455059DD-F146-4F5A-93F0-74FD23470AE0",
        "ReplicationJobs": {
            "ReplicationJob": [
                {
                    "JobId": f"j-bp1fnx5y3djc4cop{i:04d}",
                    "Name": f"job-{i}",
                    "Status": "Running",
                    "BusinessStatus": "Syncing",
                    "Progress": 55.45,
                    "RegionId": "cn-hangzhou",
                }
                for i in range(6)
            ]
        },
        "TotalCount": 6,
        "PageNumber": 1,
        "PageSize": 10,
    }
).encode()
REQUEST_BODY = (
    "AccessKeyId=LTAI5tAbCdEfGhIjKlMnOpQr&Action=CreateReplicationJob&" + "x" * 700
).encode()
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# --- upstream (runs in the subprocess) -------------------------------------------------


def serve() -> None:
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=RESPONSE, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        print(port, flush=True)
        # Stop when the parent closes our stdin.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


# --- clients ---------------------------------------------------------------------------

PostFn = Callable[[], Awaitable[int]]
ClientFactory = Callable[[str], Coroutine[Any, Any, tuple[PostFn, Callable[[], Awaitable[None]]]]]


async def aiohttp_client(url: str) -> tuple[PostFn, Callable[[], Awaitable[None]]]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=30)
    session = aiohttp.ClientSession(connector=connector, headers=FORM)

    async def post() -> int:
        async with session.post(url, data=REQUEST_BODY) as response:
            await response.read()
            return response.status

    return post, session.close


async def httpx_client(url: str) -> tuple[PostFn, Callable[[], Awaitable[None]]]:
    import httpx

    client = httpx.AsyncClient(headers=FORM)

    async def post() -> int:
        response = await client.post(url, content=REQUEST_BODY)
        return response.status_code

    return post, client.aclose


async def httpx_aiohttp_client(url: str) -> tuple[PostFn, Callable[[], Awaitable[None]]]:
    import httpx
    from httpx_aiohttp import AiohttpTransport

    client = httpx.AsyncClient(headers=FORM, transport=AiohttpTransport())

    async def post() -> int:
        response = await client.post(url, content=REQUEST_BODY)
        return response.status_code

    return post, client.aclose


async def http1_client(url: str) -> tuple[PostFn, Callable[[], Awaitable[None]]]:
    from gateway.smc.http1 import Http1Transport

    transport = Http1Transport()
    body = REQUEST_BODY.decode("ascii")

    async def post() -> int:
        return (await transport.post_form(url, body, 30.0)).status

    return post, transport.close


CLIENTS: dict[str, tuple[ClientFactory, bool]] = {
    # name: (factory, run on uvloop)
    "aiohttp": (aiohttp_client, False),
    "gateway Http1Transport": (http1_client, False),
    "httpx": (httpx_client, False),
    "httpx+httpx_aiohttp": (httpx_aiohttp_client, False),
    "aiohttp+uvloop": (aiohttp_client, True),
}


async def drive(post: PostFn, requests: int, concurrency: int) -> None:
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            status = await post()
            if status != 200:
                raise RuntimeError(f"upstream answered {status}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def one_round(
    factory: ClientFactory, url: str, requests: int, warmup: int, concurrency: int
) -> dict[str, float]:
    post, close = await factory(url)
    try:
        await drive(post, warmup, concurrency)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await drive(post, requests, concurrency)
        cpu1, wall1 = time.process_time(), time.perf_counter()
    finally:
        await close()
    return {
        "cpu_ms_per_request": (cpu1 - cpu0) / requests * 1e3,
        "requests_per_second": requests / (wall1 - wall0),
    }


def run_round(name: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    factory, use_uvloop = CLIENTS[name]
    coro = one_round(factory, url, args.requests, args.warmup, args.concurrency)
    if use_uvloop:
        import uvloop

        return uvloop.run(coro)
    return asyncio.run(coro)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "nproc": os.cpu_count(), "python": platform.python_version()}


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("aiohttp", "httpx", "httpcore", "httpx-aiohttp", "uvloop"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "absent"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="HTTP client CPU cost per request")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", default=",".join(CLIENTS), help="comma-separated subset")
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0

    names = [n for n in args.clients.split(",") if n]
    if "aiohttp" not in names:
        parser.error("the 'aiohttp' client is the baseline of the ratios")
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}/"
        rounds: dict[str, list[dict[str, float]]] = {n: [] for n in names}
        started = time.perf_counter()
        for r in range(args.rounds):
            for name in names:  # interleaved: drift hits every client alike
                result = run_round(name, url, args)
                rounds[name].append(result)
                print(
                    f"round {r + 1} {name:22} {result['cpu_ms_per_request']:6.3f} ms CPU/req "
                    f"{result['requests_per_second']:8.0f} req/s",
                    flush=True,
                )
        elapsed = time.perf_counter() - started
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    summary: dict[str, dict[str, float]] = {}
    for name, results in rounds.items():
        summary[name] = {
            "cpu_ms_per_request": statistics.median(x["cpu_ms_per_request"] for x in results),
            "requests_per_second": statistics.median(x["requests_per_second"] for x in results),
        }
    base = summary["aiohttp"]
    for s in summary.values():
        s["cpu_ratio_to_aiohttp"] = s["cpu_ms_per_request"] / base["cpu_ms_per_request"]
        s["rps_ratio_to_aiohttp"] = s["requests_per_second"] / base["requests_per_second"]

    print()
    print(
        f"{args.requests} requests x {args.rounds} rounds, concurrency {args.concurrency}, "
        f"warm-up {args.warmup}; medians ({elapsed:.0f} s)"
    )
    print(f"{'client':22} {'CPU ms/req':>10} {'x aiohttp':>9} {'req/s':>8} {'x aiohttp':>9}")
    for name, s in summary.items():
        print(
            f"{name:22} {s['cpu_ms_per_request']:10.3f} {s['cpu_ratio_to_aiohttp']:9.2f} "
            f"{s['requests_per_second']:8.0f} {s['rps_ratio_to_aiohttp']:9.2f}"
        )

    OUT.mkdir(exist_ok=True)
    out = OUT / "bench_transport.json"
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "versions": versions(),
                "requests": args.requests,
                "warmup": args.warmup,
                "concurrency": args.concurrency,
                "rounds": rounds,
                "median": summary,
                "response_bytes": len(RESPONSE),
                "request_body_bytes": len(REQUEST_BODY),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
