"""Shared fixtures: the repository's manifest and flows, and small helpers to find actions."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from connect_flows.manifest import Manifest, load_manifest


@pytest.fixture(scope="session")
def manifest() -> Manifest:
    return load_manifest()


@pytest.fixture
def flows(manifest: Manifest) -> dict[str, dict[str, Any]]:
    """A fresh copy of every repository flow, by manifest name (tests may mutate them)."""
    return {key: copy.deepcopy(manifest.load_flow(key)) for key in manifest.flows}


def index_of(flow: dict[str, Any], identifier: str) -> int:
    return next(index for index, action in enumerate(flow["Actions"]) if action["Identifier"] == identifier)


def action(flow: dict[str, Any], identifier: str) -> dict[str, Any]:
    return flow["Actions"][index_of(flow, identifier)]
