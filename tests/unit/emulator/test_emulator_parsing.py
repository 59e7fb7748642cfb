"""Wire parameters → typed requests: every bad field is named in the error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.emulator import errors
from gateway.emulator.auth import NonceCache
from gateway.emulator.models import JobStatus, SourceState, TargetType
from gateway.emulator.params import ParamReader
from gateway.emulator.parsing import (
    parse_create_job,
    parse_delete_source,
    parse_describe_jobs,
    parse_describe_sources,
    parse_job_id,
    parse_modify_job,
    parse_modify_source,
)
from gateway.emulator.protocol import check_common, decode_params

BASE = {"RegionId": "cn-hangzhou", "SourceId": "s-1", "SystemDiskSize": "40"}


def create(**extra: str) -> object:
    return parse_create_job(ParamReader({**BASE, **extra}))


def test_create_job_reads_every_documented_field() -> None:
    req = parse_create_job(
        ParamReader(
            {
                **BASE,
                "Name": "job-1",
                "Description": "a description with spaces",
                "ImageName": "image_1",
                "DataDisk.2.Index": "2",
                "DataDisk.2.Size": "200",
                "DataDisk.1.Index": "1",
                "DataDisk.1.Size": "100",
                "DataDisk.1.Part.1.Device": "0_1",
                "DataDisk.1.Part.1.SizeBytes": "1024",
                "DataDisk.1.Part.1.Block": "True",
                "NetMode": "2",
                "VSwitchId": "vsw-1",
                "VpcId": "vpc-1",
                "ReplicationParameters": '{"bandwidth_limit": 0}',
                "ScheduledStartTime": "2026-01-06T00:00:00Z",
                "ValidTime": "2026-02-06T00:00Z",
                "TargetType": "image",
                "ClientToken": "abc-123",
                "RunOnce": "False",
                "Frequency": "12",
                "MaxNumberOfImageToKeep": "3",
                "Tag.1.Key": "team",
                "Tag.1.Value": "",
                "Disks.System.Size": "40",
                "Disks.Data.1.DiskId": "d-1",
                "Disks.Data.1.Size": "100",
                "Disks.Data.1.Part.1.Path": "/data",
                "UnknownParameter": "ignored",
            }
        )
    )
    s = req.settings
    assert (req.region_id, req.source_id, req.client_token, req.run_once) == (
        "cn-hangzhou",
        "s-1",
        "abc-123",
        False,
    )
    assert [(d.index, d.size) for d in s.data_disks or ()] == [(1, 100), (2, 200)]
    assert s.data_disks is not None
    assert s.data_disks[0].parts[0].block is True
    assert s.target_type is TargetType.IMAGE
    assert s.valid_time == datetime(2026, 2, 6, tzinfo=UTC)
    assert (s.net_mode, s.frequency, s.max_number_of_image_to_keep) == (2, 12, 3)
    assert req.tags[0].key == "team"
    assert req.disks_system is not None
    assert req.disks_system.size == 40
    assert req.disks_data[0].parts[0].path == "/data"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("SystemDiskSize", "19"),
        ("SystemDiskSize", "501"),
        ("SystemDiskSize", "forty"),
        ("SystemDiskSize", "1_000"),
        ("SystemDiskSize", ""),
        ("DataDisk.1.Index", "17"),
        ("DataDisk.1.Size", "19"),
        ("DataDisk.1.Size", "32769"),
        ("DataDisk.17.Index", "1"),
        ("DataDisk.x.Index", "1"),
        ("NetMode", "1"),
        ("Name", "1starts-with-digit"),
        ("Name", "has space"),
        ("Name", "x"),
        ("ImageName", "http://x"),
        ("Description", "x"),
        ("Description", "https://example.com"),
        ("ReplicationParameters", "not json"),
        ("ReplicationParameters", "[1, 2]"),
        ("ReplicationParameters", "{" + " " * 2048 + "}"),
        ("ScheduledStartTime", "tomorrow"),
        ("ValidTime", "2026-01-06 00:00:00"),
        ("TargetType", "Disk"),
        ("ClientToken", "x" * 65),
        ("ClientToken", "jeton-é"),
        ("RunOnce", "yes"),
        ("Frequency", "169"),
        ("MaxNumberOfImageToKeep", "11"),
        ("JobType", "4"),
        ("Tag.1.Key", "aliyun-internal"),
        ("Tag.21.Key", "k"),
    ],
)
def test_create_job_invalid_fields_are_named(field: str, value: str) -> None:
    extra = {field: value}
    if field.startswith("DataDisk.1.") and not field.endswith("Index"):
        extra["DataDisk.1.Index"] = "1"
    if field.startswith("DataDisk.1.") and not field.endswith("Size"):
        extra["DataDisk.1.Size"] = "100"
    with pytest.raises(errors.InvalidParameterError) as caught:
        create(**extra)
    assert field in caught.value.message
    assert caught.value.message.startswith(f"The specified parameter {field} is not valid.")


@pytest.mark.parametrize("missing", ["RegionId", "SourceId"])
def test_create_job_required_fields(missing: str) -> None:
    params = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(errors.MissingParameterError, match=missing):
        parse_create_job(ParamReader(params))


def test_data_disk_needs_index_and_size_and_unique_index() -> None:
    with pytest.raises(errors.MissingParameterError, match=r"DataDisk\.1\.Size"):
        create(**{"DataDisk.1.Index": "1"})
    with pytest.raises(errors.MissingParameterError, match=r"DataDisk\.1\.Index"):
        create(**{"DataDisk.1.Size": "100"})
    with pytest.raises(errors.InvalidParameterError, match=r"DataDisk\.2\.Index"):
        create(
            **{
                "DataDisk.1.Index": "1",
                "DataDisk.1.Size": "100",
                "DataDisk.2.Index": "1",
                "DataDisk.2.Size": "100",
            }
        )


@pytest.mark.parametrize("value", ["Image", "IMAGE", "image", "containerimage", "TargetInstance"])
def test_target_type_is_case_insensitive(value: str) -> None:
    req = parse_create_job(ParamReader({**BASE, "TargetType": value}))
    assert req.settings.target_type is not None
    assert req.settings.target_type.value.lower() == value.lower()


def test_same_parameters_give_equal_requests() -> None:
    params = {**BASE, "ClientToken": "t", "DataDisk.1.Index": "1", "DataDisk.1.Size": "100"}
    assert parse_create_job(ParamReader(params)) == parse_create_job(ParamReader(dict(params)))
    assert parse_create_job(ParamReader(params)) != parse_create_job(
        ParamReader({**params, "DataDisk.1.Size": "101"})
    )


def test_describe_sources_parsing() -> None:
    req = parse_describe_sources(
        ParamReader(
            {
                "SourceId.2": "s-b",
                "SourceId.1": "s-a",
                "State": "InUse",
                "Name": "web",
                "PageNumber": "2",
                "PageSize": "50",
            }
        )
    )
    assert req.source_ids == ("s-a", "s-b")
    assert (req.state, req.name, req.page_number, req.page_size) == (
        SourceState.IN_USE,
        "web",
        2,
        50,
    )
    defaults = parse_describe_sources(ParamReader({}))
    assert (defaults.page_number, defaults.page_size, defaults.source_ids) == (1, 10, ())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("PageSize", "0"),
        ("PageSize", "51"),
        ("PageNumber", "0"),
        ("State", "available"),
        ("SourceId.51", "s-x"),
        ("SourceId.0", "s-x"),
        ("SourceId.1.Extra", "s-x"),
    ],
)
def test_describe_sources_invalid(field: str, value: str) -> None:
    with pytest.raises(errors.InvalidParameterError, match=field.replace(".", r"\.")):
        parse_describe_sources(ParamReader({field: value}))


def test_describe_jobs_parsing() -> None:
    req = parse_describe_jobs(
        ParamReader(
            {
                "JobId.1": "j-1",
                "SourceId.1": "s-1",
                "InstanceId.1": "i-1",
                "Status": "Running",
                "BusinessStatus": "Syncing",
                "RegionId": "cn-hangzhou",
            }
        )
    )
    assert (req.job_ids, req.source_ids, req.instance_ids) == (("j-1",), ("s-1",), ("i-1",))
    assert req.status is JobStatus.RUNNING
    for field, value in [("JobId.51", "j"), ("Status", "Done"), ("BusinessStatus", "Copying")]:
        with pytest.raises(errors.InvalidParameterError, match=field.split(".")[0]):
            parse_describe_jobs(ParamReader({field: value}))


def test_small_operations() -> None:
    assert parse_job_id(ParamReader({"JobId": "j-1"})) == "j-1"
    with pytest.raises(errors.MissingParameterError, match="JobId"):
        parse_job_id(ParamReader({}))
    delete = parse_delete_source(ParamReader({"SourceId": "s-1", "Force": "true"}))
    assert (delete.source_id, delete.force) == ("s-1", True)
    assert parse_delete_source(ParamReader({"SourceId": "s-1"})).force is False
    with pytest.raises(errors.InvalidParameterError, match="Force"):
        parse_delete_source(ParamReader({"SourceId": "s-1", "Force": "1"}))
    modify = parse_modify_source(ParamReader({"SourceId": "s-1", "Description": ""}))
    assert (modify.name, modify.description) == (None, "")
    with pytest.raises(errors.InvalidParameterError, match="Description"):
        parse_modify_source(ParamReader({"SourceId": "s-1", "Description": "x" * 257}))
    job = parse_modify_job(ParamReader({"JobId": "j-1", "Name": "n-1"}))
    assert (job.job_id, job.settings.name, job.settings.system_disk_size) == ("j-1", "n-1", None)


def test_decode_params_merges_query_and_body() -> None:
    params = decode_params("A=1&B=x%20y", b"C=%E4%B8%AD&D=a+b")
    assert params == {"A": "1", "B": "x y", "C": "中", "D": "a b"}


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("A=1&A=2", b""),
        ("A=1", b"A=1"),
        ("A=%FF", b""),
        ("", b"A=\xff"),
        ("&".join(f"k{i}=v" for i in range(1001)), b""),
    ],
)
def test_decode_params_rejects(query: str, body: bytes) -> None:
    with pytest.raises(errors.InvalidParameterError):
        decode_params(query, body)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"Version": "2019-06-01"}, errors.MissingParameterError),
        ({"Action": "DescribeSourceServers"}, errors.MissingParameterError),
        ({"Action": "Nope", "Version": "2019-06-01"}, errors.InvalidApiNotFoundError),
        (
            {"Action": "describesourceservers", "Version": "2019-06-01"},
            errors.InvalidApiNotFoundError,
        ),
        ({"Action": "DescribeSourceServers", "Version": "2014-08-28"}, errors.NoSuchVersionError),
        (
            {"Action": "DescribeSourceServers", "Version": "2019-06-01", "Format": "xml"},
            errors.InvalidParameterFormatError,
        ),
        (
            {"Action": "DescribeSourceServers", "Version": "2019-06-01", "OwnerId": "me"},
            errors.InvalidParameterError,
        ),
    ],
)
def test_check_common(params: dict[str, str], error: type[errors.SmcError]) -> None:
    with pytest.raises(error):
        check_common(params)


def test_check_common_accepts_json_any_case() -> None:
    for fmt in ("json", "JSON", "Json"):
        params = {"Action": "StopReplicationJob", "Version": "2019-06-01", "Format": fmt}
        assert check_common(params) == "StopReplicationJob"


def test_error_registry_maps_codes_to_classes() -> None:
    assert errors.error_class("SignatureNonceUsed") is errors.SignatureNonceUsedError
    assert errors.error_class("InvalidJobId.NotFound") is errors.InvalidJobIdNotFoundError
    assert errors.error_class("Nope") is None
    assert errors.InternalError.http_status == 500
    with pytest.raises(TypeError):

        class Again(errors.SmcError):
            code = "InternalError"


def test_nonce_cache_forgets_old_nonces_and_stays_bounded() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cache = NonceCache(timedelta(minutes=15), capacity=100)
    cache.add("a", now)
    assert cache.used("a", now + timedelta(minutes=14))
    assert not cache.used("a", now + timedelta(minutes=15))
    for i in range(1000):
        cache.add(f"n{i}", now)
    assert len(cache) == 100
    assert cache.used("n999", now)
