"""The one wiring helper: built lazily on first use, reused, overridable, and every wiring reset in one call."""

from __future__ import annotations

import ast
import importlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from omni_domain.wiring import Wiring, reset_all


@dataclass(frozen=True)
class Built:
    table: str


class Builder:
    """Builds from the environment, as a function's composition root does, and counts its builds."""

    def __init__(self) -> None:
        self.builds = 0

    def __call__(self) -> Built:
        self.builds += 1
        return Built(os.environ["TABLE"])


def test_nothing_is_built_until_first_use_then_it_is_reused() -> None:
    builder = Builder()
    wiring = Wiring(builder)
    assert builder.builds == 0
    with mock.patch.dict(os.environ, {"TABLE": "customers"}):
        first = wiring.current()
        assert wiring.current() is first
    assert first == Built("customers")
    assert builder.builds == 1


def test_an_override_wins_until_it_is_dropped() -> None:
    builder = Builder()
    wiring = Wiring(builder)
    fake = Built("fake")
    wiring.use(fake)
    assert wiring.current() is fake
    assert builder.builds == 0
    wiring.use(None)
    with mock.patch.dict(os.environ, {"TABLE": "customers"}):
        assert wiring.current() == Built("customers")


def test_reset_all_rebuilds_every_wiring_from_the_environment_of_its_next_use() -> None:
    builders = Builder(), Builder()
    wirings = Wiring(builders[0]), Wiring(builders[1])
    with mock.patch.dict(os.environ, {"TABLE": "dev"}):
        assert [wiring.current() for wiring in wirings] == [Built("dev"), Built("dev")]
    wirings[1].use(Built("fake"))

    reset_all()

    with mock.patch.dict(os.environ, {"TABLE": "prod"}):
        assert [wiring.current() for wiring in wirings] == [Built("prod"), Built("prod")]
    assert [builder.builds for builder in builders] == [2, 2]


def test_a_failed_build_is_not_kept() -> None:
    builder = Builder()
    wiring = Wiring(builder)
    with mock.patch.dict(os.environ, clear=True), pytest.raises(KeyError):
        wiring.current()
    with mock.patch.dict(os.environ, {"TABLE": "customers"}):
        assert wiring.current() == Built("customers")


WIRED = [
    "alert_router.dependencies",
    "eligibility.dependencies",
    "event_processor.dependencies",
    "mdm_loader.dependencies",
    "profiles.dependencies",
    "rescorer.dependencies",
    "state_publisher.dependencies",
    "connect_lookup.handler",
    "connect_next_action.handler",
    "connect_offers.handler",
    "matching_pipeline.handler",
    "model_cleanup.handler",
    "feature_drift.handler",
]
# Handlers with nothing to wire: no AWS client, no settings from the environment (checked below).
PURE = {"model_promotion": "decides on what the state machine passes it"}


@pytest.fixture
def fresh_imports() -> Iterator[None]:
    """Modules first imported here are forgotten after: a handler reads its service name from the environment
    at import, and the handler's own tests import it under theirs."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


@pytest.mark.usefixtures("fresh_imports")
@pytest.mark.parametrize("module", WIRED)
def test_every_function_wires_through_the_helper_and_reset_all_reaches_it(module: str) -> None:
    wiring = importlib.import_module(module).wiring
    assert isinstance(wiring, Wiring)
    marker = object()
    wiring.use(marker)
    try:
        assert wiring.current() is marker
        reset_all()
        # Rebuilt from the environment: here it has none of the function's settings, so building fails.
        with mock.patch.dict(os.environ, clear=True), pytest.raises(ValueError, match="Field required"):
            wiring.current()
    finally:
        wiring.use(None)


def test_every_handler_package_is_covered() -> None:
    """A new function's composition root joins WIRED (and so the sandbox's one-call reset), unless it is pure."""
    lambdas = Path(importlib.import_module("omni_domain").__file__ or "").resolve().parents[1]
    packages = {path.parent.name for path in lambdas.glob("*/handler.py")}
    covered = {module.split(".", 1)[0] for module in WIRED}
    assert packages - set(PURE) == covered
    for package in PURE:
        for module in (lambdas / package).rglob("*.py"):
            assert not _wires_something(ast.parse(module.read_text())), f"{module} creates a client or reads settings"


def _wires_something(tree: ast.Module) -> bool:
    """An AWS client or the environment: what a composition root builds."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "boto3" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "boto3":
            return True
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "from_environment"}:
            return True
    return False
