"""`omni state-changes redrive --queue-url URL [--dry-run] [--max-messages N]`: publish the changes the state
publisher gave up on, from its on-failure queue, through the function's own fan-out (state_publisher.redrive).

The bus, the idempotency table and the region default to the environment's (`--env`, from cdk.json), named
as the stacks name them. boto3 and the stacks are imported inside the handler so `omni --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from omni_cli import redrive as redrive_options
from omni_cli.main import CliError
from omni_domain.constants import EVENT_BUS_SUFFIX, STATE_CHANGES_IDEMPOTENCY_SUFFIX


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    changes = subparsers.add_parser("state-changes", help="customer state changes fanned out to the channels")
    commands = changes.add_subparsers(dest="state_changes_command", required=True, metavar="STATE_CHANGES_COMMAND")
    redrive = commands.add_parser(
        "redrive",
        help="publish the changes in the state publisher's on-failure queue (within 24 h: the stream's retention)",
    )
    redrive_options.add_options(redrive, queue="FailedChanges", applies="publish")
    redrive.add_argument("--bus", default=None, help="event bus (default: the environment's customer event bus)")
    redrive.add_argument(
        "--idempotency-table", default=None, help="the publisher's idempotency table (default: the environment's)"
    )
    redrive.add_argument("--region", default=None, help="AWS region (default: the environment's)")
    redrive.set_defaults(func=_redrive)


@dataclass(frozen=True, slots=True)
class Targets:
    bus: str
    idempotency_table: str
    region: str


def environment_targets(env: str | None) -> Targets:
    """The bus, idempotency table and region the stacks deploy for an environment (cdk.json)."""
    from infra.config import DEFAULT_ENV, ConfigError, config_for

    try:
        config = config_for(env or DEFAULT_ENV)
    except ConfigError as error:
        raise CliError(f"--env: {error}") from None
    # The names the stacks give the bus and the idempotency table; a test checks them against the stacks.
    return Targets(
        config.resource_name(EVENT_BUS_SUFFIX), config.resource_name(STATE_CHANGES_IDEMPOTENCY_SUFFIX), config.region
    )


def targets(args: argparse.Namespace) -> Targets:
    if args.bus and args.idempotency_table and args.region:
        return Targets(args.bus, args.idempotency_table, args.region)
    derived = environment_targets(args.env)
    return Targets(
        args.bus or derived.bus,
        args.idempotency_table or derived.idempotency_table,
        args.region or derived.region,
    )


def publisher_settings(where: Targets) -> Any:
    """The function's settings for these targets; a CliError naming the option a value is refused for."""
    from pydantic import ValidationError

    from omni_domain.constants import ENV_EVENT_BUS
    from state_publisher.settings import PublisherSettings

    try:
        return PublisherSettings(event_bus=where.bus, idempotency_table=where.idempotency_table)
    except ValidationError as error:
        problem = error.errors()[0]
        field = str(problem["loc"][0]) if problem["loc"] else ""
        option, value = (
            ("--bus", where.bus)
            if field in {"event_bus", ENV_EVENT_BUS}
            else ("--idempotency-table", where.idempotency_table)
        )
        raise CliError(f"{option} = {value!r}: {problem['msg'].lower()}") from None


def _redrive(args: argparse.Namespace) -> int:
    limit = redrive_options.max_messages(args.max_messages)
    url = redrive_options.queue_url(args.queue_url)
    where = targets(args)

    import boto3
    from botocore.config import Config

    from state_publisher import dependencies
    from state_publisher.redrive import publish_through, redrive
    from state_publisher.redrive_aws import DynamoDBStreamReader
    from stream_redrive.aws import SqsFailureQueue

    session = boto3.Session(region_name=where.region)
    settings = publisher_settings(where)
    # The queue and the stream are read from the operator's machine, not inside the function's 30 s: a
    # long-poll receive or a 1,000-record page gets longer than the function's per-call bounds.
    reading = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "total_max_attempts": 5})
    mode = "dry run: nothing is published or deleted" if args.dry_run else f"publishing to {where.bus}"
    print(f"redriving up to {limit} message(s) from {url} ({mode})", file=sys.stderr)
    return redrive_options.run_and_report(
        url,
        lambda: redrive(
            SqsFailureQueue(session.client("sqs", config=reading), url),
            DynamoDBStreamReader(session.client("dynamodbstreams", config=reading)),
            publish_through(dependencies.from_settings(settings, session=session)),
            max_messages=limit,
            dry_run=args.dry_run,
        ),
        dry_run=args.dry_run,
    )
