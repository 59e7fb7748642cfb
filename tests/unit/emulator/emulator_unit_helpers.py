"""Fakes and builders for the emulator's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.emulator.backend import AccountBackend
from gateway.emulator.models import CreateJobRequest, DataDiskSpec, JobSettings

START = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, now: datetime = START) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


def first_source_id(backend: AccountBackend) -> str:
    return next(iter(backend.sources))


def create_request(source_id: str, **settings: object) -> CreateJobRequest:
    token = settings.pop("client_token", None)
    defaults: dict[str, object] = {"system_disk_size": 40}
    defaults.update(settings)
    return CreateJobRequest(
        region_id="cn-hangzhou",
        source_id=source_id,
        settings=JobSettings(**defaults),  # type: ignore[arg-type]
        client_token=token,  # type: ignore[arg-type]
    )


def disk(index: int, size: int = 100) -> DataDiskSpec:
    return DataDiskSpec(index, size)
