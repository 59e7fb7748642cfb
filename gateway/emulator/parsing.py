"""One parse function per SMC operation: wire parameters → a typed request.

Field-level rules (types, ranges, formats) live here and answer ``InvalidParameter`` or
``MissingParameter`` naming the field; rules that need state (a source's disks, a name taken,
the clock) live in the backend.
"""

from __future__ import annotations

from gateway.emulator.errors import InvalidParameterError
from gateway.emulator.models import (
    BusinessStatus,
    CreateJobRequest,
    DataDiskSpec,
    DescribeJobsRequest,
    DescribeSourcesRequest,
    DiskPartSpec,
    DiskSpec,
    JobSettings,
    JobStatus,
    ModifyJobRequest,
    PartSpec,
    SourceState,
    Tag,
    TargetType,
)
from gateway.emulator.params import ParamReader

__all__ = [
    "DeleteSourceRequest",
    "ModifySourceRequest",
    "parse_create_job",
    "parse_delete_source",
    "parse_describe_jobs",
    "parse_describe_sources",
    "parse_job_id",
    "parse_modify_job",
    "parse_modify_source",
]

MAX_FILTER_IDS = 50
MAX_DATA_DISKS = 16
MAX_PARTS = 128
MAX_TAGS = 20
_FORBIDDEN_TAG_PREFIXES = ("aliyun", "acs:", "http://", "https://")


def _paging(r: ParamReader) -> tuple[int, int]:
    number = r.integer("PageNumber", 1, 1_000_000)
    size = r.integer("PageSize", 1, 50)
    return (1 if number is None else number), (10 if size is None else size)


def parse_describe_sources(r: ParamReader) -> DescribeSourcesRequest:
    number, size = _paging(r)
    return DescribeSourcesRequest(
        source_ids=r.scalar_list("SourceId", MAX_FILTER_IDS),
        state=r.choice("State", SourceState),
        name=r.filter("Name"),
        job_id=r.filter("JobId"),
        workgroup_id=r.filter("WorkgroupId"),
        resource_group_id=r.filter("ResourceGroupId"),
        page_number=number,
        page_size=size,
    )


class ModifySourceRequest:
    __slots__ = ("description", "name", "source_id")

    def __init__(self, source_id: str, name: str | None, description: str | None) -> None:
        self.source_id, self.name, self.description = source_id, name, description


def parse_modify_source(r: ParamReader) -> ModifySourceRequest:
    return ModifySourceRequest(
        r.required("SourceId"), r.name("Name"), r.description("Description", 0, 256)
    )


class DeleteSourceRequest:
    __slots__ = ("force", "source_id")

    def __init__(self, source_id: str, force: bool) -> None:
        self.source_id, self.force = source_id, force


def parse_delete_source(r: ParamReader) -> DeleteSourceRequest:
    return DeleteSourceRequest(r.required("SourceId"), r.boolean("Force") or False)


def parse_job_id(r: ParamReader) -> str:
    return r.required("JobId")


def _parts(r: ParamReader, name: str) -> tuple[PartSpec, ...]:
    return tuple(
        PartSpec(
            device=p.text("Device", max_length=128),
            size_bytes=p.integer("SizeBytes", 0),
            block=p.boolean("Block"),
        )
        for p in r.items(name, MAX_PARTS)
    )


def _data_disks(r: ParamReader) -> tuple[DataDiskSpec, ...] | None:
    readers = r.items("DataDisk", MAX_DATA_DISKS)
    if not readers:
        return None
    disks: list[DataDiskSpec] = []
    for d in readers:
        index = d.integer("Index", 1, 16)
        size = d.integer("Size", 20, 32768)
        if index is None:
            index = int(d.required("Index"))  # raises MissingParameter naming DataDisk.N.Index
        if size is None:
            size = int(d.required("Size"))
        if any(disk.index == index for disk in disks):
            raise InvalidParameterError.named(d.wire("Index"), "Duplicate data disk index.")
        disks.append(DataDiskSpec(index, size, _parts(d, "Part")))
    return tuple(disks)


def _job_settings(r: ParamReader) -> JobSettings:
    system_parts = _parts(r, "SystemDiskPart")
    return JobSettings(
        name=r.name("Name"),
        description=r.description("Description", 2, 128),
        system_disk_size=r.integer("SystemDiskSize", 20, 500),
        data_disks=_data_disks(r),
        system_disk_parts=system_parts or None,
        image_name=r.name("ImageName"),
        instance_id=r.filter("InstanceId"),
        net_mode=_net_mode(r),
        vswitch_id=r.filter("VSwitchId"),
        vpc_id=r.filter("VpcId"),
        replication_parameters=r.json_object("ReplicationParameters", 2048),
        scheduled_start_time=r.timestamp("ScheduledStartTime"),
        valid_time=r.timestamp("ValidTime"),
        target_type=_target_type(r),
        frequency=r.integer("Frequency", 1, 168),
        max_number_of_image_to_keep=r.integer("MaxNumberOfImageToKeep", 1, 10),
        instance_type=r.text("InstanceType", max_length=128),
        instance_ram_role=r.text("InstanceRamRole", max_length=128),
        launch_template_id=r.text("LaunchTemplateId", max_length=128),
        launch_template_version=r.text("LaunchTemplateVersion", max_length=128),
        container_namespace=r.text("ContainerNamespace", max_length=128),
        container_repository=r.text("ContainerRepository", max_length=128),
        container_tag=r.text("ContainerTag", max_length=128),
    )


def _net_mode(r: ParamReader) -> int | None:
    mode = r.integer("NetMode")
    if mode is not None and mode not in (0, 2):
        raise InvalidParameterError.named("NetMode", "Allowed values: 0, 2.")
    return mode


def _target_type(r: ParamReader) -> TargetType | None:
    # Case-insensitive [P]; the seed's legacy "image" is Image.
    return r.choice("TargetType", TargetType, case_insensitive=True)


def _client_token(r: ParamReader) -> str | None:
    token = r.text("ClientToken", max_length=64)
    if token is not None and not (token.isascii() and token.isprintable()):
        raise InvalidParameterError.named("ClientToken", "It must be printable ASCII.")
    return token or None


def _tags(r: ParamReader) -> tuple[Tag, ...]:
    tags: list[Tag] = []
    for t in r.items("Tag", MAX_TAGS):
        key = t.required("Key")
        value = t.text("Value", max_length=128) or ""
        if len(key) > 128 or key.startswith(_FORBIDDEN_TAG_PREFIXES):
            raise InvalidParameterError.named(t.wire("Key"))
        if value.startswith(_FORBIDDEN_TAG_PREFIXES):
            raise InvalidParameterError.named(t.wire("Value"))
        tags.append(Tag(key, value))
    return tuple(tags)


def _disk_spec(d: ParamReader, *, data: bool) -> DiskSpec:
    return DiskSpec(
        disk_id=d.text("DiskId", max_length=128) if data else None,
        size=d.integer("Size", 20, 32768),
        lvm=d.boolean("LVM"),
        parts=tuple(
            DiskPartSpec(
                path=p.text("Path", max_length=1024),
                size_bytes=p.integer("SizeBytes", 0),
                block=p.boolean("Block"),
            )
            for p in d.items("Part", MAX_PARTS)
        ),
    )


def parse_create_job(r: ParamReader) -> CreateJobRequest:
    system = r.struct("Disks.System")
    return CreateJobRequest(
        region_id=r.required("RegionId"),
        source_id=r.required("SourceId"),
        settings=_job_settings(r),
        client_token=_client_token(r),
        run_once=r.boolean("RunOnce"),
        job_type=r.integer("JobType", 0, 3),
        license_type=r.text("LicenseType", max_length=64),
        resource_group_id=r.filter("ResourceGroupId"),
        tags=_tags(r),
        disks_system=None if system is None else _disk_spec(system, data=False),
        disks_data=tuple(_disk_spec(d, data=True) for d in r.items("Disks.Data", 16)),
    )


def parse_modify_job(r: ParamReader) -> ModifyJobRequest:
    return ModifyJobRequest(r.required("JobId"), _job_settings(r))


def parse_describe_jobs(r: ParamReader) -> DescribeJobsRequest:
    number, size = _paging(r)
    return DescribeJobsRequest(
        job_ids=r.scalar_list("JobId", MAX_FILTER_IDS),
        source_ids=r.scalar_list("SourceId", MAX_FILTER_IDS),
        instance_ids=r.scalar_list("InstanceId", MAX_FILTER_IDS),
        name=r.filter("Name"),
        status=r.choice("Status", JobStatus),
        business_status=r.choice("BusinessStatus", BusinessStatus),
        region_id=r.filter("RegionId"),
        job_type=r.integer("JobType", 0, 3),
        resource_group_id=r.filter("ResourceGroupId"),
        page_number=number,
        page_size=size,
    )
