from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from emulator_wire_helpers import (
    AK_ID,
    AK_SECRET,
    OTHER_AK_ID,
    OTHER_SECRET,
    START,
    STS_AK_ID,
    STS_SECRET,
    STS_TOKEN,
    FakeClock,
    SmcCaller,
)

from gateway.emulator import Account, Emulator, EmulatorConfig


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emulator(clock: FakeClock) -> AsyncIterator[Emulator]:
    config = EmulatorConfig(
        port=0,
        accounts=[
            Account(AK_ID, AK_SECRET),
            Account(OTHER_AK_ID, OTHER_SECRET),
            Account(
                STS_AK_ID,
                STS_SECRET,
                STS_TOKEN,
                security_token_expires=START + timedelta(hours=1),
            ),
        ],
        progression="manual",
        random_seed=3,
    )
    running = Emulator(config, clock)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def smc(session: aiohttp.ClientSession, emulator: Emulator, clock: FakeClock) -> SmcCaller:
    return SmcCaller(session, emulator.url, clock)
