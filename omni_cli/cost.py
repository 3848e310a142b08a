"""`omni cost`: the monthly cost of an environment's target stage at given volumes, line by line with sources.

The estimate itself is `infra.cost`; this module parses the volumes, synthesizes
the stage (or reads an assembly already synthesized) and prints.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

from omni_cli.main import CliError

VOLUME_OPTIONS = (
    ("--events-per-day", "customer events put on the stream per day"),
    ("--customers", "customers with a live state and a profile"),
    ("--api-calls-per-day", "profile and eligibility API calls per day"),
    ("--contacts-per-month", "contact-centre contacts per month"),
)


def register(subparsers: Any) -> None:
    from infra.config import DEFAULT_ENV
    from infra.cost import Volumes

    defaults = Volumes()
    cost = subparsers.add_parser(
        "cost",
        help="estimate the monthly cost of a stage at given volumes",
        description=(
            "Synthesize ENV at the target stage and price what it deploys at these volumes, one line per "
            "service and dimension, with the public pricing page of each (prices dated in infra/data/prices.json)."
        ),
    )
    cost.add_argument("--env", default=DEFAULT_ENV, help="environment from cdk.json (default: %(default)s)")
    cost.add_argument("--to-stage", default=None, help="the stage to estimate (default: the environment's)")
    for option, text in VOLUME_OPTIONS:
        attribute = option.removeprefix("--").replace("-", "_")
        # Parsed here, not by argparse, so a bad value is one line naming the option (exit 2 like every CLI error).
        cost.add_argument(option, default=None, help=f"{text} (default: {getattr(defaults, attribute):,.0f})")
    cost.add_argument(
        "--assembly", type=Path, default=None, help="read this synthesized cloud assembly instead of synthesizing"
    )
    cost.add_argument("--json", action="store_true", help="print JSON (lines, totals, assumptions)")
    cost.set_defaults(func=_cost)


def _volume(option: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise CliError(f"{option} = {raw!r}: must be a number, 0 or more") from None
    if not math.isfinite(value) or value < 0:
        raise CliError(f"{option} = {raw!r}: must be a number, 0 or more")
    return value


def volumes_from(args: argparse.Namespace) -> Any:
    from infra.cost import Volumes

    given = {}
    for option, _ in VOLUME_OPTIONS:
        attribute = option.removeprefix("--").replace("-", "_")
        raw = getattr(args, attribute)
        if raw is not None:
            given[attribute] = _volume(option, raw)
    return Volumes(**given)


def _cost(args: argparse.Namespace) -> int:
    from infra.assembly import AssemblyError, CloudAssembly
    from infra.config import ConfigError, config_for
    from infra.cost import CostError, PriceList, estimate
    from infra.errors import PlatformDefinitionError
    from infra.platform_app import synthesize

    volumes = volumes_from(args)
    try:
        config = config_for(args.env, args.to_stage)
        prices = PriceList.load(config.region)
    except (ConfigError, CostError) as error:
        raise CliError(str(error)) from None
    try:
        if args.assembly is not None:
            result = estimate(CloudAssembly.read(args.assembly), config, volumes, prices)
        else:
            with tempfile.TemporaryDirectory(prefix="omni-cost-") as outdir:
                print(
                    f"synthesizing {config.env_name} at stage {config.maturity.label}...", file=sys.stderr, flush=True
                )
                synthesize(config.env_name, config.maturity.value, outdir)
                result = estimate(CloudAssembly.read(Path(outdir)), config, volumes, prices)
    except (AssemblyError, CostError, RuntimeError, PlatformDefinitionError) as error:
        raise CliError(str(error)) from None
    print(json.dumps(result.as_json(), indent=2) if args.json else result.as_text())
    return 0
