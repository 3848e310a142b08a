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

from omni_cli.main import CliError
from omni_domain.constants import EVENT_BUS_SUFFIX, STATE_CHANGES_IDEMPOTENCY_SUFFIX

DEFAULT_MAX_MESSAGES = 100
MAX_MESSAGES_LIMIT = 10_000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    changes = subparsers.add_parser("state-changes", help="customer state changes fanned out to the channels")
    commands = changes.add_subparsers(dest="state_changes_command", required=True, metavar="STATE_CHANGES_COMMAND")
    redrive = commands.add_parser(
        "redrive",
        help="publish the changes in the state publisher's on-failure queue (within 24 h: the stream's retention)",
    )
    redrive.add_argument("--queue-url", required=True, help="URL of the on-failure queue (FailedChanges)")
    redrive.add_argument(
        "--dry-run", action="store_true", help="read the records back and report; publish and delete nothing"
    )
    redrive.add_argument(
        "--max-messages",
        default=str(DEFAULT_MAX_MESSAGES),
        help=f"on-failure messages to take in this run, 1-{MAX_MESSAGES_LIMIT} (default: %(default)s)",
    )
    redrive.add_argument("--env", default=None, help="environment from cdk.json naming the defaults below")
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


def max_messages(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= MAX_MESSAGES_LIMIT:
        raise CliError(f"--max-messages = {value!r}: must be a whole number from 1 to {MAX_MESSAGES_LIMIT}")
    return int(value)


def queue_url(value: str) -> str:
    if not value.startswith(("https://", "http://")) or value.rstrip("/").count("/") < 4:
        raise CliError(f"--queue-url = {value!r}: must be a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)")
    return value


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
    limit = max_messages(args.max_messages)
    url = queue_url(args.queue_url)
    where = targets(args)

    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from state_publisher import dependencies
    from state_publisher.redrive import MessageResult, RedriveStoppedError, publish_through, redrive
    from state_publisher.redrive_aws import DynamoDBStreamReader
    from stream_redrive.aws import SqsFailureQueue

    session = boto3.Session(region_name=where.region)
    settings = publisher_settings(where)
    # The queue and the stream are read from the operator's machine, not inside the function's 30 s: a
    # long-poll receive or a 1,000-record page gets longer than the function's per-call bounds.
    reading = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "total_max_attempts": 5})
    mode = "dry run: nothing is published or deleted" if args.dry_run else f"publishing to {where.bus}"
    print(f"redriving up to {limit} message(s) from {url} ({mode})", file=sys.stderr)
    stopped: RedriveStoppedError | None = None
    try:
        results: list[MessageResult] = redrive(
            SqsFailureQueue(session.client("sqs", config=reading), url),
            DynamoDBStreamReader(session.client("dynamodbstreams", config=reading)),
            publish_through(dependencies.from_settings(settings, session=session)),
            max_messages=limit,
            dry_run=args.dry_run,
        )
    except RedriveStoppedError as error:
        stopped, results = error, error.results
    except (ClientError, BotoCoreError) as error:
        raise CliError(f"redrive from {url} stopped: {error}") from None
    # The report of what was done comes first, also when the run stopped part-way.
    for result in results:
        print(result.describe())
    kept = [result for result in results if result.kept]
    done = len(results) - len(kept)
    verb = "would be redriven" if args.dry_run else "redriven"
    print(f"{len(results)} message(s): {done} {verb}, {len(kept)} kept in the queue", file=sys.stderr)
    if stopped is not None:
        raise CliError(f"redrive from {url} stopped: {stopped.cause}")
    return 1 if kept else 0
