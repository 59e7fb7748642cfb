"""Typed requests, responses and the operation registry of SMC's 9 seed operations.

Requests (frozen, keyword-only dataclasses; ``to_params()`` gives the exact flattened wire
parameters, only those that are set; a naive ``datetime`` raises ``ValueError``):

- ``DescribeSourceServersRequest``, ``ModifySourceServerAttributeRequest``,
  ``DeleteSourceServerRequest``
- ``CreateReplicationJobRequest``, ``DeleteReplicationJobRequest``,
  ``DescribeReplicationJobsRequest``, ``ModifyReplicationJobAttributeRequest``,
  ``StartReplicationJobRequest``, ``StopReplicationJobRequest``
- nested parts: ``Tag`` (``Tag.N.Key``/``Tag.N.Value``), ``DataDiskSpec`` (``DataDisk.N.*``) with
  ``DevicePartSpec`` (``DataDisk.N.Part.M.*`` and ``SystemDiskPart.N.*``), ``DisksSpec``
  (``Disks.*``) with ``DisksSystemSpec``, ``DisksDataSpec`` and ``PathPartSpec``.

Responses (frozen dataclasses built by ``from_json(data)``):

- ``DescribeSourceServersResponse`` of ``SourceServer`` (``SourceDataDisk``, ``SourcePart``,
  ``SourceDisks``, ``SourceDisk``, ``SourceDiskPartition``, ``Tag``)
- ``DescribeReplicationJobsResponse`` of ``ReplicationJob`` (``JobDataDisk``, ``JobPart``,
  ``JobDisks``, ``JobDisk``, ``JobDiskPartition``, ``ReplicationJobRun``, ``Tag``)
- ``CreateReplicationJobResponse`` and ``EmptyResponse`` (the six operations that return only
  ``RequestId``).

Tolerance rules of ``from_json`` (SMC's own samples disagree with its type tables):

- Integers and floats are JSON numbers or numeric strings (``"5"``, ``"55.45"``; ``24.0`` is
  an integer); booleans are JSON booleans or ``true``/``false`` strings in any case; times are
  ISO 8601 strings (``yyyy-MM-ddTHH:mm:ssZ``, also without seconds, or any ISO form with a
  ``T``; returned timezone-aware in UTC); an integer where text is expected is its decimal text.
- Absent, ``null`` or ``""`` optional values take the default: ``""`` for strings, ``None``
  for numbers, booleans, times and nested objects, ``()`` for lists.
- A list ``"Outer": {"Inner": [...]}`` may also arrive as a bare list, as a single object in
  place of the list, or with the wrapper or the list missing or ``null`` (an empty list).
- Unknown fields are ignored (the seed's typos ``VaildTime``, ``Vpcld`` and the stray
  ``JobName`` included: they are not aliases).
- Enumerations keep the upstream value in ``<name>_raw`` and expose ``<name>`` as a property:
  the enum member (matched case-insensitively, since ``TargetType`` is), or ``None`` for an
  empty or unknown value.
- Anything else raises ``MalformedResponseError`` naming the field path, e.g.
  ``SourceServers.SourceServer[0].DataDisks.DataDisk[1].Size``: a required field that is
  missing (``RequestId``, the paging numbers, ``JobId`` of a created job, ``SourceId`` of a
  source, ``JobId`` of a job), or any present value of the wrong kind (``"abc"`` for a number).

The registry (``Operation`` constants and ``OPERATIONS``) ties each action name to its request
and response types and to the retry facts the client needs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any, Final, Generic, Protocol, Self, TypeVar

from gateway.smc.wire import WireValue, flatten, format_timestamp, parse_timestamp

__all__ = [
    "CREATE_REPLICATION_JOB",
    "DELETE_REPLICATION_JOB",
    "DELETE_SOURCE_SERVER",
    "DESCRIBE_REPLICATION_JOBS",
    "DESCRIBE_SOURCE_SERVERS",
    "MODIFY_REPLICATION_JOB_ATTRIBUTE",
    "MODIFY_SOURCE_SERVER_ATTRIBUTE",
    "OPERATIONS",
    "START_REPLICATION_JOB",
    "STOP_REPLICATION_JOB",
    "BusinessStatus",
    "CreateReplicationJobRequest",
    "CreateReplicationJobResponse",
    "DataDiskSpec",
    "DeleteReplicationJobRequest",
    "DeleteSourceServerRequest",
    "DescribeReplicationJobsRequest",
    "DescribeReplicationJobsResponse",
    "DescribeSourceServersRequest",
    "DescribeSourceServersResponse",
    "DevicePartSpec",
    "DisksDataSpec",
    "DisksSpec",
    "DisksSystemSpec",
    "EmptyResponse",
    "JobDataDisk",
    "JobDisk",
    "JobDiskPartition",
    "JobDisks",
    "JobPart",
    "JobStatus",
    "MalformedResponseError",
    "ModifyReplicationJobAttributeRequest",
    "ModifySourceServerAttributeRequest",
    "NetMode",
    "Operation",
    "PathPartSpec",
    "ReplicationJob",
    "ReplicationJobRun",
    "RequestT",
    "ResponseT",
    "SmcRequest",
    "SmcResponse",
    "SourceDataDisk",
    "SourceDisk",
    "SourceDiskPartition",
    "SourceDisks",
    "SourcePart",
    "SourceServer",
    "SourceServerState",
    "StartReplicationJobRequest",
    "StopReplicationJobRequest",
    "Tag",
    "TargetType",
]


# --------------------------------------------------------------------------------------------
# Errors and enumerations
# --------------------------------------------------------------------------------------------


class MalformedResponseError(ValueError):
    """A success body that does not match the documented shape.

    ``path`` names the offending field (``RequestId``,
    ``ReplicationJobs.ReplicationJob[2].Progress``, ``<response>`` for the body itself).
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        return f"malformed SMC response at {self.path}: {self.problem}"


class SourceServerState(StrEnum):
    """``SourceServer.State``."""

    UNAVAILABLE = "Unavailable"
    AVAILABLE = "Available"
    IN_USE = "InUse"
    DELETING = "Deleting"


class JobStatus(StrEnum):
    """Main status of a replication job (``Waiting`` is documented by the current SDK only)."""

    READY = "Ready"
    RUNNING = "Running"
    STOPPED = "Stopped"
    IN_ERROR = "InError"
    FINISHED = "Finished"
    EXPIRED = "Expired"
    DELETING = "Deleting"
    WAITING = "Waiting"


class BusinessStatus(StrEnum):
    """Sub-status of a running replication job."""

    PREPARING = "Preparing"
    SYNCING = "Syncing"
    PROCESSING = "Processing"
    CLEANING = "Cleaning"


class TargetType(StrEnum):
    """What a job delivers; upstream ignores case (the seed writes ``image``)."""

    IMAGE = "Image"
    CONTAINER_IMAGE = "ContainerImage"
    TARGET_INSTANCE = "TargetInstance"


class NetMode(IntEnum):
    """How data travels: over the public Internet, or over a VPC (then ``VSwitchId`` is needed)."""

    PUBLIC = 0
    VPC = 2


_StrEnumT = TypeVar("_StrEnumT", bound=StrEnum)


def _to_enum(enum_type: type[_StrEnumT], raw: str) -> _StrEnumT | None:
    """The member whose value equals ``raw`` (exactly, else case-insensitively), or ``None``."""
    try:
        return enum_type(raw)
    except ValueError:
        folded = raw.casefold()
        for member in enum_type:
            if member.value.casefold() == folded:
                return member
        return None


def _to_net_mode(raw: int | None) -> NetMode | None:
    if raw is None:
        return None
    try:
        return NetMode(raw)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# Reading JSON: each reader takes the parent object, the key and the parent's path; paths are
# only built when something is wrong.
# --------------------------------------------------------------------------------------------

_ROOT = "<response>"
# Decoded JSON objects are dicts: test for dict first, the Mapping ABC (slow) only otherwise.
_MAPPINGS = (dict, Mapping)
_INT_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: object) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    return f"a JSON {type(value).__name__}"


def _is_blank(value: object) -> bool:
    return value is None or value == ""


def _text(data: Mapping[str, object], key: str, path: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # more digits than Python converts
            pass
    raise MalformedResponseError(_at(path, key), f"expected a string, got {_kind(value)}")


def _required_text(data: Mapping[str, object], key: str, path: str) -> str:
    value = _text(data, key, path)
    if not value:
        raise MalformedResponseError(_at(path, key), "required field is missing or empty")
    return value


def _int(data: Mapping[str, object], key: str, path: str) -> int | None:
    value = data.get(key)
    if _is_blank(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INT_TEXT.fullmatch(text):
            try:
                return int(text)
            except ValueError:  # more digits than Python converts
                pass
    raise MalformedResponseError(_at(path, key), f"expected an integer, got {_kind(value)}")


def _required_int(data: Mapping[str, object], key: str, path: str) -> int:
    value = _int(data, key, path)
    if value is None:
        raise MalformedResponseError(_at(path, key), "required field is missing or empty")
    return value


def _float(data: Mapping[str, object], key: str, path: str) -> float | None:
    value = data.get(key)
    if _is_blank(value):
        return None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = None
    elif isinstance(value, str) and _FLOAT_TEXT.fullmatch(value.strip()):
        number = float(value)
    if number is not None and math.isfinite(number):
        return number
    raise MalformedResponseError(_at(path, key), f"expected a finite number, got {_kind(value)}")


def _bool(data: Mapping[str, object], key: str, path: str) -> bool | None:
    value = data.get(key)
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    raise MalformedResponseError(_at(path, key), f"expected a boolean, got {_kind(value)}")


def _time(data: Mapping[str, object], key: str, path: str) -> datetime | None:
    value = data.get(key)
    if _is_blank(value):
        return None
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError:
            pass
        if "T" in value:  # other ISO 8601 forms: fractions, offsets
            try:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    return moment.replace(tzinfo=UTC)
                return moment.astimezone(UTC)
            except (ValueError, OverflowError):
                pass
    raise MalformedResponseError(_at(path, key), f"expected an ISO 8601 time, got {_kind(value)}")


def _object(data: Mapping[str, object], key: str, path: str) -> Mapping[str, object] | None:
    value = data.get(key)
    if _is_blank(value):
        return None
    if isinstance(value, _MAPPINGS):
        return value
    raise MalformedResponseError(_at(path, key), f"expected an object, got {_kind(value)}")


def _elements(
    data: Mapping[str, object], outer: str, inner: str, path: str
) -> Iterator[tuple[Mapping[str, object], str]]:
    """The objects of ``Outer.Inner[]`` with their paths, under every documented tolerance."""
    where = _at(path, outer)
    items = data.get(outer)
    if isinstance(items, _MAPPINGS):
        where = f"{where}.{inner}"
        items = items.get(inner)
        if isinstance(items, _MAPPINGS):  # a single object in place of the list
            items = [items]
    if _is_blank(items):
        return
    if not isinstance(items, list | tuple):
        raise MalformedResponseError(where, f"expected a list, got {_kind(items)}")
    for index, item in enumerate(items):
        if not isinstance(item, _MAPPINGS):
            raise MalformedResponseError(
                f"{where}[{index}]", f"expected an object, got {_kind(item)}"
            )
        yield item, f"{where}[{index}]"


class _JsonModel:
    """Base of the response models: the public ``from_json`` over a per-class ``_parse``."""

    __slots__ = ()

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Self:
        """Build the model from a decoded JSON object.

        Raises ``MalformedResponseError`` (naming the field path) when a required field is
        missing or a value has the wrong kind; never anything else.
        """
        if not isinstance(data, _MAPPINGS):
            raise MalformedResponseError(_ROOT, f"expected a JSON object, got {_kind(data)}")
        return cls._parse(data, "")

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        raise NotImplementedError


_ModelT = TypeVar("_ModelT", bound=_JsonModel)


def _many(
    model: type[_ModelT], data: Mapping[str, object], outer: str, inner: str, path: str
) -> tuple[_ModelT, ...]:
    return tuple(model._parse(item, where) for item, where in _elements(data, outer, inner, path))


def _one(model: type[_ModelT], data: Mapping[str, object], key: str, path: str) -> _ModelT | None:
    found = _object(data, key, path)
    return None if found is None else model._parse(found, _at(path, key))


# --------------------------------------------------------------------------------------------
# Shared parts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Tag(_JsonModel):
    """A tag: ``Tags.Tag[]`` in responses, ``Tag.N.Key``/``Tag.N.Value`` in requests.

    In requests both parameters are always sent (a value may be empty).
    """

    key: str
    value: str = ""

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(key=_text(data, "Key", path), value=_text(data, "Value", path))


def _put_tags(out: dict[str, str], tags: Sequence[Tag]) -> None:
    for index, tag in enumerate(tags, start=1):
        out[f"Tag.{index}.Key"] = tag.key
        out[f"Tag.{index}.Value"] = tag.value


def _put_list(out: dict[str, str], name: str, values: Sequence[str]) -> None:
    if isinstance(values, str):  # a str is a Sequence[str]: mypy cannot catch this slip
        raise TypeError(f"{name} takes a sequence of strings, not a single string")
    for index, value in enumerate(values, start=1):
        out[f"{name}.{index}"] = value


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _put_texts(out: dict[str, str], fields: tuple[tuple[str, str | None], ...]) -> None:
    for name, value in fields:
        if value is not None:
            out[name] = str(value)  # str() turns a StrEnum into its value


def _put_ints(out: dict[str, str], fields: tuple[tuple[str, int | None], ...]) -> None:
    for name, value in fields:
        if value is not None:
            out[name] = str(int(value))  # int() turns an IntEnum into its number


def _put_times(out: dict[str, str], fields: tuple[tuple[str, datetime | None], ...]) -> None:
    for name, value in fields:
        if value is not None:
            out[name] = format_timestamp(value)


# --------------------------------------------------------------------------------------------
# Source servers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class SourcePart(_JsonModel):
    """A source partition.

    Found in ``DataDisks.DataDisk[].Parts.Part[]`` and ``SystemDiskParts.SystemDiskPart[]``.
    ``need``: the partition must be selected for migration.
    """

    can_block: bool | None = None
    device: str = ""
    need: bool | None = None
    path: str = ""
    size_bytes: int | None = None

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            can_block=_bool(data, "CanBlock", path),
            device=_text(data, "Device", path),
            need=_bool(data, "Need", path),
            path=_text(data, "Path", path),
            size_bytes=_int(data, "SizeBytes", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceDataDisk(_JsonModel):
    """A data disk of a source (``DataDisks.DataDisk[]``); ``size`` in GiB."""

    index: int | None = None
    path: str = ""
    size: int | None = None
    parts: tuple[SourcePart, ...] = ()

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            index=_int(data, "Index", path),
            path=_text(data, "Path", path),
            size=_int(data, "Size", path),
            parts=_many(SourcePart, data, "Parts", "Part", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceDiskPartition(_JsonModel):
    """A partition of ``Disks.System`` / ``Disks.Data.Data[]``; ``type``: Normal, System, Boot."""

    can_block: bool | None = None
    path: str = ""
    size_bytes: int | None = None
    type: str = ""

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            can_block=_bool(data, "CanBlock", path),
            path=_text(data, "Path", path),
            size_bytes=_int(data, "SizeBytes", path),
            type=_text(data, "Type", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceDisk(_JsonModel):
    """``Disks.System`` or one of ``Disks.Data.Data[]``; ``offset`` of partition 1 in bytes."""

    offset: int | None = None
    size: int | None = None
    parts: tuple[SourceDiskPartition, ...] = ()

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            offset=_int(data, "Offset", path),
            size=_int(data, "Size", path),
            parts=_many(SourceDiskPartition, data, "Parts", "Part", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceDisks(_JsonModel):
    """``Disks`` of a source: ``System`` and ``Data.Data[]``."""

    system: SourceDisk | None = None
    data: tuple[SourceDisk, ...] = ()

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            system=_one(SourceDisk, data, "System", path),
            data=_many(SourceDisk, data, "Data", "Data", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceServer(_JsonModel):
    """One migration source (``SourceServers.SourceServer[]``); ``source_id`` is required.

    ``status_info`` and ``system_info`` are JSON text, kept as upstream sent it.
    """

    source_id: str
    agent_version: str = ""
    architecture: str = ""
    creation_time: datetime | None = None
    data_disks: tuple[SourceDataDisk, ...] = ()
    description: str = ""
    disks: SourceDisks | None = None
    error_code: str = ""
    heartbeat_rate: int | None = None
    job_id: str = ""
    kernel_level: int | None = None
    name: str = ""
    platform: str = ""
    replication_driver: str = ""
    resource_group_id: str = ""
    state_raw: str = ""
    status_info: str = ""
    system_disk_parts: tuple[SourcePart, ...] = ()
    system_disk_size: int | None = None
    system_info: str = ""
    tags: tuple[Tag, ...] = ()
    workgroup_id: str = ""

    @property
    def state(self) -> SourceServerState | None:
        """``state_raw`` as an enum; ``None`` when empty or unknown."""
        return _to_enum(SourceServerState, self.state_raw)

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            source_id=_required_text(data, "SourceId", path),
            agent_version=_text(data, "AgentVersion", path),
            architecture=_text(data, "Architecture", path),
            creation_time=_time(data, "CreationTime", path),
            data_disks=_many(SourceDataDisk, data, "DataDisks", "DataDisk", path),
            description=_text(data, "Description", path),
            disks=_one(SourceDisks, data, "Disks", path),
            error_code=_text(data, "ErrorCode", path),
            heartbeat_rate=_int(data, "HeartbeatRate", path),
            job_id=_text(data, "JobId", path),
            kernel_level=_int(data, "KernelLevel", path),
            name=_text(data, "Name", path),
            platform=_text(data, "Platform", path),
            replication_driver=_text(data, "ReplicationDriver", path),
            resource_group_id=_text(data, "ResourceGroupId", path),
            state_raw=_text(data, "State", path),
            status_info=_text(data, "StatusInfo", path),
            system_disk_parts=_many(SourcePart, data, "SystemDiskParts", "SystemDiskPart", path),
            system_disk_size=_int(data, "SystemDiskSize", path),
            system_info=_text(data, "SystemInfo", path),
            tags=_many(Tag, data, "Tags", "Tag", path),
            workgroup_id=_text(data, "WorkgroupId", path),
        )


# --------------------------------------------------------------------------------------------
# Replication jobs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class JobPart(_JsonModel):
    """A target partition.

    Found in ``DataDisks.DataDisk[].Parts.Part[]`` and ``SystemDiskParts.SystemDiskPart[]``.
    """

    block: bool | None = None
    device: str = ""
    size_bytes: int | None = None

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            block=_bool(data, "Block", path),
            device=_text(data, "Device", path),
            size_bytes=_int(data, "SizeBytes", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class JobDataDisk(_JsonModel):
    """A target data disk of a job (``DataDisks.DataDisk[]``); ``size`` in GiB."""

    index: int | None = None
    size: int | None = None
    parts: tuple[JobPart, ...] = ()

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            index=_int(data, "Index", path),
            size=_int(data, "Size", path),
            parts=_many(JobPart, data, "Parts", "Part", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class JobDiskPartition(_JsonModel):
    """A partition of a job's ``Disks.System`` / ``Disks.Data.Data[]``."""

    block: bool | None = None
    path: str = ""
    size_bytes: int | None = None

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            block=_bool(data, "Block", path),
            path=_text(data, "Path", path),
            size_bytes=_int(data, "SizeBytes", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class JobDisk(_JsonModel):
    """A job's ``Disks.System`` or one of ``Disks.Data.Data[]``."""

    disk_id: str = ""
    lvm: bool | None = None
    size: int | None = None
    parts: tuple[JobDiskPartition, ...] = ()

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            disk_id=_text(data, "DiskId", path),
            lvm=_bool(data, "LVM", path),
            size=_int(data, "Size", path),
            parts=_many(JobDiskPartition, data, "Parts", "Part", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class JobDisks(_JsonModel):
    """``Disks`` of a job: ``System`` and ``Data.Data[]``."""

    system: JobDisk | None = None
    data: tuple[JobDisk, ...] = ()

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            system=_one(JobDisk, data, "System", path),
            data=_many(JobDisk, data, "Data", "Data", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplicationJobRun(_JsonModel):
    """An execution of a job (``ReplicationJobRuns.ReplicationJobRun[]``).

    ``type``: ``Manual`` or ``Schedule``.
    """

    start_time: datetime | None = None
    end_time: datetime | None = None
    image_id: str = ""
    type: str = ""

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            start_time=_time(data, "StartTime", path),
            end_time=_time(data, "EndTime", path),
            image_id=_text(data, "ImageId", path),
            type=_text(data, "Type", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplicationJob(_JsonModel):
    """One migration job (``ReplicationJobs.ReplicationJob[]``); ``job_id`` is required.

    ``progress`` is a percentage (``55.45``); ``net_mode_raw`` is the upstream integer.
    """

    job_id: str
    business_status_raw: str = ""
    container_namespace: str = ""
    container_repository: str = ""
    container_tag: str = ""
    creation_time: datetime | None = None
    data_disks: tuple[JobDataDisk, ...] = ()
    description: str = ""
    disks: JobDisks | None = None
    end_time: datetime | None = None
    error_code: str = ""
    frequency: int | None = None
    image_id: str = ""
    image_name: str = ""
    instance_id: str = ""
    instance_ram_role: str = ""
    instance_type: str = ""
    job_type: int | None = None
    launch_template_id: str = ""
    launch_template_version: str = ""
    license_type: str = ""
    max_number_of_image_to_keep: int | None = None
    name: str = ""
    net_mode_raw: int | None = None
    progress: float | None = None
    region_id: str = ""
    replication_job_runs: tuple[ReplicationJobRun, ...] = ()
    replication_parameters: str = ""
    resource_group_id: str = ""
    run_once: bool | None = None
    scheduled_start_time: datetime | None = None
    source_id: str = ""
    start_time: datetime | None = None
    status_raw: str = ""
    status_info: str = ""
    system_disk_parts: tuple[JobPart, ...] = ()
    system_disk_size: int | None = None
    tags: tuple[Tag, ...] = ()
    target_type_raw: str = ""
    transition_instance_id: str = ""
    vswitch_id: str = ""
    valid_time: datetime | None = None
    vpc_id: str = ""
    workgroup_id: str = ""

    @property
    def status(self) -> JobStatus | None:
        """``status_raw`` as an enum; ``None`` when empty or unknown."""
        return _to_enum(JobStatus, self.status_raw)

    @property
    def business_status(self) -> BusinessStatus | None:
        """``business_status_raw`` as an enum; ``None`` when empty or unknown."""
        return _to_enum(BusinessStatus, self.business_status_raw)

    @property
    def target_type(self) -> TargetType | None:
        """``target_type_raw`` as an enum (the seed's ``image`` included); ``None`` if unknown."""
        return _to_enum(TargetType, self.target_type_raw)

    @property
    def net_mode(self) -> NetMode | None:
        """``net_mode_raw`` as an enum; ``None`` when absent or unknown."""
        return _to_net_mode(self.net_mode_raw)

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            job_id=_required_text(data, "JobId", path),
            business_status_raw=_text(data, "BusinessStatus", path),
            container_namespace=_text(data, "ContainerNamespace", path),
            container_repository=_text(data, "ContainerRepository", path),
            container_tag=_text(data, "ContainerTag", path),
            creation_time=_time(data, "CreationTime", path),
            data_disks=_many(JobDataDisk, data, "DataDisks", "DataDisk", path),
            description=_text(data, "Description", path),
            disks=_one(JobDisks, data, "Disks", path),
            end_time=_time(data, "EndTime", path),
            error_code=_text(data, "ErrorCode", path),
            frequency=_int(data, "Frequency", path),
            image_id=_text(data, "ImageId", path),
            image_name=_text(data, "ImageName", path),
            instance_id=_text(data, "InstanceId", path),
            instance_ram_role=_text(data, "InstanceRamRole", path),
            instance_type=_text(data, "InstanceType", path),
            job_type=_int(data, "JobType", path),
            launch_template_id=_text(data, "LaunchTemplateId", path),
            launch_template_version=_text(data, "LaunchTemplateVersion", path),
            license_type=_text(data, "LicenseType", path),
            max_number_of_image_to_keep=_int(data, "MaxNumberOfImageToKeep", path),
            name=_text(data, "Name", path),
            net_mode_raw=_int(data, "NetMode", path),
            progress=_float(data, "Progress", path),
            region_id=_text(data, "RegionId", path),
            replication_job_runs=_many(
                ReplicationJobRun, data, "ReplicationJobRuns", "ReplicationJobRun", path
            ),
            replication_parameters=_text(data, "ReplicationParameters", path),
            resource_group_id=_text(data, "ResourceGroupId", path),
            run_once=_bool(data, "RunOnce", path),
            scheduled_start_time=_time(data, "ScheduledStartTime", path),
            source_id=_text(data, "SourceId", path),
            start_time=_time(data, "StartTime", path),
            status_raw=_text(data, "Status", path),
            status_info=_text(data, "StatusInfo", path),
            system_disk_parts=_many(JobPart, data, "SystemDiskParts", "SystemDiskPart", path),
            system_disk_size=_int(data, "SystemDiskSize", path),
            tags=_many(Tag, data, "Tags", "Tag", path),
            target_type_raw=_text(data, "TargetType", path),
            transition_instance_id=_text(data, "TransitionInstanceId", path),
            vswitch_id=_text(data, "VSwitchId", path),
            valid_time=_time(data, "ValidTime", path),
            vpc_id=_text(data, "VpcId", path),
            workgroup_id=_text(data, "WorkgroupId", path),
        )


# --------------------------------------------------------------------------------------------
# Operation responses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class EmptyResponse(_JsonModel):
    """The body of the six operations that return only ``RequestId`` (required)."""

    request_id: str

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(request_id=_required_text(data, "RequestId", path))


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateReplicationJobResponse(_JsonModel):
    """CreateReplicationJob's body; ``RequestId`` and ``JobId`` are required."""

    request_id: str
    job_id: str

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            request_id=_required_text(data, "RequestId", path),
            job_id=_required_text(data, "JobId", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class DescribeSourceServersResponse(_JsonModel):
    """One page of sources; ``RequestId``, ``TotalCount``, ``PageNumber``, ``PageSize`` required."""

    request_id: str
    total_count: int
    page_number: int
    page_size: int
    source_servers: tuple[SourceServer, ...] = ()

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            request_id=_required_text(data, "RequestId", path),
            total_count=_required_int(data, "TotalCount", path),
            page_number=_required_int(data, "PageNumber", path),
            page_size=_required_int(data, "PageSize", path),
            source_servers=_many(SourceServer, data, "SourceServers", "SourceServer", path),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class DescribeReplicationJobsResponse(_JsonModel):
    """One page of jobs; ``RequestId``, ``TotalCount``, ``PageNumber``, ``PageSize`` required."""

    request_id: str
    total_count: int
    page_number: int
    page_size: int
    replication_jobs: tuple[ReplicationJob, ...] = ()

    @classmethod
    def _parse(cls, data: Mapping[str, object], path: str) -> Self:
        return cls(
            request_id=_required_text(data, "RequestId", path),
            total_count=_required_int(data, "TotalCount", path),
            page_number=_required_int(data, "PageNumber", path),
            page_size=_required_int(data, "PageSize", path),
            replication_jobs=_many(ReplicationJob, data, "ReplicationJobs", "ReplicationJob", path),
        )


# --------------------------------------------------------------------------------------------
# Nested request parts: each gives its fields for ``wire.flatten`` (``None`` is left out).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class DevicePartSpec:
    """A target partition: ``DataDisk.N.Part.M.*`` or ``SystemDiskPart.N.*``.

    ``device`` and ``size_bytes`` go together; ``block`` selects block replication.
    """

    device: str | None = None
    size_bytes: int | None = None
    block: bool | None = None

    def to_wire(self) -> dict[str, WireValue]:
        return {"Device": self.device, "SizeBytes": self.size_bytes, "Block": self.block}


@dataclass(frozen=True, kw_only=True, slots=True)
class DataDiskSpec:
    """A target data disk: ``DataDisk.N.Index``, ``.Size`` (GiB) and ``.Part.M.*``."""

    index: int | None = None
    size: int | None = None
    parts: Sequence[DevicePartSpec] = ()

    def to_wire(self) -> dict[str, WireValue]:
        return {
            "Index": self.index,
            "Size": self.size,
            "Part": [part.to_wire() for part in self.parts],
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class PathPartSpec:
    """A source partition by mount path: ``Disks.System.Part.N.*``, ``Disks.Data.N.Part.M.*``."""

    path: str | None = None
    size_bytes: int | None = None
    block: bool | None = None

    def to_wire(self) -> dict[str, WireValue]:
        return {"Path": self.path, "SizeBytes": self.size_bytes, "Block": self.block}


@dataclass(frozen=True, kw_only=True, slots=True)
class DisksSystemSpec:
    """``Disks.System.Size`` (GiB), ``.LVM`` and ``.Part.N.*``."""

    size: int | None = None
    lvm: bool | None = None
    parts: Sequence[PathPartSpec] = ()

    def to_wire(self) -> dict[str, WireValue]:
        return {
            "Size": self.size,
            "LVM": self.lvm,
            "Part": [part.to_wire() for part in self.parts],
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class DisksDataSpec:
    """``Disks.Data.N.DiskId``, ``.Size`` (GiB), ``.LVM`` and ``.Part.M.*``."""

    disk_id: str | None = None
    size: int | None = None
    lvm: bool | None = None
    parts: Sequence[PathPartSpec] = ()

    def to_wire(self) -> dict[str, WireValue]:
        return {
            "DiskId": self.disk_id,
            "Size": self.size,
            "LVM": self.lvm,
            "Part": [part.to_wire() for part in self.parts],
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class DisksSpec:
    """CreateReplicationJob's ``Disks``: the source system disk and data disks."""

    system: DisksSystemSpec | None = None
    data: Sequence[DisksDataSpec] = ()

    def to_wire(self) -> dict[str, WireValue]:
        return {
            "System": None if self.system is None else self.system.to_wire(),
            "Data": [disk.to_wire() for disk in self.data],
        }


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class _RequestBase:
    """``OwnerId`` and ``ResourceOwnerAccount``, which every operation accepts."""

    owner_id: int | None = None
    resource_owner_account: str | None = None

    def _common(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.owner_id is not None:
            out["OwnerId"] = str(self.owner_id)
        if self.resource_owner_account is not None:
            out["ResourceOwnerAccount"] = self.resource_owner_account
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class DescribeSourceServersRequest(_RequestBase):
    """DescribeSourceServers filters (ANDed; unset ones do not filter)."""

    job_id: str | None = None
    name: str | None = None
    page_number: int | None = None
    page_size: int | None = None
    source_ids: Sequence[str] = ()
    state: SourceServerState | None = None
    related_job_types: Sequence[str] = ()
    resource_group_id: str | None = None
    tags: Sequence[Tag] = ()
    workgroup_id: str | None = None

    def to_params(self) -> dict[str, str]:
        """The wire parameters that are set (``SourceId.N``, ``RelatedJobType.N``, ``Tag.N.*``)."""
        out = self._common()
        if self.job_id is not None:
            out["JobId"] = self.job_id
        if self.name is not None:
            out["Name"] = self.name
        if self.page_number is not None:
            out["PageNumber"] = str(self.page_number)
        if self.page_size is not None:
            out["PageSize"] = str(self.page_size)
        _put_list(out, "SourceId", self.source_ids)
        if self.state is not None:
            out["State"] = str(self.state)
        _put_list(out, "RelatedJobType", self.related_job_types)
        if self.resource_group_id is not None:
            out["ResourceGroupId"] = self.resource_group_id
        _put_tags(out, self.tags)
        if self.workgroup_id is not None:
            out["WorkgroupId"] = self.workgroup_id
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class ModifySourceServerAttributeRequest(_RequestBase):
    """Rename or re-describe a source; an empty ``description`` is sent (it clears it)."""

    source_id: str
    name: str | None = None
    description: str | None = None

    def to_params(self) -> dict[str, str]:
        """The wire parameters that are set."""
        out = self._common()
        out["SourceId"] = self.source_id
        if self.name is not None:
            out["Name"] = self.name
        if self.description is not None:
            out["Description"] = self.description
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class DeleteSourceServerRequest(_RequestBase):
    """Delete a source; ``force`` also deletes its non-running job and intermediate resources."""

    source_id: str
    force: bool | None = None

    def to_params(self) -> dict[str, str]:
        """The wire parameters that are set (``Force`` as ``true``/``false``)."""
        out = self._common()
        out["SourceId"] = self.source_id
        if self.force is not None:
            out["Force"] = _bool_text(self.force)
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateReplicationJobRequest(_RequestBase):
    """Create a migration job for a source.

    ``client_token`` makes the call idempotent upstream. Times must be timezone-aware.
    ``system_disk_size`` is required by the seed but not by the current SDK, so it is optional
    here; the gateway core decides.
    """

    region_id: str
    source_id: str
    system_disk_size: int | None = None
    client_token: str | None = None
    container_namespace: str | None = None
    container_repository: str | None = None
    container_tag: str | None = None
    data_disks: Sequence[DataDiskSpec] = ()
    description: str | None = None
    disks: DisksSpec | None = None
    frequency: int | None = None
    image_name: str | None = None
    instance_id: str | None = None
    instance_ram_role: str | None = None
    instance_type: str | None = None
    job_type: int | None = None
    launch_template_id: str | None = None
    launch_template_version: str | None = None
    license_type: str | None = None
    max_number_of_image_to_keep: int | None = None
    name: str | None = None
    net_mode: NetMode | None = None
    replication_parameters: str | None = None
    resource_group_id: str | None = None
    run_once: bool | None = None
    scheduled_start_time: datetime | None = None
    system_disk_parts: Sequence[DevicePartSpec] = ()
    tags: Sequence[Tag] = ()
    target_type: TargetType | None = None
    vswitch_id: str | None = None
    valid_time: datetime | None = None
    vpc_id: str | None = None

    def to_params(self) -> dict[str, str]:
        """The wire parameters that are set; raises ``ValueError`` for a naive datetime."""
        out = self._common()
        out["RegionId"] = self.region_id
        out["SourceId"] = self.source_id
        _put_texts(
            out,
            (
                ("ClientToken", self.client_token),
                ("ContainerNamespace", self.container_namespace),
                ("ContainerRepository", self.container_repository),
                ("ContainerTag", self.container_tag),
                ("Description", self.description),
                ("ImageName", self.image_name),
                ("InstanceId", self.instance_id),
                ("InstanceRamRole", self.instance_ram_role),
                ("InstanceType", self.instance_type),
                ("LaunchTemplateId", self.launch_template_id),
                ("LaunchTemplateVersion", self.launch_template_version),
                ("LicenseType", self.license_type),
                ("Name", self.name),
                ("ReplicationParameters", self.replication_parameters),
                ("ResourceGroupId", self.resource_group_id),
                ("TargetType", self.target_type),
                ("VSwitchId", self.vswitch_id),
                ("VpcId", self.vpc_id),
            ),
        )
        _put_ints(
            out,
            (
                ("SystemDiskSize", self.system_disk_size),
                ("Frequency", self.frequency),
                ("JobType", self.job_type),
                ("MaxNumberOfImageToKeep", self.max_number_of_image_to_keep),
                ("NetMode", self.net_mode),
            ),
        )
        if self.run_once is not None:
            out["RunOnce"] = _bool_text(self.run_once)
        _put_times(
            out,
            (("ScheduledStartTime", self.scheduled_start_time), ("ValidTime", self.valid_time)),
        )
        if self.data_disks:
            flatten("DataDisk", [disk.to_wire() for disk in self.data_disks], out)
        if self.system_disk_parts:
            flatten("SystemDiskPart", [part.to_wire() for part in self.system_disk_parts], out)
        if self.disks is not None:
            flatten("Disks", self.disks.to_wire(), out)
        _put_tags(out, self.tags)
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class DeleteReplicationJobRequest(_RequestBase):
    """Delete a job (not restorable); its intermediate resources are released."""

    job_id: str

    def to_params(self) -> dict[str, str]:
        """The wire parameters that are set."""
        out = self._common()
        out["JobId"] = self.job_id
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class DescribeReplicationJobsRequest(_RequestBase):
    """DescribeReplicationJobs filters (ANDed; unset ones do not filter)."""

    business_status: BusinessStatus | None = None
    instance_ids: Sequence[str] = ()
    job_ids: Sequence[str] = ()
    job_type: int | None = None
    name: str | None = None
    page_number: int | None = None
    page_size: int | None = None
    region_id: str | None = None
    resource_group_id: str | None = None
    source_ids: Sequence[str] = ()
    status: JobStatus | None = None
    tags: Sequence[Tag] = ()

    def to_params(self) -> dict[str, str]:
        """The wire parameters that are set (``JobId.N``, ``SourceId.N``, ``InstanceId.N``, ...)."""
        out = self._common()
        if self.business_status is not None:
            out["BusinessStatus"] = str(self.business_status)
        _put_list(out, "InstanceId", self.instance_ids)
        _put_list(out, "JobId", self.job_ids)
        if self.job_type is not None:
            out["JobType"] = str(self.job_type)
        if self.name is not None:
            out["Name"] = self.name
        if self.page_number is not None:
            out["PageNumber"] = str(self.page_number)
        if self.page_size is not None:
            out["PageSize"] = str(self.page_size)
        if self.region_id is not None:
            out["RegionId"] = self.region_id
        if self.resource_group_id is not None:
            out["ResourceGroupId"] = self.resource_group_id
        _put_list(out, "SourceId", self.source_ids)
        if self.status is not None:
            out["Status"] = str(self.status)
        _put_tags(out, self.tags)
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class ModifyReplicationJobAttributeRequest(_RequestBase):
    """Change a job's attributes (which ones a job's status allows is upstream's rule).

    Times must be timezone-aware.
    """

    job_id: str
    container_namespace: str | None = None
    container_repository: str | None = None
    container_tag: str | None = None
    data_disks: Sequence[DataDiskSpec] = ()
    description: str | None = None
    frequency: int | None = None
    image_name: str | None = None
    instance_id: str | None = None
    instance_ram_role: str | None = None
    instance_type: str | None = None
    launch_template_id: str | None = None
    launch_template_version: str | None = None
    max_number_of_image_to_keep: int | None = None
    name: str | None = None
    net_mode: NetMode | None = None
    replication_parameters: str | None = None
    scheduled_start_time: datetime | None = None
    system_disk_parts: Sequence[DevicePartSpec] = ()
    system_disk_size: int | None = None
    target_type: TargetType | None = None
    vswitch_id: str | None = None
    valid_time: datetime | None = None
    vpc_id: str | None = None

    def to_params(self) -> dict[str, str]:
        """The wire parameters that are set; raises ``ValueError`` for a naive datetime."""
        out = self._common()
        out["JobId"] = self.job_id
        _put_texts(
            out,
            (
                ("ContainerNamespace", self.container_namespace),
                ("ContainerRepository", self.container_repository),
                ("ContainerTag", self.container_tag),
                ("Description", self.description),
                ("ImageName", self.image_name),
                ("InstanceId", self.instance_id),
                ("InstanceRamRole", self.instance_ram_role),
                ("InstanceType", self.instance_type),
                ("LaunchTemplateId", self.launch_template_id),
                ("LaunchTemplateVersion", self.launch_template_version),
                ("Name", self.name),
                ("ReplicationParameters", self.replication_parameters),
                ("TargetType", self.target_type),
                ("VSwitchId", self.vswitch_id),
                ("VpcId", self.vpc_id),
            ),
        )
        _put_ints(
            out,
            (
                ("Frequency", self.frequency),
                ("MaxNumberOfImageToKeep", self.max_number_of_image_to_keep),
                ("NetMode", self.net_mode),
                ("SystemDiskSize", self.system_disk_size),
            ),
        )
        _put_times(
            out,
            (("ScheduledStartTime", self.scheduled_start_time), ("ValidTime", self.valid_time)),
        )
        if self.data_disks:
            flatten("DataDisk", [disk.to_wire() for disk in self.data_disks], out)
        if self.system_disk_parts:
            flatten("SystemDiskPart", [part.to_wire() for part in self.system_disk_parts], out)
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class StartReplicationJobRequest(_RequestBase):
    """Start a job (upstream allows Ready, Stopped, InError)."""

    job_id: str

    def to_params(self) -> dict[str, str]:
        """The wire parameters that are set."""
        out = self._common()
        out["JobId"] = self.job_id
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class StopReplicationJobRequest(_RequestBase):
    """Pause a job (upstream allows Status Running with BusinessStatus Syncing)."""

    job_id: str

    def to_params(self) -> dict[str, str]:
        """The wire parameters that are set."""
        out = self._common()
        out["JobId"] = self.job_id
        return out


# --------------------------------------------------------------------------------------------
# Operation registry
# --------------------------------------------------------------------------------------------


class SmcRequest(Protocol):
    """What the client needs of a request: its flattened wire parameters."""

    def to_params(self) -> dict[str, str]: ...


class SmcResponse(Protocol):
    """What the client needs of a response type: a parser and the request ID."""

    @property
    def request_id(self) -> str: ...

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Self: ...


# Import these (rather than declaring unbound ones) to write code generic over operations:
# ``def call(op: Operation[RequestT, ResponseT], request: RequestT) -> ResponseT``.
RequestT = TypeVar("RequestT", bound=SmcRequest)
ResponseT = TypeVar("ResponseT", bound=SmcResponse)


@dataclass(frozen=True, slots=True)
class Operation(Generic[RequestT, ResponseT]):
    """One SMC action with its request and response types.

    - ``mutating``: the call changes upstream state.
    - ``retry_safe``: repeating the call cannot do harm (reads, and attribute setters that
      set the same values again). ``False`` for CreateReplicationJob too: its safety comes
      from ``client_token``, which the client checks.
    - ``client_token``: the request carries an idempotency ``ClientToken``.
    """

    action: str
    request_type: type[RequestT]
    response_type: type[ResponseT]
    mutating: bool
    retry_safe: bool
    client_token: bool = False

    def parse(self, data: Mapping[str, object]) -> ResponseT:
        """The typed response; raises ``MalformedResponseError`` only."""
        return self.response_type.from_json(data)


DESCRIBE_SOURCE_SERVERS: Final[
    Operation[DescribeSourceServersRequest, DescribeSourceServersResponse]
] = Operation(
    "DescribeSourceServers",
    DescribeSourceServersRequest,
    DescribeSourceServersResponse,
    mutating=False,
    retry_safe=True,
)
MODIFY_SOURCE_SERVER_ATTRIBUTE: Final[
    Operation[ModifySourceServerAttributeRequest, EmptyResponse]
] = Operation(
    "ModifySourceServerAttribute",
    ModifySourceServerAttributeRequest,
    EmptyResponse,
    mutating=True,
    retry_safe=True,
)
DELETE_SOURCE_SERVER: Final[Operation[DeleteSourceServerRequest, EmptyResponse]] = Operation(
    "DeleteSourceServer",
    DeleteSourceServerRequest,
    EmptyResponse,
    mutating=True,
    retry_safe=False,
)
CREATE_REPLICATION_JOB: Final[
    Operation[CreateReplicationJobRequest, CreateReplicationJobResponse]
] = Operation(
    "CreateReplicationJob",
    CreateReplicationJobRequest,
    CreateReplicationJobResponse,
    mutating=True,
    retry_safe=False,
    client_token=True,
)
DELETE_REPLICATION_JOB: Final[Operation[DeleteReplicationJobRequest, EmptyResponse]] = Operation(
    "DeleteReplicationJob",
    DeleteReplicationJobRequest,
    EmptyResponse,
    mutating=True,
    retry_safe=False,
)
DESCRIBE_REPLICATION_JOBS: Final[
    Operation[DescribeReplicationJobsRequest, DescribeReplicationJobsResponse]
] = Operation(
    "DescribeReplicationJobs",
    DescribeReplicationJobsRequest,
    DescribeReplicationJobsResponse,
    mutating=False,
    retry_safe=True,
)
MODIFY_REPLICATION_JOB_ATTRIBUTE: Final[
    Operation[ModifyReplicationJobAttributeRequest, EmptyResponse]
] = Operation(
    "ModifyReplicationJobAttribute",
    ModifyReplicationJobAttributeRequest,
    EmptyResponse,
    mutating=True,
    retry_safe=True,
)
START_REPLICATION_JOB: Final[Operation[StartReplicationJobRequest, EmptyResponse]] = Operation(
    "StartReplicationJob",
    StartReplicationJobRequest,
    EmptyResponse,
    mutating=True,
    retry_safe=False,
)
STOP_REPLICATION_JOB: Final[Operation[StopReplicationJobRequest, EmptyResponse]] = Operation(
    "StopReplicationJob",
    StopReplicationJobRequest,
    EmptyResponse,
    mutating=True,
    retry_safe=False,
)

OPERATIONS: Final[Mapping[str, Operation[Any, Any]]] = MappingProxyType(
    {
        op.action: op
        for op in (
            DESCRIBE_SOURCE_SERVERS,
            MODIFY_SOURCE_SERVER_ATTRIBUTE,
            DELETE_SOURCE_SERVER,
            CREATE_REPLICATION_JOB,
            DELETE_REPLICATION_JOB,
            DESCRIBE_REPLICATION_JOBS,
            MODIFY_REPLICATION_JOB_ATTRIBUTE,
            START_REPLICATION_JOB,
            STOP_REPLICATION_JOB,
        )
    }
)
"""Every operation by its ``Action`` name."""
