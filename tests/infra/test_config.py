"""The typed configuration: valid environments load, every bad value fails with one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.config import ConfigError, config_for
from infra.stages import Stage
from tests.infra.full_context import full_context

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def context() -> dict[str, Any]:
    return full_context()


def _with(context: dict[str, Any], env: str, path: str, value: Any) -> dict[str, Any]:
    node = context["omni:environments"][env]
    *parents, leaf = path.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value
    return context


def test_dev_and_prod_load_as_frozen_typed_config() -> None:
    dev, prod = config_for("dev"), config_for("prod")
    assert (dev.env_name, dev.retain_data) == ("dev", False)
    assert (prod.env_name, prod.retain_data) == ("prod", True)
    assert isinstance(prod.maturity, Stage)
    with pytest.raises(Exception, match="frozen"):
        dev.env_name = "prod"  # type: ignore[misc]


def test_maturity_override_selects_the_stage() -> None:
    assert config_for("prod", 4).maturity is Stage.ORCHESTRATED
    assert config_for("prod", "3").maturity is Stage.INTEGRATED  # type: ignore[arg-type]  # -c values are strings


def test_resource_names_are_prefixed_by_project_and_env() -> None:
    assert config_for("dev").resource_name("alerts") == "omni-cx-dev-alerts"


@pytest.mark.parametrize(
    ("env", "maturity", "expected"),
    [
        ("qa", None, "env = 'qa': unknown environment; allowed: dev, prod"),
        ("dev", 0, "maturity = 0: must be one of 1 Disjointed, 2 Consistent, 3 Integrated, 4 Orchestrated, 5 Seamless"),
        ("dev", 6, "maturity = 6: must be one of 1 Disjointed"),
        ("dev", "three", "maturity = 'three': must be one of 1 Disjointed"),
    ],
)
def test_bad_selection_names_the_key_the_value_and_what_is_allowed(env: str, maturity: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_for(env, maturity)
    assert str(raised.value).startswith(expected)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("region", "europe-west", "omni:environments.dev.region = 'europe-west': must be an AWS region code"),
        ("account", "12345", "omni:environments.dev.account = '12345': must be a 12-digit AWS account id"),
        (
            "sizing.lambda_reserved_concurrency",
            -1,
            "omni:environments.dev.sizing.lambda_reserved_concurrency = -1: Input should be greater than or equal to 0",
        ),
        (
            "data_lake.glacier_after_days",
            -5,
            "omni:environments.dev.data_lake.glacier_after_days = -5: Input should be greater than 0",
        ),
        (
            "event_archive_retention_days",
            0,
            "omni:environments.dev.event_archive_retention_days = 0: Input should be greater than 0",
        ),
        (
            "removal_policy",
            "keep",
            "omni:environments.dev.removal_policy = 'keep': Input should be 'destroy' or 'retain'",
        ),
        ("log_retention_days", 10, "omni:environments.dev.log_retention_days = 10: must be one of the CloudWatch Logs"),
        ("maturity", 9, "omni:environments.dev.maturity = 9: must be one of 1 Disjointed"),
        (
            "contact_centre.hours",
            {"MONDAY": ["18:00", "09:00"]},
            "omni:environments.dev.contact_centre.hours = {'MONDAY': ['18:00', '09:00']}: MONDAY: closing time 09:00 must be after",
        ),
        (
            "contact_centre.time_zone",
            "Mars/Olympus",
            "omni:environments.dev.contact_centre.time_zone = 'Mars/Olympus': must be an IANA time zone",
        ),
        ("contact_centre.queues", {}, "omni:environments.dev.contact_centre.queues = {}: at least one queue is needed"),
        ("sizing.lambda_memmory_mb", 512, "omni:environments.dev.sizing.lambda_memmory_mb: unknown key; allowed keys:"),
        (
            "propensity.keep_models",
            0,
            "omni:environments.dev.propensity.keep_models = 0: Input should be greater than or equal to 1",
        ),
    ],
)
def test_bad_environment_values_fail_with_one_line(
    context: dict[str, Any], path: str, value: Any, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        config_for("dev", context=_with(context, "dev", path, value))
    message = str(raised.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_a_missing_key_is_named(context: dict[str, Any]) -> None:
    # region and maturity have no default: every environment gives them
    del context["omni:environments"]["prod"]["region"]
    with pytest.raises(ConfigError, match=r"^omni:environments\.prod\.region: missing; add it"):
        config_for("prod", context=context)


def test_glacier_tier_must_come_after_infrequent_access(context: dict[str, Any]) -> None:
    _with(context, "dev", "data_lake.glacier_after_days", 30)
    with pytest.raises(ConfigError, match="must be greater than infrequent_access_after_days"):
        config_for("dev", context=context)


def test_cdk_app_exits_with_the_message_on_bad_context(tmp_path: Path) -> None:
    # Given the CDK CLI passes `-c env=qa` (it does so through CDK_CONTEXT_JSON)
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"env": "qa"}), "CDK_OUTDIR": str(tmp_path)}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    # When app.py runs, Then synthesis fails with one line naming the key
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "configuration error: env = 'qa': unknown environment; allowed: dev, prod" in result.stderr
