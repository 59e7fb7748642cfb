"""SMC answers straight to API messages: the read path's fast lane.

``convert.source_to_pb(smc.SourceServer.from_json(data))`` is the reference: the models
accept every documented tolerance (numbers as text, a lone object for a list, other ISO 8601
forms) and name the field of anything malformed.  On a page of ten sources that costs more
than the rest of the call together, so this module reads the shape SMC actually sends in one
pass and hands the values to the proto constructor as keyword arguments (nested dicts for
nested messages, a whole page in one call, built in C).  Plain strings and integers go to
the constructor as SMC sent them: it refuses any other kind (``TypeError``) or an integer
out of the field's range (``ValueError``).  Values the reader interprets itself (ids,
enums, flags, times, lists) are checked here.  Anything off that shape raises
:class:`_UnusualShapeError`, ``TypeError`` or ``ValueError`` and the whole answer takes
the reference path, so results, tolerances and errors are the reference's by construction;
``tests/unit/core/test_from_wire.py`` holds the two equal.

With a :class:`Conversions`, each resource's message is kept under the exact bytes of SMC's
object for it (:mod:`gateway.core.memo`): a resource SMC answers unchanged is not read again,
only parsed into the answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Generic, TypedDict, TypeVar, cast

import msgspec
from google.protobuf.message import Message

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs_pb2
from gateway._proto.smcgateway.v1 import resources_pb2 as pb
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources_pb2
from gateway.core import convert
from gateway.core.memo import Memo
from gateway.protowire import field
from gateway.smc import models as smc
from gateway.smc.wire import parse_timestamp

__all__ = [
    "JOB_PAGE",
    "SOURCE_PAGE",
    "Conversions",
    "find_job",
    "find_source",
    "job_page",
    "source_page",
]

T = TypeVar("T")
M = TypeVar("M", bound=Message)
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


def _objects(data: _Wire, outer: str, inner: str, *, raw: bool = False) -> list[Any]:
    """``Outer.Inner[]`` when SMC sends it as documented; absent means empty.  With
    ``raw``, an item may also be its raw JSON (:data:`SOURCE_PAGE`)."""
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
        if type(item) is not dict and not (raw and type(item) is msgspec.Raw):
            raise _UnusualShapeError
    return items


def _object(data: _Wire, key: str) -> _Wire | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is not dict:
        raise _UnusualShapeError
    return value


def _tags(data: _Wire) -> list[dict[str, Any]]:
    return [{"key": t.get("Key"), "value": t.get("Value")} for t in _objects(data, "Tags", "Tag")]


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
        "device": p.get("Device"),
        "path": p.get("Path"),
        "size_bytes": p.get("SizeBytes"),
        "can_block": _bool_at(p, "CanBlock"),
        "need": _bool_at(p, "Need"),
    }


def _source_disk(d: _Wire) -> dict[str, Any]:
    return {
        "offset": d.get("Offset"),
        "size": d.get("Size"),
        "parts": [
            {
                "path": p.get("Path"),
                "size_bytes": p.get("SizeBytes"),
                "can_block": _bool_at(p, "CanBlock"),
                "type": p.get("Type"),
            }
            for p in _objects(d, "Parts", "Part")
        ],
    }


def _source(s: _Wire) -> dict[str, Any]:
    source_id = _text_at(s, "SourceId")
    if not source_id:
        raise _UnusualShapeError  # required: the reference names it in its error
    state = _text_at(s, "State")
    fields: dict[str, Any] = {
        "source_id": source_id,
        "name": s.get("Name"),
        "description": s.get("Description"),
        "state": _enum(_SOURCE_STATE, state),
        "state_raw": state,
        "agent_version": s.get("AgentVersion"),
        "architecture": s.get("Architecture"),
        "platform": s.get("Platform"),
        "kernel_level": s.get("KernelLevel"),
        "heartbeat_rate": s.get("HeartbeatRate"),
        "job_id": s.get("JobId"),
        "replication_driver": s.get("ReplicationDriver"),
        "system_disk_size": s.get("SystemDiskSize"),
        "data_disks": [
            {
                "index": d.get("Index"),
                "path": d.get("Path"),
                "size": d.get("Size"),
                "parts": [_source_part(p) for p in _objects(d, "Parts", "Part")],
            }
            for d in _objects(s, "DataDisks", "DataDisk")
        ],
        "system_disk_parts": [
            _source_part(p) for p in _objects(s, "SystemDiskParts", "SystemDiskPart")
        ],
        "error_code": s.get("ErrorCode"),
        "status_info": s.get("StatusInfo"),
        "system_info": s.get("SystemInfo"),
        "resource_group_id": s.get("ResourceGroupId"),
        "workgroup_id": s.get("WorkgroupId"),
        "tags": _tags(s),
    }
    _put_time(fields, "creation_time", s.get("CreationTime"))
    _disks(s, _source_disk, fields)
    return fields


# --- jobs ---------------------------------------------------------------------------------


def _job_part(p: _Wire) -> dict[str, Any]:
    return {
        "device": p.get("Device"),
        "size_bytes": p.get("SizeBytes"),
        "block": _bool_at(p, "Block"),
    }


def _job_disk(d: _Wire) -> dict[str, Any]:
    return {
        "disk_id": d.get("DiskId"),
        "size": d.get("Size"),
        "lvm": _bool_at(d, "LVM"),
        "parts": [
            {
                "path": p.get("Path"),
                "size_bytes": p.get("SizeBytes"),
                "block": _bool_at(p, "Block"),
            }
            for p in _objects(d, "Parts", "Part")
        ],
    }


def _job_run(r: _Wire) -> dict[str, Any]:
    run: dict[str, Any] = {"image_id": r.get("ImageId"), "type": r.get("Type")}
    _put_time(run, "start_time", r.get("StartTime"))
    _put_time(run, "end_time", r.get("EndTime"))
    return run


def _job(j: _Wire) -> dict[str, Any]:
    job_id = _text_at(j, "JobId")
    if not job_id:
        raise _UnusualShapeError  # required: the reference names it in its error
    status = _text_at(j, "Status")
    business = _text_at(j, "BusinessStatus")
    target = _text_at(j, "TargetType")
    net_mode = _int_at(j, "NetMode")
    fields: dict[str, Any] = {
        "job_id": job_id,
        "name": j.get("Name"),
        "description": j.get("Description"),
        "source_id": j.get("SourceId"),
        "region_id": j.get("RegionId"),
        "status": _enum(_JOB_STATUS, status),
        "status_raw": status,
        "business_status": _enum(_BUSINESS_STATUS, business),
        "business_status_raw": business,
        "progress": _float(j.get("Progress")),
        "error_code": j.get("ErrorCode"),
        "status_info": j.get("StatusInfo"),
        "target_type": _enum(_TARGET_TYPE, target),
        "target_type_raw": target,
        "net_mode": _NET_MODE.get(net_mode, 0) if j.get("NetMode") is not None else 0,
        "net_mode_raw": net_mode,
        "system_disk_size": j.get("SystemDiskSize"),
        "data_disks": [
            {
                "index": d.get("Index"),
                "size": d.get("Size"),
                "parts": [_job_part(p) for p in _objects(d, "Parts", "Part")],
            }
            for d in _objects(j, "DataDisks", "DataDisk")
        ],
        "system_disk_parts": [
            _job_part(p) for p in _objects(j, "SystemDiskParts", "SystemDiskPart")
        ],
        "image_name": j.get("ImageName"),
        "image_id": j.get("ImageId"),
        "instance_id": j.get("InstanceId"),
        "transition_instance_id": j.get("TransitionInstanceId"),
        "vpc_id": j.get("VpcId"),
        "vswitch_id": j.get("VSwitchId"),
        "replication_parameters": j.get("ReplicationParameters"),
        "frequency": j.get("Frequency"),
        "max_number_of_image_to_keep": j.get("MaxNumberOfImageToKeep"),
        "run_once": _bool_at(j, "RunOnce", default=True),
        "instance_type": j.get("InstanceType"),
        "instance_ram_role": j.get("InstanceRamRole"),
        "launch_template_id": j.get("LaunchTemplateId"),
        "launch_template_version": j.get("LaunchTemplateVersion"),
        "license_type": j.get("LicenseType"),
        "job_type": j.get("JobType"),
        "container_namespace": j.get("ContainerNamespace"),
        "container_repository": j.get("ContainerRepository"),
        "container_tag": j.get("ContainerTag"),
        "resource_group_id": j.get("ResourceGroupId"),
        "workgroup_id": j.get("WorkgroupId"),
        "tags": _tags(j),
        "replication_job_runs": [
            _job_run(r) for r in _objects(j, "ReplicationJobRuns", "ReplicationJobRun")
        ],
    }
    for name, key in _JOB_TIMES:
        _put_time(fields, name, j.get(key))
    _disks(j, _job_disk, fields)
    return fields


_JOB_TIMES = (
    ("scheduled_start_time", "ScheduledStartTime"),
    ("start_time", "StartTime"),
    ("end_time", "EndTime"),
    ("creation_time", "CreationTime"),
    ("valid_time", "ValidTime"),
)


# --- whole answers ------------------------------------------------------------------------


class Conversions:
    """SMC's sources and jobs read into messages, kept for answers that repeat them.

    Each is kept as the bytes of its field in a page message (tag, length, message): a page
    of kept resources is then one parse of their concatenation, in C, instead of a copy of
    each message into the page.
    """

    def __init__(self, entries: int) -> None:
        self.sources: Memo[bytes] = Memo(entries)
        self.jobs: Memo[bytes] = Memo(entries)


# The key: SMC's object in MessagePack, a few µs for a source.  It tells every JSON value
# from every other (NaN and infinities too, which only Python's reader takes, and which
# JSON would write back as null), so equal keys are equal objects and equal results.
_KEY = msgspec.msgpack.Encoder()


class _Page(Generic[M]):
    """How a page message is built from SMC's objects for its repeated field ``name``."""

    def __init__(
        self, page_type: type[M], name: str, read: Callable[[_Wire], dict[str, Any]]
    ) -> None:
        number = page_type.DESCRIPTOR.fields_by_name[name].number
        self.page_type, self.field, self.read = page_type, name, read
        self.tag = number << 3 | 2  # wire type 2: length-delimited
        if self.tag > 0x7F:
            raise ValueError(f"{page_type.__name__}.{name}: field number above 15")

    def build(self, items: list[Any], total: int, memo: Memo[bytes] | None) -> M:
        """The page of ``items`` (objects, or their raw JSON); with ``memo``, each object is
        read once, then taken from it."""
        if memo is None or not memo.capacity:
            return self._fresh(items, total)
        keys = [_key(item) for item in items]
        entries = [memo.get(key) if key is not None else None for key in keys]
        missing = [i for i, entry in enumerate(entries) if entry is None]
        if missing:
            # Read together: one constructor call builds them all in C, as without a memo.
            fresh = self._fresh([items[i] for i in missing], total)
            for i, element in zip(missing, getattr(fresh, self.field), strict=True):
                entries[i] = entry = field(self.tag, element.SerializeToString())
                key = keys[i]
                if key is not None:
                    memo.put(key, entry)
            if len(missing) == len(items):
                return fresh
        page = self.page_type(total_size=total)
        page.MergeFromString(b"".join(cast(list[bytes], entries)))
        return page

    def _fresh(self, items: list[Any], total: int) -> M:
        """The page of ``items``, all read now (raw JSON decoded in one call)."""
        if items and all(type(item) is msgspec.Raw for item in items):
            items = msgspec.json.decode(b"[" + b",".join(bytes(i) for i in items) + b"]")
        else:
            items = _decoded_items(items)
        for item in items:
            if type(item) is not dict:
                raise _UnusualShapeError
        fields: dict[str, Any] = {self.field: [self.read(item) for item in items]}
        return self.page_type(total_size=total, **fields)


def _key(item: Any) -> bytes | None:
    """Raw JSON is its own key.  A decoded object's key is its MessagePack, which begins
    with a map's marker where JSON text begins with "{": the two never meet."""
    if type(item) is msgspec.Raw:
        return bytes(item)
    try:
        return _KEY.encode(item)
    except OverflowError:  # an integer beyond 64 bits: no key (and refused by the reader)
        return None


def _decoded(data: _Wire, outer: str, inner: str) -> _Wire:
    """``data`` with the raw JSON of its objects decoded, for the reference reader."""
    wrapper = data.get(outer)
    if type(wrapper) is not dict or type(wrapper.get(inner)) is not list:
        return data
    return {**data, outer: {**wrapper, inner: _decoded_items(wrapper[inner])}}


def _decoded_items(items: list[Any]) -> list[Any]:
    return [msgspec.json.decode(i) if type(i) is msgspec.Raw else i for i in items]


# What ``SmcClient.call_json(shape=...)`` reads a page as, when it fits: the header's
# values as they are, each resource left as raw JSON (read only if not kept already).
class _PageHeader(TypedDict, total=False):
    RequestId: Any
    requestId: Any  # the client's records read either spelling
    PageNumber: Any
    PageSize: Any
    TotalCount: Any


class _SourceServers(TypedDict, total=False):
    SourceServer: list[msgspec.Raw]


class _SourcePage(_PageHeader, total=False):
    SourceServers: _SourceServers


class _ReplicationJobs(TypedDict, total=False):
    ReplicationJob: list[msgspec.Raw]


class _JobPage(_PageHeader, total=False):
    ReplicationJobs: _ReplicationJobs


SOURCE_PAGE: msgspec.json.Decoder[_SourcePage] = msgspec.json.Decoder(_SourcePage)
JOB_PAGE: msgspec.json.Decoder[_JobPage] = msgspec.json.Decoder(_JobPage)


_SOURCE_PAGE = _Page(sources_pb2.ListSourceServersResponse, "source_servers", _source)
_JOB_PAGE = _Page(jobs_pb2.ListReplicationJobsResponse, "replication_jobs", _job)


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


def source_page(
    data: _Wire, conversions: Conversions | None = None
) -> sources_pb2.ListSourceServersResponse:
    """A DescribeSourceServers answer: its sources and ``TotalCount`` (``total_size``)."""

    def read() -> sources_pb2.ListSourceServersResponse:
        total = _page_header(data)
        items = _objects(data, "SourceServers", "SourceServer", raw=True)
        return _SOURCE_PAGE.build(items, total, conversions.sources if conversions else None)

    def reference() -> sources_pb2.ListSourceServersResponse:
        answer = smc.DESCRIBE_SOURCE_SERVERS.parse(_decoded(data, "SourceServers", "SourceServer"))
        return sources_pb2.ListSourceServersResponse(
            source_servers=[convert.source_to_pb(s) for s in answer.source_servers],
            total_size=answer.total_count,
        )

    return _fast(read, reference)


def job_page(
    data: _Wire, conversions: Conversions | None = None
) -> jobs_pb2.ListReplicationJobsResponse:
    """A DescribeReplicationJobs answer: its jobs and ``TotalCount`` (``total_size``)."""

    def read() -> jobs_pb2.ListReplicationJobsResponse:
        total = _page_header(data)
        items = _objects(data, "ReplicationJobs", "ReplicationJob", raw=True)
        return _JOB_PAGE.build(items, total, conversions.jobs if conversions else None)

    def reference() -> jobs_pb2.ListReplicationJobsResponse:
        answer = smc.DESCRIBE_REPLICATION_JOBS.parse(
            _decoded(data, "ReplicationJobs", "ReplicationJob")
        )
        return jobs_pb2.ListReplicationJobsResponse(
            replication_jobs=[convert.job_to_pb(j) for j in answer.replication_jobs],
            total_size=answer.total_count,
        )

    return _fast(read, reference)


def find_source(
    data: _Wire, source_id: str, conversions: Conversions | None = None
) -> pb.SourceServer | None:
    """The source ``source_id`` of a DescribeSourceServers answer, if listed."""
    page = source_page(data, conversions)
    found = [s for s in page.source_servers if s.source_id == source_id]
    return found[0] if found else None


def find_job(
    data: _Wire, job_id: str, conversions: Conversions | None = None
) -> pb.ReplicationJob | None:
    """The job ``job_id`` of a DescribeReplicationJobs answer, if listed."""
    found = [j for j in job_page(data, conversions).replication_jobs if j.job_id == job_id]
    return found[0] if found else None
