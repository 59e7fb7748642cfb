"""The in-memory idempotency store at its bound: cost per write and the collector's pause.

Run from the repository root::

    .venv/bin/python bench/bench_idempotency_memory.py [--records 50000] [--rounds 3]

A ``MemoryIdempotencyStore(max_records=N)`` (N = 50,000 is the gateway's default bound) is
filled with N finished writes, each a begin and a complete storing the error answer the
benchmark's writes get, then written N more times at its bound, where every write drops the
oldest finished record.  The objects the process built before are frozen first, as
``serve`` does at start-up.  Measured, the min over ``--rounds`` fresh stores:

* µs per write (begin + complete, the collector running as it does when serving) while
  filling and at the bound;
* one full collection (``gc.collect()``) with the N records held, against one with the
  store empty: the pause every call in flight waits out when the collector's oldest
  generation runs.

Writes ``bench/out/bench_idempotency_memory.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
from pathlib import Path
from typing import Any

from gateway.core.upstream_errors import from_smc_error
from gateway.idempotency import MemoryIdempotencyStore, Started, StoredResponse
from gateway.serve import freeze_startup_objects
from gateway.smc.errors import api_error

OUT = Path(__file__).resolve().parent / "out"
REQUEST_ID = "C54E6FEE-DC6D-4430-8599-E8F436CFAB65"
# What the benchmark's refused CreateReplicationJob stores: SMC's refusal as the gateway maps it.
REFUSAL = api_error(
    "SourceServerState.Invalid",
    "The specified source server status: InActive is invalid.",
    REQUEST_ID,
    400,
)
ANSWER = StoredResponse(
    kind="error",
    payload=from_smc_error(REFUSAL, "CreateReplicationJob").to_status().SerializeToString(),
    metadata={"smc-request-id": REQUEST_ID},
)


async def write(store: MemoryIdempotencyStore, key: str) -> None:
    started = await store.begin("bench", key, b"fingerprint-" + key.encode())
    if not isinstance(started, Started):
        raise RuntimeError(f"{key}: expected a fresh record, got {started!r}")
    await store.complete("bench", key, started.owner, ANSWER)


def full_collection_ms() -> float:
    start = time.perf_counter()
    gc.collect()
    return (time.perf_counter() - start) * 1e3


async def one_round(records: int, offset: int) -> dict[str, float]:
    store = MemoryIdempotencyStore(max_records=records)
    empty_ms = full_collection_ms()
    start = time.perf_counter()
    for i in range(records):
        await write(store, f"k-{offset + i}")
    filling_us = (time.perf_counter() - start) / records * 1e6
    held_ms = full_collection_ms()
    start = time.perf_counter()
    for i in range(records, 2 * records):
        await write(store, f"k-{offset + i}")
    at_bound_us = (time.perf_counter() - start) / records * 1e6
    if len(store) != records or store.dropped != records:
        raise RuntimeError(f"bound not kept: {len(store)} records, {store.dropped} dropped")
    await store.close()
    return {
        "filling_us_per_write": filling_us,
        "at_bound_us_per_write": at_bound_us,
        "full_collection_ms_empty": empty_ms,
        "full_collection_ms_held": held_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    freeze_startup_objects()
    rounds = [
        asyncio.run(one_round(args.records, n * 2 * args.records)) for n in range(args.rounds)
    ]
    best: dict[str, Any] = {name: min(r[name] for r in rounds) for name in rounds[0]}
    print(f"MemoryIdempotencyStore, {args.records} records, min of {args.rounds} rounds")
    print(f"  write (begin + complete), filling   {best['filling_us_per_write']:7.1f} µs")
    print(f"  write at the bound (drops one)      {best['at_bound_us_per_write']:7.1f} µs")
    print(f"  full collection, store empty        {best['full_collection_ms_empty']:7.2f} ms")
    print(f"  full collection, records held       {best['full_collection_ms_held']:7.2f} ms")
    OUT.mkdir(exist_ok=True)
    report = {"records": args.records, "rounds": rounds, "min": best}
    (OUT / "bench_idempotency_memory.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
