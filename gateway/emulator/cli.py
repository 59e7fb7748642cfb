"""``smc-gateway emulator``: serve the SMC emulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from gateway.emulator.accounts import Account
from gateway.emulator.server import Emulator, EmulatorConfig
from gateway.emulator.statemachine import ProgressionMode

__all__ = ["add_arguments", "parse_account", "run"]


def parse_account(text: str) -> Account:
    """``AK_ID:AK_SECRET[:STS_TOKEN]`` → an :class:`Account` (argparse ``type``)."""
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1] or (len(parts) == 3 and not parts[2]):
        raise argparse.ArgumentTypeError("expected AK_ID:AK_SECRET[:STS_TOKEN]")
    return Account(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser`` (the ``emulator`` subcommand)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=9100, help="port, 0 = any free (default %(default)s)"
    )
    parser.add_argument(
        "--account",
        action="append",
        type=parse_account,
        default=[],
        metavar="AK_ID:AK_SECRET[:STS_TOKEN]",
        help="an accepted AccessKey pair (repeatable); none = one generated demo account",
    )
    parser.add_argument("--seed", metavar="FILE", help="JSON seed file of sources (see README)")
    parser.add_argument(
        "--progression",
        choices=[m.value for m in ProgressionMode],
        default=ProgressionMode.IMMEDIATE.value,
        help="how started jobs move (default %(default)s)",
    )
    parser.add_argument(
        "--job-seconds",
        type=_positive,
        default=60.0,
        metavar="N",
        help="duration of a whole run with --progression time (default %(default)s)",
    )
    parser.add_argument(
        "--job-quota", type=int, default=100, help="jobs per account (default %(default)s)"
    )
    parser.add_argument("--random-seed", type=int, default=None, help="make IDs reproducible")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; 0 on a clean stop, 2 on a bad configuration."""
    try:
        config = EmulatorConfig(
            host=args.host,
            port=args.port,
            accounts=list(args.account),
            seed_file=args.seed,
            progression=args.progression,
            job_seconds=args.job_seconds,
            job_quota=args.job_quota,
            random_seed=args.random_seed,
        )
        emulator = Emulator(config)
    except ValueError as error:
        print(f"smc-gateway emulator: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(emulator))
    except OSError as error:
        print(f"smc-gateway emulator: cannot listen: {error}", file=sys.stderr)
        return 1
    return 0


async def _serve(emulator: Emulator) -> None:
    await emulator.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"SMC emulator listening on {emulator.url}", flush=True)
    account = emulator.demo_account
    if account is not None:
        print(f"Demo AccessKeyId:     {account.access_key_id}", flush=True)
        print(f"Demo AccessKeySecret: {account.access_key_secret}", flush=True)
        print(
            "Try it (signed with the demo AccessKey):\n"
            f"  ALIBABA_CLOUD_ACCESS_KEY_ID={account.access_key_id} "
            f"ALIBABA_CLOUD_ACCESS_KEY_SECRET={account.access_key_secret} "
            f"{sys.executable} -m gateway call --endpoint {emulator.url} "
            "DescribeSourceServers PageSize=5",
            flush=True,
        )
    try:
        await stop.wait()
    finally:
        await emulator.stop()
