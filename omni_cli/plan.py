"""`omni plan`: what deploying a stage would do to an environment's deployed stacks, and whether it is safe.

Reads the account (`infra.deployed`, boto3's default credential chain, the
environment's region), synthesizes the target stage in-process (or reads an
assembly already synthesized, as a pipeline does), and prints `infra.plan`'s
plan. Exit code 0: safe; 1: unsafe; 2: the plan could not be made.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from omni_cli.main import CliError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from infra.config import DEFAULT_ENV

    plan = subparsers.add_parser(
        "plan",
        help="what deploying a stage would change in an environment's deployed stacks, and whether it is safe",
        description=(
            "Compare the environment's deployed stacks (CloudFormation DescribeStacks and GetTemplate, with "
            "boto3's default credentials, in the environment's region) with the target stage: stacks created, "
            "updated, unchanged, or in the account only; resources added, changed (with the property paths) and "
            "removed; and the upgrade-safety verdict against the deployed templates. "
            "Exit code 0: safe; 1: unsafe; 2: the plan could not be made."
        ),
    )
    plan.add_argument("--env", default=DEFAULT_ENV, help="environment from cdk.json (default: %(default)s)")
    target = plan.add_mutually_exclusive_group()
    target.add_argument(
        "--to-stage", default=None, help="the stage to plan (default: the environment's maturity in cdk.json)"
    )
    target.add_argument(
        "--assembly",
        type=Path,
        default=None,
        help="plan a cloud assembly already synthesized for the environment (cdk.out) instead of synthesizing",
    )
    plan.add_argument("--json", action="store_true", help="print the plan as JSON (schema omni-plan/1)")
    plan.set_defaults(func=_plan)


def _plan(args: argparse.Namespace) -> int:
    from infra.config import ConfigError, config_for, read_cdk_json_context
    from infra.deployed import DeployedStacksError, caller_account, read_deployed_stacks
    from infra.plan import plan_upgrade

    stage = None if args.to_stage is None else _stage(args.to_stage)
    try:
        config = config_for(args.env, stage)
    except ConfigError as error:
        raise CliError(str(error)) from None
    prefix = config.resource_name("")
    others = [f"{config.project}-{env}-" for env in read_cdk_json_context().get("omni:environments", {})]

    import boto3

    session = boto3.session.Session(region_name=config.region)
    try:
        account = caller_account(session.client("sts"))
        if config.account and account != config.account:
            raise CliError(
                f"the credentials are for account {account}, environment {config.env_name} is account "
                f"{config.account}: use a profile of that account"
            )
        deployed = read_deployed_stacks(session.client("cloudformation"), prefix=prefix, other_prefixes=others)
    except DeployedStacksError as error:
        raise CliError(str(error)) from None

    if args.assembly is not None:
        target = _assembly_templates(args.assembly, prefix, others)
        label = f"the assembly in {args.assembly}"
    else:
        target = _synthesized_templates(config.env_name, config.maturity.value)
        label = f"stage {config.maturity.label}"

    plan = plan_upgrade(
        deployed,
        target,
        project=config.project,
        env=config.env_name,
        region=config.region,
        account=account,
        target_label=label,
    )
    print(json.dumps(plan.as_json(), indent=2) if args.json else plan.as_text())
    return 0 if plan.safe else 1


def _stage(value: str) -> int:
    from infra.stages import Stage

    try:
        return Stage(int(value)).value
    except ValueError:
        raise CliError(f"--to-stage {value!r}: must be one of {Stage.allowed()}") from None


def _synthesized_templates(env: str, stage: int) -> dict[str, Any]:
    from infra.assembly import CloudAssembly
    from infra.errors import PlatformDefinitionError
    from infra.platform_app import synthesize

    print(f"synthesizing {env} at stage {stage} (cdk-nag, 4 packs)...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="omni-plan-") as outdir:
        try:
            synthesize(env, stage, outdir)
        except (RuntimeError, PlatformDefinitionError) as error:  # nag findings or a bad definition
            raise CliError(f"the target does not synthesize: {error}") from None
        return CloudAssembly.read(Path(outdir)).templates


def _assembly_templates(directory: Path, prefix: str, others: list[str]) -> dict[str, Any]:
    from infra.assembly import AssemblyError, CloudAssembly

    try:
        templates = CloudAssembly.read(directory).templates
    except AssemblyError as error:
        raise CliError(str(error)) from None
    longer = tuple(other for other in others if other.startswith(prefix) and other != prefix)
    mine = {
        name: template
        for name, template in templates.items()
        if name.startswith(prefix) and not name.startswith(longer)
    }
    if not mine:
        raise CliError(
            f"{directory}: no stack named {prefix}*; synthesize it for this environment (make synth ENV=...)"
        )
    return mine
