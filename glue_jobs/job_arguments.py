"""Job arguments of the Glue 5.0 jobs: which optional ones were given, and a clear error for missing ones.

(The FindMatches job runs on Glue 2.0's Python 3.7 and is uploaded on its own, so it keeps its own copy.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class JobArgumentError(ValueError):
    """The job was started with arguments it cannot run with."""


def optional_arguments_present(argv: list[str], optional: Iterable[str]) -> list[str]:
    """The optional arguments given on the command line (getResolvedOptions fails on absent ones)."""
    return [name for name in optional if f"--{name}" in argv]


def require(args: Mapping[str, str], required: Iterable[str]) -> None:
    """Fail naming every required argument that is missing or empty."""
    missing = [name for name in required if not args.get(name)]
    if missing:
        raise JobArgumentError("missing job argument(s): " + ", ".join(f"--{name}" for name in missing))
