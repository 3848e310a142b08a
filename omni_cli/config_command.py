"""`omni config show`: an environment's resolved configuration, each setting with where its value comes from.

The resolution and the sources are `infra.config_sources`; this module only parses and prints.
"""

from __future__ import annotations

import argparse
import json

from omni_cli.main import CliError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from infra.config import DEFAULT_ENV

    config = subparsers.add_parser("config", help="the resolved configuration of an environment")
    commands = config.add_subparsers(dest="config_command", required=True, metavar="CONFIG_COMMAND")
    show = commands.add_parser(
        "show",
        help="every setting of an environment, its value and where it comes from",
        description=(
            "Resolve an environment as `cdk synth -c env=ENV` does and print every setting with its source: "
            "`default` (infra/config.py), `cdk.json:context.<path>` (the environment sets it) or "
            "`-c maturity` (--maturity here)."
        ),
    )
    show.add_argument("--env", default=DEFAULT_ENV, help="environment from cdk.json (default: %(default)s)")
    show.add_argument("--maturity", default=None, help="the stage, as `-c maturity=N` gives it to cdk synth")
    show.add_argument("--json", action="store_true", help="print JSON: the environment and each setting's source")
    show.set_defaults(func=_show)


def _show(args: argparse.Namespace) -> int:
    from infra.config import ConfigError
    from infra.config_sources import resolve

    try:
        resolved = resolve(args.env, args.maturity)
    except ConfigError as error:
        raise CliError(str(error)) from None
    print(json.dumps(resolved.as_json(), indent=2) if args.json else resolved.as_text())
    return 0
