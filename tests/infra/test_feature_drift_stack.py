"""The feature-drift check in the eligibility stack: schedule, exact grants, the owning team's alarm, config."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from feature_drift import constants as drift
from infra.config import ConfigError, PlatformConfig, config_for, read_cdk_json_context

from .conftest import Synthesis


def _template(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.template("eligibility"))


def _statements(template: Template, role: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if role in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def test_the_job_runs_daily_with_the_scheduled_time_as_the_end_of_its_window(dev5: Synthesis) -> None:
    template = _template(dev5)
    (schedule,) = template.find_resources("AWS::Scheduler::Schedule").values()
    properties = schedule["Properties"]
    assert properties["ScheduleExpression"] == "cron(0 5 * * ? *)"
    assert json.loads(properties["Target"]["Input"]) == {"scheduled_time": "<aws.scheduler.scheduled-time>"}
    assert "FeatureDriftJobLive" in json.dumps(properties["Target"]["Arn"])
    (function,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == drift.FEATURE_DRIFT_HANDLER
    ]
    variables = function["Properties"]["Environment"]["Variables"]
    assert {name: variables[name] for name in (drift.ENV_THRESHOLD, drift.ENV_WINDOW_DAYS)} == {
        drift.ENV_THRESHOLD: "0.2",
        drift.ENV_WINDOW_DAYS: "7",
    }
    assert variables["PROPENSITY_ENDPOINT_NAME"] == "omni-cx-dev-propensity"


def test_the_job_may_scan_decisions_describe_the_serving_model_and_read_run_artefacts_only(dev5: Synthesis) -> None:
    statements = _statements(_template(dev5), "FeatureDriftJobRole")
    actions = _actions(statements)
    assert {a for a in actions if a.split(":")[0] in ("dynamodb", "sagemaker", "s3")} == {
        "dynamodb:Scan",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:DescribeModel",
        "s3:GetObject",
        "s3:ListBucket",
    }
    (scan,) = [s for s in statements if s["Action"] == "dynamodb:Scan"]
    assert "Decisions" in json.dumps(scan["Resource"])
    (read,) = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert json.dumps(read["Resource"]).endswith('/propensity/runs/*"]]}')
    (endpoint,) = [s for s in statements if s["Action"] == "sagemaker:DescribeEndpoint"]
    assert json.dumps(endpoint["Resource"]).endswith(':endpoint/omni-cx-dev-propensity"]]}')


def test_the_largest_daily_psi_at_the_threshold_alarms_the_owning_teams_topic(dev5: Synthesis) -> None:
    alarms = _template(dev5).find_resources("AWS::CloudWatch::Alarm", {"Properties": {"MetricName": drift.METRIC_MAX}})
    (alarm,) = alarms.values()
    properties = alarm["Properties"]
    assert (properties["Namespace"], properties["Statistic"], properties["Period"]) == ("omni-cx", "Maximum", 86400)
    assert properties["Dimensions"] == [{"Name": "service", "Value": drift.FEATURE_DRIFT_SERVICE}]
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (0.2, "GreaterThanOrEqualToThreshold")
    assert properties["TreatMissingData"] == "notBreaching"
    assert json.dumps(properties["AlarmActions"]).endswith(':omni-cx-dev-alerts-platform"]]}]')


def _dev_with(**feature_drift: Any) -> PlatformConfig:
    context = read_cdk_json_context()
    context["omni:environments"]["dev"]["feature_drift"] = feature_drift
    return config_for("dev", context=context)


def test_the_settings_default_in_code_and_the_team_must_be_one_of_the_teams() -> None:
    settings = config_for("dev").environment.feature_drift
    assert (settings.threshold, settings.window_days, settings.schedule) == (0.2, 7, "cron(0 5 * * ? *)")
    assert config_for("dev").environment.feature_drift_team == "platform"
    chosen = _dev_with(team="digital", threshold=0.25).environment
    assert (chosen.feature_drift_team, chosen.feature_drift.threshold) == ("digital", 0.25)
    with pytest.raises(ConfigError, match=r"feature_drift\.team .data. is not in alerts\.teams"):
        _dev_with(team="data")
    with pytest.raises(ConfigError, match=r"feature_drift\.threshold"):
        _dev_with(threshold=0)
