"""SMC's RPC protocol for the emulator: decode the request, check the common parameters,
and the table of operations (parse → backend → serialize).

Nothing here knows aiohttp; :mod:`gateway.emulator.server` feeds it the raw query string and
form body and turns the outcome into an HTTP answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl

from gateway.emulator import errors
from gateway.emulator.backend import AccountBackend
from gateway.emulator.models import (
    CreateJobRequest,
    DescribeJobsRequest,
    DescribeSourcesRequest,
    ModifyJobRequest,
)
from gateway.emulator.params import ParamReader
from gateway.emulator.parsing import (
    DeleteSourceRequest,
    ModifySourceRequest,
    parse_create_job,
    parse_delete_source,
    parse_describe_jobs,
    parse_describe_sources,
    parse_job_id,
    parse_modify_job,
    parse_modify_source,
)
from gateway.emulator.responses import JsonObject, job_to_wire, page_to_wire, source_to_wire
from gateway.smc.wire import API_VERSION

__all__ = ["MAX_PARAMETERS", "OPERATIONS", "Operation", "check_common", "decode_params"]

MAX_PARAMETERS = 1000

_Req = TypeVar("_Req")


@dataclass(frozen=True)
class Operation(Generic[_Req]):
    """One SMC action: how to read its request and how to answer it."""

    parse: Callable[[ParamReader], _Req]
    run: Callable[[AccountBackend, _Req], JsonObject]


def decode_params(raw_query: str, body: bytes) -> dict[str, str]:
    """Query string and urlencoded form body → one ``name → value`` map (decoded).

    Invalid UTF-8, too many parameters and a name given twice (in either place) are
    ``InvalidParameter``.
    """
    try:
        body_text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.InvalidParameterError("The request body is not valid UTF-8.") from None
    params: dict[str, str] = {}
    for source in (raw_query, body_text):
        if not source:
            continue
        try:
            pairs = parse_qsl(
                source,
                keep_blank_values=True,
                encoding="utf-8",
                errors="strict",
                max_num_fields=MAX_PARAMETERS,
            )
        except UnicodeDecodeError:
            raise errors.InvalidParameterError(
                "The request parameters are not valid UTF-8."
            ) from None
        except ValueError:
            raise errors.InvalidParameterError(
                f"The request has more than {MAX_PARAMETERS} parameters."
            ) from None
        for name, value in pairs:
            if name in params:
                raise errors.InvalidParameterError.named(name, "It is given more than once.")
            params[name] = value
    return params


def check_common(params: Mapping[str, str]) -> str:
    """Validate Format, Action and Version; return the action."""
    fmt = params.get("Format")
    if fmt is not None and fmt.lower() != "json":
        # XML answers are not implemented: only JSON is accepted.
        raise errors.InvalidParameterFormatError()
    action = params.get("Action")
    if not action:
        raise errors.MissingParameterError.named("Action")
    version = params.get("Version")
    if not version:
        raise errors.MissingParameterError.named("Version")
    if action not in OPERATIONS:
        raise errors.InvalidApiNotFoundError()
    if version != API_VERSION:
        raise errors.NoSuchVersionError()
    owner = params.get("OwnerId")
    if owner is not None and owner != "":
        ParamReader(params).integer("OwnerId", 0)
    return action


# --- the 9 operations -------------------------------------------------------------------------


def _describe_sources(b: AccountBackend, req: DescribeSourcesRequest) -> JsonObject:
    items, page = b.describe_source_servers(req)
    body = page_to_wire(page)
    body["SourceServers"] = {"SourceServer": [source_to_wire(s) for s in items]}
    return body


def _modify_source(b: AccountBackend, req: ModifySourceRequest) -> JsonObject:
    b.modify_source_server_attribute(req.source_id, req.name, req.description)
    return {}


def _delete_source(b: AccountBackend, req: DeleteSourceRequest) -> JsonObject:
    b.delete_source_server(req.source_id, req.force)
    return {}


def _create_job(b: AccountBackend, req: CreateJobRequest) -> JsonObject:
    return {"JobId": b.create_replication_job(req)}


def _describe_jobs(b: AccountBackend, req: DescribeJobsRequest) -> JsonObject:
    items, page = b.describe_replication_jobs(req)
    body = page_to_wire(page)
    body["ReplicationJobs"] = {"ReplicationJob": [job_to_wire(j) for j in items]}
    return body


def _modify_job(b: AccountBackend, req: ModifyJobRequest) -> JsonObject:
    b.modify_replication_job_attribute(req)
    return {}


def _delete_job(b: AccountBackend, job_id: str) -> JsonObject:
    b.delete_replication_job(job_id)
    return {}


def _start_job(b: AccountBackend, job_id: str) -> JsonObject:
    b.start_replication_job(job_id)
    return {}


def _stop_job(b: AccountBackend, job_id: str) -> JsonObject:
    b.stop_replication_job(job_id)
    return {}


OPERATIONS: dict[str, Operation[Any]] = {
    "DescribeSourceServers": Operation(parse_describe_sources, _describe_sources),
    "ModifySourceServerAttribute": Operation(parse_modify_source, _modify_source),
    "DeleteSourceServer": Operation(parse_delete_source, _delete_source),
    "CreateReplicationJob": Operation(parse_create_job, _create_job),
    "DescribeReplicationJobs": Operation(parse_describe_jobs, _describe_jobs),
    "ModifyReplicationJobAttribute": Operation(parse_modify_job, _modify_job),
    "DeleteReplicationJob": Operation(parse_job_id, _delete_job),
    "StartReplicationJob": Operation(parse_job_id, _start_job),
    "StopReplicationJob": Operation(parse_job_id, _stop_job),
}
