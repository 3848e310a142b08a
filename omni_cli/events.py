"""`omni events send FILE.jsonl --stream NAME`: validate customer events, then put them on the stream.
`omni events redrive --queue-url URL`: have the event processor apply the batches it gave up on.

Every line is validated before anything is sent, so a bad file sends nothing;
each problem names its line and field. The redrive reads each on-failure
message's batch back from the stream and invokes the deployed function on it
(event_processor.redrive); the function and the region default to the
environment's (`--env`, from cdk.json). boto3 is imported inside the handlers so
`omni --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from omni_cli import redrive as redrive_options
from omni_cli.main import CliError

MAX_REPORTED_PROBLEMS = 20
# The stack of the capability that deploys the processor (infra.capabilities), and the logical id the CDK
# gives its `live` alias (the construct EventProcessor/Live plus a hash): the alias its stream mapping invokes.
EXPERIENCE_PATHWAY = "experience-pathway"
PROCESSOR_ALIAS_LOGICAL_ID = "EventProcessorLive"
ALIAS_TYPE = "AWS::Lambda::Alias"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    events = subparsers.add_parser("events", help="customer events of the experience pathway")
    commands = events.add_subparsers(dest="events_command", required=True, metavar="EVENTS_COMMAND")
    send = commands.add_parser("send", help="validate a JSON-lines file of customer events and put it on the stream")
    send.add_argument(
        "file", type=Path, help="one customer event (JSON) per line; docs/events/customer-event.schema.json"
    )
    send.add_argument("--stream", required=True, help="Kinesis stream name")
    send.add_argument("--region", default=None, help="AWS region (default: the configured one)")
    send.set_defaults(func=_send)
    redrive = commands.add_parser(
        "redrive",
        help="have the event processor apply the batches in its on-failure queue (within the stream's retention)",
    )
    redrive_options.add_options(redrive, queue="FailedBatches", applies="apply")
    redrive.add_argument(
        "--function",
        default=None,
        help="the event processor to invoke: name, name:alias or ARN (default: the environment's, its live alias)",
    )
    redrive.add_argument("--region", default=None, help="AWS region (default: the environment's)")
    redrive.set_defaults(func=_redrive)


def read_events(path: Path) -> list[Any]:
    """The events of a JSON-lines file (blank lines skipped); CliError listing each invalid line and field."""
    from omni_domain.customer_events import InvalidEventError, parse_event

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None
    events = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(parse_event(line))
        except InvalidEventError as error:
            problems += [f"line {number}: {problem}" for problem in error.errors or [error.reason]]
    if problems:
        shown = "\n  ".join(problems[:MAX_REPORTED_PROBLEMS])
        more = len(problems) - MAX_REPORTED_PROBLEMS
        suffix = f"\n  ... and {more} more" if more > 0 else ""
        raise CliError(f"{path}: {len(problems)} invalid field(s), nothing sent:\n  {shown}{suffix}")
    if not events:
        raise CliError(f"{path}: no events")
    return events


def _send(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from omni_domain.event_producer import RecordTooLargeError, SendSummary, UndeliveredEventsError, send_events

    events = read_events(args.file)

    def progress(summary: SendSummary) -> None:
        print(f"  {summary.calls} call(s), {summary.retried} record(s) retried", file=sys.stderr)

    print(f"sending {len(events)} event(s) to {args.stream}", file=sys.stderr)
    client = boto3.client("kinesis", region_name=args.region)
    try:
        summary = send_events(client, args.stream, events, progress=progress)
    except RecordTooLargeError as error:
        raise CliError(str(error)) from None
    except UndeliveredEventsError as error:
        ids = ", ".join(failure.event_id for failure in error.failed[:10])
        raise CliError(f"{error}; first event ids: {ids}") from None
    except (ClientError, BotoCoreError) as error:
        raise CliError(f"cannot put records on {args.stream}: {error}") from None
    print(
        f"sent {summary.events} event(s) in {summary.calls} call(s) to {len(summary.shards)} shard(s); "
        f"{summary.retried} retried",
        file=sys.stderr,
    )
    return 0


def environment_region_and_stack(env: str | None) -> tuple[str, str]:
    """The region and the experience pathway's stack name the stacks deploy for an environment (cdk.json)."""
    from infra.config import DEFAULT_ENV, ConfigError, config_for

    try:
        config = config_for(env or DEFAULT_ENV)
    except ConfigError as error:
        raise CliError(f"--env: {error}") from None
    return config.region, config.resource_name(EXPERIENCE_PATHWAY)


def processor_alias(cloudformation: Any, stack: str) -> str:
    """The ARN of the event processor's live alias, from the stack's resources; CliError when not deployed."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
        aliases = [
            resource["PhysicalResourceId"]
            for page in pages
            for resource in page["StackResourceSummaries"]
            if resource["ResourceType"] == ALIAS_TYPE
            and resource["LogicalResourceId"].startswith(PROCESSOR_ALIAS_LOGICAL_ID)
            and resource.get("PhysicalResourceId")
        ]
    except (ClientError, BotoCoreError) as error:
        raise CliError(f"cannot find the event processor in stack {stack} ({error}); name it with --function") from None
    if len(aliases) != 1:
        raise CliError(f"stack {stack} has {len(aliases)} event processor aliases, not one; name it with --function")
    return aliases[0]


def _redrive(args: argparse.Namespace) -> int:
    limit = redrive_options.max_messages(args.max_messages)
    url = redrive_options.queue_url(args.queue_url)
    region, stack = (args.region, "") if args.region and args.function else environment_region_and_stack(args.env)
    region = args.region or region

    import boto3
    from botocore.config import Config

    from event_processor.redrive import EVENTS, apply_through
    from event_processor.redrive_aws import KinesisStreamReader, LambdaInvoker
    from stream_redrive.aws import SqsFailureQueue
    from stream_redrive.run import redrive

    session = boto3.Session(region_name=region)
    # The queue and the stream are read from the operator's machine. An invocation waits for the function (its
    # timeout is 60 s), so its read timeout is longer; applying a batch again is safe (its events come back as
    # duplicates), so a throttled or dropped invocation is retried like any call.
    reading = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "total_max_attempts": 5})
    invoking = Config(connect_timeout=5, read_timeout=90, retries={"mode": "standard", "total_max_attempts": 3})

    def run() -> Any:
        function = args.function or processor_alias(session.client("cloudformation", config=reading), stack)
        invoker = LambdaInvoker(session.client("lambda", config=invoking), function)
        mode = "dry run: nothing is applied or deleted" if args.dry_run else f"invoking {function}"
        print(f"redriving up to {limit} message(s) from {url} ({mode})", file=sys.stderr)
        return redrive(
            EVENTS,
            SqsFailureQueue(session.client("sqs", config=reading), url),
            KinesisStreamReader(
                session.client("kinesis", config=reading), invoke_identity_arn=invoker.execution_role()
            ),
            apply_through(invoker),
            max_messages=limit,
            dry_run=args.dry_run,
        )

    return redrive_options.run_and_report(url, run, dry_run=args.dry_run)
