"""``serve`` keeps its start-up objects out of the collector's passes once it is up."""

from __future__ import annotations

import gc
import signal

from gateway.config import Settings
from gateway.observability import Observability
from gateway.serve import _serve


async def test_startup_objects_are_frozen_before_the_banner() -> None:
    settings = Settings(
        grpc_port=0,
        http_port=0,
        shutdown_delay_seconds=0,
        shutdown_grace_seconds=1,
    )
    frozen_at_banner: list[int] = []

    def announce(banner: str) -> None:
        frozen_at_banner.append(gc.get_freeze_count())
        signal.raise_signal(signal.SIGINT)  # the process's own stop: serve drains and returns

    gc.unfreeze()
    try:
        assert await _serve(settings, Observability.from_env({}), announce) == 0
    finally:
        gc.unfreeze()
    # The whole start-up (modules, descriptors, both front ends) is tens of thousands.
    assert len(frozen_at_banner) == 1
    assert frozen_at_banner[0] > 10_000
