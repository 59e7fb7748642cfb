"""Signature vectors, one folder per case (botocore aws4_testsuite style).

Each folder under ``vectors/`` holds ``params.json`` and the intermediate strings the
official SDKs produce (see ``vectors/generate.py``). Every step of
``gateway.smc.signing`` is checked on its own, so a regression names the step that broke.
Files end with exactly one newline, which is stripped before comparing.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gateway.smc import signing

VECTORS = Path(__file__).resolve().parent / "vectors"
CASE_DIRS = sorted(p for p in VECTORS.iterdir() if (p / "params.json").is_file())
STEPS = ("canonical_query", "string_to_sign", "signature", "sign_rpc_v1")


def _read(path: Path) -> str:
    # Bytes, then decode: text mode would translate a stray "\r". Strip exactly one "\n".
    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\n"), f"{path} must end with exactly one newline"
    return text[:-1]


def _load(case: Path) -> tuple[str, str, dict[str, str]]:
    doc: dict[str, Any] = json.loads(_read(case / "params.json"))
    params = doc["params"]
    assert isinstance(params, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    return doc["method"], doc["secret"], params


def _cases() -> list[Any]:
    out = []
    for case in CASE_DIRS:
        for step in STEPS:
            out.append(pytest.param(case, step, id=f"{case.name}-{step}"))
    return out


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "smc_signing_vectors_generate", VECTORS / "generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vector_folders_are_complete() -> None:
    names = {p.name for p in CASE_DIRS}
    required = {
        "reference-get",
        "reference-post",
        "unicode-values",
        "reserved-characters",
        "empty-value",
        "long-value",
        "key-n-ordering",
        "case-ordering",
        "sts-security-token",
    }
    assert required <= names
    assert len(CASE_DIRS) >= 8
    for case in CASE_DIRS:
        for file in ("params.json", "canonical_query.txt", "string_to_sign.txt", "signature.txt"):
            assert (case / file).is_file(), f"{case.name}/{file} missing"


@pytest.mark.parametrize(("case", "step"), _cases())
def test_vector_step(case: Path, step: str) -> None:
    method, secret, params = _load(case)
    expected_query = _read(case / "canonical_query.txt")
    expected_sts = _read(case / "string_to_sign.txt")
    expected_sig = _read(case / "signature.txt")
    if step == "canonical_query":
        assert signing.canonical_query(params) == expected_query
    elif step == "string_to_sign":
        assert signing.string_to_sign(method, params) == expected_sts
    elif step == "signature":
        # signature() alone, fed with our own string to sign.
        assert signing.signature(signing.string_to_sign(method, params), secret) == expected_sig
    else:
        assert signing.sign_rpc_v1(method, params, secret) == expected_sig


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_signature_step_on_expected_string_to_sign(case: Path) -> None:
    # signature() checked in isolation from the earlier steps: HMAC of the SDK's string.
    _, secret, _ = _load(case)
    assert signing.signature(_read(case / "string_to_sign.txt"), secret) == _read(
        case / "signature.txt"
    )


def test_reference_vector_matches_smc_api_md() -> None:
    # Literal values of SMC_API.md section 0.6, independent of generate.py.
    get = VECTORS / "reference-get"
    post = VECTORS / "reference-post"
    assert _read(get / "canonical_query.txt") == (
        "AccessKeyId=testid&Action=DescribeSourceServers&Format=JSON&Name=My%20Source%2A~"
        "&PageSize=10&SignatureMethod=HMAC-SHA1"
        "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0"
        "&State=Available&Timestamp=2019-06-27T02%3A58%3A09Z&Version=2019-06-01"
    )
    assert _read(get / "string_to_sign.txt").startswith("GET&%2F&AccessKeyId%3Dtestid%26")
    assert _read(post / "string_to_sign.txt").startswith("POST&%2F&AccessKeyId%3Dtestid%26")
    assert _read(get / "signature.txt") == "P3jSWo6lDY03RV9VHEIK72L2C9Y="
    assert _read(post / "signature.txt") == "8hNKPlWWm2TsdRzhAh8wtKZWmGQ="


def test_vector_files_match_official_sdks() -> None:
    # generate.py --check: the committed files are still what the SDKs produce.
    generator = _load_generator()
    assert generator.check() == []
    assert set(generator.CASES) == {p.name for p in CASE_DIRS}
