from __future__ import annotations

import random

import pytest
from emulator_unit_helpers import FakeClock

from gateway.emulator.backend import AccountBackend, IdGenerator, Progression
from gateway.emulator.seed import DEFAULT_NETWORKS, demo_sources
from gateway.emulator.statemachine import ProgressionMode


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def progression() -> Progression:
    return Progression(ProgressionMode.MANUAL, 100.0)


@pytest.fixture
def backend(clock: FakeClock, progression: Progression) -> AccountBackend:
    ids = IdGenerator(random.Random(1))
    made = AccountBackend(clock, progression, ids, job_quota=5, networks=DEFAULT_NETWORKS)
    for source in demo_sources(ids, clock.now()):
        made.add_source(source)
    return made
