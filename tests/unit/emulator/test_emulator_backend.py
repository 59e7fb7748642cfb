"""The emulated SMC backend: the 9 operations, their rules and the job state machine."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from emulator_unit_helpers import FakeClock, create_request, disk, first_source_id

from gateway.emulator import errors
from gateway.emulator.backend import AccountBackend, ControlError, Progression
from gateway.emulator.models import (
    BusinessStatus,
    DescribeJobsRequest,
    DescribeSourcesRequest,
    JobSettings,
    JobStatus,
    ModifyJobRequest,
    SourceState,
    TargetType,
)
from gateway.emulator.statemachine import ProgressionMode

# --- sources ----------------------------------------------------------------------------------


def test_describe_sources_lists_seed_in_creation_order(backend: AccountBackend) -> None:
    items, page = backend.describe_source_servers(DescribeSourcesRequest())
    assert [s.name for s in items] == ["web-server-01", "db-server-01", "app-server-01"]
    assert (page.total_count, page.page_number, page.page_size) == (3, 1, 10)


def test_describe_sources_pages(backend: AccountBackend) -> None:
    first, page = backend.describe_source_servers(DescribeSourcesRequest(page_size=2))
    second, _ = backend.describe_source_servers(DescribeSourcesRequest(page_size=2, page_number=2))
    empty, _ = backend.describe_source_servers(DescribeSourcesRequest(page_size=2, page_number=3))
    assert len(first) == 2
    assert len(second) == 1
    assert empty == []
    assert page.total_count == 3
    assert {s.source_id for s in first + second} == set(backend.sources)


def test_describe_sources_filters_combine_with_and(backend: AccountBackend) -> None:
    ids = list(backend.sources)
    by_ids, _ = backend.describe_source_servers(DescribeSourcesRequest(source_ids=tuple(ids[:2])))
    assert [s.source_id for s in by_ids] == ids[:2]
    named, _ = backend.describe_source_servers(
        DescribeSourcesRequest(source_ids=tuple(ids[:2]), name="db-server-01")
    )
    assert [s.source_id for s in named] == [ids[1]]
    nothing, _ = backend.describe_source_servers(
        DescribeSourcesRequest(source_ids=(ids[0],), name="db-server-01")
    )
    assert nothing == []
    partial, _ = backend.describe_source_servers(DescribeSourcesRequest(name="db-server"))
    assert partial == []  # exact match
    job_id = backend.create_replication_job(create_request(ids[2]))
    in_use, _ = backend.describe_source_servers(DescribeSourcesRequest(state=SourceState.IN_USE))
    assert [s.source_id for s in in_use] == [ids[2]]
    by_job, _ = backend.describe_source_servers(DescribeSourcesRequest(job_id=job_id))
    assert [s.source_id for s in by_job] == [ids[2]]


def test_modify_source_name_and_description(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    backend.modify_source_server_attribute(sid, "renamed", "")
    assert (backend.sources[sid].name, backend.sources[sid].description) == ("renamed", "")
    backend.modify_source_server_attribute(sid, "renamed", None)  # its own name is fine
    backend.modify_source_server_attribute(sid, None, "only the description")
    assert backend.sources[sid].name == "renamed"


def test_modify_source_duplicate_name(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    with pytest.raises(errors.SourceServerNameDuplicateError):
        backend.modify_source_server_attribute(sid, "db-server-01", None)


def test_modify_source_in_deleting_state_is_refused(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    backend.sources[sid].state = SourceState.DELETING
    with pytest.raises(errors.SourceServerStateInvalidError, match="Deleting"):
        backend.modify_source_server_attribute(sid, "x-name", None)


def test_unknown_source_is_not_found(backend: AccountBackend) -> None:
    with pytest.raises(errors.InvalidSourceIdNotFoundError) as caught:
        backend.modify_source_server_attribute("s-nope", "name", None)
    assert caught.value.http_status == 404
    with pytest.raises(errors.InvalidSourceIdNotFoundError):
        backend.delete_source_server("s-nope", False)
    with pytest.raises(errors.InvalidSourceIdNotFoundError):
        backend.create_replication_job(create_request("s-nope"))


def test_delete_source_without_job(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    backend.delete_source_server(sid, False)
    assert sid not in backend.sources


def test_delete_source_with_running_job_is_refused_even_with_force(
    backend: AccountBackend,
) -> None:
    sid = first_source_id(backend)
    job_id = backend.create_replication_job(create_request(sid))
    backend.start_replication_job(job_id)
    for force in (False, True):
        with pytest.raises(errors.SourceServerWithRunningReplicationJobError):
            backend.delete_source_server(sid, force)
    assert sid in backend.sources
    assert job_id in backend.jobs


def test_delete_source_with_idle_job_needs_force(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    job_id = backend.create_replication_job(create_request(sid))
    with pytest.raises(errors.ReplicationJobRelatedError, match=job_id):
        backend.delete_source_server(sid, False)
    backend.delete_source_server(sid, True)
    assert sid not in backend.sources
    assert job_id not in backend.jobs


def test_delete_source_keeps_finished_jobs(
    backend: AccountBackend, progression: Progression
) -> None:
    progression.mode = ProgressionMode.IMMEDIATE
    sid = first_source_id(backend)
    job_id = backend.create_replication_job(create_request(sid))
    backend.start_replication_job(job_id)
    backend.delete_source_server(sid, False)
    assert backend.jobs[job_id].status is JobStatus.FINISHED


def test_delete_source_in_deleting_state(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    backend.sources[sid].state = SourceState.DELETING
    with pytest.raises(errors.SourceServerStateInvalidError):
        backend.delete_source_server(sid, True)


# --- CreateReplicationJob ---------------------------------------------------------------------


def test_create_job_links_source(backend: AccountBackend, clock: FakeClock) -> None:
    sid = first_source_id(backend)
    job_id = backend.create_replication_job(
        create_request(sid, name="job-1", data_disks=(disk(1), disk(2, 300)))
    )
    job = backend.jobs[job_id]
    assert job_id.startswith("j-")
    assert len(job_id) == 22
    assert job_id[2:].isalnum()
    assert (job.status, job.business_status, job.progress) == (JobStatus.READY, None, 0.0)
    assert job.creation_time == clock.now()
    assert job.target_type is TargetType.IMAGE
    assert job.net_mode == 0
    assert [d.index for d in job.data_disks] == [1, 2]
    source = backend.sources[sid]
    assert (source.state, source.job_id) == (SourceState.IN_USE, job_id)


def test_one_unfinished_job_per_source(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    backend.create_replication_job(create_request(sid))
    with pytest.raises(errors.SourceServerStateInvalidError, match="InUse"):
        backend.create_replication_job(create_request(sid))


def test_create_job_needs_available_source(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    backend.sources[sid].state = SourceState.UNAVAILABLE
    with pytest.raises(errors.SourceServerStateInvalidError):
        backend.create_replication_job(create_request(sid))


def test_finished_job_frees_the_source_for_a_new_one(
    backend: AccountBackend, progression: Progression
) -> None:
    progression.mode = ProgressionMode.IMMEDIATE
    sid = first_source_id(backend)
    first = backend.create_replication_job(create_request(sid))
    backend.start_replication_job(first)
    assert backend.sources[sid].state is SourceState.AVAILABLE
    assert backend.sources[sid].job_id == first  # the most recent job
    second = backend.create_replication_job(create_request(sid))
    assert second != first


def test_job_quota(backend: AccountBackend, progression: Progression) -> None:
    progression.mode = ProgressionMode.IMMEDIATE
    sid = first_source_id(backend)
    for _ in range(5):  # quota 5 in the fixture; finished jobs count
        backend.start_replication_job(backend.create_replication_job(create_request(sid)))
    with pytest.raises(errors.QuotaExceededReplicationJobError):
        backend.create_replication_job(create_request(sid))


def test_job_name_unique(backend: AccountBackend) -> None:
    a, b = list(backend.sources)[:2]
    backend.create_replication_job(create_request(a, name="same"))
    with pytest.raises(errors.ReplicationJobNameDuplicateError):
        backend.create_replication_job(create_request(b, name="same"))


def test_data_disk_must_exist_on_source(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    with pytest.raises(errors.ReplicationJobDataDiskIndexInvalidError):
        backend.create_replication_job(create_request(sid, data_disks=(disk(3),)))


def test_target_image_needs_system_disk_size(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    with pytest.raises(errors.MissingParameterError, match="SystemDiskSize"):
        backend.create_replication_job(create_request(sid, system_disk_size=None))
    job_id = backend.create_replication_job(
        create_request(sid, system_disk_size=None, target_type=TargetType.CONTAINER_IMAGE)
    )
    assert backend.jobs[job_id].system_disk_size is None


def test_target_instance_needs_instance_id(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    with pytest.raises(errors.MissingParameterError, match="InstanceId"):
        backend.create_replication_job(create_request(sid, target_type=TargetType.TARGET_INSTANCE))


def test_vpc_mode_needs_vswitch(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    with pytest.raises(errors.MissingParameterError, match="VSwitchId"):
        backend.create_replication_job(create_request(sid, net_mode=2))


def test_vswitch_of_another_vpc_mismatches(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    with pytest.raises(errors.VSwitchIdVpcIdMismatchError):
        backend.create_replication_job(
            create_request(sid, net_mode=2, vswitch_id="vsw-emu0001a", vpc_id="vpc-emu0002")
        )


def test_vpc_is_derived_from_a_known_vswitch(backend: AccountBackend) -> None:
    a, b = list(backend.sources)[:2]
    known = backend.create_replication_job(create_request(a, net_mode=2, vswitch_id="vsw-emu0002a"))
    assert backend.jobs[known].vpc_id == "vpc-emu0002"
    unknown = backend.create_replication_job(
        create_request(b, net_mode=2, vswitch_id="vsw-other", vpc_id="vpc-other")
    )
    assert backend.jobs[unknown].vpc_id == "vpc-other"


@pytest.mark.parametrize(
    ("offset", "ok"),
    [
        (timedelta(days=30), True),
        (timedelta(days=30, seconds=1), False),
        (timedelta(hours=-1), False),
    ],
)
def test_scheduled_start_within_30_days(
    backend: AccountBackend, clock: FakeClock, offset: timedelta, ok: bool
) -> None:
    request = create_request(first_source_id(backend), scheduled_start_time=clock.now() + offset)
    if ok:
        backend.create_replication_job(request)
    else:
        with pytest.raises(errors.InvalidParameterError, match="ScheduledStartTime"):
            backend.create_replication_job(request)


@pytest.mark.parametrize(("days", "ok"), [(7, True), (90, True), (6, False), (91, False)])
def test_valid_time_7_to_90_days(
    backend: AccountBackend, clock: FakeClock, days: int, ok: bool
) -> None:
    request = create_request(
        first_source_id(backend), valid_time=clock.now() + timedelta(days=days)
    )
    if ok:
        backend.create_replication_job(request)
    else:
        with pytest.raises(errors.InvalidParameterError, match="ValidTime"):
            backend.create_replication_job(request)


def test_incremental_job_needs_frequency_and_image_count(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    base = create_request(sid)
    with pytest.raises(errors.MissingParameterError, match="Frequency"):
        backend.create_replication_job(dataclasses.replace(base, run_once=False))
    with pytest.raises(errors.MissingParameterError, match="MaxNumberOfImageToKeep"):
        backend.create_replication_job(
            dataclasses.replace(
                base, run_once=False, settings=dataclasses.replace(base.settings, frequency=12)
            )
        )
    settings = dataclasses.replace(base.settings, frequency=12, max_number_of_image_to_keep=3)
    job_id = backend.create_replication_job(
        dataclasses.replace(base, run_once=False, settings=settings)
    )
    job = backend.jobs[job_id]
    assert (job.run_once, job.frequency, job.max_number_of_image_to_keep) == (False, 12, 3)


def test_client_token_same_request_same_job(backend: AccountBackend) -> None:
    request = create_request(first_source_id(backend), client_token="tok-1", name="idem")
    first = backend.create_replication_job(request)
    again = backend.create_replication_job(request)
    assert first == again
    assert len(backend.jobs) == 1


def test_client_token_other_parameters_mismatch(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    backend.create_replication_job(create_request(sid, client_token="tok-1", name="idem"))
    with pytest.raises(errors.IdempotentParameterMismatchError) as caught:
        backend.create_replication_job(create_request(sid, client_token="tok-1", name="other"))
    assert caught.value.http_status == 400
    assert len(backend.jobs) == 1


def test_failed_create_does_not_record_the_token(backend: AccountBackend) -> None:
    sid = first_source_id(backend)
    with pytest.raises(errors.ReplicationJobDataDiskIndexInvalidError):
        backend.create_replication_job(
            create_request(sid, client_token="tok-2", data_disks=(disk(9),))
        )
    assert backend.create_replication_job(create_request(sid, client_token="tok-2"))


# --- DescribeReplicationJobs ------------------------------------------------------------------


def test_describe_jobs_filters_and_pages(backend: AccountBackend) -> None:
    a, b, c = list(backend.sources)
    ja = backend.create_replication_job(create_request(a, name="ja"))
    jb = backend.create_replication_job(
        create_request(b, name="jb", target_type=TargetType.TARGET_INSTANCE, instance_id="i-x1")
    )
    jc = backend.create_replication_job(create_request(c, name="jc"))
    backend.start_replication_job(jb)

    def ids(**kwargs: object) -> list[str]:
        items, _ = backend.describe_replication_jobs(DescribeJobsRequest(**kwargs))  # type: ignore[arg-type]
        return [j.job_id for j in items]

    assert ids() == [ja, jb, jc]
    assert ids(job_ids=(jc, ja)) == [ja, jc]
    assert ids(source_ids=(b,)) == [jb]
    assert ids(name="jc") == [jc]
    assert ids(status=JobStatus.RUNNING) == [jb]
    assert ids(business_status=BusinessStatus.PREPARING) == [jb]
    assert ids(instance_ids=("i-x1",)) == [jb]
    assert ids(region_id="cn-shanghai") == []
    assert ids(job_ids=(ja,), status=JobStatus.RUNNING) == []
    page, meta = backend.describe_replication_jobs(DescribeJobsRequest(page_size=2, page_number=2))
    assert [j.job_id for j in page] == [jc]
    assert meta.total_count == 3


# --- ModifyReplicationJobAttribute ------------------------------------------------------------


def test_modify_ready_job(backend: AccountBackend, clock: FakeClock) -> None:
    job_id = backend.create_replication_job(create_request(first_source_id(backend)))
    backend.modify_replication_job_attribute(
        ModifyJobRequest(
            job_id,
            JobSettings(
                name="new-name",
                system_disk_size=200,
                data_disks=(disk(2, 50),),
                valid_time=clock.now() + timedelta(days=10),
            ),
        )
    )
    job = backend.jobs[job_id]
    assert (job.name, job.system_disk_size, job.data_disks) == ("new-name", 200, (disk(2, 50),))


def test_modify_after_start_allows_only_name_description_validtime(
    backend: AccountBackend, clock: FakeClock
) -> None:
    job_id = backend.create_replication_job(create_request(first_source_id(backend)))
    backend.start_replication_job(job_id)
    backend.modify_replication_job_attribute(
        ModifyJobRequest(
            job_id,
            JobSettings(
                name="running-name",
                description="still fine",
                valid_time=clock.now() + timedelta(days=30),
            ),
        )
    )
    with pytest.raises(errors.ReplicationJobInvalidStatusError, match="Running"):
        backend.modify_replication_job_attribute(
            ModifyJobRequest(job_id, JobSettings(system_disk_size=100))
        )
    with pytest.raises(errors.ReplicationJobInvalidStatusError):
        backend.modify_replication_job_attribute(ModifyJobRequest(job_id, JobSettings(frequency=3)))
    backend.advance_job(job_id, "Syncing")
    backend.stop_replication_job(job_id)
    with pytest.raises(errors.ReplicationJobInvalidStatusError, match="Stopped"):
        backend.modify_replication_job_attribute(
            ModifyJobRequest(job_id, JobSettings(image_name="img"))
        )


def test_modify_job_checks_like_create(backend: AccountBackend) -> None:
    a, b = list(backend.sources)[:2]
    backend.create_replication_job(create_request(a, name="taken"))
    job_id = backend.create_replication_job(create_request(b))
    with pytest.raises(errors.ReplicationJobNameDuplicateError):
        backend.modify_replication_job_attribute(
            ModifyJobRequest(job_id, JobSettings(name="taken"))
        )
    with pytest.raises(errors.ReplicationJobDataDiskIndexInvalidError):
        backend.modify_replication_job_attribute(
            ModifyJobRequest(job_id, JobSettings(data_disks=(disk(5),)))
        )
    with pytest.raises(errors.MissingParameterError, match="InstanceId"):
        backend.modify_replication_job_attribute(
            ModifyJobRequest(job_id, JobSettings(target_type=TargetType.TARGET_INSTANCE))
        )
    with pytest.raises(errors.InvalidJobIdNotFoundError):
        backend.modify_replication_job_attribute(ModifyJobRequest("j-nope", JobSettings()))


# --- Delete / Start / Stop --------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["Ready", "Running", "Stopped", "InError", "Finished", "Expired"]
)
def test_delete_job_in_any_status_frees_source(backend: AccountBackend, status: str) -> None:
    sid = first_source_id(backend)
    job_id = backend.create_replication_job(create_request(sid))
    if status != "Ready":
        backend.advance_job(job_id, "Syncing")
        if status != "Running":
            backend.advance_job(job_id, status)
    backend.delete_replication_job(job_id)
    assert job_id not in backend.jobs
    assert backend.sources[sid].state is SourceState.AVAILABLE
    assert backend.sources[sid].job_id == ""


def test_delete_job_in_deleting_status_is_refused(backend: AccountBackend) -> None:
    job_id = backend.create_replication_job(create_request(first_source_id(backend)))
    backend.advance_job(job_id, "Deleting")
    with pytest.raises(errors.ReplicationJobInvalidStatusError):
        backend.delete_replication_job(job_id)
    with pytest.raises(errors.InvalidJobIdNotFoundError):
        backend.delete_replication_job("j-nope")


@pytest.mark.parametrize("status", ["Finished", "Expired", "Waiting", "Deleting"])
def test_start_refused_outside_ready_stopped_inerror(backend: AccountBackend, status: str) -> None:
    job_id = backend.create_replication_job(create_request(first_source_id(backend)))
    backend.advance_job(job_id, status)
    with pytest.raises(errors.ReplicationJobInvalidStatusError, match=status):
        backend.start_replication_job(job_id)


def test_start_running_job_is_refused(backend: AccountBackend) -> None:
    job_id = backend.create_replication_job(create_request(first_source_id(backend)))
    backend.start_replication_job(job_id)
    with pytest.raises(errors.ReplicationJobInvalidStatusError):
        backend.start_replication_job(job_id)


@pytest.mark.parametrize("state", [SourceState.UNAVAILABLE, SourceState.DELETING])
def test_start_refused_when_source_unusable(backend: AccountBackend, state: SourceState) -> None:
    sid = first_source_id(backend)
    job_id = backend.create_replication_job(create_request(sid))
    backend.sources[sid].state = state
    with pytest.raises(errors.SourceServerStateInvalidError):
        backend.start_replication_job(job_id)


def test_start_from_in_error_and_error_fields(backend: AccountBackend) -> None:
    job_id = backend.create_replication_job(create_request(first_source_id(backend)))
    backend.advance_job(job_id, "Syncing")
    backend.advance_job(job_id, "InError", "S3Error")
    job = backend.jobs[job_id]
    assert (job.status, job.error_code) == (JobStatus.IN_ERROR, "S3Error")
    assert "S3Error" in job.status_info
    backend.start_replication_job(job_id)
    assert (job.status, job.business_status, job.error_code) == (
        JobStatus.RUNNING,
        BusinessStatus.SYNCING,
        "",
    )


def test_stop_only_while_syncing(backend: AccountBackend) -> None:
    job_id = backend.create_replication_job(create_request(first_source_id(backend)))
    with pytest.raises(errors.ReplicationJobInvalidStatusError, match="Ready"):
        backend.stop_replication_job(job_id)
    backend.start_replication_job(job_id)  # manual: Running / Preparing
    with pytest.raises(errors.ReplicationJobInvalidStatusError, match="Preparing"):
        backend.stop_replication_job(job_id)
    backend.advance_job(job_id, None)  # → Syncing
    backend.stop_replication_job(job_id)
    assert backend.jobs[job_id].status is JobStatus.STOPPED
    backend.start_replication_job(job_id)
    backend.advance_job(job_id, "Processing")
    with pytest.raises(errors.ReplicationJobInvalidStatusError, match="Processing"):
        backend.stop_replication_job(job_id)


# --- progression ------------------------------------------------------------------------------


def test_immediate_progression_finishes_at_once(
    backend: AccountBackend, progression: Progression, clock: FakeClock
) -> None:
    progression.mode = ProgressionMode.IMMEDIATE
    sid = first_source_id(backend)
    job_id = backend.create_replication_job(create_request(sid, image_name="golden"))
    backend.start_replication_job(job_id)
    job = backend.jobs[job_id]
    assert (job.status, job.progress, job.business_status) == (JobStatus.FINISHED, 100.0, None)
    assert job.image_id.startswith("m-")
    assert job.end_time == clock.now()
    assert job.runs[0].type == "Manual"
    assert job.runs[0].image_id == job.image_id
    assert job.transition_instance_id.startswith("i-")


def test_image_name_clash_gets_job_suffix(
    backend: AccountBackend, progression: Progression
) -> None:
    progression.mode = ProgressionMode.IMMEDIATE
    a, b = list(backend.sources)[:2]
    first = backend.create_replication_job(create_request(a, image_name="golden"))
    backend.start_replication_job(first)
    second = backend.create_replication_job(create_request(b, image_name="golden"))
    backend.start_replication_job(second)
    assert backend.jobs[first].image_name == "golden"
    assert backend.jobs[second].image_name == f"golden-{second}"


def test_manual_progression_walks_every_phase(backend: AccountBackend) -> None:
    job_id = backend.create_replication_job(create_request(first_source_id(backend)))
    seen = []
    progress = []
    for _ in range(5):
        job = backend.advance_job(job_id, None)
        seen.append(job.business_status.value if job.business_status else job.status.value)
        progress.append(job.progress)
    assert seen == ["Preparing", "Syncing", "Processing", "Cleaning", "Finished"]
    assert progress == sorted(progress)
    assert progress[-1] == 100.0
    with pytest.raises(ControlError):
        backend.advance_job(job_id, None)


def test_control_cannot_move_back(backend: AccountBackend) -> None:
    job_id = backend.create_replication_job(create_request(first_source_id(backend)))
    backend.advance_job(job_id, "Processing")
    with pytest.raises(ControlError):
        backend.advance_job(job_id, "Syncing")
    with pytest.raises(ControlError):
        backend.advance_job(job_id, "Sleeping")
    with pytest.raises(ControlError):
        backend.advance_job("j-nope", None)


def test_time_progression(
    backend: AccountBackend, progression: Progression, clock: FakeClock
) -> None:
    progression.mode = ProgressionMode.TIME  # 100 s per run
    sid = first_source_id(backend)
    job_id = backend.create_replication_job(create_request(sid))
    backend.start_replication_job(job_id)
    started = clock.now()
    job = backend.jobs[job_id]
    observed = []
    for seconds, phase in [(5, "Preparing"), (20, "Syncing"), (85, "Processing"), (97, "Cleaning")]:
        clock.current = started + timedelta(seconds=seconds)
        backend.tick()
        assert job.business_status is BusinessStatus(phase)
        observed.append(job.progress)
    assert observed == sorted(observed)
    assert observed[0] == pytest.approx(5.0)
    clock.current = started + timedelta(seconds=500)
    backend.tick()
    assert job.status is JobStatus.FINISHED
    assert job.end_time == started + timedelta(seconds=100)
    assert backend.sources[sid].state is SourceState.AVAILABLE


def test_time_progression_pauses_while_stopped(
    backend: AccountBackend, progression: Progression, clock: FakeClock
) -> None:
    progression.mode = ProgressionMode.TIME
    job_id = backend.create_replication_job(create_request(first_source_id(backend)))
    backend.start_replication_job(job_id)
    clock.advance(seconds=50)
    backend.tick()
    backend.stop_replication_job(job_id)
    job = backend.jobs[job_id]
    assert job.progress == pytest.approx(50.0)
    clock.advance(seconds=1000)
    backend.tick()
    assert job.status == JobStatus.STOPPED
    assert job.progress == pytest.approx(50.0)
    backend.start_replication_job(job_id)
    clock.advance(seconds=25)
    backend.tick()
    assert job.progress == pytest.approx(75.0)
    assert [r.type for r in job.runs] == ["Manual", "Manual"]


def test_scheduled_start(backend: AccountBackend, clock: FakeClock) -> None:
    at = clock.now() + timedelta(hours=1)
    job_id = backend.create_replication_job(
        create_request(first_source_id(backend), scheduled_start_time=at)
    )
    clock.advance(minutes=59)
    backend.tick()
    job = backend.jobs[job_id]
    assert job.status is JobStatus.READY
    clock.advance(minutes=2)
    backend.tick()
    assert (job.status, job.business_status, job.start_time) == (
        JobStatus.RUNNING,
        BusinessStatus.PREPARING,
        at,
    )
    assert job.runs[0].type == "Schedule"


def test_scheduled_start_in_immediate_mode_finishes_at_that_time(
    backend: AccountBackend, progression: Progression, clock: FakeClock
) -> None:
    progression.mode = ProgressionMode.IMMEDIATE
    at = clock.now() + timedelta(hours=2)
    job_id = backend.create_replication_job(
        create_request(first_source_id(backend), scheduled_start_time=at)
    )
    clock.advance(hours=5)
    backend.tick()
    assert (backend.jobs[job_id].status, backend.jobs[job_id].end_time) == (JobStatus.FINISHED, at)


def test_valid_time_expires_then_job_is_removed(backend: AccountBackend, clock: FakeClock) -> None:
    sid = first_source_id(backend)
    valid = clock.now() + timedelta(days=8)
    job_id = backend.create_replication_job(create_request(sid, valid_time=valid))
    clock.advance(days=8)
    backend.tick()
    job = backend.jobs[job_id]
    assert (job.status, job.expired_time) == (JobStatus.EXPIRED, valid)
    assert backend.sources[sid].state is SourceState.IN_USE  # Expired is unfinished
    with pytest.raises(errors.SourceServerStateInvalidError):
        backend.create_replication_job(create_request(sid))
    clock.advance(days=7)
    backend.tick()
    assert job_id not in backend.jobs
    assert backend.sources[sid].state is SourceState.AVAILABLE


def test_time_progression_finishing_before_valid_time_wins(
    backend: AccountBackend, progression: Progression, clock: FakeClock
) -> None:
    progression.mode = ProgressionMode.TIME
    job_id = backend.create_replication_job(
        create_request(first_source_id(backend), valid_time=clock.now() + timedelta(days=7))
    )
    backend.start_replication_job(job_id)
    clock.advance(days=30)
    backend.tick()
    assert backend.jobs[job_id].status is JobStatus.FINISHED


def test_mode_switch_keeps_progress(
    backend: AccountBackend, progression: Progression, clock: FakeClock
) -> None:
    job_id = backend.create_replication_job(create_request(first_source_id(backend)))
    backend.advance_job(job_id, "Syncing")
    progression.mode = ProgressionMode.TIME
    backend.reanchor()
    clock.advance(seconds=10)
    backend.tick()
    assert backend.jobs[job_id].progress == pytest.approx(20.0)
    progression.mode = ProgressionMode.IMMEDIATE
    backend.reanchor()
    assert backend.jobs[job_id].status is JobStatus.FINISHED
