"""The model the tests train is the one SageMaker trains: the installed xgboost, the one pyproject.toml pins and
the one inside each environment's training image (`propensity.xgboost_version`) are the same release."""

from __future__ import annotations

import re
from pathlib import Path

import xgboost

from infra.config import config_for, read_cdk_json_context
from infra.stacks.propensity_stack import XGBOOST_OF_IMAGE

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_every_environment_trains_on_an_image_whose_xgboost_is_the_one_the_tests_run() -> None:
    for env in read_cdk_json_context()["omni:environments"]:
        image = config_for(env).environment.propensity.xgboost_version
        assert image in XGBOOST_OF_IMAGE, f"{env}: no recorded xgboost release for sagemaker-xgboost:{image}"
        assert XGBOOST_OF_IMAGE[image] == xgboost.__version__, (
            f"{env}: image {image} vs installed {xgboost.__version__}"
        )


def test_pyproject_pins_exactly_the_images_xgboost() -> None:
    pins = re.findall(r'"xgboost(?:-cpu)?([=~<>!]=?)([0-9.]+);', PYPROJECT.read_text(encoding="utf-8"))
    assert pins
    assert {operator for operator, _ in pins} == {"=="}
    assert {release for _, release in pins} == set(XGBOOST_OF_IMAGE.values())
