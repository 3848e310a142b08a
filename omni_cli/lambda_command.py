"""`omni lambda invoke` and `omni lambda events`: one function's real handler on one event, offline.

`invoke` prints the function's log lines on stderr and the handler's response (JSON)
on stdout, as `sam local invoke` does, so the response can be piped. Exit code 0 on
a response, 1 when the handler raised (its error printed as Lambda reports it),
2 on bad input. The work is `sandbox.invoke`'s.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from omni_cli.main import CliError

DEFAULT_ENV = "dev"
DEFAULT_STAGE = 5


def register(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "lambda", help="run one function's real handler on a sample event against the offline platform (moto)"
    )
    commands = command.add_subparsers(dest="lambda_command", required=True, metavar="LAMBDA_COMMAND")
    invoke = commands.add_parser(
        "invoke",
        help="run FUNCTION's handler on an event, with its template environment, against a fresh seeded platform",
        description="Synthesizes the app, stands it up in moto, seeds three sample customers and a rule set "
        "(as `omni sandbox serve` does), then runs the function's real handler on the event. "
        "Log lines go to stderr, the response (JSON) to stdout.",
    )
    invoke.add_argument(
        "function", metavar="FUNCTION", help="e.g. profiles, event-processor (see `omni lambda events`)"
    )
    invoke.add_argument(
        "--event", required=True, metavar="FILE|NAME", help="a JSON file, or the name of a sample event of FUNCTION"
    )
    invoke.add_argument("--env", default=DEFAULT_ENV, help="environment from cdk.json (default: %(default)s)")
    invoke.add_argument(
        "--stage", type=int, default=DEFAULT_STAGE, choices=range(1, 6), help="maturity stage (default: %(default)s)"
    )
    invoke.add_argument("--no-seed", action="store_true", help="start with empty tables (no sample customers)")
    invoke.set_defaults(func=_invoke)

    events = commands.add_parser("events", help="list the sample events of FUNCTION (of every function without one)")
    events.add_argument("function", metavar="FUNCTION", nargs="?", default=None)
    events.set_defaults(func=_events)


def _invoke(args: argparse.Namespace) -> int:
    from sandbox.invoke import InvokeError, function_name, invoke, read_event

    try:
        function = function_name(args.function)
        event = read_event(function, args.event)
        print(
            f"standing up {args.env} at stage {args.stage} in moto (synthesizing first)...", file=sys.stderr, flush=True
        )
        invocation = invoke(function, event, env=args.env, stage=args.stage, seed=not args.no_seed)
    except InvokeError as error:
        raise CliError(str(error)) from None
    if invocation.seeded:
        print("seeded: " + ", ".join(invocation.seeded), file=sys.stderr)
    print(f"--- {invocation.handler}: {len(invocation.log_lines)} log lines ---", file=sys.stderr)
    for line in invocation.log_lines:
        print(line, file=sys.stderr)
    if invocation.error is not None:
        print(json.dumps(invocation.error, indent=2))
        print(
            f"omni lambda invoke: the handler raised {invocation.error['errorType']}: {invocation.error['errorMessage']}",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(invocation.response, indent=2, default=str))
    return 0


def _events(args: argparse.Namespace) -> int:
    from sandbox import sample_events
    from sandbox.invoke import InvokeError, function_name

    try:
        functions = [function_name(args.function)] if args.function else sample_events.functions()
    except InvokeError as error:
        raise CliError(str(error)) from None
    for function in functions:
        names = sample_events.names(function)
        if not names:
            print(f"{function}: no sample events (give --event a JSON file)")
            continue
        print(f"{function}:")
        width = max(len(name) for name in names)
        for name in names:
            print(f"  {name:<{width}}  {sample_events.summary(sample_events.load(function, name))}")
    return 0
