"""Fuzzing the wire parser: no client input may yield a 500; every answer is a JSON error
with a Code (or a success)."""

from __future__ import annotations

import contextlib
import http.client
import json
import string
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from emulator_wire_helpers import AK_ID, AK_SECRET, START, FakeClock, common_params
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.emulator import Account, BackgroundEmulator, Emulator, EmulatorConfig
from gateway.emulator.errors import SmcError
from gateway.emulator.params import ParamReader
from gateway.emulator.protocol import OPERATIONS, check_common, decode_params
from gateway.smc.signing import sign_rpc_v1

_URL_SAFE = string.ascii_letters + string.digits + "%=&.-_~+*:/?;,!$'()@"
_NAMES = [
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "Signature",
    "SignatureNonce",
    "Timestamp",
    "SignatureMethod",
    "SignatureVersion",
    "SourceId",
    "JobId",
    "SystemDiskSize",
    "DataDisk.1.Index",
    "DataDisk.1.Size",
    "DataDisk.1.Part.1.Block",
    "PageSize",
    "PageNumber",
    "SourceId.1",
    "JobId.51",
    "Tag.1.Key",
    "TargetType",
    "ValidTime",
    "ScheduledStartTime",
    "NetMode",
    "ClientToken",
    "Force",
    "ReplicationParameters",
    "Name",
    "Description",
    "OwnerId",
    "Disks.Data.1.Part.1.Path",
]

query_text = st.text(alphabet=_URL_SAFE, max_size=300)
raw_bytes = st.binary(max_size=300)
param_values = st.one_of(
    st.text(max_size=50),
    st.sampled_from(
        ["", "0", "-1", "99999999999999999999", "true", "True", "2026-03-01T08:00:00Z", "x" * 5000]
    ),
)
param_maps = st.dictionaries(st.sampled_from(_NAMES), param_values, max_size=12)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Emulator, FakeClock]]:
    clock = FakeClock(START)
    config = EmulatorConfig(port=0, accounts=[Account(AK_ID, AK_SECRET)], progression="manual")
    with BackgroundEmulator(config, clock) as emulator:
        yield emulator, clock


def _exchange(
    emulator: Emulator, method: str, target: str, body: bytes
) -> tuple[int, dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        connection.request(method, target, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _assert_answer(status: int, body: dict[str, object]) -> None:
    assert status != 500, body
    assert "RequestId" in body
    if status != 200:
        assert isinstance(body.get("Code"), str)
        assert body["Code"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=query_text, body=raw_bytes, method=st.sampled_from(["GET", "POST"]))
def test_garbage_over_the_wire(
    served: tuple[Emulator, FakeClock], query: str, body: bytes, method: str
) -> None:
    emulator, _ = served
    status, answer = _exchange(emulator, method, "/?" + query, body if method == "POST" else b"")
    _assert_answer(status, answer)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    action=st.sampled_from(sorted(OPERATIONS)),
    params=param_maps,
    in_body=st.booleans(),
)
def test_signed_requests_with_random_parameters(
    served: tuple[Emulator, FakeClock], action: str, params: dict[str, str], in_body: bool
) -> None:
    """Authenticated calls reach the parsers and the backend with hostile values."""
    emulator, clock = served
    signed = {
        **common_params(action, clock),
        **{
            k: v
            for k, v in params.items()
            if k
            not in (
                "Action",
                "Version",
                "Format",
                "AccessKeyId",
                "SignatureMethod",
                "SignatureVersion",
                "SignatureNonce",
                "Timestamp",
                "Signature",
            )
        },
    }
    signed["Signature"] = sign_rpc_v1("POST", signed, AK_SECRET)
    encoded = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in signed.items())
    if in_body:
        status, answer = _exchange(emulator, "POST", "/", encoded.encode())
    else:
        status, answer = _exchange(emulator, "POST", "/?" + encoded, b"")
    _assert_answer(status, answer)


@settings(max_examples=300, deadline=None)
@given(query=st.text(max_size=200), body=raw_bytes)
def test_parser_functions_raise_only_smc_errors(query: str, body: bytes) -> None:
    """Straight at the parser (no HTTP layer): any text, any bytes."""
    with contextlib.suppress(SmcError):
        params = decode_params(query, body)
        action = check_common(params)
        OPERATIONS[action].parse(ParamReader(params))


@settings(max_examples=300, deadline=None)
@given(action=st.sampled_from(sorted(OPERATIONS)), params=param_maps)
def test_operation_parsers_raise_only_smc_errors(action: str, params: dict[str, str]) -> None:
    with contextlib.suppress(SmcError):
        OPERATIONS[action].parse(ParamReader(params))
