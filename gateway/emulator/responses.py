"""Typed state → SMC's JSON shapes (SMC_API.md Appendix A).

Lists sit inside an object keyed by the singular name (``{"SourceServer": [...]}``), numbers are
JSON numbers, times ``yyyy-MM-ddTHH:mm:ssZ``.  Absent optional values are left out, as SMC does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from gateway.emulator.models import (
    DataDiskSpec,
    DiskSpec,
    Page,
    PartSpec,
    ReplicationJob,
    SourcePart,
    SourceServer,
    Tag,
)
from gateway.smc.wire import format_timestamp

__all__ = ["job_to_wire", "page_to_wire", "source_to_wire"]

JsonObject = dict[str, Any]


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


def _compact(obj: JsonObject) -> JsonObject:
    return {k: v for k, v in obj.items() if v is not None}


def _tags(tags: Iterable[Tag]) -> JsonObject:
    return {"Tag": [{"Key": t.key, "Value": t.value} for t in tags]}


def _source_part(p: SourcePart) -> JsonObject:
    return {
        "CanBlock": p.can_block,
        "Device": p.device,
        "Need": p.need,
        "Path": p.path,
        "SizeBytes": p.size_bytes,
    }


def _disk_part(p: SourcePart) -> JsonObject:
    return {"CanBlock": p.can_block, "Path": p.path, "SizeBytes": p.size_bytes, "Type": p.type}


def source_to_wire(s: SourceServer) -> JsonObject:
    return {
        "AgentVersion": s.agent_version,
        "Architecture": s.architecture,
        "CreationTime": format_timestamp(s.creation_time),
        "DataDisks": {
            "DataDisk": [
                {
                    "Index": d.index,
                    "Path": d.path,
                    "Size": d.size,
                    "Parts": {"Part": [_source_part(p) for p in d.parts]},
                }
                for d in s.data_disks
            ]
        },
        "Description": s.description,
        "Disks": {
            "System": {
                "Offset": 1048576,
                "Size": s.system_disk_size,
                "Parts": {"Part": [_disk_part(p) for p in s.system_disk_parts]},
            },
            "Data": {
                "Data": [
                    {
                        "Offset": 1048576,
                        "Size": d.size,
                        "Parts": {"Part": [_disk_part(p) for p in d.parts]},
                    }
                    for d in s.data_disks
                ]
            },
        },
        "ErrorCode": s.error_code,
        "HeartbeatRate": s.heartbeat_rate,
        "JobId": s.job_id,
        "KernelLevel": s.kernel_level,
        "Name": s.name,
        "Platform": s.platform,
        "ReplicationDriver": s.replication_driver,
        "ResourceGroupId": s.resource_group_id,
        "SourceId": s.source_id,
        "State": s.state.value,
        "StatusInfo": s.status_info,
        "SystemDiskParts": {"SystemDiskPart": [_source_part(p) for p in s.system_disk_parts]},
        "SystemDiskSize": s.system_disk_size,
        "SystemInfo": s.system_info,
        "Tags": _tags(s.tags),
        "WorkgroupId": s.workgroup_id,
    }


def _job_part(p: PartSpec) -> JsonObject:
    return _compact({"Block": p.block, "Device": p.device, "SizeBytes": p.size_bytes})


def _data_disk(d: DataDiskSpec) -> JsonObject:
    return {"Index": d.index, "Size": d.size, "Parts": {"Part": [_job_part(p) for p in d.parts]}}


def _disk(d: DiskSpec) -> JsonObject:
    body = _compact({"DiskId": d.disk_id, "LVM": d.lvm, "Size": d.size})
    body["Parts"] = {
        "Part": [
            _compact({"Block": p.block, "Path": p.path, "SizeBytes": p.size_bytes}) for p in d.parts
        ]
    }
    return body


def job_to_wire(j: ReplicationJob) -> JsonObject:
    disks: JsonObject = {"Data": {"Data": [_disk(d) for d in j.disks_data]}}
    if j.disks_system is not None:
        disks["System"] = _disk(j.disks_system)
    return _compact(
        {
            "BusinessStatus": "" if j.business_status is None else j.business_status.value,
            "ContainerNamespace": j.container_namespace,
            "ContainerRepository": j.container_repository,
            "ContainerTag": j.container_tag,
            "CreationTime": format_timestamp(j.creation_time),
            "DataDisks": {"DataDisk": [_data_disk(d) for d in j.data_disks]},
            "Description": j.description,
            "Disks": disks,
            "EndTime": _time(j.end_time),
            "ErrorCode": j.error_code,
            "Frequency": j.frequency,
            "ImageId": j.image_id,
            "ImageName": j.image_name,
            "InstanceId": j.instance_id,
            "InstanceRamRole": j.instance_ram_role,
            "InstanceType": j.instance_type,
            "JobId": j.job_id,
            "JobType": j.job_type,
            "LaunchTemplateId": j.launch_template_id,
            "LaunchTemplateVersion": j.launch_template_version,
            "LicenseType": j.license_type,
            "MaxNumberOfImageToKeep": j.max_number_of_image_to_keep,
            "Name": j.name,
            "NetMode": j.net_mode,
            "Progress": round(j.progress, 2),
            "RegionId": j.region_id,
            "ReplicationJobRuns": {
                "ReplicationJobRun": [
                    _compact(
                        {
                            "StartTime": _time(run.start_time),
                            "EndTime": _time(run.end_time),
                            "ImageId": run.image_id,
                            "Type": run.type,
                        }
                    )
                    for run in j.runs
                ]
            },
            "ReplicationParameters": j.replication_parameters,
            "ResourceGroupId": j.resource_group_id,
            "RunOnce": j.run_once,
            "ScheduledStartTime": _time(j.scheduled_start_time),
            "SourceId": j.source_id,
            "StartTime": _time(j.start_time),
            "Status": j.status.value,
            "StatusInfo": j.status_info,
            "SystemDiskParts": {"SystemDiskPart": [_job_part(p) for p in j.system_disk_parts]},
            "SystemDiskSize": j.system_disk_size,
            "Tags": _tags(j.tags),
            "TargetType": j.target_type.value,
            "TransitionInstanceId": j.transition_instance_id,
            "VSwitchId": j.vswitch_id,
            "ValidTime": _time(j.valid_time),
            "VpcId": j.vpc_id,
            "WorkgroupId": "",
        }
    )


def page_to_wire(page: Page) -> JsonObject:
    return {
        "PageNumber": page.page_number,
        "PageSize": page.page_size,
        "TotalCount": page.total_count,
    }
