"""What kept conversions cost and save on a ListSourceServers(10) page, in process.

    .venv/bin/python bench/bench_conversions.py [--pages 3000] [--rounds 3]

The emulator's DescribeSourceServers answer (10 sources) is recorded once, then turned into
``--pages`` distinct answers (every source renamed on each).  Each page goes the REST read
path's way: decoded as the client decodes it (``SOURCE_PAGE``), read into the API's message
(``from_wire.source_page``), written as JSON (``ResponseEncoder``).  Three ways, interleaved:

* **kept, every resource new**: ``conversion_cache_entries=1000``, each page unlike the last;
* **kept, every resource kept**: the same memo, the first page over and over;
* **not kept**: ``conversion_cache_entries=0``.

It prints µs of CPU per page (the best round) and writes ``bench/out/bench_conversions.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
from overhead import record_bodies

from gateway._proto.smcgateway.v1 import resources_pb2
from gateway.core import from_wire
from gateway.rest.jsonmap import ResponseEncoder

OUT = Path(__file__).resolve().parent / "out"
RESOURCES = (resources_pb2.SourceServer, resources_pb2.ReplicationJob)


def read_path(entries: int) -> Callable[[bytes], bytes]:
    """SMC's answer → the API's JSON, as the gateway reads a page (with its own memos)."""
    conversions = from_wire.Conversions(entries)
    encode = ResponseEncoder(entries, RESOURCES).encode

    def read(body: bytes) -> bytes:
        try:
            data = from_wire.SOURCE_PAGE.decode(body)
        except msgspec.DecodeError:
            data = msgspec.json.decode(body)
        return encode(from_wire.source_page(data, conversions))

    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    answers, _ = asyncio.run(record_bodies())
    page = json.loads(answers["DescribeSourceServers"][1])
    distinct = []
    for n in range(args.pages):
        for source in page["SourceServers"]["SourceServer"]:
            source["Name"] = f"renamed-{n}"
        distinct.append(json.dumps(page).encode())
    same = [distinct[0]] * args.pages
    ways = {
        "kept, every resource new": (read_path(1000), distinct),
        "kept, every resource kept": (read_path(1000), same),
        "not kept (conversion_cache_entries=0)": (read_path(0), distinct),
    }
    best = {name: float("inf") for name in ways}
    for _ in range(args.rounds):
        for name, (read, bodies) in ways.items():
            started = time.process_time()
            for body in bodies:
                read(body)
            spent = (time.process_time() - started) / len(bodies) * 1e6
            best[name] = min(best[name], spent)
    print(f"µs of CPU per ListSourceServers(10) page, best of {args.rounds} rounds")
    for name, us in best.items():
        print(f"  {name:<40} {us:8.0f}")
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_conversions.json").write_text(json.dumps(best, indent=2))


if __name__ == "__main__":
    main()
