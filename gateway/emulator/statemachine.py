"""Job and source state transitions, declared as data.

The backend never assigns ``job.status`` by hand for an API-driven change: it fires an event,
and :data:`JOB_TRANSITIONS` says from which statuses (and business statuses) the event is
allowed and where it leads.  The running phases and the progress at which each begins are in
:data:`PHASES`; time progression maps elapsed time onto them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.emulator.models import UNFINISHED, BusinessStatus, JobStatus, SourceState

__all__ = [
    "JOB_TRANSITIONS",
    "PHASES",
    "SOURCE_TRANSITIONS",
    "JobEvent",
    "Phase",
    "ProgressionMode",
    "SourceEvent",
    "Transition",
    "phase_at",
]


class ProgressionMode(StrEnum):
    """How a started job moves: all at once, only when told, or with the clock."""

    IMMEDIATE = "immediate"
    MANUAL = "manual"
    TIME = "time"


class JobEvent(StrEnum):
    START = "start"  # StartReplicationJob
    SCHEDULED_START = "scheduled_start"  # ScheduledStartTime reached
    STOP = "stop"  # StopReplicationJob
    COMPLETE = "complete"  # the run delivered its image
    FAIL = "fail"  # the run failed
    EXPIRE = "expire"  # ValidTime reached
    DELETE = "delete"  # DeleteReplicationJob / DeleteSourceServer Force=true


@dataclass(frozen=True)
class Transition:
    sources: frozenset[JobStatus]
    target: JobStatus
    # When set, the job's BusinessStatus must be one of these too.
    business: frozenset[BusinessStatus] | None = None


_ALL = frozenset(JobStatus)

JOB_TRANSITIONS: dict[JobEvent, Transition] = {
    # Start only from Ready, Stopped or InError [S][P][W14].
    JobEvent.START: Transition(
        frozenset({JobStatus.READY, JobStatus.STOPPED, JobStatus.IN_ERROR}), JobStatus.RUNNING
    ),
    JobEvent.SCHEDULED_START: Transition(frozenset({JobStatus.READY}), JobStatus.RUNNING),
    # Stop only when Status=Running AND BusinessStatus=Syncing [P].
    JobEvent.STOP: Transition(
        frozenset({JobStatus.RUNNING}), JobStatus.STOPPED, frozenset({BusinessStatus.SYNCING})
    ),
    JobEvent.COMPLETE: Transition(frozenset({JobStatus.RUNNING}), JobStatus.FINISHED),
    JobEvent.FAIL: Transition(frozenset({JobStatus.RUNNING}), JobStatus.IN_ERROR),
    JobEvent.EXPIRE: Transition(UNFINISHED - {JobStatus.EXPIRED}, JobStatus.EXPIRED),
    # Emulator choice: any status but Deleting may be deleted, Running included.
    JobEvent.DELETE: Transition(_ALL - {JobStatus.DELETING}, JobStatus.DELETING),
}


class SourceEvent(StrEnum):
    LINK_JOB = "link_job"  # a job was created for the source
    RELEASE_JOB = "release_job"  # its job finished or was deleted
    DELETE = "delete"


SOURCE_TRANSITIONS: dict[SourceEvent, tuple[frozenset[SourceState], SourceState]] = {
    SourceEvent.LINK_JOB: (frozenset({SourceState.AVAILABLE}), SourceState.IN_USE),
    SourceEvent.RELEASE_JOB: (frozenset({SourceState.IN_USE}), SourceState.AVAILABLE),
    SourceEvent.DELETE: (frozenset(SourceState) - {SourceState.DELETING}, SourceState.DELETING),
}


@dataclass(frozen=True)
class Phase:
    business_status: BusinessStatus
    starts_at: float  # progress (percent) at which the phase begins


# INFERRED order (SMC_API.md §2.2); Finished follows Cleaning at 100 %.
PHASES: tuple[Phase, ...] = (
    Phase(BusinessStatus.PREPARING, 0.0),
    Phase(BusinessStatus.SYNCING, 10.0),
    Phase(BusinessStatus.PROCESSING, 80.0),
    Phase(BusinessStatus.CLEANING, 95.0),
)
PHASE_START: dict[BusinessStatus, float] = {p.business_status: p.starts_at for p in PHASES}


def phase_at(progress: float) -> BusinessStatus:
    """The running phase a job is in at ``progress`` percent."""
    current = PHASES[0].business_status
    for phase in PHASES:
        if progress >= phase.starts_at:
            current = phase.business_status
    return current


def next_phase(business: BusinessStatus) -> BusinessStatus | None:
    """The phase after ``business``; ``None`` after Cleaning (the job finishes)."""
    order = [p.business_status for p in PHASES]
    position = order.index(business)
    return order[position + 1] if position + 1 < len(order) else None
