"""`omni sandbox run`: the whole platform offline, synthetic customers through the real handlers, and a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from omni_cli.main import CliError

DEFAULT_CUSTOMERS = 3000
DEFAULT_JOURNEYS = 2000
DEFAULT_SEED = 7
DEFAULT_OUT = Path("build/sandbox")


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return number


def register(subparsers: Any) -> None:
    sandbox = subparsers.add_parser(
        "sandbox", help="the platform offline: moto, synthetic customers, the real handlers"
    )
    commands = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="SANDBOX_COMMAND")
    run = commands.add_parser(
        "run",
        help="synthesize, provision in moto, run customers and journeys through the handlers, write a report",
        description="Synthesizes the app, stands it up in moto from its templates, then runs MDM, journeys, "
        "the propensity model, the services, the state fan-out, a call and a complaint-spike alert. "
        "Prints a report and writes it as HTML under --out.",
    )
    run.add_argument(
        "--customers",
        type=_positive,
        default=DEFAULT_CUSTOMERS,
        help="source customer records across the source systems, duplicates included (default: %(default)s)",
    )
    run.add_argument(
        "--journeys", type=_positive, default=DEFAULT_JOURNEYS, help="customer journeys (default: %(default)s)"
    )
    run.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="makes the whole run reproducible (default: %(default)s)"
    )
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where report.html goes (default: %(default)s)")
    run.add_argument("--env", default="dev", help="environment from cdk.json (default: %(default)s)")
    run.add_argument(
        "--faults",
        metavar="SPEC",
        help="inject faults at these rates (KIND=RATE,...,seed=N; kinds: dynamodb-throttle, eventbridge-partial, "
        "sagemaker-error, sagemaker-timeout, s3-read-error, handler-crash, kinesis-redelivery) and check the run "
        "against a fault-free run of the same seed; `make demo-faults` shows the default spec",
    )
    run.set_defaults(func=_run)

    register_serve(commands)


def _run(args: argparse.Namespace) -> int:
    from infra.config import ConfigError
    from infra.errors import PlatformDefinitionError
    from sandbox.context import Progress, Sizes
    from sandbox.fault_run import run_with_faults
    from sandbox.faults import FaultSpec, FaultSpecError
    from sandbox.platform import SandboxError
    from sandbox.report import render_text, write_html
    from sandbox.run import run_sandbox
    from sandbox.steps.mdm import MatchingFailedError

    spec = None
    if args.faults is not None:
        try:
            spec = FaultSpec.parse(args.faults)
        except FaultSpecError as error:
            raise CliError(f"--faults: {error}") from None
    progress = Progress(sys.stderr)
    sizes = Sizes(customers=args.customers, journeys=args.journeys, seed=args.seed)
    try:
        if spec is None:
            report = run_sandbox(sizes, env=args.env, progress=progress)
        else:
            report = run_with_faults(sizes, spec, env=args.env, progress=progress)
    except (ConfigError, PlatformDefinitionError, SandboxError, MatchingFailedError) as error:
        raise CliError(str(error)) from None
    print(render_text(report))
    path = write_html(report, args.out)
    print(f"\nreport: {path} ({progress.elapsed:.1f}s in all)")
    return 0 if report.ok else 1


# -- serve ---------------------------------------------------------------------------------------------


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def register_serve(commands: Any) -> None:
    """Add `serve` to the `omni sandbox` subcommands (an argparse subparsers object)."""
    from sandbox.serve import DEFAULT_PORT  # standard library only at import: `omni --help` stays fast

    parser = commands.add_parser(
        "serve", help="the profile and eligibility APIs on a local port, backed by the sandbox (moto)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1 (default: %(default)s)")
    parser.add_argument("--env", default="dev", help="environment from cdk.json (default: %(default)s)")
    parser.add_argument("--maturity", type=int, default=5, help="stage to stand up, 3-5 (default: %(default)s)")
    parser.add_argument("--no-seed", action="store_true", help="start with empty tables (no sample customers)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.set_defaults(func=_serve_command)


def _serve_command(args: argparse.Namespace) -> int:
    from sandbox.platform import SandboxError, local_platform
    from sandbox.serve import ServeError

    _say(f"standing up {args.env} at stage {args.maturity} in moto (synthesizing first)...")
    try:
        with local_platform(env=args.env, maturity=args.maturity) as platform:
            return _serve(platform, args)
    except (SandboxError, ServeError) as error:
        raise CliError(str(error)) from None


def _serve(platform: Any, args: argparse.Namespace) -> int:
    from sandbox.serve import DEFAULT_HOST, LocalApis, LocalApiServer

    apis = LocalApis(platform)
    if not args.no_seed:
        _say("seeded: " + ", ".join(apis.seed()))
    try:
        server = LocalApiServer(apis, DEFAULT_HOST, args.port, log=(lambda _m: None) if args.quiet else _say)
    except OSError as error:
        raise CliError(f"cannot listen on {DEFAULT_HOST}:{args.port}: {error.strerror}") from None
    _say(f"serving {', '.join(apis.apis)} on {server.url}/ (index, /openapi/<api>.json); Ctrl-C stops")
    for route in apis.routes:
        _say(f"  {route.method:6} {server.url}{route.resource}")
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            _say("stopped")
    return 0
