"""SMC answers straight to API messages: the read path's fast lane.

``convert.source_to_pb(smc.SourceServer.from_json(data))`` is the reference: the models
accept every documented tolerance (numbers as text, a lone object for a list, other ISO 8601
forms) and name the field of anything malformed.  On a page of ten sources that costs more
than the rest of the call together, so this module reads the shape SMC actually sends in one
pass and hands the values to the proto constructor as keyword arguments (nested dicts for
nested messages, built in C).  Anything off that shape raises :class:`_UnusualShapeError` and the
whole answer takes the reference path, so results, tolerances and errors are the
reference's by construction; ``tests/unit/core/test_from_wire.py`` holds the two equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from gateway._proto.smcgateway.v1 import resources_pb2 as pb
from gateway.core import convert
from gateway.smc import models as smc
from gateway.smc.wire import parse_timestamp

__all__ = ["find_job", "find_source", "job_page", "source_page"]

T = TypeVar("T")
_Wire = Mapping[str, Any]


class _UnusualShapeError(Exception):
    """The answer is not in the common shape: the reference path decides."""


def _by_folded_value(members: Mapping[Any, int]) -> dict[str, int]:
    # _to_enum matches exactly, else case-insensitively: one case-folded table does both.
    return {str(member.value).casefold(): number for member, number in members.items()}


_SOURCE_STATE = _by_folded_value(convert.SOURCE_STATE_TO_PB)
_JOB_STATUS = _by_folded_value(convert.JOB_STATUS_TO_PB)
_BUSINESS_STATUS = _by_folded_value(convert.BUSINESS_STATUS_TO_PB)
_TARGET_TYPE = _by_folded_value(convert.TARGET_TYPE_TO_PB)
_NET_MODE = {int(mode): number for mode, number in convert.NET_MODE_TO_PB.items()}


def _text_at(data: _Wire, key: str) -> str:
    value = data.get(key)
    if type(value) is str:
        return value
    if value is None:
        return ""
    raise _UnusualShapeError


def _int_at(data: _Wire, key: str) -> int:
    value = data.get(key)
    if type(value) is int:
        return value
    if value is None:
        return 0
    raise _UnusualShapeError


def _bool_at(data: _Wire, key: str, default: bool = False) -> bool:
    value = data.get(key)
    if value is True or value is False:
        return value
    if value is None:
        return default
    raise _UnusualShapeError


def _float(value: object) -> float:
    if type(value) is float and math.isfinite(value):
        return value
    if type(value) is int:
        return float(value)
    if value is None:
        return 0.0
    raise _UnusualShapeError


def _time(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise _UnusualShapeError
    try:
        return parse_timestamp(value)
    except ValueError:  # another ISO 8601 form: the reference reads those
        raise _UnusualShapeError from None


def _objects(data: _Wire, outer: str, inner: str) -> list[_Wire]:
    """``Outer.Inner[]`` when SMC sends it as documented; absent means empty."""
    wrapper = data.get(outer)
    if wrapper is None:
        return []
    if type(wrapper) is not dict:
        raise _UnusualShapeError
    items = wrapper.get(inner)
    if items is None:
        return []
    if type(items) is not list:
        raise _UnusualShapeError
    for item in items:
        if type(item) is not dict:
            raise _UnusualShapeError
    return items


def _object(data: _Wire, key: str) -> _Wire | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is not dict:
        raise _UnusualShapeError
    return value


def _tags(data: _Wire) -> list[dict[str, str]]:
    return [
        {"key": _text_at(t, "Key"), "value": _text_at(t, "Value")}
        for t in _objects(data, "Tags", "Tag")
    ]


def _enum(table: Mapping[str, int], raw: str) -> int:
    return table.get(raw.casefold(), 0) if raw else 0


def _put_time(fields: dict[str, Any], name: str, value: object) -> None:
    moment = _time(value)
    if moment is not None:
        # Whole seconds (SMC's precision) as a dict: built in C, unlike a datetime.
        fields[name] = {"seconds": int(moment.timestamp())}


def _disks(data: _Wire, disk: Callable[[_Wire], dict[str, Any]], fields: dict[str, Any]) -> None:
    # ``disks`` is set whenever SMC sent the object, even empty (as the reference sets it).
    found = _object(data, "Disks")
    if found is None:
        return
    disks: dict[str, Any] = {"data": [disk(d) for d in _objects(found, "Data", "Data")]}
    system = _object(found, "System")
    if system is not None:
        disks["system"] = disk(system)
    fields["disks"] = disks


# --- sources ------------------------------------------------------------------------------


def _source_part(p: _Wire) -> dict[str, Any]:
    return {
        "device": _text_at(p, "Device"),
        "path": _text_at(p, "Path"),
        "size_bytes": _int_at(p, "SizeBytes"),
        "can_block": _bool_at(p, "CanBlock"),
        "need": _bool_at(p, "Need"),
    }


def _source_disk(d: _Wire) -> dict[str, Any]:
    return {
        "offset": _int_at(d, "Offset"),
        "size": _int_at(d, "Size"),
        "parts": [
            {
                "path": _text_at(p, "Path"),
                "size_bytes": _int_at(p, "SizeBytes"),
                "can_block": _bool_at(p, "CanBlock"),
                "type": _text_at(p, "Type"),
            }
            for p in _objects(d, "Parts", "Part")
        ],
    }


def _source(s: _Wire) -> pb.SourceServer:
    source_id = _text_at(s, "SourceId")
    if not source_id:
        raise _UnusualShapeError  # required: the reference names it in its error
    state = _text_at(s, "State")
    fields: dict[str, Any] = {
        "source_id": source_id,
        "name": _text_at(s, "Name"),
        "description": _text_at(s, "Description"),
        "state": _enum(_SOURCE_STATE, state),
        "state_raw": state,
        "agent_version": _text_at(s, "AgentVersion"),
        "architecture": _text_at(s, "Architecture"),
        "platform": _text_at(s, "Platform"),
        "kernel_level": _int_at(s, "KernelLevel"),
        "heartbeat_rate": _int_at(s, "HeartbeatRate"),
        "job_id": _text_at(s, "JobId"),
        "replication_driver": _text_at(s, "ReplicationDriver"),
        "system_disk_size": _int_at(s, "SystemDiskSize"),
        "data_disks": [
            {
                "index": _int_at(d, "Index"),
                "path": _text_at(d, "Path"),
                "size": _int_at(d, "Size"),
                "parts": [_source_part(p) for p in _objects(d, "Parts", "Part")],
            }
            for d in _objects(s, "DataDisks", "DataDisk")
        ],
        "system_disk_parts": [
            _source_part(p) for p in _objects(s, "SystemDiskParts", "SystemDiskPart")
        ],
        "error_code": _text_at(s, "ErrorCode"),
        "status_info": _text_at(s, "StatusInfo"),
        "system_info": _text_at(s, "SystemInfo"),
        "resource_group_id": _text_at(s, "ResourceGroupId"),
        "workgroup_id": _text_at(s, "WorkgroupId"),
        "tags": _tags(s),
    }
    _put_time(fields, "creation_time", s.get("CreationTime"))
    _disks(s, _source_disk, fields)
    return pb.SourceServer(**fields)


# --- jobs ---------------------------------------------------------------------------------


def _job_part(p: _Wire) -> dict[str, Any]:
    return {
        "device": _text_at(p, "Device"),
        "size_bytes": _int_at(p, "SizeBytes"),
        "block": _bool_at(p, "Block"),
    }


def _job_disk(d: _Wire) -> dict[str, Any]:
    return {
        "disk_id": _text_at(d, "DiskId"),
        "size": _int_at(d, "Size"),
        "lvm": _bool_at(d, "LVM"),
        "parts": [
            {
                "path": _text_at(p, "Path"),
                "size_bytes": _int_at(p, "SizeBytes"),
                "block": _bool_at(p, "Block"),
            }
            for p in _objects(d, "Parts", "Part")
        ],
    }


def _job_run(r: _Wire) -> dict[str, Any]:
    run: dict[str, Any] = {"image_id": _text_at(r, "ImageId"), "type": _text_at(r, "Type")}
    _put_time(run, "start_time", r.get("StartTime"))
    _put_time(run, "end_time", r.get("EndTime"))
    return run


def _job(j: _Wire) -> pb.ReplicationJob:
    job_id = _text_at(j, "JobId")
    if not job_id:
        raise _UnusualShapeError  # required: the reference names it in its error
    status = _text_at(j, "Status")
    business = _text_at(j, "BusinessStatus")
    target = _text_at(j, "TargetType")
    net_mode = _int_at(j, "NetMode")
    fields: dict[str, Any] = {
        "job_id": job_id,
        "name": _text_at(j, "Name"),
        "description": _text_at(j, "Description"),
        "source_id": _text_at(j, "SourceId"),
        "region_id": _text_at(j, "RegionId"),
        "status": _enum(_JOB_STATUS, status),
        "status_raw": status,
        "business_status": _enum(_BUSINESS_STATUS, business),
        "business_status_raw": business,
        "progress": _float(j.get("Progress")),
        "error_code": _text_at(j, "ErrorCode"),
        "status_info": _text_at(j, "StatusInfo"),
        "target_type": _enum(_TARGET_TYPE, target),
        "target_type_raw": target,
        "net_mode": _NET_MODE.get(net_mode, 0) if j.get("NetMode") is not None else 0,
        "net_mode_raw": net_mode,
        "system_disk_size": _int_at(j, "SystemDiskSize"),
        "data_disks": [
            {
                "index": _int_at(d, "Index"),
                "size": _int_at(d, "Size"),
                "parts": [_job_part(p) for p in _objects(d, "Parts", "Part")],
            }
            for d in _objects(j, "DataDisks", "DataDisk")
        ],
        "system_disk_parts": [
            _job_part(p) for p in _objects(j, "SystemDiskParts", "SystemDiskPart")
        ],
        "image_name": _text_at(j, "ImageName"),
        "image_id": _text_at(j, "ImageId"),
        "instance_id": _text_at(j, "InstanceId"),
        "transition_instance_id": _text_at(j, "TransitionInstanceId"),
        "vpc_id": _text_at(j, "VpcId"),
        "vswitch_id": _text_at(j, "VSwitchId"),
        "replication_parameters": _text_at(j, "ReplicationParameters"),
        "frequency": _int_at(j, "Frequency"),
        "max_number_of_image_to_keep": _int_at(j, "MaxNumberOfImageToKeep"),
        "run_once": _bool_at(j, "RunOnce", default=True),
        "instance_type": _text_at(j, "InstanceType"),
        "instance_ram_role": _text_at(j, "InstanceRamRole"),
        "launch_template_id": _text_at(j, "LaunchTemplateId"),
        "launch_template_version": _text_at(j, "LaunchTemplateVersion"),
        "license_type": _text_at(j, "LicenseType"),
        "job_type": _int_at(j, "JobType"),
        "container_namespace": _text_at(j, "ContainerNamespace"),
        "container_repository": _text_at(j, "ContainerRepository"),
        "container_tag": _text_at(j, "ContainerTag"),
        "resource_group_id": _text_at(j, "ResourceGroupId"),
        "workgroup_id": _text_at(j, "WorkgroupId"),
        "tags": _tags(j),
        "replication_job_runs": [
            _job_run(r) for r in _objects(j, "ReplicationJobRuns", "ReplicationJobRun")
        ],
    }
    for name, key in _JOB_TIMES:
        _put_time(fields, name, j.get(key))
    _disks(j, _job_disk, fields)
    return pb.ReplicationJob(**fields)


_JOB_TIMES = (
    ("scheduled_start_time", "ScheduledStartTime"),
    ("start_time", "StartTime"),
    ("end_time", "EndTime"),
    ("creation_time", "CreationTime"),
    ("valid_time", "ValidTime"),
)


# --- whole answers ------------------------------------------------------------------------


def _fast(read: Callable[[], T], reference: Callable[[], T]) -> T:
    try:
        return read()
    except (_UnusualShapeError, ValueError, TypeError):
        # Off the common shape (or out of a field's range): the reference path's answer,
        # or its error naming the field.
        return reference()


def _page_header(data: _Wire) -> int:
    """``TotalCount``, after checking the header fields the reference requires."""
    if type(data) is not dict:
        raise _UnusualShapeError
    if not (_text_at(data, "RequestId") and type(data.get("PageNumber")) is int):
        raise _UnusualShapeError
    if type(data.get("PageSize")) is not int or type(data.get("TotalCount")) is not int:
        raise _UnusualShapeError
    total: int = data["TotalCount"]
    return total


def source_page(data: _Wire) -> tuple[list[pb.SourceServer], int]:
    """A DescribeSourceServers answer: its sources and ``TotalCount``."""

    def read() -> tuple[list[pb.SourceServer], int]:
        total = _page_header(data)
        return [_source(s) for s in _objects(data, "SourceServers", "SourceServer")], total

    def reference() -> tuple[list[pb.SourceServer], int]:
        answer = smc.DESCRIBE_SOURCE_SERVERS.parse(data)
        return [convert.source_to_pb(s) for s in answer.source_servers], answer.total_count

    return _fast(read, reference)


def job_page(data: _Wire) -> tuple[list[pb.ReplicationJob], int]:
    """A DescribeReplicationJobs answer: its jobs and ``TotalCount``."""

    def read() -> tuple[list[pb.ReplicationJob], int]:
        total = _page_header(data)
        return [_job(j) for j in _objects(data, "ReplicationJobs", "ReplicationJob")], total

    def reference() -> tuple[list[pb.ReplicationJob], int]:
        answer = smc.DESCRIBE_REPLICATION_JOBS.parse(data)
        return [convert.job_to_pb(j) for j in answer.replication_jobs], answer.total_count

    return _fast(read, reference)


def find_source(data: _Wire, source_id: str) -> pb.SourceServer | None:
    """The source ``source_id`` of a DescribeSourceServers answer, if listed."""
    found = [s for s in source_page(data)[0] if s.source_id == source_id]
    return found[0] if found else None


def find_job(data: _Wire, job_id: str) -> pb.ReplicationJob | None:
    """The job ``job_id`` of a DescribeReplicationJobs answer, if listed."""
    found = [j for j in job_page(data)[0] if j.job_id == job_id]
    return found[0] if found else None
