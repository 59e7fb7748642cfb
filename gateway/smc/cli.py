"""``smc-gateway call``: sign and send one SMC call from the shell.

Credentials come from the standard Alibaba Cloud environment variables, never
from arguments (which other users can read in the process list)::

    ALIBABA_CLOUD_ACCESS_KEY_ID=... ALIBABA_CLOUD_ACCESS_KEY_SECRET=... \\
        smc-gateway call --endpoint http://127.0.0.1:9100 DescribeSourceServers PageSize=5

Prints SMC's JSON answer; an SMC error goes to stderr as JSON with exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping

from gateway.smc.client import SmcClient
from gateway.smc.credentials import Credentials
from gateway.smc.errors import SmcApiError, SmcError
from gateway.smc.wire import DEFAULT_ENDPOINT

__all__ = [
    "ENV_ACCESS_KEY_ID",
    "ENV_ACCESS_KEY_SECRET",
    "ENV_SECURITY_TOKEN",
    "add_arguments",
    "run",
]

ENV_ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"  # noqa: S105 - a variable's name
ENV_SECURITY_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"  # noqa: S105 - a variable's name


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        default=DEFAULT_ENDPOINT,
        help=f"SMC endpoint URL (default {DEFAULT_ENDPOINT})",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds, retries included")
    parser.add_argument("action", help="SMC Action, e.g. DescribeSourceServers")
    parser.add_argument(
        "parameters",
        nargs="*",
        type=_parameter,
        metavar="NAME=VALUE",
        help="operation parameters in wire form, e.g. SourceId.1=s-xxx DataDisk.1.Size=100",
    )


def credentials_from_env(env: Mapping[str, str]) -> Credentials:
    """Credentials from the standard variables; ``ValueError`` names a missing one."""
    for name in (ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET):
        if not env.get(name):
            raise ValueError(f"{name} is not set")
    return Credentials(
        env[ENV_ACCESS_KEY_ID], env[ENV_ACCESS_KEY_SECRET], env.get(ENV_SECURITY_TOKEN) or None
    )


async def _call(args: argparse.Namespace, credentials: Credentials) -> int:
    async with SmcClient(args.endpoint, default_timeout=args.timeout) as client:
        try:
            answer = await client.call_raw(args.action, dict(args.parameters), credentials)
        except SmcApiError as error:
            failure = {
                "Code": error.code,
                "Message": error.message,
                "RequestId": error.request_id,
                "HttpStatus": error.http_status,
            }
            print(json.dumps(failure, indent=2), file=sys.stderr)
            return 1
        except SmcError as error:
            print(f"smc-gateway call: {error}", file=sys.stderr)
            return 1
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        credentials = credentials_from_env(os.environ)
    except ValueError as error:
        print(f"smc-gateway call: {error}", file=sys.stderr)
        return 2
    return asyncio.run(_call(args, credentials))
