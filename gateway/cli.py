"""The ``smc-gateway`` command.

Subcommands:

* ``emulator``: serve the SMC emulator (``gateway/emulator``).
* ``serve``: the gateway: gRPC and REST front ends over the SMC API (``gateway/serve.py``).
* ``call``: sign and send one SMC call (``gateway/smc/cli.py``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, Literal, get_args, get_origin

from pydantic import ValidationError

from gateway import __version__, serve, workers
from gateway.config import Settings, flag_of
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
    serve = commands.add_parser(
        "serve",
        help="serve the gateway (gRPC + REST); with no configuration, over an embedded emulator",
        description=(
            "Serve the SMC gateway. Settings come from these flags, then SMC_GATEWAY_* "
            "environment variables, then --config FILE (YAML)."
        ),
    )
    _serve_arguments(serve)
    serve.set_defaults(handler=_run_serve)
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


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting that has one (``Settings`` declares them), help from its text."""
    for name, field in Settings.model_fields.items():
        flag = flag_of(name)
        if flag is None:
            continue
        kwargs: dict[str, Any] = {"dest": name, "help": field.description}
        if field.annotation is int:
            kwargs["type"] = int
        if name == "cors_allow_origins":
            kwargs |= {"action": "append", "metavar": "ORIGIN"}
        if get_origin(field.annotation) is Literal:
            kwargs["choices"] = list(get_args(field.annotation))
        parser.add_argument(flag, **kwargs)


def _run_serve(args: argparse.Namespace) -> int:
    flags = {name: getattr(args, name) for name in Settings.model_fields if flag_of(name)}
    try:
        settings = Settings.load(flags)
    except (ValueError, ValidationError) as error:
        print(f"smc-gateway serve: invalid configuration: {error}", file=sys.stderr)
        return 2
    if settings.workers > 1:
        return workers.run_workers(settings)
    return serve.run(settings)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status
