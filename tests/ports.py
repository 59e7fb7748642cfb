"""Loopback ports for tests of servers that are down."""

from __future__ import annotations

import socket

__all__ = ["closed_port"]


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
