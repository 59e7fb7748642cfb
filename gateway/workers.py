"""``smc-gateway serve --workers N``: N gateway processes on the same two ports.

One Python process runs one event loop on one core; on a machine with more cores the
gateway scales by processes.  On Kubernetes that is replicas (one process per pod); on a
VM or for a benchmark it is this launcher.  Each worker is a whole gateway
(:func:`gateway.serve.run`) whose sockets set ``SO_REUSEPORT``, so the kernel spreads new
connections across them.  What the workers must agree on is fixed here, before they start:

* the ports (a free one is chosen here when 0 is asked for);
* the page-token key (random per launch when unset), so a page token issued by one worker
  is accepted by the others.

Rate limits and idempotency records are per worker unless ``redis_url`` is set (then they
are shared, as between replicas); a warning says so.  The embedded emulator would be one per
worker, so ``smc_endpoint`` is required.

The launcher forwards SIGTERM/SIGINT to the workers, which drain as a single process does,
and exits when they have; if a worker dies on its own the others are stopped and the exit
status is 1, so the supervisor (systemd, Kubernetes) restarts the whole set.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import secrets
import signal
import socket
import sys
from multiprocessing.connection import Connection
from types import FrameType

from pydantic import SecretStr

from gateway import serve
from gateway.config import Settings
from gateway.observability import configure_logging

__all__ = ["run_workers", "shared_settings"]

log = logging.getLogger("smc_gateway")

_START_SECONDS = 60.0


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def shared_settings(settings: Settings) -> Settings:
    """The settings every worker gets: fixed ports and one page-token key."""
    update: dict[str, object] = {}
    if settings.grpc_port == 0:
        update["grpc_port"] = _free_port(settings.host)
    if settings.http_port == 0:
        update["http_port"] = _free_port(settings.host)
    if settings.page_token_key is None:
        update["page_token_key"] = SecretStr(secrets.token_urlsafe(32))
    return settings.model_copy(update=update)


def _worker(settings: Settings, banner: Connection) -> None:
    """A worker process: the gateway, its banner sent to the launcher once serving."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the launcher stops workers with SIGTERM
    status = serve.run(settings, announce=banner.send)
    banner.close()
    sys.exit(status)


def run_workers(settings: Settings) -> int:
    """Start ``settings.workers`` gateway processes and supervise them; the exit status."""
    configure_logging(settings.log_level)
    if settings.smc_endpoint is None:
        print(
            "smc-gateway serve: --workers above 1 needs smc_endpoint "
            "(the embedded emulator would be one per worker)",
            file=sys.stderr,
        )
        return 2
    if settings.redis_url is None:
        log.warning(
            "%d workers without redis_url: each keeps its own rate limits and idempotency "
            "records; set redis_url to share them",
            settings.workers,
        )
    shared = shared_settings(settings)
    spawn = multiprocessing.get_context("spawn")  # no inherited loops, threads or sockets
    workers: list[multiprocessing.process.BaseProcess] = []
    banners: list[Connection] = []
    for index in range(shared.workers):
        receiver, sender = spawn.Pipe(duplex=False)
        process = spawn.Process(
            target=_worker, args=(shared, sender), name=f"smc-gateway-worker-{index}"
        )
        process.start()
        sender.close()
        workers.append(process)
        banners.append(receiver)

    stopping = False

    def on_signal(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        _terminate(workers)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if not _await_banners(workers, banners) and not stopping:
        _terminate(workers, join=True)
        return 1
    while not stopping:
        ended = multiprocessing.connection.wait([w.sentinel for w in workers], timeout=1.0)
        if ended and not stopping:
            log.error("a worker exited on its own; stopping the others")
            _terminate(workers, join=True)
            return 1
    for worker in workers:  # already sent SIGTERM: a second one could cut the drain short
        worker.join()
    return 0 if all(w.exitcode == 0 for w in workers) else 1


def _terminate(workers: list[multiprocessing.process.BaseProcess], *, join: bool = False) -> None:
    """SIGTERM to the live workers (each drains as a single gateway does); then wait."""
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    if join:
        for worker in workers:
            worker.join()


def _await_banners(
    workers: list[multiprocessing.process.BaseProcess], banners: list[Connection]
) -> bool:
    """Wait until every worker serves; print the first banner.  False if one failed."""
    first: str | None = None
    for worker, receiver in zip(workers, banners, strict=True):
        if not receiver.poll(_START_SECONDS):
            return False
        try:
            text = receiver.recv()
        except EOFError:  # exited before serving (its error is on stderr)
            return False
        first = first if first is not None else str(text)
        receiver.close()
        if not worker.is_alive():
            return False
    print(f"{first}\nworkers: {len(workers)} processes share these ports", flush=True)
    return True
