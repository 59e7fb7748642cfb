"""Per-account SMC state and the 9 operations of the 2019 API.

One :class:`AccountBackend` per AccessKey pair; nothing is shared between accounts except the
emulator-wide :class:`Progression` setting.  Time-driven changes (scheduled starts, time
progression, expiry) are evaluated lazily by :meth:`AccountBackend.tick`, which the server
calls before every operation, so no background task is needed.

Emulator choices for what SMC does not document (SMC_API.md §6.2):

* a source is ``InUse`` from the creation of its job until the job is Finished or deleted;
  a source that is not ``Available`` (so also one with an unfinished job) cannot get a new job:
  ``SourceServerState.Invalid``;
* DeleteReplicationJob accepts every status but Deleting (a Running job too, its intermediate
  resources are released); the job is removed at once, so Deleting is never observed through
  the API;
* DeleteSourceServer only counts the source's *unfinished* job; Finished jobs stay listed;
  ``Force`` defaults to false; a source in Deleting gives ``SourceServerState.Invalid``;
* ModifySourceServerAttribute works in every state but Deleting;
* StartReplicationJob refuses a source in Unavailable or Deleting;
* an absent ValidTime means the job never expires; an Expired job is removed 7 days later;
* names (sources and jobs) are unique per account; the ``Name`` filters match exactly;
  Describe results come in creation order;
* VPCs: each account knows a small table of vSwitch → VPC pairs (seeded); a known vSwitch with
  another ``VpcId`` is ``VSwitchIdVpcId.Mismatch``, and an omitted VpcId is derived from it; an
  unknown vSwitch is accepted as given.
"""

from __future__ import annotations

import dataclasses
import json
import random
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from gateway.emulator import errors
from gateway.emulator.clock import Clock
from gateway.emulator.models import (
    UNFINISHED,
    BusinessStatus,
    CreateJobRequest,
    DescribeJobsRequest,
    DescribeSourcesRequest,
    JobRun,
    JobSettings,
    JobStatus,
    ModifyJobRequest,
    Page,
    ReplicationJob,
    SourceServer,
    SourceState,
    TargetType,
)
from gateway.emulator.statemachine import (
    JOB_TRANSITIONS,
    PHASE_START,
    SOURCE_TRANSITIONS,
    JobEvent,
    ProgressionMode,
    SourceEvent,
    next_phase,
    phase_at,
)

__all__ = ["AccountBackend", "ControlError", "IdGenerator", "Progression"]

SCHEDULE_HORIZON = timedelta(days=30)
SCHEDULE_PAST_TOLERANCE = timedelta(minutes=15)
VALID_TIME_MIN = timedelta(days=7)
VALID_TIME_MAX = timedelta(days=90)
EXPIRED_RETENTION = timedelta(days=7)

_T = TypeVar("_T")
_ID_ALPHABET = string.ascii_lowercase + string.digits
_MODIFIABLE_ALWAYS = frozenset(JobStatus) - {JobStatus.DELETING}
# Modify: which statuses allow which field ([P]); other fields: Ready and never run.
_MODIFY_RULES: dict[str, frozenset[JobStatus]] = {
    "name": _MODIFIABLE_ALWAYS,
    "description": _MODIFIABLE_ALWAYS,
    "frequency": frozenset({JobStatus.READY, JobStatus.WAITING}),
    "max_number_of_image_to_keep": frozenset({JobStatus.READY, JobStatus.WAITING}),
    "valid_time": frozenset(
        {
            JobStatus.READY,
            JobStatus.RUNNING,
            JobStatus.STOPPED,
            JobStatus.IN_ERROR,
            JobStatus.WAITING,
        }
    ),
}
_SETTING_FIELDS = tuple(f.name for f in dataclasses.fields(JobSettings))


class ControlError(Exception):
    """A control-API request the emulator cannot honour (HTTP ``status``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Progression:
    """Emulator-wide: how started jobs move, and how long a whole run takes in time mode."""

    mode: ProgressionMode = ProgressionMode.IMMEDIATE
    seconds: float = 60.0


class IdGenerator:
    """SMC-looking IDs: a prefix and 20 lowercase alphanumerics."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def _make(self, prefix: str) -> str:
        return prefix + "".join(self._rng.choices(_ID_ALPHABET, k=20))

    def source_id(self) -> str:
        return self._make("s-")

    def job_id(self) -> str:
        return self._make("j-")

    def image_id(self) -> str:
        return self._make("m-")

    def instance_id(self) -> str:
        return self._make("i-")


def _status_error(job: ReplicationJob, allowed: Iterable[JobStatus]) -> errors.SmcError:
    names = ", ".join(sorted(s.value for s in allowed))
    return errors.ReplicationJobInvalidStatusError(
        f"The specified replication job status: {job.status.value} is invalid. "
        f"This operation can only be performed in the following status: {names}."
    )


def _source_state_error(source: SourceServer, allowed: str) -> errors.SmcError:
    return errors.SourceServerStateInvalidError(
        f"The specified source server status: {source.state.value} is invalid. "
        f"This operation can only be performed in the following status: {allowed}."
    )


def _page(items: list[_T], number: int, size: int) -> tuple[list[_T], Page]:
    start = (number - 1) * size
    return items[start : start + size], Page(len(items), number, size)


class AccountBackend:
    """The SMC state of one account and the operations on it."""

    def __init__(
        self,
        clock: Clock,
        progression: Progression,
        ids: IdGenerator,
        *,
        job_quota: int = 100,
        networks: Mapping[str, str] | None = None,
    ) -> None:
        self.clock = clock
        self.progression = progression
        self.ids = ids
        self.job_quota = job_quota
        self.networks: dict[str, str] = dict(networks or {})  # vSwitch → VPC
        self.sources: dict[str, SourceServer] = {}
        self.jobs: dict[str, ReplicationJob] = {}
        self.client_tokens: dict[str, tuple[CreateJobRequest, str]] = {}

    # --- lookups ------------------------------------------------------------------------------

    def source(self, source_id: str) -> SourceServer:
        try:
            return self.sources[source_id]
        except KeyError:
            raise errors.InvalidSourceIdNotFoundError(
                f"The specified source server {source_id} does not exist."
            ) from None

    def job(self, job_id: str) -> ReplicationJob:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise errors.InvalidJobIdNotFoundError(
                f"The specified replication job {job_id} does not exist."
            ) from None

    def _unfinished_job(self, source: SourceServer) -> ReplicationJob | None:
        job = self.jobs.get(source.job_id)
        return job if job is not None and job.status in UNFINISHED else None

    # --- transitions --------------------------------------------------------------------------

    @staticmethod
    def _fire(job: ReplicationJob, event: JobEvent) -> None:
        rule = JOB_TRANSITIONS[event]
        if job.status not in rule.sources:
            raise _status_error(job, rule.sources)
        if rule.business is not None and job.business_status not in rule.business:
            raise errors.ReplicationJobInvalidStatusError(
                f"The specified replication job business status: {job.business_status} is "
                f"invalid. This operation can only be performed in the following status: "
                f"{', '.join(sorted(b.value for b in rule.business))}."
            )
        job.status = rule.target

    @staticmethod
    def _source_event(source: SourceServer, event: SourceEvent) -> None:
        allowed, target = SOURCE_TRANSITIONS[event]
        if source.state in allowed:
            source.state = target

    def _release_source(self, job: ReplicationJob, *, forget_job: bool) -> None:
        source = self.sources.get(job.source_id)
        if source is None or source.job_id != job.job_id:
            return
        self._source_event(source, SourceEvent.RELEASE_JOB)
        if forget_job:
            source.job_id = ""

    def _start(self, job: ReplicationJob, at: datetime, event: JobEvent, *, run: bool) -> None:
        """Start (or resume) a run at ``at``; with ``run`` the progression mode applies."""
        self._fire(job, event)
        job.has_run = True
        if job.start_time is None:
            job.start_time = at
        job.runs.append(JobRun(at, "Schedule" if event is JobEvent.SCHEDULED_START else "Manual"))
        job.business_status = phase_at(job.progress)
        job.error_code = ""
        job.status_info = ""
        if not job.transition_instance_id:
            job.transition_instance_id = self.ids.instance_id()
        job.anchor_time, job.anchor_progress = at, job.progress
        if run and self.progression.mode is ProgressionMode.IMMEDIATE:
            self._complete(job, at)

    def _complete(self, job: ReplicationJob, at: datetime) -> None:
        self._fire(job, JobEvent.COMPLETE)
        job.progress = 100.0
        job.business_status = None
        job.end_time = at
        if job.target_type is TargetType.IMAGE:
            job.image_id = self.ids.image_id()
            if job.image_name and any(
                other.image_name == job.image_name
                and other.region_id == job.region_id
                and other.status is JobStatus.FINISHED
                and other is not job
                for other in self.jobs.values()
            ):
                # [S]: an image name taken in the region gets the job ID as a suffix.
                job.image_name = f"{job.image_name}-{job.job_id}"
        if job.runs:
            job.runs[-1].end_time = at
            job.runs[-1].image_id = job.image_id
        self._release_source(job, forget_job=False)

    def _advance_by_time(self, job: ReplicationJob, until: datetime) -> None:
        if job.anchor_time is None or until <= job.anchor_time:
            return
        seconds = max(self.progression.seconds, 1e-6)
        elapsed = (until - job.anchor_time).total_seconds()
        progress = job.anchor_progress + elapsed / seconds * 100.0
        if progress >= 100.0:
            remaining = (100.0 - job.anchor_progress) / 100.0 * seconds
            self._complete(job, job.anchor_time + timedelta(seconds=remaining))
            return
        job.progress = max(job.progress, progress)
        job.business_status = phase_at(job.progress)

    def tick(self) -> None:
        """Apply what the clock says happened since the last request."""
        now = self.clock.now()
        for job in list(self.jobs.values()):
            horizon = now if job.valid_time is None else min(now, job.valid_time)
            scheduled = job.scheduled_start_time
            if job.status is JobStatus.READY and scheduled is not None and scheduled <= horizon:
                self._start(job, scheduled, JobEvent.SCHEDULED_START, run=True)
            if job.status is JobStatus.RUNNING and self.progression.mode is ProgressionMode.TIME:
                self._advance_by_time(job, horizon)
            if (
                job.valid_time is not None
                and job.valid_time <= now
                and job.status in JOB_TRANSITIONS[JobEvent.EXPIRE].sources
            ):
                self._fire(job, JobEvent.EXPIRE)
                job.expired_time = job.valid_time
            if (
                job.status is JobStatus.EXPIRED
                and job.expired_time is not None
                and job.expired_time + EXPIRED_RETENTION <= now
            ):
                self._remove_job(job)

    def reanchor(self) -> None:
        """Call after the progression mode changed: running jobs continue from where they are."""
        now = self.clock.now()
        for job in self.jobs.values():
            if job.status is JobStatus.RUNNING:
                job.anchor_time, job.anchor_progress = now, job.progress
                if self.progression.mode is ProgressionMode.IMMEDIATE:
                    self._complete(job, now)

    def _remove_job(self, job: ReplicationJob) -> None:
        del self.jobs[job.job_id]
        self._release_source(job, forget_job=True)

    # --- sources ------------------------------------------------------------------------------

    def add_source(self, source: SourceServer) -> SourceServer:
        """Register a source as SMC's agent would (seed and control API)."""
        if source.source_id in self.sources:
            raise ControlError(f"source {source.source_id} already exists", 409)
        self.sources[source.source_id] = source
        return source

    def describe_source_servers(
        self, req: DescribeSourcesRequest
    ) -> tuple[list[SourceServer], Page]:
        wanted = set(req.source_ids)
        matches = [
            s
            for s in self.sources.values()
            if (not wanted or s.source_id in wanted)
            and (req.state is None or s.state is req.state)
            and (req.name is None or s.name == req.name)
            and (req.job_id is None or s.job_id == req.job_id)
            and (req.workgroup_id is None or s.workgroup_id == req.workgroup_id)
            and (req.resource_group_id is None or s.resource_group_id == req.resource_group_id)
        ]
        return _page(matches, req.page_number, req.page_size)

    def modify_source_server_attribute(
        self, source_id: str, name: str | None, description: str | None
    ) -> None:
        source = self.source(source_id)
        if source.state is SourceState.DELETING:
            raise _source_state_error(source, "Unavailable, Available, InUse")
        if name is not None and any(
            other.name == name and other is not source for other in self.sources.values()
        ):
            raise errors.SourceServerNameDuplicateError()
        if name is not None:
            source.name = name
        if description is not None:
            source.description = description

    def delete_source_server(self, source_id: str, force: bool) -> None:
        source = self.source(source_id)
        if source.state is SourceState.DELETING:
            raise _source_state_error(source, "Unavailable, Available, InUse")
        job = self._unfinished_job(source)
        if job is not None:
            if job.status is JobStatus.RUNNING:
                raise errors.SourceServerWithRunningReplicationJobError()
            if not force:
                raise errors.ReplicationJobRelatedError(
                    "The specified source server has related replication jobs. "
                    f"Please delete replication jobs: {job.job_id} before delete this source "
                    "server."
                )
            self._fire(job, JobEvent.DELETE)
            del self.jobs[job.job_id]
        self._source_event(source, SourceEvent.DELETE)
        del self.sources[source_id]

    # --- jobs ---------------------------------------------------------------------------------

    def _effective(self, job: ReplicationJob | None, settings: JobSettings) -> JobSettings:
        """``settings`` laid over the job's current values (or Create's defaults)."""
        if job is None:
            return dataclasses.replace(
                settings,
                target_type=settings.target_type or TargetType.IMAGE,
                net_mode=0 if settings.net_mode is None else settings.net_mode,
            )
        merged = {
            name: getattr(settings, name)
            if getattr(settings, name) is not None
            else getattr(job, name)
            for name in _SETTING_FIELDS
        }
        return JobSettings(**merged)

    def _validate(
        self,
        given: JobSettings,
        effective: JobSettings,
        source: SourceServer | None,
        creation_time: datetime,
        job_id: str | None,
    ) -> JobSettings:
        """Cross-field and state checks shared by Create and Modify; returns the settings to
        store (VpcId derived from a known vSwitch)."""
        now = self.clock.now()
        if effective.target_type is TargetType.IMAGE and effective.system_disk_size is None:
            raise errors.MissingParameterError.named("SystemDiskSize")
        if effective.target_type is TargetType.TARGET_INSTANCE and not effective.instance_id:
            raise errors.MissingParameterError.named("InstanceId")
        if effective.net_mode == 2 and not effective.vswitch_id:
            raise errors.MissingParameterError.named("VSwitchId")
        result = given
        if effective.vswitch_id:
            known_vpc = self.networks.get(effective.vswitch_id)
            if known_vpc is not None:
                if effective.vpc_id and effective.vpc_id != known_vpc:
                    raise errors.VSwitchIdVpcIdMismatchError()
                if not effective.vpc_id:
                    result = dataclasses.replace(result, vpc_id=known_vpc)
        if given.data_disks and source is not None:
            indexes = {disk.index for disk in source.data_disks}
            if any(disk.index not in indexes for disk in given.data_disks):
                raise errors.ReplicationJobDataDiskIndexInvalidError()
        if given.scheduled_start_time is not None and not (
            now - SCHEDULE_PAST_TOLERANCE <= given.scheduled_start_time <= now + SCHEDULE_HORIZON
        ):
            raise errors.InvalidParameterError.named(
                "ScheduledStartTime", "It must be within 30 days after the current time."
            )
        if given.valid_time is not None and not (
            creation_time + VALID_TIME_MIN <= given.valid_time <= creation_time + VALID_TIME_MAX
        ):
            raise errors.InvalidParameterError.named(
                "ValidTime", "It must be 7 to 90 days after the job was created."
            )
        if given.name and any(
            other.name == given.name and other.job_id != job_id for other in self.jobs.values()
        ):
            raise errors.ReplicationJobNameDuplicateError()
        return result

    def create_replication_job(self, req: CreateJobRequest) -> str:
        if req.client_token is not None:
            seen = self.client_tokens.get(req.client_token)
            if seen is not None:
                if seen[0] != req:
                    raise errors.IdempotentParameterMismatchError()
                return seen[1]
        source = self.source(req.source_id)
        if source.state is not SourceState.AVAILABLE or self._unfinished_job(source) is not None:
            raise _source_state_error(source, "Available")
        if len(self.jobs) >= self.job_quota:
            raise errors.QuotaExceededReplicationJobError()
        if req.run_once is False:
            if req.settings.frequency is None:
                raise errors.MissingParameterError.named("Frequency")
            if req.settings.max_number_of_image_to_keep is None:
                raise errors.MissingParameterError.named("MaxNumberOfImageToKeep")
        now = self.clock.now()
        effective = self._effective(None, req.settings)
        settings = self._validate(effective, effective, source, now, None)
        job = ReplicationJob(
            job_id=self.ids.job_id(),
            source_id=source.source_id,
            region_id=req.region_id,
            creation_time=now,
            run_once=True if req.run_once is None else req.run_once,
            job_type=req.job_type or 0,
            license_type=req.license_type or "",
            resource_group_id=req.resource_group_id or "",
            tags=req.tags,
            disks_system=req.disks_system,
            disks_data=req.disks_data,
        )
        self._apply(job, settings)
        self.jobs[job.job_id] = job
        source.job_id = job.job_id
        self._source_event(source, SourceEvent.LINK_JOB)
        if req.client_token is not None:
            self.client_tokens[req.client_token] = (req, job.job_id)
        return job.job_id

    @staticmethod
    def _apply(job: ReplicationJob, settings: JobSettings) -> None:
        for name in _SETTING_FIELDS:
            value = getattr(settings, name)
            if value is not None:
                setattr(job, name, value)

    def describe_replication_jobs(
        self, req: DescribeJobsRequest
    ) -> tuple[list[ReplicationJob], Page]:
        job_ids, source_ids, instance_ids = (
            set(req.job_ids),
            set(req.source_ids),
            set(req.instance_ids),
        )
        matches = [
            j
            for j in self.jobs.values()
            if (not job_ids or j.job_id in job_ids)
            and (not source_ids or j.source_id in source_ids)
            and (not instance_ids or j.instance_id in instance_ids)
            and (req.name is None or j.name == req.name)
            and (req.status is None or j.status is req.status)
            and (req.business_status is None or j.business_status is req.business_status)
            and (req.region_id is None or j.region_id == req.region_id)
            and (req.job_type is None or j.job_type == req.job_type)
            and (req.resource_group_id is None or j.resource_group_id == req.resource_group_id)
        ]
        return _page(matches, req.page_number, req.page_size)

    def modify_replication_job_attribute(self, req: ModifyJobRequest) -> None:
        job = self.job(req.job_id)
        fresh = job.status is JobStatus.READY and not job.has_run
        for name in _SETTING_FIELDS:
            if getattr(req.settings, name) is None:
                continue
            allowed = _MODIFY_RULES.get(name)
            ok = (job.status in allowed) if allowed is not None else fresh
            if name in ("frequency", "max_number_of_image_to_keep") and job.status is (
                JobStatus.READY
            ):
                ok = fresh
            if not ok:
                raise _status_error(job, allowed or {JobStatus.READY})
        effective = self._effective(job, req.settings)
        settings = self._validate(
            req.settings, effective, self.sources.get(job.source_id), job.creation_time, job.job_id
        )
        self._apply(job, settings)

    def delete_replication_job(self, job_id: str) -> None:
        job = self.job(job_id)
        self._fire(job, JobEvent.DELETE)
        self._remove_job(job)

    def start_replication_job(self, job_id: str) -> None:
        job = self.job(job_id)
        rule = JOB_TRANSITIONS[JobEvent.START]
        if job.status not in rule.sources:
            raise _status_error(job, rule.sources)
        source = self.sources.get(job.source_id)
        if source is None or source.state in (SourceState.UNAVAILABLE, SourceState.DELETING):
            if source is None:
                raise errors.SourceServerStateInvalidError()
            raise _source_state_error(source, "Available, InUse")
        self._start(job, self.clock.now(), JobEvent.START, run=True)

    def stop_replication_job(self, job_id: str) -> None:
        job = self.job(job_id)
        self._fire(job, JobEvent.STOP)
        job.anchor_time = None

    # --- control API --------------------------------------------------------------------------

    def advance_job(
        self, job_id: str, to: str | None, error_code: str | None = None
    ) -> ReplicationJob:
        """Move a job one phase on (``to`` is None) or to a named Status/BusinessStatus.

        Going forward follows the transition table; other statuses are set directly (a test
        tool may put a job anywhere), keeping the source's state consistent.
        """
        job = self.jobs.get(job_id)
        if job is None:
            raise ControlError(f"job {job_id} not found", 404)
        now = self.clock.now()
        if to is None:
            return self._step(job, now)
        if to in BusinessStatus.__members__.values():
            return self._to_phase(job, BusinessStatus(to), now)
        if to not in JobStatus.__members__.values():
            raise ControlError(f"unknown status {to!r}")
        target = JobStatus(to)
        if target is JobStatus.RUNNING:
            if job.status is not JobStatus.RUNNING:
                self._start_for_control(job, now)
        elif target is JobStatus.FINISHED:
            if job.status is not JobStatus.RUNNING:
                self._start_for_control(job, now)
            self._complete(job, now)
        elif target is JobStatus.IN_ERROR:
            job.status = JobStatus.IN_ERROR
            job.error_code = error_code or "InternalError"
            job.status_info = json.dumps(
                {"error_code": job.error_code, "error_msg": "Injected by the emulator."}
            )
            job.anchor_time = None
        elif target is JobStatus.EXPIRED:
            job.status, job.expired_time, job.anchor_time = target, now, None
        else:
            job.status, job.anchor_time = target, None
        return job

    def _start_for_control(self, job: ReplicationJob, now: datetime) -> None:
        if job.status in JOB_TRANSITIONS[JobEvent.START].sources:
            self._start(job, now, JobEvent.START, run=False)
        elif job.status in (JobStatus.WAITING, JobStatus.EXPIRED):
            job.status = JobStatus.READY
            self._start(job, now, JobEvent.START, run=False)
        else:
            raise ControlError(f"a {job.status.value} job cannot run again", 409)

    def _step(self, job: ReplicationJob, now: datetime) -> ReplicationJob:
        if job.status is not JobStatus.RUNNING:
            if job.status not in JOB_TRANSITIONS[JobEvent.START].sources:
                raise ControlError(f"a {job.status.value} job has no next phase", 409)
            self._start(job, now, JobEvent.START, run=False)
            return job
        following = next_phase(job.business_status or BusinessStatus.PREPARING)
        if following is None:
            self._complete(job, now)
        else:
            self._to_phase(job, following, now)
        return job

    def _to_phase(
        self, job: ReplicationJob, phase: BusinessStatus, now: datetime
    ) -> ReplicationJob:
        if job.status is not JobStatus.RUNNING:
            self._start_for_control(job, now)
        if job.progress > PHASE_START[phase] and phase_at(job.progress) != phase:
            raise ControlError(f"job {job.job_id} is past {phase.value}; progress only rises", 409)
        job.business_status = phase
        job.progress = max(job.progress, PHASE_START[phase])
        job.anchor_time, job.anchor_progress = now, job.progress
        return job
