"""The ``smc-gateway`` command.

Subcommands:

* ``emulator``: serve the SMC emulator (``gateway/emulator``).
* ``call``: sign and send one SMC call (``gateway/smc/cli.py``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from gateway import __version__
from gateway.emulator import cli as emulator_cli
from gateway.smc import cli as smc_cli

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smc-gateway",
        description="gRPC and REST gateway for Alibaba Cloud Server Migration Center (SMC).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    emulator = commands.add_parser(
        "emulator",
        help="serve the SMC emulator (SMC's RPC wire protocol, no Alibaba account needed)",
        description="Serve an SMC (2019-06-01) emulator over HTTP.",
    )
    emulator_cli.add_arguments(emulator)
    emulator.set_defaults(handler=emulator_cli.run)
    call = commands.add_parser(
        "call",
        help="sign and send one SMC call (credentials from ALIBABA_CLOUD_ACCESS_KEY_* variables)",
        description="Sign and send one SMC RPC call; print SMC's JSON answer.",
    )
    smc_cli.add_arguments(call)
    call.set_defaults(handler=smc_cli.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status
