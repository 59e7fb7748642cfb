"""The read path's fast reader agrees with the reference (models + convert) on every answer.

Two properties over generated SMC answers:
- canonical answers (every value of the type SMC sends) are read by the fast reader itself,
  never handed to the reference, and give the reference's messages exactly;
- any answer (strings for numbers, lone objects for lists, other time forms, unknown or
  lower-case enum values, missing required fields, wrong kinds) gives the reference's
  messages or the reference's error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway._proto.smcgateway.v1 import replication_job_service_pb2 as jobs_pb2
from gateway._proto.smcgateway.v1 import resources_pb2 as pb
from gateway._proto.smcgateway.v1 import source_server_service_pb2 as sources_pb2
from gateway.core import convert, from_wire
from gateway.smc import models as smc

Draw = Callable[..., Any]

TIMES = ["2026-11-26T22:41:22Z", "2026-11-26T22:41Z"]
STATES = ["Available", "Unavailable", "InUse", "Deleting"]
STATUSES = ["Ready", "Running", "Stopped", "InError", "Finished", "Expired", "Deleting"]
BUSINESS = ["Preparing", "Syncing", "Processing", "Cleaning", ""]
TARGETS = ["Image", "ContainerImage", "TargetInstance"]

REQUIRED = frozenset({"SourceId", "JobId"})
text = st.text(max_size=12)
count = st.integers(min_value=0, max_value=2**31 - 1)
big = st.integers(min_value=0, max_value=2**62)


def _odd(canonical: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A canonical value, or one of the kinds only the reference reads (or refuses)."""
    return st.one_of(
        canonical,
        st.none(),
        st.just(""),
        st.integers(min_value=-(2**40), max_value=2**40).map(str),
        st.sampled_from(
            [True, "true", "False", 1.0, 2.5, float("nan"), "2026-11-26T22:41:22.5+08:00", []]
        ),
        st.integers(min_value=-(2**40), max_value=2**40),
    )


def _maybe(draw: Draw, fields: dict[str, Any], odd: bool) -> dict[str, Any]:
    """Drop some fields; with ``odd``, swap some values for unusual kinds."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if (odd or key not in REQUIRED) and draw(st.integers(0, 9)) == 0:
            continue  # absent
        out[key] = draw(_odd(st.just(value))) if odd and draw(st.integers(0, 7)) == 0 else value
    return out


def _wrapped(draw: Draw, outer: str, items: list[Any], odd: bool) -> dict[str, Any]:
    if odd and items and draw(st.integers(0, 5)) == 0:
        return {outer: items[0]}  # a lone object in place of the list
    return {outer: items}


@st.composite
def source_parts(draw: Draw, odd: bool) -> list[dict[str, Any]]:
    return [
        _maybe(
            draw,
            {
                "CanBlock": draw(st.booleans()),
                "Device": draw(text),
                "Need": draw(st.booleans()),
                "Path": draw(text),
                "SizeBytes": draw(big),
            },
            odd,
        )
        for _ in range(draw(st.integers(0, 2)))
    ]


@st.composite
def source_disk(draw: Draw, odd: bool) -> dict[str, Any]:
    parts = [
        _maybe(
            draw,
            {
                "CanBlock": draw(st.booleans()),
                "Path": draw(text),
                "SizeBytes": draw(big),
                "Type": draw(text),
            },
            odd,
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    return _maybe(
        draw,
        {"Offset": draw(big), "Size": draw(count), "Parts": _wrapped(draw, "Part", parts, odd)},
        odd,
    )


@st.composite
def sources(draw: Draw, odd: bool) -> dict[str, Any]:
    data_disks = [
        _maybe(
            draw,
            {
                "Index": draw(count),
                "Path": draw(text),
                "Size": draw(count),
                "Parts": _wrapped(draw, "Part", draw(source_parts(odd)), odd),
            },
            odd,
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    disks = {
        "System": draw(source_disk(odd)),
        "Data": _wrapped(draw, "Data", [draw(source_disk(odd))], odd),
    }
    state = draw(st.sampled_from([*STATES, "available", "Migrating", ""]))
    fields = {
        "SourceId": "s-" + draw(st.text("abc123", min_size=1, max_size=6)),
        "AgentVersion": draw(text),
        "Architecture": draw(text),
        "CreationTime": draw(st.sampled_from(TIMES)),
        "DataDisks": _wrapped(draw, "DataDisk", data_disks, odd),
        "Description": draw(text),
        "Disks": _maybe(draw, disks, odd),
        "ErrorCode": draw(text),
        "HeartbeatRate": draw(count),
        "JobId": draw(text),
        "KernelLevel": draw(count),
        "Name": draw(text),
        "Platform": draw(text),
        "ReplicationDriver": draw(text),
        "ResourceGroupId": draw(text),
        "State": state,
        "StatusInfo": draw(text),
        "SystemDiskParts": _wrapped(draw, "SystemDiskPart", draw(source_parts(odd)), odd),
        "SystemDiskSize": draw(count),
        "SystemInfo": draw(text),
        "Tags": {"Tag": [{"Key": draw(text), "Value": draw(text)}]},
        "WorkgroupId": draw(text),
    }
    return _maybe(draw, fields, odd)


@st.composite
def job_disk(draw: Draw, odd: bool) -> dict[str, Any]:
    parts = [
        _maybe(
            draw, {"Block": draw(st.booleans()), "Path": draw(text), "SizeBytes": draw(big)}, odd
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    fields = {
        "DiskId": draw(text),
        "LVM": draw(st.booleans()),
        "Size": draw(count),
        "Parts": _wrapped(draw, "Part", parts, odd),
    }
    return _maybe(draw, fields, odd)


@st.composite
def jobs(draw: Draw, odd: bool) -> dict[str, Any]:
    def job_parts() -> list[dict[str, Any]]:
        return [
            _maybe(
                draw,
                {"Block": draw(st.booleans()), "Device": draw(text), "SizeBytes": draw(big)},
                odd,
            )
            for _ in range(draw(st.integers(0, 2)))
        ]

    runs = [
        _maybe(
            draw,
            {
                "StartTime": draw(st.sampled_from(TIMES)),
                "EndTime": draw(st.sampled_from(TIMES)),
                "ImageId": draw(text),
                "Type": draw(text),
            },
            odd,
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    fields: dict[str, Any] = {
        "JobId": "j-" + draw(st.text("abc123", min_size=1, max_size=6)),
        "BusinessStatus": draw(st.sampled_from([*BUSINESS, "syncing"])),
        "ContainerNamespace": draw(text),
        "ContainerRepository": draw(text),
        "ContainerTag": draw(text),
        "CreationTime": draw(st.sampled_from(TIMES)),
        "DataDisks": _wrapped(
            draw,
            "DataDisk",
            [
                _maybe(
                    draw,
                    {
                        "Index": draw(count),
                        "Size": draw(count),
                        "Parts": _wrapped(draw, "Part", job_parts(), odd),
                    },
                    odd,
                )
            ],
            odd,
        ),
        "Description": draw(text),
        "Disks": _maybe(
            draw,
            {
                "System": draw(job_disk(odd)),
                "Data": _wrapped(draw, "Data", [draw(job_disk(odd))], odd),
            },
            odd,
        ),
        "EndTime": draw(st.sampled_from(TIMES)),
        "ErrorCode": draw(text),
        "Frequency": draw(count),
        "ImageId": draw(text),
        "ImageName": draw(text),
        "InstanceId": draw(text),
        "InstanceRamRole": draw(text),
        "InstanceType": draw(text),
        "JobType": draw(st.integers(0, 2)),
        "LaunchTemplateId": draw(text),
        "LaunchTemplateVersion": draw(text),
        "LicenseType": draw(text),
        "MaxNumberOfImageToKeep": draw(count),
        "Name": draw(text),
        "NetMode": draw(st.sampled_from([0, 2, 1])),
        "Progress": draw(st.floats(0, 100, allow_nan=False)),
        "RegionId": draw(text),
        "ReplicationJobRuns": _wrapped(draw, "ReplicationJobRun", runs, odd),
        "ReplicationParameters": draw(text),
        "ResourceGroupId": draw(text),
        "RunOnce": draw(st.booleans()),
        "ScheduledStartTime": draw(st.sampled_from(TIMES)),
        "SourceId": draw(text),
        "StartTime": draw(st.sampled_from(TIMES)),
        "Status": draw(st.sampled_from([*STATUSES, "ready", "Paused"])),
        "StatusInfo": draw(text),
        "SystemDiskParts": _wrapped(draw, "SystemDiskPart", job_parts(), odd),
        "SystemDiskSize": draw(count),
        "Tags": {"Tag": [{"Key": draw(text), "Value": draw(text)}]},
        "TargetType": draw(st.sampled_from([*TARGETS, "image", "Other"])),
        "TransitionInstanceId": draw(text),
        "VSwitchId": draw(text),
        "ValidTime": draw(st.sampled_from(TIMES)),
        "VpcId": draw(text),
        "WorkgroupId": draw(text),
    }
    return _maybe(draw, fields, odd)


def _page(outer: str, inner: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "RequestId": "r-1",
        "TotalCount": len(items),
        "PageNumber": 1,
        "PageSize": 10,
        outer: {inner: items},
    }


def _reference_sources(data: dict[str, Any]) -> object:
    try:
        answer = smc.DESCRIBE_SOURCE_SERVERS.parse(data)
        return sources_pb2.ListSourceServersResponse(
            source_servers=[convert.source_to_pb(s) for s in answer.source_servers],
            total_size=answer.total_count,
        )
    except (smc.MalformedResponseError, ValueError, TypeError) as error:
        return type(error)


def _reference_jobs(data: dict[str, Any]) -> object:
    try:
        answer = smc.DESCRIBE_REPLICATION_JOBS.parse(data)
        return jobs_pb2.ListReplicationJobsResponse(
            replication_jobs=[convert.job_to_pb(j) for j in answer.replication_jobs],
            total_size=answer.total_count,
        )
    except (smc.MalformedResponseError, ValueError, TypeError) as error:
        return type(error)


def _fast(read: Callable[[dict[str, Any]], object], data: dict[str, Any]) -> object:
    try:
        return read(data)
    except (smc.MalformedResponseError, ValueError, TypeError) as error:
        return type(error)


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(sources(odd=False), max_size=3))
def test_canonical_sources_are_read_by_the_fast_reader_and_equal_the_reference(
    items: list[dict[str, Any]],
) -> None:
    data = _page("SourceServers", "SourceServer", items)
    # The fast reader's fields build the message (raises if it would fall back).
    fast = [pb.SourceServer(**from_wire._source(s)) for s in items]
    expected = sources_pb2.ListSourceServersResponse(source_servers=fast, total_size=len(items))
    assert expected == _reference_sources(data)
    assert from_wire.source_page(data) == expected


@FAST
@given(st.lists(jobs(odd=False), max_size=3))
def test_canonical_jobs_are_read_by_the_fast_reader_and_equal_the_reference(
    items: list[dict[str, Any]],
) -> None:
    data = _page("ReplicationJobs", "ReplicationJob", items)
    fast = [pb.ReplicationJob(**from_wire._job(j)) for j in items]
    expected = jobs_pb2.ListReplicationJobsResponse(replication_jobs=fast, total_size=len(items))
    assert expected == _reference_jobs(data)
    assert from_wire.job_page(data) == expected


@FAST
@given(st.lists(sources(odd=True), max_size=3))
def test_any_source_answer_reads_as_the_reference_reads_it(items: list[dict[str, Any]]) -> None:
    data = _page("SourceServers", "SourceServer", items)
    assert _fast(from_wire.source_page, data) == _reference_sources(data)


@FAST
@given(st.lists(jobs(odd=True), max_size=3))
def test_any_job_answer_reads_as_the_reference_reads_it(items: list[dict[str, Any]]) -> None:
    data = _page("ReplicationJobs", "ReplicationJob", items)
    assert _fast(from_wire.job_page, data) == _reference_jobs(data)


@pytest.mark.parametrize(
    "header",
    [
        {"RequestId": ""},
        {"TotalCount": "7"},
        {"TotalCount": None},
        {"PageSize": True},
        {"RequestId": 12},
    ],
)
def test_page_headers_off_the_common_shape_read_as_the_reference_reads_them(
    header: dict[str, Any],
) -> None:
    data = {**_page("SourceServers", "SourceServer", []), **header}
    assert _fast(from_wire.source_page, data) == _reference_sources(data)
    jobs_data = {**_page("ReplicationJobs", "ReplicationJob", []), **header}
    assert _fast(from_wire.job_page, jobs_data) == _reference_jobs(jobs_data)


@pytest.mark.parametrize("disks", [{}, {"System": {}}, {"Data": {"Data": []}}, {"Data": {}}])
def test_an_empty_disks_object_is_kept_as_the_reference_keeps_it(disks: dict[str, Any]) -> None:
    source = {"SourceId": "s-1", "Disks": disks}
    page = _page("SourceServers", "SourceServer", [source])
    built = pb.SourceServer(**from_wire._source(source))
    assert _reference_sources(page) == sources_pb2.ListSourceServersResponse(
        source_servers=[built], total_size=1
    )
    job = {"JobId": "j-1", "Disks": disks}
    jobs_page = _page("ReplicationJobs", "ReplicationJob", [job])
    built_job = pb.ReplicationJob(**from_wire._job(job))
    assert _reference_jobs(jobs_page) == jobs_pb2.ListReplicationJobsResponse(
        replication_jobs=[built_job], total_size=1
    )


def test_a_malformed_answer_raises_the_reference_error_naming_the_field() -> None:
    data = _page("SourceServers", "SourceServer", [{"SourceId": "s-1", "KernelLevel": "x"}])
    with pytest.raises(smc.MalformedResponseError, match="KernelLevel"):
        from_wire.source_page(data)


def test_find_returns_only_the_asked_resource() -> None:
    data = _page("ReplicationJobs", "ReplicationJob", [{"JobId": "j-1"}, {"JobId": "j-2"}])
    found = from_wire.find_job(data, "j-2")
    assert found is not None
    assert found.job_id == "j-2"
    assert from_wire.find_job(data, "j-3") is None
    sources_data = _page("SourceServers", "SourceServer", [{"SourceId": "s-1"}])
    assert from_wire.find_source(sources_data, "s-2") is None


# --- kept conversions ---------------------------------------------------------------------
#
# One small memo shared by every example: keys collide, hit and are evicted across examples,
# and every page read through it must be the page read without it.

SHARED = from_wire.Conversions(4)


def _through_memo(read: Callable[..., object], data: dict[str, Any]) -> object:
    try:
        return read(data, SHARED)
    except (smc.MalformedResponseError, ValueError, TypeError) as error:
        return type(error)


@FAST
@given(st.lists(sources(odd=True), max_size=3))
def test_sources_read_through_kept_conversions_equal_a_fresh_read(
    items: list[dict[str, Any]],
) -> None:
    data = _page("SourceServers", "SourceServer", items)
    fresh = _fast(from_wire.source_page, data)
    assert _through_memo(from_wire.source_page, data) == fresh
    assert _through_memo(from_wire.source_page, data) == fresh  # now from the memo
    assert len(SHARED.sources) <= 4


@FAST
@given(st.lists(jobs(odd=True), max_size=3))
def test_jobs_read_through_kept_conversions_equal_a_fresh_read(
    items: list[dict[str, Any]],
) -> None:
    data = _page("ReplicationJobs", "ReplicationJob", items)
    fresh = _fast(from_wire.job_page, data)
    assert _through_memo(from_wire.job_page, data) == fresh
    assert _through_memo(from_wire.job_page, data) == fresh
    assert len(SHARED.jobs) <= 4


def test_a_kept_resource_is_read_again_when_smc_changes_it() -> None:
    conversions = from_wire.Conversions(10)
    job = {"JobId": "j-1", "Status": "Ready", "Progress": 0}
    first = from_wire.job_page(_page("ReplicationJobs", "ReplicationJob", [job]), conversions)
    moved = {**job, "Status": "Running", "Progress": 12.5}
    second = from_wire.job_page(_page("ReplicationJobs", "ReplicationJob", [moved]), conversions)
    assert first.replication_jobs[0].status == pb.REPLICATION_JOB_STATUS_READY
    assert second.replication_jobs[0].status == pb.REPLICATION_JOB_STATUS_RUNNING
    assert second.replication_jobs[0].progress == 12.5
    assert len(conversions.jobs) == 2


def test_changing_an_answer_leaves_what_is_kept_alone() -> None:
    conversions = from_wire.Conversions(10)
    data = _page("SourceServers", "SourceServer", [{"SourceId": "s-1", "Name": "web"}])
    first = from_wire.source_page(data, conversions)
    first.source_servers[0].name = "changed by a caller"
    first.total_size = 99
    again = from_wire.source_page(data, conversions)
    assert again == from_wire.source_page(data)
    assert again.source_servers[0].name == "web"
    assert again.total_size == 1


def test_total_size_comes_from_each_answer_not_from_what_is_kept() -> None:
    conversions = from_wire.Conversions(10)
    items = [{"SourceId": "s-1"}]
    from_wire.source_page(_page("SourceServers", "SourceServer", items), conversions)
    bigger = {**_page("SourceServers", "SourceServer", items), "TotalCount": 40}
    assert from_wire.source_page(bigger, conversions).total_size == 40


@pytest.mark.parametrize("field", ["HeartbeatRate", "Name", "Unread"])
def test_nan_and_null_share_a_key_without_sharing_a_result(field: str) -> None:
    # Python's reader (SMC answers strict JSON refuses) gives NaN, written back as null.
    conversions = from_wire.Conversions(10)
    with_nan = _page("SourceServers", "SourceServer", [{"SourceId": "s-1", field: float("nan")}])
    with_null = _page("SourceServers", "SourceServer", [{"SourceId": "s-1", field: None}])
    assert _fast(lambda d: from_wire.source_page(d, conversions), with_nan) == _fast(
        from_wire.source_page, with_nan
    )
    assert from_wire.source_page(with_null, conversions) == from_wire.source_page(with_null)
    assert _fast(lambda d: from_wire.source_page(d, conversions), with_nan) == _fast(
        from_wire.source_page, with_nan
    )


def test_no_entries_keeps_nothing() -> None:
    conversions = from_wire.Conversions(0)
    data = _page("ReplicationJobs", "ReplicationJob", [{"JobId": "j-1"}])
    assert from_wire.job_page(data, conversions) == from_wire.job_page(data)
    assert len(conversions.jobs) == 0
    assert from_wire.find_job(data, "j-1", conversions) == from_wire.find_job(data, "j-1")


def test_an_integer_beyond_64_bits_is_read_without_a_key() -> None:
    conversions = from_wire.Conversions(10)
    data = _page("SourceServers", "SourceServer", [{"SourceId": "s-1", "Unread": 2**70}])
    assert from_wire.source_page(data, conversions) == from_wire.source_page(data)
    assert len(conversions.sources) == 0
    too_big = _page("SourceServers", "SourceServer", [{"SourceId": "s-1", "KernelLevel": 2**70}])
    assert _fast(lambda d: from_wire.source_page(d, conversions), too_big) == _fast(
        from_wire.source_page, too_big
    )


# --- pages whose resources arrive as raw JSON (SOURCE_PAGE, JOB_PAGE) -----------------------


def _as_the_client_decodes(shape: msgspec.json.Decoder[Any], data: dict[str, Any]) -> Any:
    """The answer as ``SmcClient.call_json(shape=...)`` gives it: shaped if it fits."""
    body = json.dumps(data).encode()
    try:
        return shape.decode(body)
    except msgspec.DecodeError:
        return json.loads(body)


@FAST
@given(st.lists(sources(odd=True), max_size=3))
def test_sources_as_raw_json_read_as_decoded_ones(items: list[dict[str, Any]]) -> None:
    data = _page("SourceServers", "SourceServer", items)
    shaped = _as_the_client_decodes(from_wire.SOURCE_PAGE, data)
    fresh = _fast(from_wire.source_page, data)
    assert _fast(from_wire.source_page, shaped) == fresh
    assert _through_memo(from_wire.source_page, shaped) == fresh
    assert _through_memo(from_wire.source_page, shaped) == fresh


@FAST
@given(st.lists(jobs(odd=True), max_size=3))
def test_jobs_as_raw_json_read_as_decoded_ones(items: list[dict[str, Any]]) -> None:
    data = _page("ReplicationJobs", "ReplicationJob", items)
    shaped = _as_the_client_decodes(from_wire.JOB_PAGE, data)
    fresh = _fast(from_wire.job_page, data)
    assert _fast(from_wire.job_page, shaped) == fresh
    assert _through_memo(from_wire.job_page, shaped) == fresh
    assert _through_memo(from_wire.job_page, shaped) == fresh


def test_a_raw_item_that_is_not_an_object_reads_as_the_reference_reads_it() -> None:
    data = _page("SourceServers", "SourceServer", ["s-1"])  # type: ignore[list-item]
    shaped: dict[str, Any] = dict(from_wire.SOURCE_PAGE.decode(json.dumps(data).encode()))
    assert isinstance(shaped["SourceServers"]["SourceServer"][0], msgspec.Raw)
    assert _fast(from_wire.source_page, shaped) == _fast(from_wire.source_page, data)
    assert _through_memo(from_wire.source_page, shaped) == smc.MalformedResponseError


def test_a_malformed_raw_answer_names_the_field_as_the_reference_does() -> None:
    data = _page("SourceServers", "SourceServer", [{"SourceId": "s-1", "KernelLevel": "x"}])
    shaped = from_wire.SOURCE_PAGE.decode(json.dumps(data).encode())
    with pytest.raises(smc.MalformedResponseError, match="KernelLevel"):
        from_wire.source_page(shaped, from_wire.Conversions(4))


def test_a_page_of_kept_and_new_resources_keeps_their_order() -> None:
    conversions = from_wire.Conversions(10)
    a, b, c = ({"SourceId": f"s-{n}", "Name": n} for n in "abc")
    from_wire.source_page(_page("SourceServers", "SourceServer", [a, b]), conversions)
    mixed = _page("SourceServers", "SourceServer", [c, a, b])
    shaped = from_wire.SOURCE_PAGE.decode(json.dumps(mixed).encode())
    for data in (mixed, shaped):
        page = from_wire.source_page(data, conversions)
        assert page == from_wire.source_page(mixed)
        assert [s.name for s in page.source_servers] == ["c", "a", "b"]
