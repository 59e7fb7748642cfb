"""Typed state of the emulated SMC: enums, sources, jobs and the requests that change them.

Requests are frozen dataclasses so a ClientToken's first request can be compared with a retry
by ``==``.  ``None`` in a request field means "not given".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gateway.smc.models import BusinessStatus, JobStatus, SourceServerState, TargetType

__all__ = [
    "UNFINISHED",
    "BusinessStatus",
    "CreateJobRequest",
    "DataDiskSpec",
    "DescribeJobsRequest",
    "DescribeSourcesRequest",
    "DiskSpec",
    "JobRun",
    "JobSettings",
    "JobStatus",
    "Page",
    "PartSpec",
    "ReplicationJob",
    "SourceDataDisk",
    "SourcePart",
    "SourceServer",
    "SourceState",
    "Tag",
    "TargetType",
]


# SMC's vocabulary is the client's: one definition of each state.
SourceState = SourceServerState


# A source may have at most one job in these states ([S] list plus Waiting from [P]).
UNFINISHED = frozenset(
    {
        JobStatus.READY,
        JobStatus.RUNNING,
        JobStatus.STOPPED,
        JobStatus.IN_ERROR,
        JobStatus.EXPIRED,
        JobStatus.WAITING,
    }
)


@dataclass(frozen=True)
class Tag:
    key: str
    value: str


# --- sources ----------------------------------------------------------------------------------


@dataclass
class SourcePart:
    path: str
    size_bytes: int
    device: str = ""
    can_block: bool = True
    need: bool = False
    type: str = "Normal"


@dataclass
class SourceDataDisk:
    index: int
    size: int
    path: str = ""
    parts: list[SourcePart] = field(default_factory=list)


@dataclass
class SourceServer:
    source_id: str
    name: str
    creation_time: datetime
    state: SourceState = SourceState.AVAILABLE
    description: str = ""
    agent_version: str = "2.8.6"
    architecture: str = "x86_64"
    platform: str = "CentOS"
    kernel_level: int = 3
    heartbeat_rate: int = 30
    replication_driver: str = "SMT"
    system_disk_size: int = 40
    system_info: str = "{}"
    data_disks: list[SourceDataDisk] = field(default_factory=list)
    system_disk_parts: list[SourcePart] = field(default_factory=list)
    error_code: str = ""
    status_info: str = ""
    job_id: str = ""
    resource_group_id: str = ""
    workgroup_id: str = ""
    tags: list[Tag] = field(default_factory=list)


# --- jobs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartSpec:
    """A partition of a target disk (``DataDisk.N.Part.M`` / ``SystemDiskPart.N``)."""

    device: str | None = None
    size_bytes: int | None = None
    block: bool | None = None


@dataclass(frozen=True)
class DataDiskSpec:
    index: int
    size: int | None = None
    parts: tuple[PartSpec, ...] = ()


@dataclass(frozen=True)
class DiskPartSpec:
    path: str | None = None
    size_bytes: int | None = None
    block: bool | None = None


@dataclass(frozen=True)
class DiskSpec:
    """``Disks.System`` / ``Disks.Data.N`` of CreateReplicationJob ([P] 1.1.0)."""

    disk_id: str | None = None
    size: int | None = None
    lvm: bool | None = None
    parts: tuple[DiskPartSpec, ...] = ()


@dataclass(frozen=True)
class JobSettings:
    """The job attributes Create sets and Modify may change; names match ReplicationJob."""

    name: str | None = None
    description: str | None = None
    system_disk_size: int | None = None
    data_disks: tuple[DataDiskSpec, ...] | None = None
    system_disk_parts: tuple[PartSpec, ...] | None = None
    image_name: str | None = None
    instance_id: str | None = None
    net_mode: int | None = None
    vswitch_id: str | None = None
    vpc_id: str | None = None
    replication_parameters: str | None = None
    scheduled_start_time: datetime | None = None
    valid_time: datetime | None = None
    target_type: TargetType | None = None
    frequency: int | None = None
    max_number_of_image_to_keep: int | None = None
    instance_type: str | None = None
    instance_ram_role: str | None = None
    launch_template_id: str | None = None
    launch_template_version: str | None = None
    container_namespace: str | None = None
    container_repository: str | None = None
    container_tag: str | None = None


@dataclass(frozen=True)
class CreateJobRequest:
    region_id: str
    source_id: str
    settings: JobSettings = JobSettings()
    client_token: str | None = None
    run_once: bool | None = None
    job_type: int | None = None
    license_type: str | None = None
    resource_group_id: str | None = None
    tags: tuple[Tag, ...] = ()
    disks_system: DiskSpec | None = None
    disks_data: tuple[DiskSpec, ...] = ()


@dataclass(frozen=True)
class ModifyJobRequest:
    job_id: str
    settings: JobSettings


@dataclass(frozen=True)
class DescribeSourcesRequest:
    source_ids: tuple[str, ...] = ()
    state: SourceState | None = None
    name: str | None = None
    job_id: str | None = None
    workgroup_id: str | None = None
    resource_group_id: str | None = None
    page_number: int = 1
    page_size: int = 10


@dataclass(frozen=True)
class DescribeJobsRequest:
    job_ids: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()
    instance_ids: tuple[str, ...] = ()
    name: str | None = None
    status: JobStatus | None = None
    business_status: BusinessStatus | None = None
    region_id: str | None = None
    job_type: int | None = None
    resource_group_id: str | None = None
    page_number: int = 1
    page_size: int = 10


@dataclass
class JobRun:
    start_time: datetime
    type: str  # Manual | Schedule
    end_time: datetime | None = None
    image_id: str = ""


@dataclass
class ReplicationJob:
    job_id: str
    source_id: str
    region_id: str
    creation_time: datetime
    status: JobStatus = JobStatus.READY
    business_status: BusinessStatus | None = None
    progress: float = 0.0
    # JobSettings fields (same names):
    name: str = ""
    description: str = ""
    system_disk_size: int | None = None
    data_disks: tuple[DataDiskSpec, ...] = ()
    system_disk_parts: tuple[PartSpec, ...] = ()
    image_name: str = ""
    instance_id: str = ""
    net_mode: int = 0
    vswitch_id: str = ""
    vpc_id: str = ""
    replication_parameters: str = ""
    scheduled_start_time: datetime | None = None
    valid_time: datetime | None = None
    target_type: TargetType = TargetType.IMAGE
    frequency: int | None = None
    max_number_of_image_to_keep: int | None = None
    instance_type: str = ""
    instance_ram_role: str = ""
    launch_template_id: str = ""
    launch_template_version: str = ""
    container_namespace: str = ""
    container_repository: str = ""
    container_tag: str = ""
    # Create-only fields:
    run_once: bool = True
    job_type: int = 0
    license_type: str = ""
    resource_group_id: str = ""
    tags: tuple[Tag, ...] = ()
    disks_system: DiskSpec | None = None
    disks_data: tuple[DiskSpec, ...] = ()
    # Set by SMC as the job runs:
    start_time: datetime | None = None
    end_time: datetime | None = None
    expired_time: datetime | None = None
    image_id: str = ""
    error_code: str = ""
    status_info: str = ""
    transition_instance_id: str = ""
    runs: list[JobRun] = field(default_factory=list)
    has_run: bool = False
    # Time progression: progress was `anchor_progress` at `anchor_time`.
    anchor_time: datetime | None = None
    anchor_progress: float = 0.0


@dataclass(frozen=True)
class Page:
    """One page of a Describe answer."""

    total_count: int
    page_number: int
    page_size: int
