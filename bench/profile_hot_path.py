"""Where the time of one gateway call goes: cProfile of the REST and the core paths.

    .venv/bin/python bench/profile_hot_path.py   # writes bench/profiles/*.txt

In one process: the emulator (12 sources), the core and the REST app (driven in-process by
httpx's ASGI transport), so the profile shows every layer of a ListSourceServers(10) call,
the emulator's share included (it is listed separately in the tables).
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import pstats
import tempfile
import time
from pathlib import Path

import httpx

from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway.core.context import CallContext
from gateway.core.gateway import Gateway, RateDefaults
from gateway.core.tenants import Rate, Tenant, TenantDirectory, api_key_digest
from gateway.emulator import Account, Emulator, EmulatorConfig
from gateway.rest.app import build_rest_app
from gateway.smc.client import SmcClient
from gateway.smc.credentials import Credentials

OUT = Path(__file__).resolve().parent / "profiles"
CALLS = 300


def _table(profile: cProfile.Profile, title: str, per_call_ms: float) -> str:
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    text.write(f"{title}: {per_call_ms:.2f} ms per call under cProfile ({CALLS} calls)\n\n")
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)
    return text.getvalue()


async def main() -> None:
    seed = {
        "accounts": {
            "*": {
                "sources": [
                    {"Name": f"b-{i}", "DataDisks": [{"Index": 1, "Size": 100, "Path": "/d"}]}
                    for i in range(12)
                ]
            }
        }
    }
    seed_file = Path(tempfile.mkdtemp()) / "seed.json"
    seed_file.write_text(json.dumps(seed))
    emulator = Emulator(EmulatorConfig(port=0, accounts=[Account("AK", "S")], seed_file=seed_file))
    await emulator.start()
    tenant = Tenant(
        id="t",
        api_key_sha256=frozenset({api_key_digest("k")}),
        credentials=Credentials("AK", "S"),
        region_id="cn-hangzhou",
    )
    core = Gateway(
        client=SmcClient(emulator.url),
        tenants=TenantDirectory([tenant]),
        rates=RateDefaults(read=Rate(1e9, 10**9), upstream=Rate(1e9, 10**9)),
    )
    OUT.mkdir(exist_ok=True)
    request = sources.ListSourceServersRequest(page_size=10)

    async def core_call() -> None:
        ctx = CallContext(frontend="grpc", method="ListSourceServers", api_key="k")
        await core.call("ListSourceServers", ctx, request)

    app = build_rest_app(core)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:

        async def rest_call() -> None:
            answer = await c.get("/v1/sources?pageSize=10", headers={"Authorization": "Bearer k"})
            assert answer.status_code == 200

        for name, call in (("core", core_call), ("rest", rest_call)):
            for _ in range(30):
                await call()
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            for _ in range(CALLS):
                await call()
            profile.disable()
            per_call = (time.perf_counter() - started) / CALLS * 1000
            path = OUT / f"{name}-list-sources.txt"
            path.write_text(_table(profile, f"{name} ListSourceServers(10)", per_call))
            print(f"wrote {path} ({per_call:.2f} ms per call under cProfile)")
    await core.close()
    await emulator.stop()


if __name__ == "__main__":
    asyncio.run(main())
