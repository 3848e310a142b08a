"""`omni`: the parser of every subcommand, and the one place a user-facing error becomes exit code 2.

Each subcommand module of this package exposes `register(subparsers)` and
imports its heavy dependencies inside its handlers, so `omni --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module defines `register(subparsers) -> None`, adding its parser with
# `set_defaults(func=handler)`; the handler returns an exit code.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "omni_cli.stages",
    "omni_cli.config_command",
    "omni_cli.flows",
    "omni_cli.mdm",
    "omni_cli.propensity",
    "omni_cli.events",
    "omni_cli.state",
    "omni_cli.sandbox",
    "omni_cli.lambda_command",
    "omni_cli.plan",
    "omni_cli.cost",
)


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omni",
        description="Omnichannel customer-experience platform: stages, flows, events, MDM, models, sandbox.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CliError as error:
        print(f"omni {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
