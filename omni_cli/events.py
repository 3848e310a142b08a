"""`omni events send FILE.jsonl --stream NAME`: validate customer events, then put them on the stream.

Every line is validated before anything is sent, so a bad file sends nothing;
each problem names its line and field. boto3 is imported inside the handler so
`omni --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from omni_cli.main import CliError

MAX_REPORTED_PROBLEMS = 20


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
