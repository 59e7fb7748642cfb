"""The bare pass-through the gateway is measured against: same framework, same HTTP client.

    python bench/passthrough.py rest --port 8081 --endpoint http://127.0.0.1:9100 --ak AK --secret S
    python bench/passthrough.py grpc --port 50052 --endpoint ... --ak ... --secret ...

A REST route (FastAPI on uvicorn, configured as ``smc-gateway serve`` configures it) or a
gRPC method (grpc.aio) that signs the one SMC request it needs and sends it with the same
pooled aiohttp transport, then answers with SMC's bytes (REST) or an empty response (gRPC).
No authentication, validation, rate limits, idempotency, conversion, tracing or logs: the
cost of those is what the benchmark measures.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
import uuid
from typing import Any

import grpc
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway.smc.client import build_request_body
from gateway.smc.credentials import Credentials
from gateway.smc.transport import AiohttpTransport
from gateway.smc.wire import TIMESTAMP_FORMAT


class Upstream:
    """Sign and send one SMC call; return SMC's body."""

    def __init__(self, endpoint: str, credentials: Credentials) -> None:
        self.url = endpoint.rstrip("/") + "/"
        self.credentials = credentials
        self.transport = AiohttpTransport()

    async def call(self, action: str, params: dict[str, str]) -> tuple[int, bytes]:
        body = build_request_body(
            action,
            params,
            self.credentials,
            uuid.uuid4().hex,
            time.strftime(TIMESTAMP_FORMAT, time.gmtime()),
        )
        answer = await self.transport.post_form(self.url, body, 30.0)
        return answer.status, answer.body


def rest_app(upstream: Upstream) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/v1/sources")
    async def list_sources(request: Request) -> Response:
        size = request.query_params.get("pageSize", "10")
        status, body = await upstream.call(
            "DescribeSourceServers", {"PageSize": size, "PageNumber": "1"}
        )
        return Response(body, status_code=status, media_type="application/json")

    @app.get("/v1/jobs/{job_id}")
    async def get_job(job_id: str) -> Response:
        status, body = await upstream.call("DescribeReplicationJobs", {"JobId.1": job_id})
        return Response(body, status_code=status, media_type="application/json")

    @app.post("/v1/jobs")
    async def create_job(request: Request) -> Response:
        fields = await request.json()
        params = {
            "RegionId": "cn-hangzhou",
            "SourceId": str(fields.get("sourceId", "")),
            "SystemDiskSize": str(fields.get("systemDiskSize", 40)),
            "ClientToken": request.headers.get("idempotency-key", uuid.uuid4().hex),
        }
        # SMC's status passes through, so refused creates count alike on both sides.
        status, body = await upstream.call("CreateReplicationJob", params)
        return Response(body, status_code=status, media_type="application/json")

    return app


async def serve_grpc(upstream: Upstream, port: int) -> None:
    async def list_sources(
        request: sources.ListSourceServersRequest, _: object
    ) -> sources.ListSourceServersResponse:
        await upstream.call(
            "DescribeSourceServers", {"PageSize": str(request.page_size or 10), "PageNumber": "1"}
        )
        return sources.ListSourceServersResponse()

    async def get_job(
        request: jobs.GetReplicationJobRequest, _: object
    ) -> jobs.GetReplicationJobResponse:
        await upstream.call("DescribeReplicationJobs", {"JobId.1": request.job_id})
        return jobs.GetReplicationJobResponse()

    handlers: dict[str, dict[str, grpc.RpcMethodHandler[Any, Any]]] = {
        "smcgateway.v1.SourceServerService": {
            "ListSourceServers": grpc.unary_unary_rpc_method_handler(
                list_sources,
                request_deserializer=sources.ListSourceServersRequest.FromString,
                response_serializer=sources.ListSourceServersResponse.SerializeToString,
            )
        },
        "smcgateway.v1.ReplicationJobService": {
            "GetReplicationJob": grpc.unary_unary_rpc_method_handler(
                get_job,
                request_deserializer=jobs.GetReplicationJobRequest.FromString,
                response_serializer=jobs.GetReplicationJobResponse.SerializeToString,
            )
        },
    }
    server = grpc.aio.server()
    for service, methods in handlers.items():
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, methods),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print(f"passthrough grpc on 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["rest", "grpc"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--ak", required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    upstream = Upstream(args.endpoint, Credentials(args.ak, args.secret))
    if args.kind == "grpc":
        asyncio.run(serve_grpc(upstream, args.port))  # the loop ``serve`` runs on
        return
    print(f"passthrough rest on 127.0.0.1:{args.port}", flush=True)
    uvicorn.run(
        rest_app(upstream),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        loop="asyncio",  # as ``serve`` runs by default (httptools parses HTTP in both)
        http="httptools",
    )


if __name__ == "__main__":
    main()
