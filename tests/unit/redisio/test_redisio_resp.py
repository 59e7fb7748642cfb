"""RESP2 framing: every reply kind, every split point, and malformed streams refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.redisio.resp import (
    Incomplete,
    ProtocolError,
    Reply,
    ReplyError,
    encode_command,
    parse_reply,
)


def _wire(reply: Reply) -> bytes:
    """How a server would send ``reply`` (arrays and bulk strings; ints as integers)."""
    if reply is None:
        return b"$-1\r\n"
    if isinstance(reply, int):
        return b":%d\r\n" % reply
    if isinstance(reply, bytes):
        return b"$%d\r\n%s\r\n" % (len(reply), reply)
    return b"*%d\r\n" % len(reply) + b"".join(_wire(item) for item in reply)


replies: st.SearchStrategy[Reply] = st.recursive(
    st.none() | st.integers(-(2**63), 2**63 - 1) | st.binary(max_size=20),
    lambda children: st.lists(children, max_size=4),
    max_leaves=12,
)


def test_commands_are_arrays_of_bulk_strings() -> None:
    assert encode_command("EVALSHA", b"ab\r\n", 2, -1) == (
        b"*4\r\n$7\r\nEVALSHA\r\n$4\r\nab\r\n\r\n$1\r\n2\r\n$2\r\n-1\r\n"
    )
    assert encode_command("K", "caf\u00e9") == b"*2\r\n$1\r\nK\r\n$5\r\ncaf\xc3\xa9\r\n"


@pytest.mark.parametrize("bad", [True, 1.5, None, ["x"]])
def test_arguments_other_than_bytes_str_int_are_refused(bad: object) -> None:
    with pytest.raises(TypeError, match="command argument"):
        encode_command("SET", "k", bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b"+OK\r\n", b"OK"),
        (b":-12\r\n", -12),
        (b"$0\r\n\r\n", b""),
        (b"$-1\r\n", None),
        (b"*-1\r\n", None),
        (b"*0\r\n", []),
        (b"*2\r\n:1\r\n*1\r\n$2\r\nab\r\n", [1, [b"ab"]]),
    ],
)
def test_each_reply_kind(wire: bytes, expected: Reply) -> None:
    assert parse_reply(wire) == (expected, len(wire))


def test_an_error_reply_is_returned_with_its_code() -> None:
    wire = b"-NOSCRIPT No matching script.\r\n+OK\r\n"
    reply, end = parse_reply(wire)
    assert isinstance(reply, ReplyError)
    assert reply.code == "NOSCRIPT"
    assert str(reply) == "NOSCRIPT No matching script."
    assert parse_reply(wire, end) == (b"OK", len(wire))  # the stream goes on


@settings(max_examples=300, deadline=None)
@given(st.lists(replies, min_size=1, max_size=4))
def test_a_stream_of_replies_reads_back_and_every_prefix_is_incomplete(
    stream: list[Reply],
) -> None:
    wire = b"".join(_wire(reply) for reply in stream)
    offset, read = 0, []
    while offset < len(wire):
        reply, offset = parse_reply(wire, offset)
        read.append(reply)
    assert read == stream
    first = len(_wire(stream[0]))
    for cut in range(first):
        with pytest.raises(Incomplete):
            parse_reply(wire[:cut])


@pytest.mark.parametrize(
    "wire",
    [
        b"!3\r\nabc\r\n",  # a RESP3 type
        b"hello\r\n",
        b":+1\r\n",
        b": 1\r\n",
        b":1_0\r\n",
        b":\r\n",
        b":\xd9\xa1\r\n",  # a non-ASCII digit
        b"$-2\r\n",
        b"$3\r\nabcd\r\n",  # bulk longer than announced
        b"$99999999999\r\n",
        b"*-5\r\n",
        b"*1\r\n-ERR inside\r\n",
        b"*1\r\n" * 40 + b":1\r\n",  # nested too deep
    ],
)
def test_malformed_replies_are_protocol_errors(wire: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_reply(wire)


def test_an_unknown_type_is_refused_before_its_line_ends() -> None:
    # Garbage without a line end must not be waited for.
    with pytest.raises(ProtocolError, match="unknown reply type"):
        parse_reply(b"garbage without end")
