"""sign_rpc_v1 against the official Alibaba Cloud SDK signers (the contract's oracles).

Contract: byte-identical Signature for EVERY input. Two kinds of check:

* a generated corpus (fixed seed, ``N_CASES`` cases) compared with each SDK signer;
* hypothesis properties over arbitrary text compared with alibabacloud_openapi_util.

Oracles (all pure functions of params, method and secret):

* ``alibabacloud_openapi_util.client.Client.get_rpcsignature(params, method, secret)``
* ``alibabacloud_tea_openapi.utils.Utils.get_rpcsignature(params, method, secret)``
* aliyunsdkcore ``auth/composer/rpc_signature_composer``: ``get_signed_url`` adds its own
  Timestamp and nonce, so its two inner steps are used: ``__compose_string_to_sign(method,
  params)`` then ``__get_signature(string_to_sign, secret)``.

Excluded inputs: lone surrogates (U+D800..U+DFFF) only. No SDK can encode them (``quote``
and ``bytes(..., "utf-8")`` raise UnicodeEncodeError), so there is nothing to compare
with; ``test_lone_surrogates_fail_like_the_sdk`` checks we fail the same way.
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.smc import signing

Signer = Callable[[dict[str, str], str, str], str]

SEED = 20190601
N_CASES = 400
LONG = 10_000


# --- oracles ---------------------------------------------------------------------------


def _openapi_util() -> Signer:
    from alibabacloud_openapi_util.client import Client

    return lambda params, method, secret: cast(
        str, Client.get_rpcsignature(dict(params), method, secret)
    )


def _tea_openapi() -> Signer | None:
    try:
        from alibabacloud_tea_openapi.utils import Utils
    except ImportError:  # optional: older alibabacloud-tea-openapi has no utils module
        return None
    if not hasattr(Utils, "get_rpcsignature"):
        return None
    return lambda params, method, secret: cast(
        str, Utils.get_rpcsignature(dict(params), method, secret)
    )


def _aliyunsdkcore() -> Signer:
    from aliyunsdkcore.auth.composer import rpc_signature_composer as composer

    # Module-level double-underscore names are not mangled: getattr reaches them.
    compose = getattr(composer, "__compose_string_to_sign")
    get_signature = getattr(composer, "__get_signature")
    return lambda params, method, secret: cast(
        str, get_signature(compose(method, dict(params)), secret)
    )


@dataclass
class Oracle:
    name: str
    sign: Signer
    calls: int = 0

    def __call__(self, params: dict[str, str], method: str, secret: str) -> str:
        self.calls += 1
        return self.sign(params, method, secret)


def _oracles() -> list[Oracle]:
    found = [Oracle("alibabacloud_openapi_util", _openapi_util())]
    tea = _tea_openapi()
    if tea is not None:
        found.append(Oracle("alibabacloud_tea_openapi.utils", tea))
    found.append(Oracle("aliyunsdkcore.rpc_signature_composer", _aliyunsdkcore()))
    return found


# --- generated corpus ------------------------------------------------------------------


def _chars(rng: random.Random, lo: int, hi: int, n: int) -> str:
    return "".join(chr(rng.randint(lo, hi)) for _ in range(n))


def _cjk(rng: random.Random, n: int) -> str:
    lo, hi = rng.choice([(0x4E00, 0x9FFF), (0x3040, 0x30FF), (0xAC00, 0xD7A3), (0x20000, 0x2A6DF)])
    return _chars(rng, lo, hi, n)


def _emoji(rng: random.Random, n: int) -> str:
    sequences = [
        "\U0001f469\u200d\U0001f4bb",  # ZWJ sequence
        "\U0001f1ef\U0001f1f5",  # flag: regional indicators
        "\U0001f44d\U0001f3fd",  # skin tone modifier
        "\u2764\ufe0f",  # variation selector
        "\U0001faf6",
    ]
    return "".join(
        rng.choice(sequences) if rng.random() < 0.3 else _chars(rng, 0x1F300, 0x1FAFF, 1)
        for _ in range(n)
    )


def _combining(rng: random.Random, n: int) -> str:
    return "".join(
        rng.choice("aeiouAEIOUnc") + _chars(rng, 0x0300, 0x036F, rng.randint(1, 3))
        for _ in range(n)
    )


def _rtl(rng: random.Random, n: int) -> str:
    marks = ["\u200f", "\u202b", "\u202e", "\u202c", "\u2067", "\u2069"]
    parts = [
        _chars(rng, 0x05D0, 0x05EA, n),  # Hebrew
        _chars(rng, 0x0627, 0x064A, n),  # Arabic
        rng.choice(marks),
    ]
    rng.shuffle(parts)
    return "".join(parts)


def _spaces(rng: random.Random, n: int) -> str:
    return "".join(rng.choice([" ", " ", "a", "\u00a0", "\u3000", "\u2009"]) for _ in range(n))


RESERVED = "*~+/=&%?#;,:@!'()[] "


def _reserved(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(RESERVED + '"<>{}|\\^`$') for _ in range(n))


def _percent_lookalike(rng: random.Random, n: int) -> str:
    return "".join(
        rng.choice(["%2A", "%7E", "%20", "+", "%", "%%", "%25", "%E4%B8"]) for _ in range(n)
    )


def _control(rng: random.Random, n: int) -> str:
    return "".join(
        rng.choice([_chars(rng, 0x00, 0x1F, 1), "\x7f", _chars(rng, 0x80, 0x9F, 1), "\r\n"])
        for _ in range(n)
    )


def _ascii(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("abcXYZ0189-_.~") for _ in range(n))


def _any_bmp_or_astral(rng: random.Random, n: int) -> str:
    out: list[str] = []
    while len(out) < n:
        code = rng.choice(
            [rng.randint(0, 0x7FF), rng.randint(0x800, 0xFFFF), rng.randint(0x10000, 0x10FFFF)]
        )
        if not 0xD800 <= code <= 0xDFFF:  # lone surrogates: see the module docstring
            out.append(chr(code))
    return "".join(out)


VALUE_KINDS: dict[str, Callable[[random.Random, int], str]] = {
    "cjk": _cjk,
    "emoji": _emoji,
    "combining": _combining,
    "rtl": _rtl,
    "spaces": _spaces,
    "reserved": _reserved,
    "percent": _percent_lookalike,
    "control": _control,
    "ascii": _ascii,
    "any": _any_bmp_or_astral,
}


def _value(rng: random.Random, kinds: Counter[str]) -> str:
    roll = rng.random()
    if roll < 0.06:
        kinds["empty"] += 1
        return ""
    if roll < 0.09:
        kinds["long"] += 1
        kind = rng.choice(sorted(VALUE_KINDS))
        chunk = VALUE_KINDS[kind](rng, 250)  # repeated: cheap to build, same 10k length
        return (chunk * (LONG // len(chunk) + 1))[:LONG]
    if roll < 0.25:
        picked = rng.sample(sorted(VALUE_KINDS), 3)
        kinds["mixed"] += 1
        return "".join(VALUE_KINDS[k](rng, rng.randint(1, 6)) for k in picked)
    kind = rng.choice(sorted(VALUE_KINDS))
    kinds[kind] += 1
    return VALUE_KINDS[kind](rng, rng.randint(1, 24))


COMMON = {
    "Action": "CreateReplicationJob",
    "Version": "2019-06-01",
    "Format": "JSON",
    "AccessKeyId": "LTAI5tXXXXXXXXXXXXXXXXXX",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureVersion": "1.0",
}
SMC_NAMES = [
    "Name",
    "Description",
    "SourceId",
    "RegionId",
    "ZoneId",
    "TargetType",
    "ImageName",
    "InstanceType",
    "ReplicationParameters",
    "ClientToken",
    "Tag.1.Key",
    "Tag.1.Value",
    "SystemDiskSize",
    "Frequency",
]
CASE_KEYS = ["a", "A", "Z", "b", "z", "B", "aa", "Aa", "aA", "_", "0", "-", "~", "."]


@dataclass
class Case:
    index: int
    method: str
    secret: str
    params: dict[str, str]
    features: set[str] = field(default_factory=set)


def generate_cases(seed: int = SEED, n: int = N_CASES) -> tuple[list[Case], Counter[str]]:
    """Deterministic corpus; tests share one copy through :func:`corpus`."""
    rng = random.Random(seed)
    kinds: Counter[str] = Counter()
    cases = []
    for i in range(n):
        features: set[str] = set()
        params: dict[str, str] = {}
        if rng.random() < 0.6:
            params |= COMMON
            params["SignatureNonce"] = f"{rng.getrandbits(128):032x}"
            params["Timestamp"] = f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T12:00:00Z"
            if rng.random() < 0.3:
                params["SecurityToken"] = "CAIS" + "".join(
                    rng.choice("ABCxyz019+/=") for _ in range(rng.randint(100, 400))
                )
        if i % 5 == 0:  # Key.N lists: JobId.1 < JobId.10 < JobId.2
            features.add("key-n")
            for j in [*rng.sample(range(1, 25), rng.randint(3, 12)), 1, 2, 10]:
                params[f"JobId.{j}"] = _value(rng, kinds)
            for j in rng.sample(range(1, 13), rng.randint(1, 4)):
                params[f"DataDisk.{j}.Index"] = str(j)
                params[f"DataDisk.{j}.Size"] = _value(rng, kinds)
        if i % 5 == 1:  # case-ordered names: A < Z < a < b
            features.add("case-keys")
            picked = rng.sample(CASE_KEYS, rng.randint(4, len(CASE_KEYS)))
            for key in [*picked, "a", "A", "Z", "b"]:
                params[key] = _value(rng, kinds)
        for key in rng.sample(SMC_NAMES, rng.randint(0 if params else 1, 8)):
            params[key] = _value(rng, kinds)
        secret = rng.choice(
            ["testsecret", "", "s3cr3t/with+base64=", "\u5bc6\u94a5", _ascii(rng, 30)]
        )
        method = "GET" if i % 2 == 0 else "POST"
        cases.append(Case(i, method, secret, params, features))
    return cases, kinds


@functools.cache
def corpus() -> tuple[list[Case], Counter[str]]:
    return generate_cases()


def _short(value: str) -> str:
    return repr(value) if len(value) <= 120 else f"{value[:60]!r}... ({len(value)} chars)"


def _describe(case: Case, oracle: str, expected: str, actual: str) -> str:
    params = "\n".join(f"    {k!r}: {_short(v)}," for k, v in case.params.items())
    return (
        f"case #{case.index} (seed {SEED}) {case.method} secret={case.secret!r}\n"
        f"  params = {{\n{params}\n  }}\n"
        f"  {oracle}: {expected}\n  sign_rpc_v1: {actual}"
    )


def _iter_mismatches(cases: list[Case], oracles: list[Oracle]) -> Iterator[str]:
    for case in cases:
        ours = signing.sign_rpc_v1(case.method, case.params, case.secret)
        for oracle in oracles:
            theirs = oracle(case.params, case.method, case.secret)
            if ours != theirs:
                yield _describe(case, oracle.name, theirs, ours)


# --- tests -----------------------------------------------------------------------------


def test_generated_corpus_covers_what_it_claims() -> None:
    cases, kinds = corpus()
    again, _ = generate_cases()
    assert len(cases) == N_CASES >= 300
    assert [c.params for c in cases] == [c.params for c in again]  # deterministic
    assert sum(c.method == "GET" for c in cases) >= 150
    assert sum(c.method == "POST" for c in cases) >= 150
    assert sum("key-n" in c.features for c in cases) >= 50
    assert sum("case-keys" in c.features for c in cases) >= 50
    assert sum("SecurityToken" in c.params for c in cases) >= 20
    for kind in [*VALUE_KINDS, "empty", "long", "mixed"]:
        assert kinds[kind] >= 10, kind
    values = [v for c in cases for v in c.params.values()]
    assert sum(len(v) == LONG for v in values) >= 10
    for needle in ["*", "~", "+", "/", "=", "&", "%", "?", "#", ";", ",", ":", "@", "!"]:
        assert any(needle in v for v in values), needle
    for needle in ["'", "(", ")", "[", "]", " ", "\x00", "\x7f", "\u0301", "\u05d0"]:
        assert any(needle in v for v in values), repr(needle)
    assert any(any(ord(ch) > 0xFFFF for ch in v) for v in values)  # astral (emoji, CJK ext B)
    # The orderings the SDKs' sort produces and ours must reproduce.
    key_n = next(c for c in cases if "key-n" in c.features)
    keys = sorted(key_n.params)
    assert keys.index("JobId.1") < keys.index("JobId.10") < keys.index("JobId.2")
    case_keys = next(c for c in cases if "case-keys" in c.features)
    keys = sorted(case_keys.params)
    assert keys.index("A") < keys.index("Z") < keys.index("a") < keys.index("b")


def test_sign_rpc_v1_matches_every_official_sdk_on_generated_corpus() -> None:
    cases, _ = corpus()
    oracles = _oracles()
    assert {o.name for o in oracles} >= {
        "alibabacloud_openapi_util",
        "aliyunsdkcore.rpc_signature_composer",
    }
    mismatches = list(_iter_mismatches(cases, oracles))
    # Every oracle really ran on every case.
    assert [o.calls for o in oracles] == [N_CASES] * len(oracles)
    assert not mismatches, (
        f"{len(mismatches)} mismatches out of {N_CASES * len(oracles)} comparisons; first ones:\n"
        + "\n\n".join(mismatches[:3])
    )
    # Not vacuous: the signatures really depend on the inputs.
    sigs = {signing.sign_rpc_v1(c.method, c.params, c.secret) for c in cases}
    assert len(sigs) == N_CASES


def test_signed_query_agrees_with_the_sdk_signature() -> None:
    # signed_query() is the request body the client sends: the canonical query with the
    # SDK-identical Signature appended, percent-encoded.
    cases = corpus()[0][:120]
    oracle = _oracles()[0]
    for case in cases:
        expected_sig = oracle(case.params, case.method, case.secret)
        body = signing.signed_query(case.method, case.params, case.secret)
        assert body == (
            f"{signing.canonical_query(case.params)}&Signature={quote(expected_sig, safe='')}"
        ), _describe(case, oracle.name, expected_sig, body[-40:])
    assert oracle.calls == 120


def test_oracles_reproduce_the_published_vector() -> None:
    # Guards the oracle wiring itself (SMC_API.md section 0.6).
    params = {
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
    for oracle in _oracles():
        assert oracle(params, "GET", "testsecret") == "P3jSWo6lDY03RV9VHEIK72L2C9Y=", oracle.name
        assert oracle(params, "POST", "testsecret") == "8hNKPlWWm2TsdRzhAh8wtKZWmGQ=", oracle.name
    assert signing.sign_rpc_v1("GET", params, "testsecret") == "P3jSWo6lDY03RV9VHEIK72L2C9Y="
    assert signing.sign_rpc_v1("POST", params, "testsecret") == "8hNKPlWWm2TsdRzhAh8wtKZWmGQ="


@pytest.mark.parametrize("bad", ["\ud800", "ok\udfff", "\udc80abc"])
@pytest.mark.parametrize("where", ["name", "value", "secret"])
def test_lone_surrogates_fail_like_the_sdk(bad: str, where: str) -> None:
    params = {"Action": "X", **({bad: "v"} if where == "name" else {"Name": bad})}
    secret = bad if where == "secret" else "s"
    for oracle in _oracles():
        with pytest.raises(UnicodeEncodeError):
            oracle(params, "GET", secret)
    with pytest.raises(UnicodeEncodeError):
        signing.sign_rpc_v1("GET", params, secret)


# --- hypothesis ------------------------------------------------------------------------

# Any code point UTF-8 can encode, i.e. everything but lone surrogates (see docstring).
_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
# Names as SMC uses them: the RFC 3986 unreserved set (letters, digits, "-_.~").
_NAMES = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"),
    min_size=1,
    max_size=20,
)
_PROPERTY_SETTINGS = settings(
    max_examples=300, derandomize=True, database=None, deadline=None, print_blob=False
)
_OPENAPI_UTIL = Oracle("alibabacloud_openapi_util", _openapi_util())


@_PROPERTY_SETTINGS
@given(
    params=st.dictionaries(_NAMES, _TEXT, max_size=16),
    method=st.sampled_from(["GET", "POST"]),
    secret=_TEXT,
)
def test_property_arbitrary_values_match_openapi_util(
    params: dict[str, str], method: str, secret: str
) -> None:
    before = _OPENAPI_UTIL.calls
    expected = _OPENAPI_UTIL(params, method, secret)
    assert _OPENAPI_UTIL.calls == before + 1
    assert signing.sign_rpc_v1(method, params, secret) == expected, (method, params, secret)


# Arbitrary NAMES too: SMC never sends names outside the unreserved set, but the
# contract covers every input (a "%" from an encoded name must become "%25").
@_PROPERTY_SETTINGS
@given(
    params=st.dictionaries(_TEXT, _TEXT, max_size=16),
    method=st.sampled_from(["GET", "POST"]),
    secret=_TEXT,
)
def test_property_arbitrary_names_match_openapi_util(
    params: dict[str, str], method: str, secret: str
) -> None:
    expected = _OPENAPI_UTIL(params, method, secret)
    assert signing.sign_rpc_v1(method, params, secret) == expected, (method, params, secret)


# ASCII requests take the one-pass path (the whole query escaped at once, with the bytes
# 0x00 and 0x01 standing for "=" and "&"): those bytes themselves, "%" and every other
# reserved character must come out as the SDK encodes them.
_ASCII_TEXT = st.text(alphabet=st.characters(max_codepoint=127), max_size=40)


@_PROPERTY_SETTINGS
@given(params=st.dictionaries(_NAMES, _ASCII_TEXT, max_size=16), secret=_TEXT)
def test_property_ascii_values_match_openapi_util(params: dict[str, str], secret: str) -> None:
    expected = _OPENAPI_UTIL(params, "POST", secret)
    assert signing.sign_rpc_v1("POST", params, secret) == expected, params


@pytest.mark.parametrize(
    "values",
    [
        ["a\x00b", "c"],
        ["\x01", ""],
        ["%00", "\x00%\x01"],
        ["", ""],
        ["plain", "caf\u00e9 \x00"],
    ],
)
def test_values_holding_the_marker_bytes(values: list[str]) -> None:
    params = {f"P{i}": value for i, value in enumerate(values)}
    assert signing.sign_rpc_v1("GET", params, "s") == _OPENAPI_UTIL(params, "GET", "s")
    assert signing.canonical_query(params) == "&".join(
        f"P{i}={quote(value, safe='')}" for i, value in enumerate(values)
    )


@pytest.mark.parametrize("name", ["Tag Key", "\u540d\u524d", "a%b", "a*b", "k=v", "a&b"])
def test_names_outside_the_unreserved_set(name: str) -> None:
    params = {"Action": "DescribeSourceServers", name: "value"}
    for oracle in _oracles():
        assert signing.sign_rpc_v1("GET", params, "s") == oracle(params, "GET", "s"), oracle.name
