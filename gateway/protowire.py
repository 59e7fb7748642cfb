"""Protobuf's wire format, the two pieces written by hand here.

Used where bytes are cheaper to join than messages to build: OTLP export
(:mod:`gateway.observability.otlp`) and the kept conversions' page frames
(:mod:`gateway.core.from_wire`).
"""

from __future__ import annotations

__all__ = ["field", "varint"]


def varint(value: int) -> bytes:
    """A non-negative integer as a base-128 varint."""
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field (string, bytes, message) with a one-byte tag."""
    return bytes((tag,)) + varint(len(payload)) + payload
