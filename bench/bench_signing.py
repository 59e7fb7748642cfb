"""Cost per call of SMC RPC V1 signing (gateway.smc.signing) next to the alternatives.

Run from the repository root::

    .venv/bin/python bench/bench_signing.py [--repeat 9] [--number 2000]

Input: a realistic 15-parameter CreateReplicationJob request (8 common parameters and
7 operation parameters, among them DataDisk.1.Index/Size, a Name, a Description and a
ReplicationParameters JSON value with spaces and quotes).

Measured, in one process and one run, each as the min and the median per call over
``--repeat`` timeit repeats of ``--number`` calls, the repeats interleaved across
implementations; ratios and targets use the min (timeit's advice; the spread is noise):

* sign only: ``sign_rpc_v1``; a naive implementation written here (sort + ``quote`` +
  ``hmac.new`` sha1 + base64); the official SDK signers;
* build + sign + encode the whole request body: ``gateway.smc.client.build_request_body``
  if present (else ``signing.signed_query``, else canonical_query + sign_rpc_v1 +
  appending the Signature), against the naive equivalent.

Targets: <= 20 us per signature, <= 40 us per whole request (min). Exit status 1 on FAIL. Writes
``bench/out/bench_signing.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import hmac
import json
import platform
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gateway.smc import signing

OUT = Path(__file__).resolve().parent / "out"
SIGN_TARGET_US = 20.0
REQUEST_TARGET_US = 40.0
STAT = "min_us"

SECRET = "testsecretXXXXXXXXXXXXXXXXXXXX"  # noqa: S105 - a dummy, not a credential
NONCE = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
TIMESTAMP = "2026-11-26T19:23:23Z"
COMMON = {
    "Action": "CreateReplicationJob",
    "Version": "2019-06-01",
    "Format": "JSON",
    "AccessKeyId": "LTAI5tAbCdEfGhIjKlMnOpQr",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureVersion": "1.0",
    "SignatureNonce": NONCE,
    "Timestamp": TIMESTAMP,
}
OPERATION = {
    "RegionId": "cn-hangzhou",
    "SourceId": "s-bp1e2fsl57vy2xxxxxxx",
    "Name": "nightly-migration web-01",
    "Description": "Migrate web-01 (CentOS 7) to ECS; owner: ops@example.com",
    "DataDisk.1.Index": "1",
    "DataDisk.1.Size": "100",
    "ReplicationParameters": json.dumps(
        {"bandwidth_limit": 0, "compress_level": 1, "checksum": True, "note": 'a "quoted" word'}
    ),
}
PARAMS: dict[str, str] = COMMON | OPERATION
assert len(PARAMS) == 15


def naive_sign(method: str, params: dict[str, str], secret: str) -> str:
    """The textbook recipe: sort, quote each pair, quote the whole, HMAC-SHA1, base64."""
    canonical = "&".join(
        f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(params.items())
    )
    to_sign = f"{method}&%2F&{quote(canonical, safe='~')}"
    digest = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def naive_request(method: str, params: dict[str, str], secret: str) -> str:
    signature = naive_sign(method, params, secret)
    pairs = sorted(params.items())
    pairs.append(("Signature", signature))
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)


def sdk_signers() -> dict[str, Callable[[str, dict[str, str], str], str]]:
    found: dict[str, Callable[[str, dict[str, str], str], str]] = {}
    try:
        from alibabacloud_openapi_util.client import Client

        found["alibabacloud_openapi_util"] = lambda m, p, s: Client.get_rpcsignature(p, m, s)
    except ImportError:
        pass
    try:
        from alibabacloud_tea_openapi.utils import Utils

        found["alibabacloud_tea_openapi"] = lambda m, p, s: Utils.get_rpcsignature(p, m, s)
    except ImportError:
        pass
    try:
        from aliyunsdkcore.auth.composer import rpc_signature_composer as composer

        compose = getattr(composer, "__compose_string_to_sign")
        get_sig = getattr(composer, "__get_signature")
        found["aliyunsdkcore"] = lambda m, p, s: get_sig(compose(m, p), s)
    except ImportError:
        pass
    return found


def whole_request() -> tuple[str, Callable[[], str]]:
    """The gateway's own 'build + sign + encode' path, whichever exists."""
    try:
        from gateway.smc.client import build_request_body
        from gateway.smc.credentials import Credentials

        creds = Credentials(COMMON["AccessKeyId"], SECRET)
        return (
            "client.build_request_body",
            lambda: build_request_body("CreateReplicationJob", OPERATION, creds, NONCE, TIMESTAMP),
        )
    except ImportError:
        pass
    signed_query = getattr(signing, "signed_query", None)
    if signed_query is not None:
        return "signing.signed_query", lambda: signed_query("POST", PARAMS, SECRET)

    def fallback() -> str:
        sig = signing.sign_rpc_v1("POST", PARAMS, SECRET)
        return f"{signing.canonical_query(PARAMS)}&Signature={signing.percent_encode(sig)}"

    return "canonical_query + sign_rpc_v1 + append", fallback


def measure(
    impls: dict[str, Callable[[], object]], repeat: int, number: int
) -> dict[str, dict[str, float]]:
    """Per-call µs of each implementation; repeats interleaved (a b c a b c ...) so drift
    of a shared or throttled CPU hits every implementation alike."""
    timers = {name: timeit.Timer(func) for name, func in impls.items()}
    for timer in timers.values():
        timer.timeit(number=max(1, number // 10))  # warm caches (lru_cache of names, etc.)
    samples: dict[str, list[float]] = {name: [] for name in impls}
    for _ in range(repeat):
        for name, timer in timers.items():
            samples[name].append(timer.timeit(number=number) / number * 1e6)
    return {
        name: {"min_us": min(s), "median_us": statistics.median(s), "max_us": max(s)}
        for name, s in samples.items()
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return {"cpu": cpu, "nproc": os.cpu_count(), "python": platform.python_version()}


def main() -> int:
    parser = argparse.ArgumentParser(description="SMC signing micro-benchmark")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()

    method = "POST"
    expected = signing.sign_rpc_v1(method, PARAMS, SECRET)
    sign_impls: dict[str, Callable[[], str]] = {
        "gateway sign_rpc_v1": lambda: signing.sign_rpc_v1(method, PARAMS, SECRET),
        "naive (quote+hmac)": lambda: naive_sign(method, PARAMS, SECRET),
    }
    for name, signer in sdk_signers().items():
        sign_impls[f"SDK {name}"] = functools.partial(signer, method, dict(PARAMS), SECRET)
    # Same answer everywhere, or the timing means nothing.
    for name, impl in sign_impls.items():
        if impl() != expected:
            print(f"MISMATCH: {name} gives {impl()!r}, gateway gives {expected!r}")
            return 2

    request_name, request_impl = whole_request()
    body = request_impl()
    if not body.endswith("&Signature=" + quote(expected, safe="")):
        print(f"MISMATCH: {request_name} does not end with the expected Signature")
        return 2
    request_impls: dict[str, Callable[[], str]] = {
        f"gateway {request_name}": request_impl,
        "naive sign + encode": lambda: naive_request(method, PARAMS, SECRET),
    }

    results = measure({**sign_impls, **request_impls}, args.repeat, args.number)

    # timeit's advice: the min is the best estimate of the cost; the rest is noise from
    # the machine. Targets and ratios use it; medians are printed and saved as well.
    ours = results["gateway sign_rpc_v1"][STAT]
    naive = results["naive (quote+hmac)"][STAT]
    ours_req = results[f"gateway {request_name}"][STAT]
    naive_req = results["naive sign + encode"][STAT]
    ratios = {"ours/naive (sign)": ours / naive, "ours/naive (request)": ours_req / naive_req}
    for name in sign_impls:
        if name.startswith("SDK "):
            ratios[f"ours/{name[4:]}"] = ours / results[name][STAT]
    verdict: dict[str, dict[str, Any]] = {
        "sign": {"target_us": SIGN_TARGET_US, STAT: ours, "pass": ours <= SIGN_TARGET_US},
        "request": {
            "target_us": REQUEST_TARGET_US,
            STAT: ours_req,
            "pass": ours_req <= REQUEST_TARGET_US,
            "function": request_name,
        },
    }

    print(f"{len(PARAMS)} params, {args.repeat} repeats x {args.number} calls; µs per call")
    print(f"{'implementation':44} {'min':>8} {'median':>8}  min vs ours")
    for name, r in results.items():
        base = ours if name in sign_impls else ours_req
        print(f"{name:44} {r['min_us']:8.2f} {r['median_us']:8.2f}  x{r[STAT] / base:.2f}")
    print()
    for key, value in ratios.items():
        print(f"{key:44} {value:8.3f}")
    print()
    for key, v in verdict.items():
        status = "PASS" if v["pass"] else "FAIL"
        print(f"{status}: {key} min {v[STAT]:.2f} µs (target <= {v['target_us']:.0f} µs)")

    OUT.mkdir(exist_ok=True)
    out = OUT / "bench_signing.json"
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "params": len(PARAMS),
                "repeat": args.repeat,
                "number": args.number,
                "results_us_per_call": results,
                "ratios_of_min": ratios,
                "targets": verdict,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")
    return 0 if all(v["pass"] for v in verdict.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
