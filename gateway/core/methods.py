"""The API's methods, read once from the proto descriptors.

Both front ends are built from this table: the gRPC server registers a handler per
method, the REST facade a route per ``google.api.http`` annotation, and the core
dispatches by name.  Nothing here is written twice by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from google.api import annotations_pb2
from google.protobuf import descriptor, message_factory
from google.protobuf.message import Message

from gateway._proto.smcgateway.v1 import (
    replication_job_service_pb2,
    source_server_service_pb2,
)

__all__ = ["METHODS", "Method", "method"]

_READ_PREFIXES = ("List", "Get", "Watch")


@dataclass(frozen=True, slots=True)
class Method:
    """One RPC of the API."""

    service: str  # "smcgateway.v1.ReplicationJobService"
    name: str  # "CreateReplicationJob"
    request_type: type[Message]
    response_type: type[Message]
    server_streaming: bool
    http_method: str  # "GET", "POST", "PATCH", "DELETE"
    http_path: str  # "/v1/jobs/{job_id}:start"
    http_body: str  # "*" or "" (no body)

    @property
    def full_name(self) -> str:
        """The gRPC path, ``/package.Service/Method``."""
        return f"/{self.service}/{self.name}"

    @property
    def mutating(self) -> bool:
        """Writes take idempotency keys and the write rate budget."""
        return not self.name.startswith(_READ_PREFIXES)

    @property
    def core_name(self) -> str:
        """The core's method name: ``CreateReplicationJob`` → ``create_replication_job``."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).lower()


def _http_rule(method: descriptor.MethodDescriptor) -> tuple[str, str, str]:
    rule = method.GetOptions().Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern")
    if verb is None or verb == "custom":
        raise ValueError(f"{method.full_name}: no google.api.http verb")
    return verb.upper(), getattr(rule, verb), rule.body


def _load() -> tuple[Method, ...]:
    methods = []
    for module in (source_server_service_pb2, replication_job_service_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for rpc in service.methods:
                verb, path, body = _http_rule(rpc)
                methods.append(
                    Method(
                        service=service.full_name,
                        name=rpc.name,
                        request_type=message_factory.GetMessageClass(rpc.input_type),
                        response_type=message_factory.GetMessageClass(rpc.output_type),
                        server_streaming=rpc.server_streaming,
                        http_method=verb,
                        http_path=path,
                        http_body=body,
                    )
                )
    return tuple(methods)


METHODS: tuple[Method, ...] = _load()
_BY_NAME: Mapping[str, Method] = MappingProxyType({m.name: m for m in METHODS})


def method(name: str) -> Method:
    """The method called ``name`` (e.g. ``"GetReplicationJob"``); ``KeyError`` if none."""
    return _BY_NAME[name]
