"""The REST listening socket: a TCP socket with Nagle off (keep-alive answers not delayed)."""

from __future__ import annotations

import socket

from gateway.serve import _bind


def test_rest_socket_is_tcp_with_nodelay() -> None:
    sock = _bind("127.0.0.1", 0)
    try:
        # asyncio sets TCP_NODELAY on accepted connections only when proto is IPPROTO_TCP.
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        with socket.create_connection(sock.getsockname()) as client:
            sock.setblocking(True)
            accepted, _ = sock.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP
                assert client.fileno() >= 0
    finally:
        sock.close()
