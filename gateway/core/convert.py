"""Conversions between the API's proto messages and the SMC client's models.

Enums map by name in both directions; an SMC value this gateway does not know becomes
``*_UNSPECIFIED`` beside its raw text, so it never fails a call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf import timestamp_pb2

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs_pb2
from gateway._proto.smcgateway.v1 import resources_pb2 as pb
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources_pb2
from gateway.smc import models as smc

__all__ = [
    "create_job_request",
    "describe_jobs_request",
    "describe_sources_request",
    "job_to_pb",
    "modify_job_request",
    "source_to_pb",
]

SOURCE_STATE_TO_PB: Mapping[smc.SourceServerState, int] = {
    smc.SourceServerState.UNAVAILABLE: pb.SOURCE_SERVER_STATE_UNAVAILABLE,
    smc.SourceServerState.AVAILABLE: pb.SOURCE_SERVER_STATE_AVAILABLE,
    smc.SourceServerState.IN_USE: pb.SOURCE_SERVER_STATE_IN_USE,
    smc.SourceServerState.DELETING: pb.SOURCE_SERVER_STATE_DELETING,
}
JOB_STATUS_TO_PB: Mapping[smc.JobStatus, int] = {
    smc.JobStatus.READY: pb.REPLICATION_JOB_STATUS_READY,
    smc.JobStatus.RUNNING: pb.REPLICATION_JOB_STATUS_RUNNING,
    smc.JobStatus.STOPPED: pb.REPLICATION_JOB_STATUS_STOPPED,
    smc.JobStatus.IN_ERROR: pb.REPLICATION_JOB_STATUS_IN_ERROR,
    smc.JobStatus.FINISHED: pb.REPLICATION_JOB_STATUS_FINISHED,
    smc.JobStatus.EXPIRED: pb.REPLICATION_JOB_STATUS_EXPIRED,
    smc.JobStatus.DELETING: pb.REPLICATION_JOB_STATUS_DELETING,
    smc.JobStatus.WAITING: pb.REPLICATION_JOB_STATUS_WAITING,
}
BUSINESS_STATUS_TO_PB: Mapping[smc.BusinessStatus, int] = {
    smc.BusinessStatus.PREPARING: pb.REPLICATION_JOB_BUSINESS_STATUS_PREPARING,
    smc.BusinessStatus.SYNCING: pb.REPLICATION_JOB_BUSINESS_STATUS_SYNCING,
    smc.BusinessStatus.PROCESSING: pb.REPLICATION_JOB_BUSINESS_STATUS_PROCESSING,
    smc.BusinessStatus.CLEANING: pb.REPLICATION_JOB_BUSINESS_STATUS_CLEANING,
}
TARGET_TYPE_TO_PB: Mapping[smc.TargetType, int] = {
    smc.TargetType.IMAGE: pb.TARGET_TYPE_IMAGE,
    smc.TargetType.CONTAINER_IMAGE: pb.TARGET_TYPE_CONTAINER_IMAGE,
    smc.TargetType.TARGET_INSTANCE: pb.TARGET_TYPE_TARGET_INSTANCE,
}
NET_MODE_TO_PB: Mapping[smc.NetMode, int] = {
    smc.NetMode.PUBLIC: pb.NET_MODE_PUBLIC,
    smc.NetMode.VPC: pb.NET_MODE_VPC,
}


K = TypeVar("K")
V = TypeVar("V")


def _invert(mapping: Mapping[K, V]) -> dict[V, K]:
    return {v: k for k, v in mapping.items()}


SOURCE_STATE_FROM_PB = _invert(SOURCE_STATE_TO_PB)
JOB_STATUS_FROM_PB = _invert(JOB_STATUS_TO_PB)
BUSINESS_STATUS_FROM_PB = _invert(BUSINESS_STATUS_TO_PB)
TARGET_TYPE_FROM_PB = _invert(TARGET_TYPE_TO_PB)
NET_MODE_FROM_PB = _invert(NET_MODE_TO_PB)


def _ts(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    if moment is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _when(stamp: timestamp_pb2.Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def _tags(tags: Iterable[smc.Tag]) -> list[pb.Tag]:
    return [pb.Tag(key=t.key, value=t.value) for t in tags]


def _source_part(p: smc.SourcePart) -> pb.SourceDiskPart:
    return pb.SourceDiskPart(
        device=p.device,
        path=p.path,
        size_bytes=p.size_bytes or 0,
        can_block=bool(p.can_block),
        need=bool(p.need),
    )


def _source_disk(d: smc.SourceDisk) -> pb.SourceDisk:
    return pb.SourceDisk(
        offset=d.offset or 0,
        size=d.size or 0,
        parts=[
            pb.SourceDiskPartition(
                path=p.path, size_bytes=p.size_bytes or 0, can_block=bool(p.can_block), type=p.type
            )
            for p in d.parts
        ],
    )


def source_to_pb(s: smc.SourceServer) -> pb.SourceServer:
    """An SMC source as the API's SourceServer."""
    state = s.state
    out = pb.SourceServer(
        source_id=s.source_id,
        name=s.name,
        description=s.description,
        state=SOURCE_STATE_TO_PB.get(state, 0) if state is not None else 0,  # type: ignore[arg-type]
        state_raw=s.state_raw,
        agent_version=s.agent_version,
        architecture=s.architecture,
        platform=s.platform,
        kernel_level=s.kernel_level or 0,
        heartbeat_rate=s.heartbeat_rate or 0,
        job_id=s.job_id,
        replication_driver=s.replication_driver,
        system_disk_size=s.system_disk_size or 0,
        data_disks=[
            pb.SourceDataDisk(
                index=d.index or 0,
                path=d.path,
                size=d.size or 0,
                parts=[_source_part(p) for p in d.parts],
            )
            for d in s.data_disks
        ],
        system_disk_parts=[_source_part(p) for p in s.system_disk_parts],
        error_code=s.error_code,
        status_info=s.status_info,
        system_info=s.system_info,
        creation_time=_ts(s.creation_time),
        resource_group_id=s.resource_group_id,
        workgroup_id=s.workgroup_id,
        tags=_tags(s.tags),
    )
    if s.disks is not None:
        disks = out.disks
        if s.disks.system is not None:
            disks.system.CopyFrom(_source_disk(s.disks.system))
        disks.data.extend(_source_disk(d) for d in s.disks.data)
    return out


def _job_part(p: smc.JobPart) -> pb.ReplicationJobDiskPart:
    return pb.ReplicationJobDiskPart(
        device=p.device, size_bytes=p.size_bytes or 0, block=bool(p.block)
    )


def _job_disk(d: smc.JobDisk) -> pb.ReplicationJobDisk:
    return pb.ReplicationJobDisk(
        disk_id=d.disk_id,
        size=d.size or 0,
        lvm=bool(d.lvm),
        parts=[
            pb.ReplicationJobDiskPartition(
                path=p.path, size_bytes=p.size_bytes or 0, block=bool(p.block)
            )
            for p in d.parts
        ],
    )


def job_to_pb(j: smc.ReplicationJob) -> pb.ReplicationJob:
    """An SMC job as the API's ReplicationJob."""
    status, business, target, net = j.status, j.business_status, j.target_type, j.net_mode
    out = pb.ReplicationJob(
        job_id=j.job_id,
        name=j.name,
        description=j.description,
        source_id=j.source_id,
        region_id=j.region_id,
        status=JOB_STATUS_TO_PB.get(status, 0) if status is not None else 0,  # type: ignore[arg-type]
        status_raw=j.status_raw,
        business_status=(
            BUSINESS_STATUS_TO_PB.get(business, 0) if business is not None else 0  # type: ignore[arg-type]
        ),
        business_status_raw=j.business_status_raw,
        progress=j.progress or 0.0,
        error_code=j.error_code,
        status_info=j.status_info,
        target_type=TARGET_TYPE_TO_PB.get(target, 0) if target is not None else 0,  # type: ignore[arg-type]
        target_type_raw=j.target_type_raw,
        net_mode=NET_MODE_TO_PB.get(net, 0) if net is not None else 0,  # type: ignore[arg-type]
        net_mode_raw=j.net_mode_raw or 0,
        system_disk_size=j.system_disk_size or 0,
        data_disks=[
            pb.ReplicationJobDataDisk(
                index=d.index or 0, size=d.size or 0, parts=[_job_part(p) for p in d.parts]
            )
            for d in j.data_disks
        ],
        system_disk_parts=[_job_part(p) for p in j.system_disk_parts],
        image_name=j.image_name,
        image_id=j.image_id,
        instance_id=j.instance_id,
        transition_instance_id=j.transition_instance_id,
        vpc_id=j.vpc_id,
        vswitch_id=j.vswitch_id,
        replication_parameters=j.replication_parameters,
        scheduled_start_time=_ts(j.scheduled_start_time),
        start_time=_ts(j.start_time),
        end_time=_ts(j.end_time),
        creation_time=_ts(j.creation_time),
        valid_time=_ts(j.valid_time),
        frequency=j.frequency or 0,
        max_number_of_image_to_keep=j.max_number_of_image_to_keep or 0,
        run_once=bool(j.run_once) if j.run_once is not None else True,
        instance_type=j.instance_type,
        instance_ram_role=j.instance_ram_role,
        launch_template_id=j.launch_template_id,
        launch_template_version=j.launch_template_version,
        license_type=j.license_type,
        job_type=j.job_type or 0,
        container_namespace=j.container_namespace,
        container_repository=j.container_repository,
        container_tag=j.container_tag,
        resource_group_id=j.resource_group_id,
        workgroup_id=j.workgroup_id,
        tags=_tags(j.tags),
        replication_job_runs=[
            pb.ReplicationJobRun(
                start_time=_ts(r.start_time),
                end_time=_ts(r.end_time),
                image_id=r.image_id,
                type=r.type,
            )
            for r in j.replication_job_runs
        ],
    )
    if j.disks is not None:
        if j.disks.system is not None:
            out.disks.system.CopyFrom(_job_disk(j.disks.system))
        out.disks.data.extend(_job_disk(d) for d in j.disks.data)
    return out


def describe_sources_request(
    r: sources_pb2.ListSourceServersRequest, page_number: int, page_size: int
) -> smc.DescribeSourceServersRequest:
    return smc.DescribeSourceServersRequest(
        page_number=page_number,
        page_size=page_size,
        source_ids=tuple(r.source_ids),
        state=SOURCE_STATE_FROM_PB.get(r.state),
        name=r.name or None,
        job_id=r.job_id or None,
    )


def describe_jobs_request(
    r: jobs_pb2.ListReplicationJobsRequest, page_number: int, page_size: int
) -> smc.DescribeReplicationJobsRequest:
    return smc.DescribeReplicationJobsRequest(
        page_number=page_number,
        page_size=page_size,
        job_ids=tuple(r.job_ids),
        source_ids=tuple(r.source_ids),
        instance_ids=tuple(r.instance_ids),
        name=r.name or None,
        status=JOB_STATUS_FROM_PB.get(r.status),
        business_status=BUSINESS_STATUS_FROM_PB.get(r.business_status),
        region_id=r.region_id or None,
    )


def _disk_specs(disks: Iterable[jobs_pb2.DataDiskSpec]) -> tuple[smc.DataDiskSpec, ...]:
    return tuple(
        smc.DataDiskSpec(index=d.index, size=d.size, parts=_part_specs(d.parts)) for d in disks
    )


def _part_specs(parts: Iterable[jobs_pb2.DiskPartSpec]) -> tuple[smc.DevicePartSpec, ...]:
    return tuple(
        smc.DevicePartSpec(
            device=p.device,
            size_bytes=p.size_bytes,
            block=p.block if p.HasField("block") else None,
        )
        for p in parts
    )


def create_job_request(
    r: jobs_pb2.CreateReplicationJobRequest, region_id: str, client_token: str | None
) -> smc.CreateReplicationJobRequest:
    """SMC's CreateReplicationJob for a validated API request."""
    return smc.CreateReplicationJobRequest(
        region_id=region_id,
        source_id=r.source_id,
        system_disk_size=r.system_disk_size or None,
        client_token=client_token,
        data_disks=_disk_specs(r.data_disks),
        name=r.name or None,
        description=r.description or None,
        image_name=r.image_name or None,
        instance_id=r.instance_id or None,
        net_mode=NET_MODE_FROM_PB.get(r.net_mode),
        vpc_id=r.vpc_id or None,
        vswitch_id=r.vswitch_id or None,
        replication_parameters=r.replication_parameters or None,
        scheduled_start_time=(
            _when(r.scheduled_start_time) if r.HasField("scheduled_start_time") else None
        ),
        valid_time=_when(r.valid_time) if r.HasField("valid_time") else None,
        target_type=TARGET_TYPE_FROM_PB.get(r.target_type),
        system_disk_parts=_part_specs(r.system_disk_parts),
        run_once=r.run_once if r.HasField("run_once") else None,
        frequency=r.frequency or None,
        max_number_of_image_to_keep=r.max_number_of_image_to_keep or None,
        instance_type=r.instance_type or None,
        instance_ram_role=r.instance_ram_role or None,
        launch_template_id=r.launch_template_id or None,
        launch_template_version=r.launch_template_version or None,
        license_type=r.license_type or None,
        job_type=r.job_type if r.job_type else None,
        container_namespace=r.container_namespace or None,
        container_repository=r.container_repository or None,
        container_tag=r.container_tag or None,
        resource_group_id=r.resource_group_id or None,
        tags=tuple(smc.Tag(key=t.key, value=t.value) for t in r.tags),
    )


def _opt(r: jobs_pb2.UpdateReplicationJobRequest, name: str) -> str | None:
    return getattr(r, name) if r.HasField(name) else None  # type: ignore[arg-type]


def modify_job_request(
    r: jobs_pb2.UpdateReplicationJobRequest,
) -> smc.ModifyReplicationJobAttributeRequest:
    """SMC's ModifyReplicationJobAttribute for a validated API request (set fields only)."""
    return smc.ModifyReplicationJobAttributeRequest(
        job_id=r.job_id,
        name=_opt(r, "name"),
        description=_opt(r, "description"),
        image_name=_opt(r, "image_name"),
        instance_id=_opt(r, "instance_id"),
        system_disk_size=r.system_disk_size if r.HasField("system_disk_size") else None,
        data_disks=_disk_specs(r.data_disks.disks) if r.HasField("data_disks") else (),
        scheduled_start_time=(
            _when(r.scheduled_start_time) if r.HasField("scheduled_start_time") else None
        ),
        target_type=TARGET_TYPE_FROM_PB.get(r.target_type) if r.HasField("target_type") else None,
        net_mode=NET_MODE_FROM_PB.get(r.net_mode) if r.HasField("net_mode") else None,
        vpc_id=_opt(r, "vpc_id"),
        vswitch_id=_opt(r, "vswitch_id"),
        replication_parameters=_opt(r, "replication_parameters"),
        valid_time=_when(r.valid_time) if r.HasField("valid_time") else None,
        frequency=r.frequency if r.HasField("frequency") else None,
        max_number_of_image_to_keep=(
            r.max_number_of_image_to_keep if r.HasField("max_number_of_image_to_keep") else None
        ),
        instance_type=_opt(r, "instance_type"),
        instance_ram_role=_opt(r, "instance_ram_role"),
        launch_template_id=_opt(r, "launch_template_id"),
        launch_template_version=_opt(r, "launch_template_version"),
        container_namespace=_opt(r, "container_namespace"),
        container_repository=_opt(r, "container_repository"),
        container_tag=_opt(r, "container_tag"),
    )
