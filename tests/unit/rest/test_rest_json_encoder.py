"""The compiled response encoder gives exactly json_format's proto3 JSON mapping."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import resources_pb2 as res
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway.core.methods import METHODS
from gateway.rest.jsonmap import ResponseEncoder, message_to_dict, message_to_json


def expected(message: Message) -> object:
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def full_job() -> res.ReplicationJob:
    job = res.ReplicationJob(
        job_id="j-1",
        name="n",
        status=res.REPLICATION_JOB_STATUS_RUNNING,
        business_status=res.REPLICATION_JOB_BUSINESS_STATUS_SYNCING,
        progress=55.45,
        net_mode=res.NET_MODE_VPC,
        net_mode_raw=2,
        data_disks=[
            res.ReplicationJobDataDisk(
                index=1,
                size=100,
                parts=[res.ReplicationJobDiskPart(device="0_1", size_bytes=2**40, block=True)],
            )
        ],
        tags=[res.Tag(key="k", value="v\u00e9\u0000")],
        replication_job_runs=[res.ReplicationJobRun(image_id="m-1", type="Manual")],
    )
    job.creation_time.FromDatetime(datetime(2026, 11, 26, 12, 0, 1, tzinfo=UTC))
    job.replication_job_runs[0].start_time.FromDatetime(datetime(2026, 1, 1, tzinfo=UTC))
    job.disks.system.disk_id = "d-1"
    job.disks.data.add(size=20, lvm=True)
    return job


CASES: list[Message] = [
    *(m.response_type() for m in METHODS),  # every response, all defaults
    jobs.GetReplicationJobResponse(replication_job=full_job()),
    jobs.ListReplicationJobsResponse(
        replication_jobs=[full_job(), res.ReplicationJob()], total_size=2
    ),
    # Enum numbers this gateway does not know.
    res.ReplicationJob(status=77, target_type=9),  # type: ignore[arg-type]
    sources.ListSourceServersResponse(
        source_servers=[
            res.SourceServer(
                source_id="s-1",
                state=res.SOURCE_SERVER_STATE_IN_USE,
                data_disks=[res.SourceDataDisk(index=1, parts=[res.SourceDiskPart(size_bytes=-5)])],
                disks=res.SourceDisks(system=res.SourceDisk(offset=2**62)),
            )
        ],
        next_page_token="tok",
    ),
]


@pytest.mark.parametrize("message", CASES, ids=lambda m: type(m).__name__)
def test_same_as_json_format(message: Message) -> None:
    assert message_to_dict(message) == expected(message)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308])
def test_doubles_like_json_format(value: float) -> None:
    job = res.ReplicationJob(progress=value)
    assert message_to_dict(job) == expected(job)


@pytest.mark.parametrize("message", CASES, ids=lambda m: type(m).__name__)
def test_json_bytes_decode_to_json_formats_dict(message: Message) -> None:
    assert json.loads(message_to_json(message)) == expected(message)


@pytest.mark.parametrize("nanos", [0, 5_000_000, 5_000, 5])
def test_timestamps_with_fractions_like_json_format(nanos: int) -> None:
    job = res.ReplicationJob(job_id="j-1")
    job.creation_time.seconds, job.creation_time.nanos = 1_800_000_000, nanos
    assert message_to_dict(job) == expected(job)


@pytest.mark.parametrize(
    "seconds",
    [
        0,
        -1,
        951_782_400,  # 2000-02-29
        4_102_444_800,  # 2100-01-01
        -30_610_224_000,  # 1000-01-01, the first second written in C
        -30_610_224_001,  # 0999-12-31T23:59:59, padded by json_format
        -62_135_596_800,  # 0001-01-01
        253_402_300_799,  # 9999-12-31T23:59:59
    ],
)
def test_whole_second_timestamps_like_json_format(seconds: int) -> None:
    job = res.ReplicationJob(job_id="j-1")
    job.start_time.seconds = seconds
    assert message_to_dict(job) == expected(job)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-62_135_596_800, max_value=253_402_300_799))
def test_any_whole_second_timestamp_like_json_format(seconds: int) -> None:
    job = res.ReplicationJob(job_id="j-1")
    job.end_time.seconds = seconds
    assert message_to_dict(job) == expected(job)


# --- responses with kept resources ----------------------------------------------------------

RESOURCES = (res.SourceServer, res.ReplicationJob)


@pytest.mark.parametrize("message", CASES, ids=lambda m: type(m).__name__)
def test_response_encoder_writes_what_message_to_json_writes(message: Message) -> None:
    encoder = ResponseEncoder(8, RESOURCES)
    assert encoder.encode(message) == message_to_json(message)
    assert encoder.encode(message) == message_to_json(message)  # resources now kept


def test_a_changed_resource_is_written_anew() -> None:
    encoder = ResponseEncoder(8, RESOURCES)
    job = full_job()
    first = encoder.encode(jobs.GetReplicationJobResponse(replication_job=job))
    job.progress = 99.5
    job.status = res.REPLICATION_JOB_STATUS_FINISHED
    second = encoder.encode(jobs.GetReplicationJobResponse(replication_job=job))
    assert first != second
    assert json.loads(second)["replicationJob"]["status"] == "REPLICATION_JOB_STATUS_FINISHED"
    assert second == message_to_json(jobs.GetReplicationJobResponse(replication_job=job))


def test_resources_of_different_types_with_equal_bytes_do_not_mix() -> None:
    # An empty source and an empty job both serialize to b"".
    encoder = ResponseEncoder(8, RESOURCES)
    empty_sources = sources.ListSourceServersResponse(source_servers=[res.SourceServer()])
    empty_jobs = jobs.ListReplicationJobsResponse(replication_jobs=[res.ReplicationJob()])
    for message in (empty_sources, empty_jobs, empty_sources):
        assert encoder.encode(message) == message_to_json(message)


def test_no_entries_writes_the_same() -> None:
    encoder = ResponseEncoder(0, RESOURCES)
    for message in CASES:
        assert encoder.encode(message) == message_to_json(message)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.builds(
            res.ReplicationJob,
            job_id=st.sampled_from(["j-1", "j-2"]),
            progress=st.sampled_from([0.0, -0.0, 50.5, math.nan, math.inf]),
            status=st.sampled_from([0, 2, 77]),
            system_disk_size=st.sampled_from([0, 40]),
            name=st.text(max_size=3),
        ),
        max_size=4,
    )
)
def test_pages_through_a_small_shared_memo_read_as_written_fresh(
    found: list[res.ReplicationJob],
) -> None:
    page = jobs.ListReplicationJobsResponse(replication_jobs=found, total_size=len(found))
    assert SHARED_ENCODER.encode(page) == message_to_json(page)


SHARED_ENCODER = ResponseEncoder(2, RESOURCES)
