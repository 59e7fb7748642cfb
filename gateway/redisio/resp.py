"""RESP2, the Redis wire protocol: commands out, replies in (incrementally).

Only what the gateway's scripts need: commands are arrays of bulk strings; replies are
simple strings, errors, integers, bulk strings (``None`` for nil) and arrays of those.
A malformed reply raises :class:`ProtocolError` (the connection is then closed: nothing
after a framing error can be trusted).
"""

from __future__ import annotations

__all__ = [
    "Incomplete",
    "ProtocolError",
    "RedisIOError",
    "Reply",
    "ReplyError",
    "encode_command",
    "parse_reply",
]

Reply = bytes | int | None | list["Reply"]

# Replies a script of ours can send are a few kB; anything near this is a broken stream.
_MAX_LENGTH = 512 * 1024 * 1024
_MAX_DEPTH = 32
_SIMPLE, _ERROR, _INTEGER, _BULK, _ARRAY = b"+-:$*"  # the first byte of each reply kind
_KINDS = frozenset(b"+-:$*")


class RedisIOError(Exception):
    """Base of every failure talking to Redis through :mod:`gateway.redisio`."""


class ProtocolError(RedisIOError):
    """The server sent something that is not RESP2."""


class ReplyError(RedisIOError):
    """The server answered a command with an error (``-ERR ...``, ``-NOSCRIPT ...``)."""

    @property
    def code(self) -> str:
        """The error's first word: ``ERR``, ``NOSCRIPT``, ``WRONGPASS``..."""
        return str(self).split(" ", 1)[0]


class Incomplete(Exception):  # noqa: N818 - a signal, not a failure
    """The buffer ends inside a reply: wait for more bytes."""


def _as_bytes(arg: bytes | str | int) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode()
    if isinstance(arg, int) and not isinstance(arg, bool):
        return b"%d" % arg
    raise TypeError(f"a command argument must be bytes, str or int, not {type(arg).__name__}")


def encode_command(*args: bytes | str | int) -> bytes:
    """One command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = _as_bytes(arg)
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


def _line(buffer: bytes | bytearray, start: int) -> tuple[bytes, int]:
    end = buffer.find(b"\r\n", start)
    if end < 0:
        raise Incomplete
    return bytes(buffer[start:end]), end + 2


def _integer(text: bytes) -> int:
    # int() alone would accept "+1", " 1" or "1_0"; RESP integers are plain decimals.
    body = text[1:] if text[:1] == b"-" else text
    if not body.isdigit() or not body.isascii():
        raise ProtocolError(f"not a RESP integer: {text[:40]!r}")
    return int(text)


def parse_reply(
    buffer: bytes | bytearray, start: int = 0, depth: int = 0
) -> tuple[Reply | ReplyError, int]:
    """The reply beginning at ``start`` and the offset just after it.

    Raises :class:`Incomplete` if the buffer ends first, :class:`ProtocolError` if the
    bytes are not RESP2.  An error reply is returned (not raised) as :class:`ReplyError`:
    it answers one command, the stream goes on.
    """
    if depth > _MAX_DEPTH:
        raise ProtocolError("reply nested too deep")
    if start >= len(buffer):
        raise Incomplete
    kind = buffer[start]
    if kind not in _KINDS:
        raise ProtocolError(f"unknown reply type {bytes([kind])!r}")
    line, after = _line(buffer, start + 1)
    if kind == _SIMPLE:
        return line, after
    if kind == _ERROR:
        return ReplyError(line.decode("utf-8", "replace")), after
    if kind == _INTEGER:
        return _integer(line), after
    if kind == _BULK:
        return _bulk(buffer, _integer(line), after)
    return _array(buffer, _integer(line), after, depth)


def _bulk(buffer: bytes | bytearray, length: int, start: int) -> tuple[bytes | None, int]:
    if length == -1:
        return None, start
    if not 0 <= length <= _MAX_LENGTH:
        raise ProtocolError(f"bad bulk length {length}")
    end = start + length
    if len(buffer) < end + 2:
        raise Incomplete
    if buffer[end : end + 2] != b"\r\n":
        raise ProtocolError("bulk string not followed by CRLF")
    return bytes(buffer[start:end]), end + 2


def _array(
    buffer: bytes | bytearray, count: int, start: int, depth: int
) -> tuple[list[Reply] | None, int]:
    if count == -1:
        return None, start
    if not 0 <= count <= _MAX_LENGTH:
        raise ProtocolError(f"bad array length {count}")
    items: list[Reply] = []
    for _ in range(count):
        item, start = parse_reply(buffer, start, depth + 1)
        if isinstance(item, ReplyError):
            # Only EXEC replies nest errors; no command of ours gets one.
            raise ProtocolError(f"error inside an array: {item}")
        items.append(item)
    return items, start
