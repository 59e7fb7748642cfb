"""A minimal OTLP/HTTP trace receiver for benchmarks: accepts exports, counts spans.

    python bench/otlp_sink.py   # prints "otlp sink on http://127.0.0.1:PORT"

``GET /count`` answers the number of spans received so far.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2


async def main() -> None:
    spans = 0

    async def export(request: web.Request) -> web.Response:
        nonlocal spans
        message = trace_service_pb2.ExportTraceServiceRequest.FromString(await request.read())
        spans += sum(len(s.spans) for r in message.resource_spans for s in r.scope_spans)
        reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=reply, content_type="application/x-protobuf")

    async def count(_: web.Request) -> web.Response:
        return web.json_response({"spans": spans})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/traces", export)
    app.router.add_get("/count", count)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"otlp sink on http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
