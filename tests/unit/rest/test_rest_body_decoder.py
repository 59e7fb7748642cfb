"""Request bodies: the one-call path for plain bodies gives what ``json_format`` gives.

``MessageDecoder.from_body`` builds a body of plain fields (strings, in-range integers,
booleans, enum names) with one constructor call and hands every other body to
``json_format.ParseDict``; these tests hold the first to the second, message for message
and refusal for refusal.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.errors import InvalidArgumentError
from gateway.core.methods import METHODS
from gateway.rest import jsonmap
from gateway.rest.jsonmap import MessageDecoder

BODY_TYPES = sorted(
    {m.request_type for m in METHODS if m.http_body == "*"}, key=lambda t: t.DESCRIPTOR.full_name
)


def _reference(message_type: type[Message], body: bytes) -> Message:
    """The body read by ``json_format`` alone, as ``from_body`` did before its plain path."""
    value = jsonmap.decode_json_object(body)
    message = message_type()
    descriptor = jsonmap.descriptor_of(message_type)
    try:
        json_format.ParseDict(value, message, ignore_unknown_fields=False)
    except jsonmap._PARSE_FAILURES:
        raise jsonmap._locate(value, descriptor, "") from None
    jsonmap._reject_aliases(value, descriptor, "")
    return message


def _keys(message_type: type[Message]) -> list[str]:
    fields = jsonmap.descriptor_of(message_type).fields
    return [*sorted({k for f in fields for k in (f.name, f.json_name)}), "unknownField"]


def _enum_names(message_type: type[Message]) -> list[str]:
    return [
        value.name
        for field in jsonmap.descriptor_of(message_type).fields
        if field.type == FieldDescriptor.TYPE_ENUM
        for value in jsonmap.enum_of(field).values
    ]


_VALUES = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="ascii"), max_size=12),
    st.sampled_from(["\ud800", "s-abc123", "i-1", "vpc-1", "cn-hangzhou", "40", "1e3", " 7"]),
    st.integers(min_value=-(2**65), max_value=2**65),
    st.sampled_from([0, 1, 20, 500, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63, 2**64]),
    st.booleans(),
    st.floats(allow_nan=False),
    st.sampled_from([40.0, 1.5, None]),
    st.lists(st.integers(0, 100), max_size=2),
    st.dictionaries(st.sampled_from(["index", "size", "x"]), st.integers(0, 600), max_size=2),
)


@st.composite
def _bodies(draw: st.DrawFn) -> tuple[type[Message], dict[str, Any]]:
    message_type = draw(st.sampled_from(BODY_TYPES))
    values = st.one_of(_VALUES, st.sampled_from(_enum_names(message_type) or ["NONE"]))
    body = draw(st.dictionaries(st.sampled_from(_keys(message_type)), values, max_size=6))
    return message_type, body


def _outcome(read: Any, *args: Any) -> tuple[str, object]:
    try:
        return "message", read(*args)
    except InvalidArgumentError as error:
        return "refused", (error.reason, error.message, error.field_violations)


@settings(max_examples=1500, deadline=None)
@given(_bodies())
def test_from_body_reads_as_json_format_does(case: tuple[type[Message], dict[str, Any]]) -> None:
    message_type, body = case
    decoder = MessageDecoder.for_message(message_type, ())
    encoded = json.dumps(body).encode()
    reference = _outcome(_reference, message_type, encoded)
    plain = decoder._from_plain_values(body)
    if plain is not None:
        assert reference == ("message", plain)
    assert _outcome(decoder.from_body, encoded, {}) == reference


@pytest.mark.parametrize(
    ("body", "plain"),
    [
        ({"sourceId": "s-abc123", "systemDiskSize": 40}, True),
        ({"source_id": "s-abc123", "system_disk_size": 40, "netMode": "VPC"}, None),
        ({"sourceId": "s-abc123", "source_id": "s-abc123"}, False),  # two names: refused
        ({"sourceId": "s-abc123", "systemDiskSize": "40"}, False),  # a string for a number
        ({"sourceId": "s-abc123", "systemDiskSize": 40.0}, False),
        ({"sourceId": "s-abc123", "name": "café"}, False),  # non-ASCII text
        ({"sourceId": "s-abc123", "systemDiskSize": True}, False),
        ({"sourceId": "s-abc123", "dataDisks": [{"index": 1, "size": 100}]}, False),
    ],
)
def test_which_bodies_take_the_plain_path(body: dict[str, Any], plain: bool | None) -> None:
    create = next(m for m in METHODS if m.name == "CreateReplicationJob")
    decoder = MessageDecoder.for_message(create.request_type, ())
    built = decoder._from_plain_values(body)
    if plain is None:  # depends on the enum: NetMode has a value named VPC
        plain = "VPC" in _enum_names(create.request_type)
    assert (built is not None) == plain
    if built is not None:
        assert built == _reference(create.request_type, json.dumps(body).encode())


def test_a_body_may_only_repeat_the_path() -> None:
    start = next(m for m in METHODS if m.name == "StartReplicationJob")
    decoder = MessageDecoder.for_message(start.request_type, ("job_id",))
    assert decoder.from_body(b'{"jobId": "j-1"}', {"job_id": "j-1"}) == start.request_type(
        job_id="j-1"
    )
    with pytest.raises(InvalidArgumentError) as refused:
        decoder.from_body(b'{"jobId": "j-2"}', {"job_id": "j-1"})
    assert refused.value.reason == "PATH_BODY_CONFLICT"
