"""Request validation: every declared rule and cross-field rule, all violations at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs
from gateway._proto.smcgateway.v1 import resources_pb2 as res
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources
from gateway.core.errors import InvalidArgumentError
from gateway.core.validation import validate

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def ts(delta: timedelta) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(NOW + delta)
    return stamp


def good_create(**changes: Any) -> jobs.CreateReplicationJobRequest:
    request = jobs.CreateReplicationJobRequest(
        source_id="s-abc123", system_disk_size=40, name="job-1", description="nightly"
    )
    for name, value in changes.items():
        if isinstance(value, Message):
            getattr(request, name).CopyFrom(value)
        elif isinstance(value, list):
            del getattr(request, name)[:]
            getattr(request, name).extend(value)
        else:
            setattr(request, name, value)
    return request


def violations(request: Message) -> dict[str, str]:
    with pytest.raises(InvalidArgumentError) as caught:
        validate(request, NOW)
    error = caught.value
    assert error.reason == "INVALID_REQUEST"
    found: dict[str, str] = {}
    for v in error.field_violations:
        found[v.field] = f"{found[v.field]}; {v.description}" if v.field in found else v.description
    return found


def test_valid_requests_pass() -> None:
    validate(good_create(), NOW)
    validate(sources.ListSourceServersRequest(), NOW)
    validate(jobs.ListReplicationJobsRequest(page_size=50, job_ids=["j-1"] * 50), NOW)
    validate(sources.UpdateSourceServerRequest(source_id="s-1", description=""), NOW)
    validate(
        good_create(
            scheduled_start_time=ts(timedelta(days=29)),
            valid_time=ts(timedelta(days=8)),
            net_mode=res.NET_MODE_VPC,
            vswitch_id="vsw-1",
            replication_parameters='{"bandwidth_limit": 0}',
            data_disks=[
                jobs.DataDiskSpec(index=1, size=20),
                jobs.DataDiskSpec(index=16, size=32768),
            ],
        ),
        NOW,
    )


@pytest.mark.parametrize(
    ("request_", "field", "text"),
    [
        (good_create(name="a"), "name", "at least 2"),
        (good_create(name="a" * 129), "name", "at most 128"),
        (good_create(name="1abc"), "name", "starting with a letter"),
        (good_create(name="http://x"), "name", "starting with a letter"),
        (good_create(name="bad name"), "name", "letters, digits"),
        (good_create(name="line\nbreak"), "name", "letters, digits"),
        (good_create(description="x"), "description", "at least 2"),
        (good_create(description="https://evil"), "description", "letters, digits"),
        (good_create(image_name="img name"), "image_name", "letters, digits"),
        (good_create(system_disk_size=19), "system_disk_size", "between 20 and 500"),
        (good_create(system_disk_size=501), "system_disk_size", "between 20 and 500"),
        (good_create(system_disk_size=0), "system_disk_size", "required for an image target"),
        (
            good_create(data_disks=[jobs.DataDiskSpec(index=0, size=100)]),
            "data_disks[0].index",
            "is required",
        ),
        (
            good_create(data_disks=[jobs.DataDiskSpec(index=17, size=100)]),
            "data_disks[0].index",
            "between 1 and 16",
        ),
        (
            good_create(data_disks=[jobs.DataDiskSpec(index=1, size=19)]),
            "data_disks[0].size",
            "between 20 and 32768",
        ),
        (
            good_create(data_disks=[jobs.DataDiskSpec(index=1, size=32769)]),
            "data_disks[0].size",
            "between 20 and 32768",
        ),
        (
            good_create(
                data_disks=[
                    jobs.DataDiskSpec(index=2, size=50),
                    jobs.DataDiskSpec(index=2, size=60),
                ]
            ),
            "data_disks[1].index",
            "used twice",
        ),
        (
            good_create(scheduled_start_time=ts(timedelta(days=30, seconds=1))),
            "scheduled_start_time",
            "at most 30 days",
        ),
        (
            good_create(scheduled_start_time=ts(-timedelta(minutes=1))),
            "scheduled_start_time",
            "in the future",
        ),
        (good_create(valid_time=ts(timedelta(days=6))), "valid_time", "at least 7 days"),
        (good_create(valid_time=ts(timedelta(days=91))), "valid_time", "at most 90 days"),
        (
            good_create(replication_parameters="x" * 2049),
            "replication_parameters",
            "at most 2048",
        ),
        (good_create(replication_parameters="{oops"), "replication_parameters", "valid JSON"),
        (good_create(replication_parameters="[1, 2]"), "replication_parameters", "JSON object"),
        (good_create(net_mode=res.NET_MODE_VPC), "vswitch_id", "required with NET_MODE_VPC"),
        (good_create(vswitch_id="sw-1"), "vswitch_id", "vSwitch ID"),
        (good_create(vpc_id="vpc 1"), "vpc_id", "VPC ID"),
        (
            good_create(target_type=res.TARGET_TYPE_TARGET_INSTANCE),
            "instance_id",
            "required with TARGET_TYPE_TARGET_INSTANCE",
        ),
        (good_create(instance_id="x-1"), "instance_id", "instance ID"),
        (good_create(run_once=False), "frequency", "required when run_once is false"),
        (good_create(frequency=169), "frequency", "between 1 and 168"),
        (good_create(max_number_of_image_to_keep=11), "max_number_of_image_to_keep", "1 and 10"),
        (good_create(source_id=""), "source_id", "is required"),
        (good_create(source_id="j-123"), "source_id", "source ID"),
        (good_create(source_id="s-ab/../x"), "source_id", "source ID"),
        (good_create(region_id="CN_HANGZHOU"), "region_id", "region ID"),
        (good_create(request_id="has space"), "request_id", "printable ASCII"),
        (good_create(license_type="GPL"), "license_type", "BYOL"),
        (good_create(job_type=4), "job_type", "between 0 and 3"),
        (good_create(net_mode=7), "net_mode", "has no value 7"),
        (
            good_create(tags=[jobs.TagSpec(key="aliyun-x", value="v")]),
            "tags[0].key",
            "must not start with 'aliyun'",
        ),
        (good_create(tags=[jobs.TagSpec(key="", value="v")]), "tags[0].key", "is required"),
        (
            good_create(tags=[jobs.TagSpec(key=f"k{i}") for i in range(21)]),
            "tags",
            "at most 20",
        ),
        (sources.ListSourceServersRequest(page_size=51), "page_size", "between 0 and 50"),
        (sources.ListSourceServersRequest(page_size=-1), "page_size", "between 0 and 50"),
        (
            sources.ListSourceServersRequest(source_ids=["s-1"] * 51),
            "source_ids",
            "at most 50",
        ),
        (sources.ListSourceServersRequest(source_ids=["s-ok", "bad"]), "source_ids[1]", "source"),
        (sources.ListSourceServersRequest(name="x"), "name", "2 to 128"),
        (sources.ListSourceServersRequest(state=99), "state", "has no value 99"),  # type: ignore[arg-type]
        (jobs.ListReplicationJobsRequest(job_ids=["j-1", "s-1"]), "job_ids[1]", "job ID"),
        (jobs.GetReplicationJobRequest(job_id="bad id!"), "job_id", "job ID"),
        (jobs.GetReplicationJobRequest(), "job_id", "is required"),
        (sources.GetSourceServerRequest(source_id="s-\u00e9"), "source_id", "source ID"),
        (
            sources.UpdateSourceServerRequest(source_id="s-1", description="http://x"),
            "description",
            "must not start with 'http://'",
        ),
        (
            sources.UpdateSourceServerRequest(source_id="s-1", description="HTTPS://x"),
            "description",
            "must not start with 'https://'",
        ),
        (
            sources.UpdateSourceServerRequest(source_id="s-1", description="a\r\nb"),
            "description",
            "single line",
        ),
        (
            sources.UpdateSourceServerRequest(source_id="s-1", description="d" * 257),
            "description",
            "at most 256",
        ),
        (sources.UpdateSourceServerRequest(source_id="s-1"), "source_id", "changes nothing"),
        (jobs.UpdateReplicationJobRequest(job_id="j-1"), "job_id", "changes nothing"),
        (
            jobs.UpdateReplicationJobRequest(job_id="j-1", target_type=res.TARGET_TYPE_UNSPECIFIED),
            "target_type",
            "must not be UNSPECIFIED",
        ),
        (
            jobs.UpdateReplicationJobRequest(job_id="j-1", system_disk_size=10),
            "system_disk_size",
            "between 20 and 500",
        ),
        (
            jobs.UpdateReplicationJobRequest(job_id="j-1", net_mode=res.NET_MODE_VPC),
            "vswitch_id",
            "required with NET_MODE_VPC",
        ),
    ],
)
def test_rule_is_enforced(request_: Message, field: str, text: str) -> None:
    found = violations(request_)
    assert field in found, found
    assert text in found[field]


def test_all_violations_are_reported_together() -> None:
    request = good_create(
        source_id="nope",
        name="x",
        system_disk_size=9000,
        replication_parameters="[]",
        net_mode=res.NET_MODE_VPC,
        data_disks=[jobs.DataDiskSpec(index=99, size=1)],
    )
    with pytest.raises(InvalidArgumentError) as caught:
        validate(request, NOW)
    fields = [v.field for v in caught.value.field_violations]
    assert set(fields) == {
        "source_id",
        "name",
        "system_disk_size",
        "replication_parameters",
        "vswitch_id",
        "data_disks[0].index",
        "data_disks[0].size",
    }
    assert caught.value.message.startswith("invalid request: source_id")
    status = caught.value.to_status()
    assert status.code == 3  # INVALID_ARGUMENT
    assert [d.type_url.rsplit("/", 1)[1] for d in status.details] == [
        "google.rpc.ErrorInfo",
        "google.rpc.BadRequest",
    ]


def test_out_of_range_timestamp_is_a_violation_not_a_crash() -> None:
    request = good_create()
    request.valid_time.seconds = 2**60
    assert "not a valid timestamp" in violations(request)["valid_time"]


def test_status_round_trip_keeps_every_detail() -> None:
    from gateway.core import errors as g

    original = g.ResourceExhaustedError(
        "slow down",
        reason="RATE_LIMITED",
        metadata={"tenant": "a"},
        field_violations=[g.FieldViolation("page_size", "too big", "INVALID_FIELD")],
        retry_delay=1.5,
        quota_violations=[g.QuotaViolation("tenant:a", "write budget")],
    )
    copy = g.from_status(original.to_status())
    assert type(copy) is g.ResourceExhaustedError
    assert copy.to_status() == original.to_status()
    assert (copy.reason, copy.metadata, copy.retry_delay) == ("RATE_LIMITED", {"tenant": "a"}, 1.5)


def test_reused_idempotency_key_is_422_over_rest_and_invalid_argument_over_grpc() -> None:
    from gateway.core import errors as g

    error = g.InvalidArgumentError("reused", reason="IDEMPOTENCY_KEY_REUSED")
    assert (error.http_status, error.to_status().code) == (422, 3)
    assert g.to_http_json(error)["error"]["code"] == 422
    assert g.from_status(error.to_status()).http_status == 422  # replays too
    assert g.InvalidArgumentError("other").http_status == 400
