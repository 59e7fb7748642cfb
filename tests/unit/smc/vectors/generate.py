"""Write (or check) the SMC RPC V1 signature vectors, one folder per case.

The official SDKs are the source of truth, never ``gateway.smc.signing``:

- ``canonical_query.txt`` and ``string_to_sign.txt`` come from aliyunsdkcore's
  ``rpc_signature_composer`` (the only SDK whose code yields the intermediate strings);
- ``signature.txt`` comes from ``alibabacloud_openapi_util`` ``Client.get_rpcsignature``,
  cross-checked against ``alibabacloud_tea_openapi.utils.Utils.get_rpcsignature``, against
  aliyunsdkcore's HMAC of its own string to sign and, for the reference case, against the
  literal values printed in SMC_API.md section 0.6.

Files are written with exactly one trailing newline; readers strip exactly one.

Usage (from the repository root)::

    .venv/bin/python tests/unit/smc/vectors/generate.py          # (re)write the folders
    .venv/bin/python tests/unit/smc/vectors/generate.py --check  # exit 1 if any file differs
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

from alibabacloud_openapi_util.client import Client as _OpenApiUtil
from alibabacloud_tea_openapi.utils import Utils as _TeaUtils
from aliyunsdkcore.auth.composer import rpc_signature_composer as _composer

HERE = Path(__file__).resolve().parent
FILES = ("params.json", "canonical_query.txt", "string_to_sign.txt", "signature.txt")

# Module-level "private" helpers of the composer (no name mangling at module level).
_pop_standard_urlencode = cast(Callable[[str], str], getattr(_composer, "__pop_standard_urlencode"))
_compose_string_to_sign = cast(
    Callable[[str, dict[str, str]], str], getattr(_composer, "__compose_string_to_sign")
)
_get_signature = cast(Callable[[str, str], str], getattr(_composer, "__get_signature"))

REFERENCE_PARAMS: dict[str, str] = {
    "Action": "DescribeSourceServers",
    "Version": "2019-06-01",
    "Format": "JSON",
    "AccessKeyId": "testid",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureVersion": "1.0",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "Timestamp": "2019-06-27T02:58:09Z",
    "PageSize": "10",
    "State": "Available",
    "Name": "My Source*~",
}
# SMC_API.md section 0.6, copied literally.
REFERENCE_CANONICAL_QUERY = (
    "AccessKeyId=testid&Action=DescribeSourceServers&Format=JSON&Name=My%20Source%2A~"
    "&PageSize=10&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
    "&SignatureVersion=1.0&State=Available&Timestamp=2019-06-27T02%3A58%3A09Z&Version=2019-06-01"
)
REFERENCE_STRING_TO_SIGN_GET = (
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeSourceServers%26Format%3DJSON"
    "%26Name%3DMy%2520Source%252A~%26PageSize%3D10%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
    "%26State%3DAvailable%26Timestamp%3D2019-06-27T02%253A58%253A09Z%26Version%3D2019-06-01"
)
REFERENCE_SIGNATURE_GET = "P3jSWo6lDY03RV9VHEIK72L2C9Y="
REFERENCE_SIGNATURE_POST = "8hNKPlWWm2TsdRzhAh8wtKZWmGQ="


def _common(action: str, nonce: str) -> dict[str, str]:
    return {
        "Action": action,
        "Version": "2019-06-01",
        "Format": "JSON",
        "AccessKeyId": "testid",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce,
        "Timestamp": "2019-06-27T02:58:09Z",
    }


_LONG_UNIT = "Long value: a b*~/+=&%?#;,:@!'()[] 迁移 é "  # mixed, 36 characters
LONG_VALUE = (_LONG_UNIT * (10_000 // len(_LONG_UNIT) + 1))[:10_000]

# name -> (method, secret, params)
CASES: dict[str, tuple[str, str, dict[str, str]]] = {
    "reference-get": ("GET", "testsecret", REFERENCE_PARAMS),
    "reference-post": ("POST", "testsecret", REFERENCE_PARAMS),
    "unicode-values": (
        "POST",
        "testsecret",
        _common("CreateReplicationJob", "6a4f0e1c-0000-4000-8000-000000000001")
        | {
            "Name": "迁移任务-東京",  # CJK
            # emoji (with a ZWJ sequence), a combining acute, Hebrew and Arabic (RTL)
            "Description": (
                "déjà vu \U0001f680\U0001f469\u200d\U0001f4bb e\u0301 "
                "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627"
            ),
            "Tag.1.Key": "환경",
            "Tag.1.Value": "\u202eRTL override\u202c",
        },
    ),
    "reserved-characters": (
        "GET",
        "testsecret",
        _common("DescribeReplicationJobs", "6a4f0e1c-0000-4000-8000-000000000002")
        | {
            "Name": "* ~ + / = & % ? # ; , : @ ! ' ( ) [ ]",
            "Description": "%2A%20%7E already-encoded looking text",
            "Plus": "a+b c",
        },
    ),
    "empty-value": (
        "GET",
        "testsecret",
        _common("DescribeSourceServers", "6a4f0e1c-0000-4000-8000-000000000003")
        | {"Name": "", "State": "", "PageSize": "10"},
    ),
    "long-value": (
        "POST",
        "testsecret",
        _common("CreateReplicationJob", "6a4f0e1c-0000-4000-8000-000000000004")
        | {"Description": LONG_VALUE, "SourceId": "s-bp1e2fsl57vy2xxxxxxx"},
    ),
    "key-n-ordering": (
        "GET",
        "testsecret",
        _common("DescribeReplicationJobs", "6a4f0e1c-0000-4000-8000-000000000005")
        | {f"JobId.{i}": f"j-{i:04d}" for i in (1, 2, 3, 9, 10, 11, 20, 100)}
        | {"DataDisk.1.Size": "100", "DataDisk.1.Index": "1", "DataDisk.10.Size": "200"},
    ),
    "case-ordering": (
        "POST",
        "testsecret",
        {"b": "4", "Z": "2", "a": "3", "A": "1", "_": "5", "0": "0", "~": "6", "-": "7"},
    ),
    "sts-security-token": (
        "POST",
        "stsSecret/with+chars=",
        _common("StartReplicationJob", "6a4f0e1c-0000-4000-8000-000000000006")
        | {
            "AccessKeyId": "STS.NUxxxxxxxxxxxxxxxxx",
            "SecurityToken": (
                "CAIS8gF1q6Ft5B2yfSjIr5bkLcj/3qlK1a6lMXXSoWgPYdh+jqGagDz2IHhMf3FhA+wZsP8"
                "/mGhV7/oflrh3T4FAQkXKbcJ8qEs+SL8Yf4D8VVZd6Pt2SWCy1Ew2Q==+/="
            ),
            "JobId": "j-bp1fnx5y3djc4cop****",
        },
    ),
    "control-characters": (
        "GET",
        "testsecret",
        {"Action": "DescribeSourceServers", "Name": "tab\there\nnl\r\x00nul\x1f\x7fdel\x85"},
    ),
    # Non-ASCII and reserved characters in parameter NAMES. SMC itself only uses
    # letters, digits and dots, but the contract is "identical for every input".
    "reserved-and-unicode-names": (
        "GET",
        "testsecret",
        {"Action": "DescribeSourceServers", "Tag Key": "v", "名前": "値", "a%b": "c"},
    ),
}


def sdk_canonical_query(params: dict[str, str]) -> str:
    # aliyunsdkcore's __compose_string_to_sign, first half: the canonicalized query string.
    return _pop_standard_urlencode(urlencode(sorted(params.items(), key=lambda kv: kv[0])))


def sdk_string_to_sign(method: str, params: dict[str, str]) -> str:
    return _compose_string_to_sign(method, dict(params))


def sdk_signature(method: str, params: dict[str, str], secret: str) -> str:
    """Signature from alibabacloud_openapi_util, cross-checked with the two other SDKs."""
    ours = cast(str, _OpenApiUtil.get_rpcsignature(dict(params), method, secret))
    tea = cast(str, _TeaUtils.get_rpcsignature(dict(params), method, secret))
    core = _get_signature(sdk_string_to_sign(method, params), secret)
    if not ours == tea == core:
        raise AssertionError(f"official SDKs disagree: {ours!r} {tea!r} {core!r}")
    return ours


def render(method: str, secret: str, params: dict[str, str]) -> dict[str, str]:
    """File name -> exact file content for one case."""
    doc: dict[str, Any] = {"method": method, "secret": secret, "params": params}
    return {
        "params.json": json.dumps(doc, ensure_ascii=True, indent=2) + "\n",
        "canonical_query.txt": sdk_canonical_query(params) + "\n",
        "string_to_sign.txt": sdk_string_to_sign(method, params) + "\n",
        "signature.txt": sdk_signature(method, params, secret) + "\n",
    }


def _self_check() -> None:
    # The SDK-derived intermediate strings must reproduce the published vector.
    assert sdk_canonical_query(REFERENCE_PARAMS) == REFERENCE_CANONICAL_QUERY
    assert sdk_string_to_sign("GET", REFERENCE_PARAMS) == REFERENCE_STRING_TO_SIGN_GET
    assert sdk_signature("GET", REFERENCE_PARAMS, "testsecret") == REFERENCE_SIGNATURE_GET
    assert sdk_signature("POST", REFERENCE_PARAMS, "testsecret") == REFERENCE_SIGNATURE_POST


def check(root: Path = HERE) -> list[str]:
    """Return a list of problems (empty when every folder matches the SDKs)."""
    _self_check()
    problems: list[str] = []
    for name, (method, secret, params) in CASES.items():
        for file, content in render(method, secret, params).items():
            path = root / name / file
            if not path.is_file():
                problems.append(f"{name}/{file}: missing")
            elif path.read_bytes().decode("utf-8") != content:
                problems.append(f"{name}/{file}: differs from the official SDK output")
    known = set(CASES)
    problems.extend(
        f"{p.name}: folder has no case in generate.py"
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(("_", ".")) and p.name not in known
    )
    return problems


def write(root: Path = HERE) -> None:
    _self_check()
    for name, (method, secret, params) in CASES.items():
        folder = root / name
        folder.mkdir(exist_ok=True)
        for file, content in render(method, secret, params).items():
            # newline="" keeps "\n" exactly as written on every platform.
            with (folder / file).open("w", encoding="utf-8", newline="") as fh:
                fh.write(content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(CASES)} cases, {len(problems)} problems")
        return 1 if problems else 0
    write()
    print(f"wrote {len(CASES)} cases into {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
