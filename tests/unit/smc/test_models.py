"""Typed SMC models: parsing Describe bodies, flattening requests, the operation registry."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.smc.models import (
    CREATE_REPLICATION_JOB,
    DELETE_REPLICATION_JOB,
    DELETE_SOURCE_SERVER,
    DESCRIBE_REPLICATION_JOBS,
    DESCRIBE_SOURCE_SERVERS,
    MODIFY_REPLICATION_JOB_ATTRIBUTE,
    MODIFY_SOURCE_SERVER_ATTRIBUTE,
    OPERATIONS,
    START_REPLICATION_JOB,
    STOP_REPLICATION_JOB,
    BusinessStatus,
    CreateReplicationJobRequest,
    CreateReplicationJobResponse,
    DataDiskSpec,
    DeleteReplicationJobRequest,
    DeleteSourceServerRequest,
    DescribeReplicationJobsRequest,
    DescribeReplicationJobsResponse,
    DescribeSourceServersRequest,
    DescribeSourceServersResponse,
    DevicePartSpec,
    DisksDataSpec,
    DisksSpec,
    DisksSystemSpec,
    EmptyResponse,
    JobDataDisk,
    JobDisk,
    JobDiskPartition,
    JobDisks,
    JobPart,
    JobStatus,
    MalformedResponseError,
    ModifyReplicationJobAttributeRequest,
    ModifySourceServerAttributeRequest,
    NetMode,
    Operation,
    PathPartSpec,
    ReplicationJob,
    ReplicationJobRun,
    RequestT,
    ResponseT,
    SmcRequest,
    SourceDataDisk,
    SourceDisk,
    SourceDiskPartition,
    SourceDisks,
    SourcePart,
    SourceServer,
    SourceServerState,
    StartReplicationJobRequest,
    StopReplicationJobRequest,
    Tag,
    TargetType,
)

# --------------------------------------------------------------------------------------------
# Bodies: Appendix A skeletons filled with realistic values, and the seed's own samples
# --------------------------------------------------------------------------------------------

SYSTEM_INFO = (
    '{"agent_mode":"daemon","agent_type":"aliyun","client_type":"","cores":"2",'
    '"cpu_usage":"0.00","hostname":"web-01","ipv4":"10.0.0.1","memory":"8.00",'
    '"memory_usage":"3.61"}'
)

SOURCE_SERVERS_BODY: dict[str, Any] = {
    "PageNumber": 1,
    "PageSize": 10,
    "RequestId": "766A24CA-AA5D-436E-A525-3B870482195C",
    "TotalCount": 1,
    "SourceServers": {
        "SourceServer": [
            {
                "AgentVersion": "1.5.2.3",
                "Architecture": "x86_64",
                "CreationTime": "2019-06-27T02:58:09Z",
                "DataDisks": {
                    "DataDisk": [
                        {
                            "Index": 1,
                            "Path": "/home/data",
                            "Size": 20,
                            "Parts": {
                                "Part": [
                                    {
                                        "CanBlock": True,
                                        "Device": "1_1",
                                        "Need": True,
                                        "Path": "/home/data",
                                        "SizeBytes": 21473787904,
                                    }
                                ]
                            },
                        }
                    ]
                },
                "Description": "Server Source Imported By GotoAliyun.",
                "Disks": {
                    "System": {
                        "Offset": 1048576,
                        "Size": 40,
                        "Parts": {
                            "Part": [
                                {
                                    "CanBlock": True,
                                    "Path": "/boot",
                                    "SizeBytes": 536870912,
                                    "Type": "Boot",
                                },
                                {
                                    "CanBlock": False,
                                    "Path": "/",
                                    "SizeBytes": 42411343872,
                                    "Type": "System",
                                },
                            ]
                        },
                    },
                    "Data": {
                        "Data": [
                            {
                                "Offset": 1048576,
                                "Size": 20,
                                "Parts": {
                                    "Part": [
                                        {
                                            "CanBlock": True,
                                            "Path": "/home/data",
                                            "SizeBytes": 21473787904,
                                            "Type": "Normal",
                                        }
                                    ]
                                },
                            }
                        ]
                    },
                },
                "ErrorCode": "",
                "HeartbeatRate": 30,
                "JobId": "j-bw526m1vi6x21q****",
                "KernelLevel": 1,
                "Name": "web-01",
                "Platform": "OpenSUSE",
                "ReplicationDriver": "SMT",
                "ResourceGroupId": "rg-acfmx7rr7gvn****",
                "SourceId": "s-bp1e2fsl57knvuug****",
                "State": "InUse",
                "StatusInfo": "",
                "SystemDiskParts": {
                    "SystemDiskPart": [
                        {
                            "CanBlock": True,
                            "Device": "0_1",
                            "Need": True,
                            "Path": "/",
                            "SizeBytes": 42949672960,
                        }
                    ]
                },
                "SystemDiskSize": 40,
                "SystemInfo": SYSTEM_INFO,
                "Tags": {"Tag": [{"Key": "env", "Value": "prod"}]},
                "WorkgroupId": "w-bp10geepnj916e3d****",
            }
        ]
    },
}

EXPECTED_SOURCE_SERVER = SourceServer(
    source_id="s-bp1e2fsl57knvuug****",
    agent_version="1.5.2.3",
    architecture="x86_64",
    creation_time=datetime(2019, 6, 27, 2, 58, 9, tzinfo=UTC),
    data_disks=(
        SourceDataDisk(
            index=1,
            path="/home/data",
            size=20,
            parts=(
                SourcePart(
                    can_block=True,
                    device="1_1",
                    need=True,
                    path="/home/data",
                    size_bytes=21473787904,
                ),
            ),
        ),
    ),
    description="Server Source Imported By GotoAliyun.",
    disks=SourceDisks(
        system=SourceDisk(
            offset=1048576,
            size=40,
            parts=(
                SourceDiskPartition(
                    can_block=True, path="/boot", size_bytes=536870912, type="Boot"
                ),
                SourceDiskPartition(
                    can_block=False, path="/", size_bytes=42411343872, type="System"
                ),
            ),
        ),
        data=(
            SourceDisk(
                offset=1048576,
                size=20,
                parts=(
                    SourceDiskPartition(
                        can_block=True, path="/home/data", size_bytes=21473787904, type="Normal"
                    ),
                ),
            ),
        ),
    ),
    error_code="",
    heartbeat_rate=30,
    job_id="j-bw526m1vi6x21q****",
    kernel_level=1,
    name="web-01",
    platform="OpenSUSE",
    replication_driver="SMT",
    resource_group_id="rg-acfmx7rr7gvn****",
    state_raw="InUse",
    status_info="",
    system_disk_parts=(
        SourcePart(can_block=True, device="0_1", need=True, path="/", size_bytes=42949672960),
    ),
    system_disk_size=40,
    system_info=SYSTEM_INFO,
    tags=(Tag(key="env", value="prod"),),
    workgroup_id="w-bp10geepnj916e3d****",
)

REPLICATION_JOBS_BODY: dict[str, Any] = {
    "PageNumber": 2,
    "PageSize": 20,
    "RequestId": "473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E",
    "TotalCount": 21,
    "ReplicationJobs": {
        "ReplicationJob": [
            {
                "BusinessStatus": "Syncing",
                "ContainerNamespace": "migration",
                "ContainerRepository": "web",
                "ContainerTag": "v1",
                "CreationTime": "2019-06-04T13:00:52Z",
                "DataDisks": {
                    "DataDisk": [
                        {
                            "Index": 1,
                            "Size": 100,
                            "Parts": {
                                "Part": [{"Block": True, "Device": "1_1", "SizeBytes": 1073741824}]
                            },
                        }
                    ]
                },
                "Description": "Nightly-copy",
                "Disks": {
                    "System": {
                        "DiskId": "d-system01",
                        "LVM": False,
                        "Size": 40,
                        "Parts": {"Part": [{"Block": True, "Path": "/", "SizeBytes": 42949672960}]},
                    },
                    "Data": {
                        "Data": [
                            {
                                "DiskId": "d-data01",
                                "LVM": True,
                                "Size": 100,
                                "Parts": {
                                    "Part": [
                                        {"Block": False, "Path": "/data", "SizeBytes": 107374182400}
                                    ]
                                },
                            }
                        ]
                    },
                },
                "EndTime": "2019-06-04T16:00:52Z",
                "ErrorCode": "",
                "Frequency": 12,
                "ImageId": "m-bp1f1arnuhbfj6q****",
                "ImageName": "web-image",
                "InstanceId": "i-bp1f1arnuhbfj6q****",
                "InstanceRamRole": "SmcRole",
                "InstanceType": "ecs.g6.large",
                "JobId": "j-2ze33rsym4ai4de1srq",
                "JobType": 0,
                "LaunchTemplateId": "lt-bp1f1arnuhbfj6q****",
                "LaunchTemplateVersion": "2",
                "LicenseType": "BYOL",
                "MaxNumberOfImageToKeep": 3,
                "Name": "web-01-migration",
                "NetMode": 2,
                "Progress": 55.45,
                "RegionId": "cn-hangzhou",
                "ReplicationJobRuns": {
                    "ReplicationJobRun": [
                        {
                            "EndTime": "2019-06-04T14:30:00Z",
                            "ImageId": "m-first",
                            "StartTime": "2019-06-04T13:35:00Z",
                            "Type": "Manual",
                        },
                        {
                            "EndTime": "",
                            "ImageId": "",
                            "StartTime": "2019-06-05T01:35:00Z",
                            "Type": "Schedule",
                        },
                    ]
                },
                "ReplicationParameters": '{"bandwidth_limit":0,"compress_level":1,"checksum":true}',
                "ResourceGroupId": "rg-acfmx7rr7gvn****",
                "RunOnce": False,
                "ScheduledStartTime": "2019-06-04T13:35:00Z",
                "SourceId": "s-bp1e2fsl57knvuug****",
                "StartTime": "2019-06-04T14:40:52Z",
                "Status": "Running",
                "StatusInfo": "",
                "SystemDiskParts": {
                    "SystemDiskPart": [{"Block": True, "Device": "0_1", "SizeBytes": 42949672960}]
                },
                "SystemDiskSize": 40,
                "Tags": {"Tag": [{"Key": "team", "Value": "infra"}, {"Key": "empty", "Value": ""}]},
                "TargetType": "Image",
                "TransitionInstanceId": "i-transit01",
                "VSwitchId": "vsw-bp1ddbrxdlrcbim46****",
                "ValidTime": "2019-07-04T13:00:52Z",
                "VpcId": "vpc-bp1vwnn14rqpyiczj****",
                "WorkgroupId": "w-bp10geepnj916e3d****",
            }
        ]
    },
}

EXPECTED_REPLICATION_JOB = ReplicationJob(
    job_id="j-2ze33rsym4ai4de1srq",
    business_status_raw="Syncing",
    container_namespace="migration",
    container_repository="web",
    container_tag="v1",
    creation_time=datetime(2019, 6, 4, 13, 0, 52, tzinfo=UTC),
    data_disks=(
        JobDataDisk(
            index=1,
            size=100,
            parts=(JobPart(block=True, device="1_1", size_bytes=1073741824),),
        ),
    ),
    description="Nightly-copy",
    disks=JobDisks(
        system=JobDisk(
            disk_id="d-system01",
            lvm=False,
            size=40,
            parts=(JobDiskPartition(block=True, path="/", size_bytes=42949672960),),
        ),
        data=(
            JobDisk(
                disk_id="d-data01",
                lvm=True,
                size=100,
                parts=(JobDiskPartition(block=False, path="/data", size_bytes=107374182400),),
            ),
        ),
    ),
    end_time=datetime(2019, 6, 4, 16, 0, 52, tzinfo=UTC),
    error_code="",
    frequency=12,
    image_id="m-bp1f1arnuhbfj6q****",
    image_name="web-image",
    instance_id="i-bp1f1arnuhbfj6q****",
    instance_ram_role="SmcRole",
    instance_type="ecs.g6.large",
    job_type=0,
    launch_template_id="lt-bp1f1arnuhbfj6q****",
    launch_template_version="2",
    license_type="BYOL",
    max_number_of_image_to_keep=3,
    name="web-01-migration",
    net_mode_raw=2,
    progress=55.45,
    region_id="cn-hangzhou",
    replication_job_runs=(
        ReplicationJobRun(
            start_time=datetime(2019, 6, 4, 13, 35, tzinfo=UTC),
            end_time=datetime(2019, 6, 4, 14, 30, tzinfo=UTC),
            image_id="m-first",
            type="Manual",
        ),
        ReplicationJobRun(
            start_time=datetime(2019, 6, 5, 1, 35, tzinfo=UTC),
            end_time=None,
            image_id="",
            type="Schedule",
        ),
    ),
    replication_parameters='{"bandwidth_limit":0,"compress_level":1,"checksum":true}',
    resource_group_id="rg-acfmx7rr7gvn****",
    run_once=False,
    scheduled_start_time=datetime(2019, 6, 4, 13, 35, tzinfo=UTC),
    source_id="s-bp1e2fsl57knvuug****",
    start_time=datetime(2019, 6, 4, 14, 40, 52, tzinfo=UTC),
    status_raw="Running",
    status_info="",
    system_disk_parts=(JobPart(block=True, device="0_1", size_bytes=42949672960),),
    system_disk_size=40,
    tags=(Tag(key="team", value="infra"), Tag(key="empty", value="")),
    target_type_raw="Image",
    transition_instance_id="i-transit01",
    vswitch_id="vsw-bp1ddbrxdlrcbim46****",
    valid_time=datetime(2019, 7, 4, 13, 0, 52, tzinfo=UTC),
    vpc_id="vpc-bp1vwnn14rqpyiczj****",
    workgroup_id="w-bp10geepnj916e3d****",
)

# The seed's DescribeSourceServers JSON sample: a stray "JobName", ErrorCode "".
SEED_SOURCE_SERVERS_BODY: dict[str, Any] = {
    "PageNumber": 1,
    "TotalCount": 1,
    "PageSize": 10,
    "RequestId": "766A24CA-AA5D-436E-A525-3B870482195C",
    "SourceServers": {
        "SourceServer": [
            {
                "AgentVersion": "1.5.2.3",
                "ReplicationDriver": "SMT",
                "Description": "Server Source Imported By GotoAliyun.",
                "SystemDiskSize": 40,
                "HeartbeatRate": 30,
                "JobName": "MyMigrationTask",
                "Architecture": "x86_64",
                "DataDisks": {"DataDisk": [{"Index": 1, "Path": "/home/data", "Size": 20}]},
                "SourceId": "s-xxxxxxxxxxx",
                "SystemInfo": SYSTEM_INFO,
                "Name": "sourceServerName",
                "CreationTime": "2019-06-27T02:58:09Z",
                "State": "InUse",
                "JobId": "j-xxxxxxxxxx",
                "KernelLevel": 1,
                "ErrorCode": "",
                "Platform": "OpenSUSE",
            }
        ]
    },
}

# The seed's DescribeReplicationJobs JSON sample: quoted numbers, "Vpcld", "VaildTime": "30",
# TargetType "image".
SEED_REPLICATION_JOBS_BODY: dict[str, Any] = {
    "PageNumber": 1,
    "TotalCount": "5",
    "PageSize": 10,
    "RequestId": "473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E",
    "ReplicationJobs": {
        "ReplicationJob": [
            {
                "Vpcld": "vpc-xxxxxxxxxxxxx",
                "ImageId": "m-xxxxxxxxxxxxx",
                "InstanceId": "i-xxxxxxxxxxxxx",
                "VSwitchId": "vsw-xxxxxxxxxxxxx",
                "StatusInfo": "statusinfo",
                "ImageName": "MyAilCloudImage",
                "ScheduledStartTime": "2019-06-04T13:35:00Z",
                "BusinessStatus": "Preparing",
                "JobId": "j-xxxxxxxxxxxxxxx",
                "StartTime": "2019-06-04T14:40:52Z",
                "Description": "This is my migration task.",
                "SystemDiskSize": "40",
                "TargetType": "image",
                "VaildTime": "30",
                "DataDisks": {"DataDisk": [{"Index": "1", "Size": "40"}]},
                "ReplicationParameters": "BandWidthLimit:0",
                "NetMode": "0",
                "SourceId": "s-xxxxxxxxxxxxxxx",
                "Progress": "55.45",
                "Name": "MyMiagrationTask",
                "CreationTime": "2014-07-24T13:00:52Z",
                "Status": "Running",
                "RegionId": "cn-hangzhou",
                "TransitionInstanceId": "instanceid2",
                "EndTime": "2019-06-04T16:00:52Z",
                "ErrorCode": "InternalError",
            }
        ]
    },
}


def _source_servers_body(**fields: Any) -> dict[str, Any]:
    """A minimal DescribeSourceServers body with one source carrying ``fields``."""
    return {
        "RequestId": "r-1",
        "TotalCount": 1,
        "PageNumber": 1,
        "PageSize": 10,
        "SourceServers": {"SourceServer": [{"SourceId": "s-1", **fields}]},
    }


def _jobs_body(**fields: Any) -> dict[str, Any]:
    """A minimal DescribeReplicationJobs body with one job carrying ``fields``."""
    return {
        "RequestId": "r-1",
        "TotalCount": 1,
        "PageNumber": 1,
        "PageSize": 10,
        "ReplicationJobs": {"ReplicationJob": [{"JobId": "j-1", **fields}]},
    }


def _only_source(body: Mapping[str, object]) -> SourceServer:
    (server,) = DescribeSourceServersResponse.from_json(body).source_servers
    return server


def _only_job(body: Mapping[str, object]) -> ReplicationJob:
    (job,) = DescribeReplicationJobsResponse.from_json(body).replication_jobs
    return job


# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------


def test_describe_source_servers_appendix_a_skeleton_round_trips() -> None:
    response = DescribeSourceServersResponse.from_json(SOURCE_SERVERS_BODY)

    assert response == DescribeSourceServersResponse(
        request_id="766A24CA-AA5D-436E-A525-3B870482195C",
        total_count=1,
        page_number=1,
        page_size=10,
        source_servers=(EXPECTED_SOURCE_SERVER,),
    )
    assert response.source_servers[0].state is SourceServerState.IN_USE


def test_describe_replication_jobs_appendix_a_skeleton_round_trips() -> None:
    response = DescribeReplicationJobsResponse.from_json(REPLICATION_JOBS_BODY)

    assert response == DescribeReplicationJobsResponse(
        request_id="473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E",
        total_count=21,
        page_number=2,
        page_size=20,
        replication_jobs=(EXPECTED_REPLICATION_JOB,),
    )
    job = response.replication_jobs[0]
    assert job.status is JobStatus.RUNNING
    assert job.business_status is BusinessStatus.SYNCING
    assert job.target_type is TargetType.IMAGE
    assert job.net_mode is NetMode.VPC


def test_seed_source_servers_sample_ignores_the_stray_job_name() -> None:
    server = _only_source(SEED_SOURCE_SERVERS_BODY)

    assert server.source_id == "s-xxxxxxxxxxx"
    assert server.job_id == "j-xxxxxxxxxx"
    assert server.state is SourceServerState.IN_USE
    assert server.error_code == ""
    assert server.data_disks == (SourceDataDisk(index=1, path="/home/data", size=20),)
    assert server.disks is None
    assert server.tags == ()
    assert not hasattr(server, "job_name")


def test_seed_replication_jobs_sample_with_quoted_numbers_and_typos() -> None:
    response = DescribeReplicationJobsResponse.from_json(SEED_REPLICATION_JOBS_BODY)

    assert response.total_count == 5
    (job,) = response.replication_jobs
    assert job.system_disk_size == 40
    assert job.progress == pytest.approx(55.45)
    assert job.data_disks == (JobDataDisk(index=1, size=40),)
    assert job.net_mode_raw == 0
    assert job.net_mode is NetMode.PUBLIC
    # TargetType is case-insensitive upstream: the seed's "image" is Image, raw kept.
    assert job.target_type_raw == "image"
    assert job.target_type is TargetType.IMAGE
    assert job.business_status is BusinessStatus.PREPARING
    # The typo'd keys are unknown fields, not aliases.
    assert job.vpc_id == ""
    assert job.valid_time is None
    assert job.error_code == "InternalError"
    assert job.creation_time == datetime(2014, 7, 24, 13, 0, 52, tzinfo=UTC)


def test_unknown_fields_are_ignored_at_every_level() -> None:
    body = copy.deepcopy(REPLICATION_JOBS_BODY)
    body["Extra"] = {"Nested": [1, 2]}
    body["ReplicationJobs"]["Unexpected"] = True
    job = body["ReplicationJobs"]["ReplicationJob"][0]
    job["NewField2030"] = "x"
    job["Disks"]["System"]["Encrypted"] = True
    job["DataDisks"]["DataDisk"][0]["Parts"]["Part"][0]["Fs"] = "xfs"

    response = DescribeReplicationJobsResponse.from_json(body)

    assert response.replication_jobs == (EXPECTED_REPLICATION_JOB,)


@pytest.mark.parametrize(
    ("fields", "raw", "parsed"),
    [
        ({"State": "Migrating"}, "Migrating", None),
        ({"State": ""}, "", None),
        ({}, "", None),
        ({"State": "available"}, "available", SourceServerState.AVAILABLE),
        ({"State": "Deleting"}, "Deleting", SourceServerState.DELETING),
    ],
)
def test_source_state_keeps_raw_and_parses_known_values(
    fields: dict[str, Any], raw: str, parsed: SourceServerState | None
) -> None:
    server = _only_source(_source_servers_body(**fields))

    assert server.state_raw == raw
    assert server.state is parsed


def test_unknown_job_enum_values_survive_as_raw() -> None:
    job = _only_job(
        _jobs_body(Status="Paused", BusinessStatus="Verifying", TargetType="Snapshot", NetMode=1)
    )

    assert (job.status_raw, job.status) == ("Paused", None)
    assert (job.business_status_raw, job.business_status) == ("Verifying", None)
    assert (job.target_type_raw, job.target_type) == ("Snapshot", None)
    assert (job.net_mode_raw, job.net_mode) == (1, None)


def test_waiting_status_is_known() -> None:
    assert _only_job(_jobs_body(Status="Waiting")).status is JobStatus.WAITING


@pytest.mark.parametrize(
    ("wrapper", "count"),
    [
        pytest.param({}, 0, id="wrapper-missing"),
        pytest.param({"SourceServers": None}, 0, id="wrapper-null"),
        pytest.param({"SourceServers": ""}, 0, id="wrapper-empty-string"),
        pytest.param({"SourceServers": {}}, 0, id="list-missing"),
        pytest.param({"SourceServers": {"SourceServer": None}}, 0, id="list-null"),
        pytest.param({"SourceServers": {"SourceServer": []}}, 0, id="list-empty"),
        pytest.param({"SourceServers": [{"SourceId": "s-1"}]}, 1, id="bare-list"),
        pytest.param({"SourceServers": {"SourceServer": {"SourceId": "s-1"}}}, 1, id="single"),
        pytest.param(
            {"SourceServers": {"SourceServer": [{"SourceId": "s-1"}, {"SourceId": "s-2"}]}},
            2,
            id="wrapped-list",
        ),
    ],
)
def test_list_wrapper_tolerance(wrapper: dict[str, Any], count: int) -> None:
    body = {"RequestId": "r-1", "TotalCount": count, "PageNumber": 1, "PageSize": 10, **wrapper}

    servers = DescribeSourceServersResponse.from_json(body).source_servers

    assert [server.source_id for server in servers] == [f"s-{n}" for n in range(1, count + 1)]


def test_nested_lists_tolerate_single_objects_and_bare_lists() -> None:
    job = _only_job(
        _jobs_body(
            DataDisks={"DataDisk": {"Index": 1, "Size": 50, "Parts": [{"Device": "1_1"}]}},
            Disks={"Data": [{"DiskId": "d-1"}], "System": {"Parts": {"Part": {"Path": "/"}}}},
            Tags=[{"Key": "k", "Value": "v"}],
            SystemDiskParts=None,
            ReplicationJobRuns={"ReplicationJobRun": {"Type": "Manual"}},
        )
    )

    assert job.data_disks == (JobDataDisk(index=1, size=50, parts=(JobPart(device="1_1"),)),)
    assert job.disks == JobDisks(
        system=JobDisk(parts=(JobDiskPartition(path="/"),)), data=(JobDisk(disk_id="d-1"),)
    )
    assert job.tags == (Tag(key="k", value="v"),)
    assert job.system_disk_parts == ()
    assert job.replication_job_runs == (ReplicationJobRun(type="Manual"),)


def test_missing_optional_fields_take_defaults() -> None:
    job = _only_job(_jobs_body())

    assert job == ReplicationJob(job_id="j-1")
    assert job.progress is None
    assert job.run_once is None
    assert job.disks is None
    assert job.name == ""


@pytest.mark.parametrize(
    ("fields", "attribute", "expected"),
    [
        ({"RunOnce": "True"}, "run_once", True),
        ({"RunOnce": "true"}, "run_once", True),
        ({"RunOnce": "FALSE"}, "run_once", False),
        ({"RunOnce": True}, "run_once", True),
        ({"RunOnce": ""}, "run_once", None),
        ({"Progress": 100}, "progress", 100.0),
        ({"Progress": "0"}, "progress", 0.0),
        ({"Progress": " 12.5 "}, "progress", 12.5),
        ({"Frequency": "168"}, "frequency", 168),
        ({"Frequency": 24.0}, "frequency", 24),
        ({"Frequency": ""}, "frequency", None),
        ({"Frequency": None}, "frequency", None),
        ({"JobType": "+3"}, "job_type", 3),
        ({"ValidTime": ""}, "valid_time", None),
        (
            {"ValidTime": "2019-06-04T13:35Z"},
            "valid_time",
            datetime(2019, 6, 4, 13, 35, tzinfo=UTC),
        ),
        (
            {"ValidTime": "2019-06-04T21:35:00+08:00"},
            "valid_time",
            datetime(2019, 6, 4, 13, 35, tzinfo=UTC),
        ),
        (
            {"EndTime": "2019-06-04T13:35:00.250Z"},
            "end_time",
            datetime(2019, 6, 4, 13, 35, 0, 250000, tzinfo=UTC),
        ),
        ({"ImageName": 12345}, "image_name", "12345"),
    ],
)
def test_scalar_forms_are_accepted(
    fields: dict[str, Any], attribute: str, expected: object
) -> None:
    assert getattr(_only_job(_jobs_body(**fields)), attribute) == expected


def test_times_are_utc_aware() -> None:
    job = _only_job(_jobs_body(StartTime="2019-06-04T14:40:52Z"))

    assert job.start_time is not None
    assert job.start_time.utcoffset() == timedelta(0)


def test_empty_and_create_responses() -> None:
    assert EmptyResponse.from_json({"RequestId": "r-9", "Unknown": 1}) == EmptyResponse(
        request_id="r-9"
    )
    assert CreateReplicationJobResponse.from_json(
        {"RequestId": "r-8", "JobId": "j-2ze33rsym********srq"}
    ) == CreateReplicationJobResponse(request_id="r-8", job_id="j-2ze33rsym********srq")


MALFORMED_CASES: list[Any] = [
    pytest.param(EmptyResponse, {}, "RequestId", id="missing-request-id"),
    pytest.param(EmptyResponse, {"RequestId": ""}, "RequestId", id="empty-request-id"),
    pytest.param(EmptyResponse, {"RequestId": ["r"]}, "RequestId", id="list-request-id"),
    pytest.param(EmptyResponse, [], "<response>", id="body-not-object"),
    pytest.param(CreateReplicationJobResponse, {"RequestId": "r"}, "JobId", id="missing-job-id"),
    pytest.param(
        DescribeSourceServersResponse,
        {**_source_servers_body(), "TotalCount": "five"},
        "TotalCount",
        id="non-numeric-total",
    ),
    pytest.param(
        DescribeSourceServersResponse,
        {**_source_servers_body(), "TotalCount": True},
        "TotalCount",
        id="boolean-total",
    ),
    pytest.param(
        DescribeReplicationJobsResponse,
        {k: v for k, v in _jobs_body().items() if k != "PageSize"},
        "PageSize",
        id="missing-page-size",
    ),
    pytest.param(
        DescribeSourceServersResponse,
        {**_source_servers_body(), "SourceServers": {"SourceServer": [{"Name": "no-id"}]}},
        "SourceServers.SourceServer[0].SourceId",
        id="source-without-id",
    ),
    pytest.param(
        DescribeSourceServersResponse,
        _source_servers_body(DataDisks={"DataDisk": [{"Index": 1}, {"Size": "big"}]}),
        "SourceServers.SourceServer[0].DataDisks.DataDisk[1].Size",
        id="data-disk-size",
    ),
    pytest.param(
        DescribeSourceServersResponse,
        _source_servers_body(DataDisks={"DataDisk": [{"Parts": {"Part": [{}, "p"]}}]}),
        "SourceServers.SourceServer[0].DataDisks.DataDisk[0].Parts.Part[1]",
        id="part-not-object",
    ),
    pytest.param(
        DescribeSourceServersResponse,
        _source_servers_body(Disks={"System": {"Parts": {"Part": [{"CanBlock": "maybe"}]}}}),
        "SourceServers.SourceServer[0].Disks.System.Parts.Part[0].CanBlock",
        id="can-block-not-bool",
    ),
    pytest.param(
        DescribeSourceServersResponse,
        _source_servers_body(CreationTime="yesterday"),
        "SourceServers.SourceServer[0].CreationTime",
        id="bad-time",
    ),
    pytest.param(
        DescribeSourceServersResponse,
        _source_servers_body(Tags={"Tag": "env=prod"}),
        "SourceServers.SourceServer[0].Tags.Tag",
        id="tags-not-list",
    ),
    pytest.param(
        DescribeReplicationJobsResponse,
        _jobs_body(Progress="abc"),
        "ReplicationJobs.ReplicationJob[0].Progress",
        id="progress-text",
    ),
    pytest.param(
        DescribeReplicationJobsResponse,
        _jobs_body(Progress="nan"),
        "ReplicationJobs.ReplicationJob[0].Progress",
        id="progress-nan",
    ),
    pytest.param(
        DescribeReplicationJobsResponse,
        _jobs_body(Progress=float("inf")),
        "ReplicationJobs.ReplicationJob[0].Progress",
        id="progress-infinite",
    ),
    pytest.param(
        DescribeReplicationJobsResponse,
        _jobs_body(NetMode="0.5"),
        "ReplicationJobs.ReplicationJob[0].NetMode",
        id="net-mode-fraction",
    ),
    pytest.param(
        DescribeReplicationJobsResponse,
        _jobs_body(RunOnce="yes"),
        "ReplicationJobs.ReplicationJob[0].RunOnce",
        id="run-once-yes",
    ),
    pytest.param(
        DescribeReplicationJobsResponse,
        _jobs_body(Disks=[{"System": {}}]),
        "ReplicationJobs.ReplicationJob[0].Disks",
        id="disks-list",
    ),
    pytest.param(
        DescribeReplicationJobsResponse,
        _jobs_body(Disks={"Data": {"Data": [{"LVM": 1}]}}),
        "ReplicationJobs.ReplicationJob[0].Disks.Data.Data[0].LVM",
        id="lvm-number",
    ),
    pytest.param(
        DescribeReplicationJobsResponse,
        _jobs_body(ReplicationJobRuns={"ReplicationJobRun": [{"StartTime": 1559655300}]}),
        "ReplicationJobs.ReplicationJob[0].ReplicationJobRuns.ReplicationJobRun[0].StartTime",
        id="epoch-time",
    ),
    pytest.param(
        DescribeReplicationJobsResponse,
        {**_jobs_body(), "ReplicationJobs": {"ReplicationJob": [None]}},
        "ReplicationJobs.ReplicationJob[0]",
        id="null-element",
    ),
]


@pytest.mark.parametrize(("model", "body", "path"), MALFORMED_CASES)
def test_malformed_data_raises_naming_the_path(model: Any, body: Any, path: str) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        model.from_json(body)

    assert caught.value.path == path
    assert path in str(caught.value)
    assert isinstance(caught.value, ValueError)


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------

T0 = datetime(2019, 6, 27, 2, 58, 9, tzinfo=UTC)
T1 = datetime(2019, 9, 1, 8, 0, 0, tzinfo=timezone(timedelta(hours=8)))  # 00:00:00Z

FULL_CREATE = CreateReplicationJobRequest(
    region_id="cn-hangzhou",
    source_id="s-1",
    system_disk_size=40,
    client_token="tok-123",
    container_namespace="ns",
    container_repository="repo",
    container_tag="latest",
    data_disks=(
        DataDiskSpec(
            index=1,
            size=100,
            parts=(
                DevicePartSpec(device="1_1", size_bytes=1024, block=True),
                DevicePartSpec(device="1_2", size_bytes=2048, block=False),
            ),
        ),
        DataDiskSpec(index=2, size=200),
    ),
    description="Copy-of-web",
    disks=DisksSpec(
        system=DisksSystemSpec(
            size=40,
            lvm=False,
            parts=(PathPartSpec(path="/", size_bytes=4096, block=True),),
        ),
        data=(
            DisksDataSpec(
                disk_id="d-1",
                size=100,
                lvm=True,
                parts=(PathPartSpec(path="/data", size_bytes=8192, block=False),),
            ),
        ),
    ),
    frequency=12,
    image_name="web-image",
    instance_id="i-1",
    instance_ram_role="SmcRole",
    instance_type="ecs.g6.large",
    job_type=0,
    launch_template_id="lt-1",
    launch_template_version="3",
    license_type="BYOL",
    max_number_of_image_to_keep=5,
    name="web-job",
    net_mode=NetMode.VPC,
    replication_parameters='{"bandwidth_limit":0}',
    resource_group_id="rg-1",
    run_once=False,
    scheduled_start_time=T0,
    system_disk_parts=(DevicePartSpec(device="0_1", size_bytes=512, block=True),),
    tags=(Tag(key="env", value="prod"), Tag(key="empty", value="")),
    target_type=TargetType.CONTAINER_IMAGE,
    vswitch_id="vsw-1",
    valid_time=T1,
    vpc_id="vpc-1",
    owner_id=1234567890123,
    resource_owner_account="owner@example.com",
)

FULL_CREATE_PARAMS = {
    "ClientToken": "tok-123",
    "ContainerNamespace": "ns",
    "ContainerRepository": "repo",
    "ContainerTag": "latest",
    "DataDisk.1.Index": "1",
    "DataDisk.1.Size": "100",
    "DataDisk.1.Part.1.Device": "1_1",
    "DataDisk.1.Part.1.SizeBytes": "1024",
    "DataDisk.1.Part.1.Block": "true",
    "DataDisk.1.Part.2.Device": "1_2",
    "DataDisk.1.Part.2.SizeBytes": "2048",
    "DataDisk.1.Part.2.Block": "false",
    "DataDisk.2.Index": "2",
    "DataDisk.2.Size": "200",
    "Description": "Copy-of-web",
    "Disks.System.Size": "40",
    "Disks.System.LVM": "false",
    "Disks.System.Part.1.Path": "/",
    "Disks.System.Part.1.SizeBytes": "4096",
    "Disks.System.Part.1.Block": "true",
    "Disks.Data.1.DiskId": "d-1",
    "Disks.Data.1.Size": "100",
    "Disks.Data.1.LVM": "true",
    "Disks.Data.1.Part.1.Path": "/data",
    "Disks.Data.1.Part.1.SizeBytes": "8192",
    "Disks.Data.1.Part.1.Block": "false",
    "Frequency": "12",
    "ImageName": "web-image",
    "InstanceId": "i-1",
    "InstanceRamRole": "SmcRole",
    "InstanceType": "ecs.g6.large",
    "JobType": "0",
    "LaunchTemplateId": "lt-1",
    "LaunchTemplateVersion": "3",
    "LicenseType": "BYOL",
    "MaxNumberOfImageToKeep": "5",
    "Name": "web-job",
    "NetMode": "2",
    "OwnerId": "1234567890123",
    "RegionId": "cn-hangzhou",
    "ReplicationParameters": '{"bandwidth_limit":0}',
    "ResourceGroupId": "rg-1",
    "ResourceOwnerAccount": "owner@example.com",
    "RunOnce": "false",
    "ScheduledStartTime": "2019-06-27T02:58:09Z",
    "SourceId": "s-1",
    "SystemDiskPart.1.Device": "0_1",
    "SystemDiskPart.1.SizeBytes": "512",
    "SystemDiskPart.1.Block": "true",
    "SystemDiskSize": "40",
    "Tag.1.Key": "env",
    "Tag.1.Value": "prod",
    "Tag.2.Key": "empty",
    "Tag.2.Value": "",
    "TargetType": "ContainerImage",
    "VSwitchId": "vsw-1",
    "ValidTime": "2019-09-01T00:00:00Z",
    "VpcId": "vpc-1",
}

FULL_MODIFY_JOB = ModifyReplicationJobAttributeRequest(
    job_id="j-1",
    container_namespace="ns",
    container_repository="repo",
    container_tag="v2",
    data_disks=(
        DataDiskSpec(
            index=1,
            size=60,
            parts=(DevicePartSpec(device="1_1", size_bytes=4096, block=True),),
        ),
    ),
    description="Renamed",
    frequency=24,
    image_name="img",
    instance_id="i-2",
    instance_ram_role="Role",
    instance_type="ecs.c6.large",
    launch_template_id="lt-2",
    launch_template_version="1",
    max_number_of_image_to_keep=2,
    name="job-b",
    net_mode=NetMode.PUBLIC,
    replication_parameters="{}",
    scheduled_start_time=T0,
    system_disk_parts=(DevicePartSpec(device="0_1", size_bytes=512, block=False),),
    system_disk_size=80,
    target_type=TargetType.TARGET_INSTANCE,
    vswitch_id="vsw-2",
    valid_time=T0,
    vpc_id="vpc-2",
    owner_id=7,
    resource_owner_account="acct",
)

FULL_MODIFY_JOB_PARAMS = {
    "JobId": "j-1",
    "ContainerNamespace": "ns",
    "ContainerRepository": "repo",
    "ContainerTag": "v2",
    "DataDisk.1.Index": "1",
    "DataDisk.1.Size": "60",
    "DataDisk.1.Part.1.Device": "1_1",
    "DataDisk.1.Part.1.SizeBytes": "4096",
    "DataDisk.1.Part.1.Block": "true",
    "Description": "Renamed",
    "Frequency": "24",
    "ImageName": "img",
    "InstanceId": "i-2",
    "InstanceRamRole": "Role",
    "InstanceType": "ecs.c6.large",
    "LaunchTemplateId": "lt-2",
    "LaunchTemplateVersion": "1",
    "MaxNumberOfImageToKeep": "2",
    "Name": "job-b",
    "NetMode": "0",
    "OwnerId": "7",
    "ReplicationParameters": "{}",
    "ResourceOwnerAccount": "acct",
    "ScheduledStartTime": "2019-06-27T02:58:09Z",
    "SystemDiskPart.1.Device": "0_1",
    "SystemDiskPart.1.SizeBytes": "512",
    "SystemDiskPart.1.Block": "false",
    "SystemDiskSize": "80",
    "TargetType": "TargetInstance",
    "VSwitchId": "vsw-2",
    "ValidTime": "2019-06-27T02:58:09Z",
    "VpcId": "vpc-2",
}

FULL_DESCRIBE_SOURCES = DescribeSourceServersRequest(
    job_id="j-1",
    name="web",
    page_number=2,
    page_size=50,
    source_ids=("s-1", "s-2"),
    state=SourceServerState.IN_USE,
    related_job_types=("0", "2"),
    resource_group_id="rg-1",
    tags=(Tag(key="env", value="prod"),),
    workgroup_id="w-1",
    owner_id=1,
    resource_owner_account="acct",
)

FULL_DESCRIBE_SOURCES_PARAMS = {
    "JobId": "j-1",
    "Name": "web",
    "PageNumber": "2",
    "PageSize": "50",
    "SourceId.1": "s-1",
    "SourceId.2": "s-2",
    "State": "InUse",
    "RelatedJobType.1": "0",
    "RelatedJobType.2": "2",
    "ResourceGroupId": "rg-1",
    "Tag.1.Key": "env",
    "Tag.1.Value": "prod",
    "WorkgroupId": "w-1",
    "OwnerId": "1",
    "ResourceOwnerAccount": "acct",
}

FULL_DESCRIBE_JOBS = DescribeReplicationJobsRequest(
    business_status=BusinessStatus.SYNCING,
    instance_ids=("i-1",),
    job_ids=("j-1", "j-2"),
    job_type=3,
    name="job",
    page_number=1,
    page_size=10,
    region_id="cn-shanghai",
    resource_group_id="rg-1",
    source_ids=("s-1",),
    status=JobStatus.WAITING,
    tags=(Tag(key="a", value="b"), Tag(key="c", value="d")),
    owner_id=1,
    resource_owner_account="acct",
)

FULL_DESCRIBE_JOBS_PARAMS = {
    "BusinessStatus": "Syncing",
    "InstanceId.1": "i-1",
    "JobId.1": "j-1",
    "JobId.2": "j-2",
    "JobType": "3",
    "Name": "job",
    "PageNumber": "1",
    "PageSize": "10",
    "RegionId": "cn-shanghai",
    "ResourceGroupId": "rg-1",
    "SourceId.1": "s-1",
    "Status": "Waiting",
    "Tag.1.Key": "a",
    "Tag.1.Value": "b",
    "Tag.2.Key": "c",
    "Tag.2.Value": "d",
    "OwnerId": "1",
    "ResourceOwnerAccount": "acct",
}

FULL_REQUESTS: dict[str, tuple[SmcRequest, dict[str, str]]] = {
    "CreateReplicationJob": (FULL_CREATE, FULL_CREATE_PARAMS),
    "ModifyReplicationJobAttribute": (FULL_MODIFY_JOB, FULL_MODIFY_JOB_PARAMS),
    "DescribeSourceServers": (FULL_DESCRIBE_SOURCES, FULL_DESCRIBE_SOURCES_PARAMS),
    "DescribeReplicationJobs": (FULL_DESCRIBE_JOBS, FULL_DESCRIBE_JOBS_PARAMS),
    "ModifySourceServerAttribute": (
        ModifySourceServerAttributeRequest(
            source_id="s-1", name="web", description="", owner_id=2, resource_owner_account="a"
        ),
        {
            "SourceId": "s-1",
            "Name": "web",
            "Description": "",
            "OwnerId": "2",
            "ResourceOwnerAccount": "a",
        },
    ),
    "DeleteSourceServer": (
        DeleteSourceServerRequest(
            source_id="s-1", force=True, owner_id=2, resource_owner_account="a"
        ),
        {"SourceId": "s-1", "Force": "true", "OwnerId": "2", "ResourceOwnerAccount": "a"},
    ),
    "DeleteReplicationJob": (
        DeleteReplicationJobRequest(job_id="j-1", owner_id=2, resource_owner_account="a"),
        {"JobId": "j-1", "OwnerId": "2", "ResourceOwnerAccount": "a"},
    ),
    "StartReplicationJob": (
        StartReplicationJobRequest(job_id="j-1", owner_id=2, resource_owner_account="a"),
        {"JobId": "j-1", "OwnerId": "2", "ResourceOwnerAccount": "a"},
    ),
    "StopReplicationJob": (
        StopReplicationJobRequest(job_id="j-1", owner_id=2, resource_owner_account="a"),
        {"JobId": "j-1", "OwnerId": "2", "ResourceOwnerAccount": "a"},
    ),
}


def _keys(listing: str) -> set[str]:
    """A comma-separated Appendix B listing as a set."""
    return {key.strip() for key in listing.split(",")}


# Appendix B: every flattened key the current SDK can emit (".1" stands for any N).
APPENDIX_B: dict[str, set[str]] = {
    "CreateReplicationJob": _keys(
        "ClientToken, ContainerNamespace, ContainerRepository, ContainerTag, DataDisk.1.Index, "
        "DataDisk.1.Part.1.Block, DataDisk.1.Part.1.Device, DataDisk.1.Part.1.SizeBytes, "
        "DataDisk.1.Size, Description, Disks.Data.1.DiskId, Disks.Data.1.LVM, "
        "Disks.Data.1.Part.1.Block, Disks.Data.1.Part.1.Path, Disks.Data.1.Part.1.SizeBytes, "
        "Disks.Data.1.Size, Disks.System.LVM, Disks.System.Part.1.Block, "
        "Disks.System.Part.1.Path, Disks.System.Part.1.SizeBytes, Disks.System.Size, Frequency, "
        "ImageName, InstanceId, InstanceRamRole, InstanceType, JobType, LaunchTemplateId, "
        "LaunchTemplateVersion, LicenseType, MaxNumberOfImageToKeep, Name, NetMode, OwnerId, "
        "RegionId, ReplicationParameters, ResourceGroupId, ResourceOwnerAccount, RunOnce, "
        "ScheduledStartTime, SourceId, SystemDiskPart.1.Block, SystemDiskPart.1.Device, "
        "SystemDiskPart.1.SizeBytes, SystemDiskSize, Tag.1.Key, Tag.1.Value, TargetType, "
        "VSwitchId, ValidTime, VpcId"
    ),
    "ModifyReplicationJobAttribute": _keys(
        "ContainerNamespace, ContainerRepository, ContainerTag, DataDisk.1.Index, "
        "DataDisk.1.Part.1.Block, DataDisk.1.Part.1.Device, DataDisk.1.Part.1.SizeBytes, "
        "DataDisk.1.Size, Description, Frequency, ImageName, InstanceId, InstanceRamRole, "
        "InstanceType, JobId, LaunchTemplateId, LaunchTemplateVersion, MaxNumberOfImageToKeep, "
        "Name, NetMode, OwnerId, ReplicationParameters, ResourceOwnerAccount, "
        "ScheduledStartTime, SystemDiskPart.1.Block, SystemDiskPart.1.Device, "
        "SystemDiskPart.1.SizeBytes, SystemDiskSize, TargetType, VSwitchId, ValidTime, "
        "VpcId"
    ),
    "DescribeReplicationJobs": _keys(
        "BusinessStatus, InstanceId.1, JobId.1, JobType, Name, OwnerId, PageNumber, PageSize, "
        "RegionId, ResourceGroupId, ResourceOwnerAccount, SourceId.1, Status, Tag.1.Key, "
        "Tag.1.Value"
    ),
    "DescribeSourceServers": _keys(
        "JobId, Name, OwnerId, PageNumber, PageSize, RelatedJobType.1, ResourceGroupId, "
        "ResourceOwnerAccount, SourceId.1, State, Tag.1.Key, Tag.1.Value, WorkgroupId"
    ),
    "DeleteSourceServer": {"Force", "OwnerId", "ResourceOwnerAccount", "SourceId"},
    "ModifySourceServerAttribute": {
        "Description",
        "Name",
        "OwnerId",
        "ResourceOwnerAccount",
        "SourceId",
    },
    "DeleteReplicationJob": {"JobId", "OwnerId", "ResourceOwnerAccount"},
    "StartReplicationJob": {"JobId", "OwnerId", "ResourceOwnerAccount"},
    "StopReplicationJob": {"JobId", "OwnerId", "ResourceOwnerAccount"},
}


@pytest.mark.parametrize("action", sorted(FULL_REQUESTS))
def test_to_params_of_a_fully_set_request_is_exact(action: str) -> None:
    request, expected = FULL_REQUESTS[action]

    assert request.to_params() == expected


@pytest.mark.parametrize("action", sorted(FULL_REQUESTS))
def test_a_fully_set_request_emits_exactly_the_documented_keys(action: str) -> None:
    request, _ = FULL_REQUESTS[action]

    keys = {re.sub(r"\.[0-9]+(?=\.|$)", ".1", key) for key in request.to_params()}

    assert keys == APPENDIX_B[action]


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        pytest.param(DescribeSourceServersRequest(), {}, id="describe-sources"),
        pytest.param(DescribeReplicationJobsRequest(), {}, id="describe-jobs"),
        pytest.param(
            CreateReplicationJobRequest(region_id="cn-hangzhou", source_id="s-1"),
            {"RegionId": "cn-hangzhou", "SourceId": "s-1"},
            id="create",
        ),
        pytest.param(
            ModifyReplicationJobAttributeRequest(job_id="j-1"), {"JobId": "j-1"}, id="modify-job"
        ),
        pytest.param(
            ModifySourceServerAttributeRequest(source_id="s-1"),
            {"SourceId": "s-1"},
            id="modify-source",
        ),
        pytest.param(DeleteSourceServerRequest(source_id="s-1"), {"SourceId": "s-1"}, id="delete"),
        pytest.param(
            DeleteSourceServerRequest(source_id="s-1", force=False),
            {"SourceId": "s-1", "Force": "false"},
            id="delete-not-forced",
        ),
        pytest.param(StartReplicationJobRequest(job_id="j-1"), {"JobId": "j-1"}, id="start"),
    ],
)
def test_unset_fields_are_absent(request_: SmcRequest, expected: dict[str, str]) -> None:
    assert request_.to_params() == expected


def test_repeat_lists_count_from_one_past_nine() -> None:
    ids = [f"s-{n}" for n in range(1, 12)]

    params = DescribeReplicationJobsRequest(
        source_ids=ids, job_ids=["j-a", "j-b"], instance_ids=["i-x"]
    ).to_params()

    assert [params[f"SourceId.{n}"] for n in range(1, 12)] == ids
    assert params["SourceId.10"] == "s-10"
    assert [key for key in params if key.startswith("SourceId.")] == [
        f"SourceId.{n}" for n in range(1, 12)
    ]
    assert (params["JobId.1"], params["JobId.2"], params["InstanceId.1"]) == ("j-a", "j-b", "i-x")


def test_data_disk_parts_nest_under_their_disk() -> None:
    params = ModifyReplicationJobAttributeRequest(
        job_id="j-1",
        data_disks=[
            DataDiskSpec(index=3, parts=[DevicePartSpec(device="3_1", size_bytes=1)]),
            DataDiskSpec(index=1, size=20),
        ],
    ).to_params()

    assert params == {
        "JobId": "j-1",
        "DataDisk.1.Index": "3",
        "DataDisk.1.Part.1.Device": "3_1",
        "DataDisk.1.Part.1.SizeBytes": "1",
        "DataDisk.2.Index": "1",
        "DataDisk.2.Size": "20",
    }


def test_disks_without_a_system_disk() -> None:
    params = CreateReplicationJobRequest(
        region_id="r",
        source_id="s",
        disks=DisksSpec(data=[DisksDataSpec(disk_id="d-1"), DisksDataSpec(size=30)]),
    ).to_params()

    assert params == {
        "RegionId": "r",
        "SourceId": "s",
        "Disks.Data.1.DiskId": "d-1",
        "Disks.Data.2.Size": "30",
    }


def test_naive_datetimes_are_refused() -> None:
    request = CreateReplicationJobRequest(
        region_id="r", source_id="s", scheduled_start_time=datetime(2019, 6, 27, 2, 58, 9)
    )

    with pytest.raises(ValueError, match="timezone-aware"):
        request.to_params()


def test_a_single_string_is_not_a_list_of_ids() -> None:
    request = DescribeSourceServersRequest(source_ids="s-1")

    with pytest.raises(TypeError, match="SourceId"):
        request.to_params()


def test_models_are_frozen() -> None:
    request = StartReplicationJobRequest(job_id="j-1")

    with pytest.raises(dataclasses.FrozenInstanceError):
        request.job_id = "j-2"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        EXPECTED_SOURCE_SERVER.name = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RegistryRow:
    """What the registry must say about one operation."""

    op: Operation[Any, Any]
    request_type: type
    response_type: type
    mutating: bool
    retry_safe: bool
    client_token: bool = False


REGISTRY = [
    RegistryRow(
        DESCRIBE_SOURCE_SERVERS,
        DescribeSourceServersRequest,
        DescribeSourceServersResponse,
        mutating=False,
        retry_safe=True,
    ),
    RegistryRow(
        MODIFY_SOURCE_SERVER_ATTRIBUTE,
        ModifySourceServerAttributeRequest,
        EmptyResponse,
        mutating=True,
        retry_safe=True,
    ),
    RegistryRow(
        DELETE_SOURCE_SERVER,
        DeleteSourceServerRequest,
        EmptyResponse,
        mutating=True,
        retry_safe=False,
    ),
    RegistryRow(
        CREATE_REPLICATION_JOB,
        CreateReplicationJobRequest,
        CreateReplicationJobResponse,
        mutating=True,
        retry_safe=False,
        client_token=True,
    ),
    RegistryRow(
        DELETE_REPLICATION_JOB,
        DeleteReplicationJobRequest,
        EmptyResponse,
        mutating=True,
        retry_safe=False,
    ),
    RegistryRow(
        DESCRIBE_REPLICATION_JOBS,
        DescribeReplicationJobsRequest,
        DescribeReplicationJobsResponse,
        mutating=False,
        retry_safe=True,
    ),
    RegistryRow(
        MODIFY_REPLICATION_JOB_ATTRIBUTE,
        ModifyReplicationJobAttributeRequest,
        EmptyResponse,
        mutating=True,
        retry_safe=True,
    ),
    RegistryRow(
        START_REPLICATION_JOB,
        StartReplicationJobRequest,
        EmptyResponse,
        mutating=True,
        retry_safe=False,
    ),
    RegistryRow(
        STOP_REPLICATION_JOB,
        StopReplicationJobRequest,
        EmptyResponse,
        mutating=True,
        retry_safe=False,
    ),
]


@pytest.mark.parametrize("row", REGISTRY, ids=[row.op.action for row in REGISTRY])
def test_registry_rows(row: RegistryRow) -> None:
    op = row.op

    assert OPERATIONS[op.action] is op
    assert op.request_type is row.request_type
    assert op.response_type is row.response_type
    assert (op.mutating, op.retry_safe, op.client_token) == (
        row.mutating,
        row.retry_safe,
        row.client_token,
    )


def test_registry_covers_the_nine_operations() -> None:
    assert set(OPERATIONS) == set(APPENDIX_B)
    with pytest.raises(TypeError):
        OPERATIONS["X"] = DELETE_SOURCE_SERVER  # type: ignore[index]


def _exchange(
    op: Operation[RequestT, ResponseT], request: RequestT, body: Mapping[str, object]
) -> tuple[dict[str, str], ResponseT]:
    """A stand-in for the client's generic ``call``: mypy checks that it type-checks."""
    return request.to_params(), op.parse(body)


def test_operations_are_usable_generically() -> None:
    params, created = _exchange(
        CREATE_REPLICATION_JOB,
        CreateReplicationJobRequest(region_id="r", source_id="s", client_token="t"),
        {"RequestId": "r-1", "JobId": "j-1"},
    )
    assert params["ClientToken"] == "t"
    assert created.job_id == "j-1"

    _, page = _exchange(DESCRIBE_SOURCE_SERVERS, FULL_DESCRIBE_SOURCES, SOURCE_SERVERS_BODY)
    assert page.source_servers == (EXPECTED_SOURCE_SERVER,)

    _, empty = _exchange(
        STOP_REPLICATION_JOB, StopReplicationJobRequest(job_id="j"), {"RequestId": "q"}
    )
    assert empty.request_id == "q"


# --------------------------------------------------------------------------------------------
# Property: from_json raises only MalformedResponseError
# --------------------------------------------------------------------------------------------

_KEYS = sorted(
    {"RequestId", "TotalCount", "PageNumber", "PageSize", "JobId", "SourceId", "Parts", "Part"}
)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(
        [
            "",
            "1",
            "-2",
            "2.5",
            "1e999",
            "nan",
            "True",
            "false",
            "2019-06-27T02:58:09Z",
            "0001-01-01T00:00:00+01:00",
        ]
    ),
)
JSON_VALUES: st.SearchStrategy[object] = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.one_of(st.sampled_from(_KEYS), st.text(max_size=6)), children, max_size=4
        ),
    ),
    max_leaves=12,
)


def _mutations(template: object) -> st.SearchStrategy[object]:
    """Bodies shaped like ``template``, with any subtree dropped or replaced by arbitrary JSON."""
    if isinstance(template, dict):
        shaped: st.SearchStrategy[object] = st.fixed_dictionaries(
            {}, optional={key: _mutations(value) for key, value in template.items()}
        )
    elif isinstance(template, list):
        shaped = st.lists(_mutations(template[0]), max_size=2)
    else:
        shaped = st.just(template)
    return st.one_of(shaped, shaped, JSON_VALUES)


_DROP = object()


def _paths(node: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every key path inside a JSON body, the body itself included."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _replaced(template: object, path: tuple[str | int, ...], value: object) -> object:
    """A deep copy of ``template`` with the node at ``path`` replaced (or dropped)."""
    if not path:
        return value
    body = copy.deepcopy(template)
    parent: Any = body
    for step in path[:-1]:
        parent = parent[step]
    if value is _DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return body


def _single_mutations(template: object) -> st.SearchStrategy[object]:
    """The valid ``template`` with exactly one node dropped or replaced by arbitrary JSON."""
    paths = [path for path in _paths(template) if path]
    return st.builds(
        _replaced,
        st.just(template),
        st.sampled_from(paths),
        st.one_of(JSON_VALUES, st.just(_DROP)),
    )


TEMPLATES: dict[type, object] = {
    DescribeSourceServersResponse: SOURCE_SERVERS_BODY,
    DescribeReplicationJobsResponse: REPLICATION_JOBS_BODY,
    CreateReplicationJobResponse: {"RequestId": "r", "JobId": "j"},
    EmptyResponse: {"RequestId": "r"},
}


@pytest.mark.parametrize("model", list(TEMPLATES), ids=lambda model: model.__name__)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_from_json_raises_nothing_but_malformed(model: Any, data: st.DataObject) -> None:
    template = TEMPLATES[model]
    body = data.draw(
        st.one_of(_single_mutations(template), _mutations(template), JSON_VALUES), label="body"
    )

    try:
        parsed = model.from_json(body)
    except MalformedResponseError:
        return  # the one failure allowed
    assert isinstance(parsed, model)


def _render(path: tuple[str | int, ...]) -> str:
    """A key path written as MalformedResponseError writes it: ``A.B[0].C``."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


@pytest.mark.parametrize("model", list(TEMPLATES), ids=lambda model: model.__name__)
def test_every_single_mutation_is_parsed_or_reported_where_it_is(model: Any) -> None:
    """Exhaustively: each node of the valid body dropped, nulled or given the wrong kind.

    The body either parses or the error names the mutated node (or something inside it).
    """
    template = TEMPLATES[model]
    parsed, misplaced = 0, []
    reported: list[str] = []
    for path in _paths(template):
        if not path:
            continue
        for value in (_DROP, None, "", "zz", -1, 2.5, True, [], {}, [{}], {"x": 1}):
            try:
                model.from_json(_replaced(template, path, value))
            except MalformedResponseError as error:
                reported.append(error.path)
                if not error.path.startswith(_render(path)):
                    misplaced.append((_render(path), value, error.path))
            else:
                parsed += 1

    assert misplaced == []
    assert parsed > 0
    assert reported
