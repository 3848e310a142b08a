"""One function's real handler on one event, against a fresh offline platform: `omni lambda invoke`.

The platform is the sandbox's (`local_platform`: the synthesized templates stood up
in moto), seeded as `omni sandbox serve` seeds it (three sample customers and an
active rule set, through the APIs themselves). The function runs with the
environment its template gives it, resolved against that platform, and what it
logs during this invocation (Powertools JSON lines, EMF metrics) is kept apart
from the seeding's.

A function is named by its handler package with dashes (`event-processor`,
`profiles`, `alert-router`); an event is a JSON file or the name of one of the
function's sample events (`sandbox.sample_events`).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox import sample_events

LAMBDAS_ROOT = Path(__file__).resolve().parent.parent / "lambdas"


class InvokeError(Exception):
    """Bad input: an unknown or undeployed function, an unreadable event, an event not of the function's shape."""


@dataclass
class Invocation:
    """What one invocation gave: the handler's response, or the error it raised, and its log lines."""

    function: str
    handler: str
    response: Any = None
    error: dict[str, Any] | None = None  # as Lambda reports it: errorType, errorMessage, stackTrace
    log_lines: list[str] = field(default_factory=list)
    seeded: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def known_functions() -> list[str]:
    """Every function the platform can deploy: the handler packages under lambdas/, with dashes."""
    return sorted(path.parent.name.replace("_", "-") for path in LAMBDAS_ROOT.glob("*/handler.py"))


def function_name(name: str) -> str:
    """The function's name as `omni lambda` spells it (`event_processor` is accepted for `event-processor`)."""
    normalised = name.strip().replace("_", "-")
    known = known_functions()
    if normalised not in known:
        raise InvokeError(f"no function {name!r}; known: {', '.join(known)}")
    return normalised


def read_event(function: str, source: str) -> Any:
    """The event of `--event`: a JSON file, or else the name of one of the function's sample events."""
    path = Path(source)
    samples = sample_events.names(function)
    if source in samples and not path.is_file():
        event = sample_events.load(function, source)
    elif path.suffix == ".json" or path.exists() or "/" in source:
        event = _read_json(path)
    else:
        listed = ", ".join(samples) or "none"
        raise InvokeError(f"{source!r} is neither a JSON file nor a sample event of {function} (samples: {listed})")
    _check_shape(function, event, source)
    return event


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InvokeError(f"cannot read the event file {path}: {reason}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvokeError(f"{path}: not JSON: {error.msg} at line {error.lineno} column {error.colno}") from None


def _check_shape(function: str, event: Any, source: str) -> None:
    """An event lacking a field every sample of the function has is not of its shape: say which field."""
    required = sample_events.required_fields(function)
    if not required:
        return
    if not isinstance(event, Mapping):
        raise InvokeError(f"{source}: the event must be a JSON object, as {function}'s events are")
    missing = [name for name in required if name not in event]
    if missing:
        raise InvokeError(
            f"{source}: field {missing[0]!r} is missing: {function}'s events carry {', '.join(required)} "
            f"(see `omni lambda events {function}`)"
        )


def invoke(
    function: str,
    event: Any,
    *,
    env: str = "dev",
    stage: int = 5,
    templates: Any = None,
    seed: bool = True,
) -> Invocation:
    """Stand up a fresh platform of `env` at `stage`, seed it, and run the function's handler on `event`.

    `templates` (a `CloudAssembly` of the same env and stage) skips the synthesis.
    """
    # CDK and moto are imported only once a function is invoked: `omni lambda events` stays fast.
    from infra.config import ConfigError  # noqa: PLC0415
    from infra.errors import PlatformDefinitionError  # noqa: PLC0415
    from sandbox.platform import SandboxError, local_platform  # noqa: PLC0415

    package = function_name(function).replace("-", "_")
    try:
        with local_platform(env=env, maturity=stage, templates=templates) as platform:
            handlers = sorted({fn.handler for fn in platform.functions() if fn.handler.split(".")[0] == package})
            if len(handlers) != 1:
                deployed = sorted({fn.handler.split(".")[0].replace("_", "-") for fn in platform.functions()})
                raise InvokeError(
                    f"{function} is not deployed in {env} at stage {stage}; deployed: {', '.join(deployed)}"
                )
            invocation = Invocation(function, handlers[0], seeded=_seed(platform) if seed else [])
            mark = platform.output_mark()
            with _powertools_logs_to(_handler_output()):
                try:
                    invocation.response = platform.invoke(invocation.handler, event)
                except Exception as error:  # noqa: BLE001 - the handler's failure is the answer, as Lambda reports it
                    invocation.error = _lambda_error(error)
            invocation.log_lines = platform.handler_output(mark)
            return invocation
    except (ConfigError, PlatformDefinitionError, SandboxError) as error:
        raise InvokeError(str(error)) from None


def _seed(platform: Any) -> list[str]:
    """Three sample customers and an active rule set, as `omni sandbox serve` seeds them (no API: nothing)."""
    from sandbox.serve import LocalApis, api_routes  # noqa: PLC0415 - serve's seeding, the same data

    routes = api_routes(platform)
    return LocalApis(platform, routes).seed() if routes else []


def _handler_output() -> io.TextIOBase:
    from sandbox.platform import HANDLER_OUTPUT  # noqa: PLC0415 - moto

    return HANDLER_OUTPUT


@contextlib.contextmanager
def _powertools_logs_to(stream: io.TextIOBase) -> Iterator[None]:
    """Point every Powertools log handler at `stream` for the block.

    Powertools binds its stream when a handler module is first imported: a module
    imported earlier in this process (by the seeding, or another caller) would
    otherwise log wherever stdout was then.
    """
    from aws_lambda_powertools.logging.formatter import BasePowertoolsFormatter  # noqa: PLC0415

    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    moved: list[tuple[logging.StreamHandler[Any], Any]] = []
    for logger in loggers:
        for handler in logger.handlers:
            if (
                isinstance(handler, logging.StreamHandler)
                and isinstance(handler.formatter, BasePowertoolsFormatter)
                and handler.stream is not stream
            ):
                moved.append((handler, handler.stream))
                handler.setStream(stream)
    try:
        yield
    finally:
        for handler, previous in moved:
            handler.setStream(previous)


def _lambda_error(error: Exception) -> dict[str, Any]:
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_tb(error.__traceback__),
    }
