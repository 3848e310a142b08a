"""What `omni state-changes redrive` and `omni events redrive` share: their common options, the checks of
those options, and the report of a run (one line per message on stdout, the totals on stderr; exit code 0
when nothing is kept, 1 when a message is kept, 2 when the run stopped on an error).

Not a subcommand module: it has no `register`. The run itself is `stream_redrive.run`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from omni_cli.main import CliError

if TYPE_CHECKING:
    from stream_redrive.run import MessageResult

DEFAULT_MAX_MESSAGES = 100
MAX_MESSAGES_LIMIT = 10_000


def add_options(parser: argparse.ArgumentParser, *, queue: str, applies: str) -> None:
    """--queue-url, --dry-run, --max-messages and --env; `applies` says what the dry run leaves undone."""
    parser.add_argument("--queue-url", required=True, help=f"URL of the on-failure queue ({queue})")
    parser.add_argument(
        "--dry-run", action="store_true", help=f"read the records back and report; {applies} and delete nothing"
    )
    parser.add_argument(
        "--max-messages",
        default=str(DEFAULT_MAX_MESSAGES),
        help=f"on-failure messages to take in this run, 1-{MAX_MESSAGES_LIMIT} (default: %(default)s)",
    )
    parser.add_argument("--env", default=None, help="environment from cdk.json naming the defaults below")


def max_messages(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= MAX_MESSAGES_LIMIT:
        raise CliError(f"--max-messages = {value!r}: must be a whole number from 1 to {MAX_MESSAGES_LIMIT}")
    return int(value)


def queue_url(value: str) -> str:
    if not value.startswith(("https://", "http://")) or value.rstrip("/").count("/") < 4:
        raise CliError(f"--queue-url = {value!r}: must be a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)")
    return value


def run_and_report(url: str, run: Callable[[], list[MessageResult]], *, dry_run: bool) -> int:
    """Run the redrive and print its report, also when it stopped part-way (then the error, exit code 2)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from stream_redrive.run import RedriveStoppedError

    stopped: RedriveStoppedError | None = None
    try:
        results = run()
    except RedriveStoppedError as error:
        stopped, results = error, error.results
    except (ClientError, BotoCoreError) as error:
        raise CliError(f"redrive from {url} stopped: {error}") from None
    # The report of what was done comes first, also when the run stopped part-way.
    for result in results:
        print(result.describe())
    kept = [result for result in results if result.kept]
    done = len(results) - len(kept)
    verb = "would be redriven" if dry_run else "redriven"
    print(f"{len(results)} message(s): {done} {verb}, {len(kept)} kept in the queue", file=sys.stderr)
    if stopped is not None:
        raise CliError(f"redrive from {url} stopped: {stopped.cause}")
    return 1 if kept else 0
