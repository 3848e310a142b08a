"""What runs in AWS is what the tests ran: the Powertools layer against the installed packages.

The functions load Powertools and pydantic from the public layer named in
cdk.json; the tests import whatever the `dev` extra installed. The layer record
(`infra/data/powertools_layer.json`) says which release each layer version
holds, and these tests hold cdk.json, the record, pyproject.toml and the
installed distributions to one answer.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from infra.config import config_for
from infra.constructs.platform_function import ARCHITECTURE, RUNTIME, powertools_layer_arn
from infra.powertools_layer import powertools_layer

from .conftest import ENVIRONMENTS

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _requirement(group: list[str], name: str) -> Requirement:
    (requirement,) = (Requirement(line) for line in group if Requirement(line).name == name)
    return requirement


def _pyproject() -> dict:
    with PYPROJECT.open("rb") as handle:
        return tomllib.load(handle)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_environment_names_a_layer_whose_release_the_tests_installed(env: str) -> None:
    layer_version = config_for(env).environment.powertools_layer_version
    release = powertools_layer().release(layer_version)
    installed = importlib.metadata.version("aws-lambda-powertools")
    assert installed == release.powertools, (
        f"{env} deploys layer {layer_version} (Powertools {release.powertools}) but the tests run Powertools "
        f"{installed}: pin the dev extra to {release.powertools} or move the layer"
    )


def test_the_dev_extra_pins_the_release_the_layer_holds() -> None:
    # `~=` would let a fresh install drift to a release no environment deploys.
    pinned = _requirement(_pyproject()["project"]["optional-dependencies"]["dev"], "aws-lambda-powertools")
    releases = {
        powertools_layer().release(config_for(env).environment.powertools_layer_version) for env in ENVIRONMENTS
    }
    assert [str(spec) for spec in pinned.specifier] == [f"=={release.powertools}" for release in releases]


def test_pydantic_is_the_major_version_the_layer_bundles() -> None:
    layer = powertools_layer()
    installed = Version(importlib.metadata.version("pydantic"))
    project_pin = _requirement(_pyproject()["project"]["dependencies"], "pydantic").specifier
    for env in ENVIRONMENTS:
        release = layer.release(config_for(env).environment.powertools_layer_version)
        if release.pydantic_exact is not None:
            assert str(installed) == release.pydantic_exact
        assert installed.major == release.pydantic_major
        # The project's own pin may not admit a major version the layer cannot provide.
        assert project_pin.contains(f"{release.pydantic_major}.99.0")
        assert not project_pin.contains(f"{release.pydantic_major + 1}.0.0")
        assert not project_pin.contains(f"{release.pydantic_major - 1}.99.0")


def test_the_installed_pydantic_is_one_the_layers_powertools_accepts() -> None:
    # The layer's pip resolved pydantic against this release's `parser` extra; ours must be in that range too.
    requires = importlib.metadata.requires("aws-lambda-powertools") or []
    parser = [Requirement(line) for line in requires if Requirement(line).name == "pydantic"]
    assert parser, "aws-lambda-powertools no longer declares pydantic: read its parser extra again"
    installed = importlib.metadata.version("pydantic")
    assert all(requirement.specifier.contains(installed) for requirement in parser)


def test_the_layer_arn_is_the_recorded_layer_for_the_functions_runtime() -> None:
    layer = powertools_layer()
    # The layer is built per Python version and architecture: its name must match the functions'.
    assert layer.runtime == RUNTIME.name
    assert layer.name.endswith(f"-{RUNTIME.name.replace('.', '')}-{ARCHITECTURE.name}")
    assert powertools_layer_arn(36).endswith(f":{layer.publisher_account}:layer:{layer.name}:36")
