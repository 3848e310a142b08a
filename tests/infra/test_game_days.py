"""Game days (AWS FIS): present with game_days.enabled, absent otherwise, and least privilege either way."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template as CfnTemplate
from pydantic import ValidationError

from infra.capabilities import CAPABILITIES, capabilities_deployed
from infra.config import GameDaysConfig, config_for, read_cdk_json_context
from infra.constructs.game_days import (
    CONFIG_PREFIX,
    EXEC_WRAPPER,
    FIS_ENVIRONMENT,
    INVOCATION_ADD_DELAY,
    INVOCATION_ERROR,
    LOG_PREFIX,
    extension_layer_arn,
)
from infra.fis_extension import EXTENSION_DATA, fis_extension
from infra.stages import Stage

from .conftest import Synthesis

Template = Mapping[str, Any]
# The functions FIS targets, by the logical-id prefix of their Lambda function.
TARGETS = {
    "event-processor": "EventProcessorFunction",
    "profiles": "ProfilesFunction",
    "eligibility": "EligibilityFunction",
}
FIS_EXTENSION_PARAMETER = "/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x"


def _resources(template: Template, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template.get("Resources", {}).items():
        if resource["Type"] == kind:
            yield logical_id, resource.get("Properties", {})


def _function(templates: Mapping[str, Template], prefix: str) -> tuple[Template, dict[str, Any]]:
    for template in templates.values():
        for logical_id, properties in _resources(template, "AWS::Lambda::Function"):
            if logical_id.startswith(prefix):
                return template, properties
    raise AssertionError(f"no function {prefix}")


def _role_statements(template: Template, function: dict[str, Any]) -> list[dict[str, Any]]:
    role = function["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for _, policy in _resources(template, "AWS::IAM::Policy")
        if {"Ref": role} in policy["Roles"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _actions(statement: Mapping[str, Any]) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def _output_name(value: Any) -> str:
    return str(value["Fn::GetStackOutput"]["OutputName"])


@pytest.fixture(scope="module")
def game_day_templates(game_days: Synthesis) -> dict[str, dict[str, Any]]:
    assert game_days.error is None, game_days.error
    return dict(_resources(game_days.template("game-days"), "AWS::FIS::ExperimentTemplate"))


# Off (every environment of cdk.json)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_no_environment_of_cdk_json_has_game_days(syntheses: Mapping[tuple[str, Stage], Synthesis], env: str) -> None:
    for stage in Stage:
        synthesis = syntheses[env, stage]
        assert not any(name.endswith("-game-days") for name in synthesis.templates)
        for name, template in synthesis.templates.items():
            assert not list(_resources(template, "AWS::FIS::ExperimentTemplate")), name
            for logical_id, function in _resources(template, "AWS::Lambda::Function"):
                variables = function.get("Environment", {}).get("Variables", {})
                assert not set(variables) & set(FIS_ENVIRONMENT), (name, logical_id)
                assert "fis" not in json.dumps(function.get("Layers", [])).lower(), (name, logical_id)
            assert not any("fislambdaextension" in parameter.lower() for parameter in template.get("Parameters", {}))


def test_game_days_are_off_by_default_and_deploy_from_stage_4_when_on() -> None:
    assert GameDaysConfig().enabled is False
    context = read_cdk_json_context()
    context["omni:environments"]["dev"] = {**context["omni:environments"]["dev"], "game_days": {"enabled": True}}
    game_days = next(capability for capability in CAPABILITIES if capability.name == "game-days")
    assert game_days not in capabilities_deployed(config_for("dev", 5))
    assert game_days not in capabilities_deployed(config_for("dev", 3, context=context))
    assert game_days in capabilities_deployed(config_for("dev", 4, context=context))


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("invocation_percentage", 0),
        ("invocation_percentage", 101),
        ("added_delay_ms", 900_001),
        ("duration_minutes", 0),
    ],
)
def test_out_of_range_settings_are_refused(setting: str, value: int) -> None:
    with pytest.raises(ValidationError, match=setting):
        GameDaysConfig.model_validate({"enabled": True, setting: value})


# On: the experiments


def test_each_target_gets_an_error_and_a_delay_experiment(game_day_templates: dict[str, dict[str, Any]]) -> None:
    found = set()
    for template in game_day_templates.values():
        (target,) = template["Targets"].values()
        assert target["ResourceType"] == "aws:lambda:function"
        assert target["SelectionMode"] == "ALL"
        (arn,) = target["ResourceArns"]
        name = next(name for name, prefix in TARGETS.items() if f"FnGetAtt{prefix}" in _output_name(arn))
        (action,) = template["Actions"].values()
        assert action["Targets"] == {"Functions": next(iter(template["Targets"]))}
        parameters = action["Parameters"]
        assert parameters["duration"] == "PT10M"
        assert parameters["invocationPercentage"] == "10"
        if action["ActionId"] == INVOCATION_ERROR:
            assert parameters["preventExecution"] == "false"
        else:
            assert action["ActionId"] == INVOCATION_ADD_DELAY
            assert parameters["startupDelayMilliseconds"] == "3000"
        found.add((name, action["ActionId"]))
        assert template["ExperimentOptions"] == {
            "AccountTargeting": "single-account",
            "EmptyTargetResolutionMode": "fail",
        }
        assert template["Tags"]["Name"].startswith("omni-cx-prod-game-day-")
        assert template["Tags"]["capability"] == "game-days"
    assert found == {(name, action) for name in TARGETS for action in (INVOCATION_ERROR, INVOCATION_ADD_DELAY)}


def test_every_experiment_stops_on_every_journey_health_alarm(
    game_day_templates: dict[str, dict[str, Any]], game_days: Synthesis
) -> None:
    journeys = {watch.journey for watch in config_for("prod").environment.alerts.watches}
    composite = {
        properties["AlarmName"]
        for _, properties in _resources(game_days.template("anomaly-alerts"), "AWS::CloudWatch::CompositeAlarm")
    }
    assert composite == {f"omni-cx-prod-journey-{journey}" for journey in journeys}
    for template in game_day_templates.values():
        stops = template["StopConditions"]
        assert {stop["Source"] for stop in stops} == {"aws:cloudwatch:alarm"}
        names = {json.dumps(stop["Value"]).rsplit(":alarm:", 1)[1].rstrip('"]} ') for stop in stops}
        assert names == composite


def test_experiments_log_to_the_platform_log_bucket(
    game_day_templates: dict[str, dict[str, Any]], game_days: Synthesis
) -> None:
    for template in game_day_templates.values():
        log = template["LogConfiguration"]
        assert log["LogSchemaVersion"] == 2
        assert log["S3Configuration"]["Prefix"] == LOG_PREFIX
        assert "RefAccessLogsBucket" in _output_name(log["S3Configuration"]["BucketName"])
    # The log bucket admits CloudWatch Logs' delivery for this account's deliveries only, under the prefix.
    foundation = game_days.template("foundation")
    (policy,) = (
        p for _, p in _resources(foundation, "AWS::S3::BucketPolicy") if "AccessLogs" in json.dumps(p["Bucket"])
    )
    delivery = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "delivery.logs.amazonaws.com"}
    ]
    assert {action for s in delivery for action in _actions(s)} == {"s3:GetBucketAcl", "s3:ListBucket", "s3:PutObject"}
    for statement in delivery:
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
        assert "aws:SourceArn" in statement["Condition"]["ArnLike"]
        if "s3:PutObject" in _actions(statement):
            assert f"/{LOG_PREFIX}/AWSLogs/" in json.dumps(statement["Resource"])


def test_the_experiment_role_is_least_privilege(
    game_day_templates: dict[str, dict[str, Any]], game_days: Synthesis
) -> None:
    template = game_days.template("game-days")
    (role_id,) = {t["RoleArn"]["Fn::GetAtt"][0] for t in game_day_templates.values()}
    trust = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    (assume,) = trust
    assert assume["Principal"] == {"Service": "fis.amazonaws.com"}
    assert assume["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert ":experiment/*" in json.dumps(assume["Condition"]["ArnLike"]["aws:SourceArn"])
    statements = [
        statement
        for _, policy in _resources(template, "AWS::IAM::Policy")
        if {"Ref": role_id} in policy["Roles"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    by_action = {action: statement for statement in statements for action in _actions(statement)}
    assert set(by_action) == {
        "s3:PutObject",
        "s3:DeleteObject",
        "kms:GenerateDataKey",
        "lambda:GetFunction",
        "tag:GetResources",
        "logs:CreateLogDelivery",
    }
    assert not any("*" in action for action in by_action)
    assert json.dumps(by_action["s3:PutObject"]["Resource"]).endswith(f'-eu-west-2/{CONFIG_PREFIX}*"]]}}')
    assert (
        by_action["kms:GenerateDataKey"]["Condition"]["StringEquals"]["kms:ViaService"] == "s3.eu-west-2.amazonaws.com"
    )
    functions = {_output_name(arn) for arn in by_action["lambda:GetFunction"]["Resource"]}
    assert {next(p for p in TARGETS.values() if f"FnGetAtt{p}" in name) for name in functions} == set(TARGETS.values())
    # Only the two actions without resource-level permissions are on "*".
    assert {a for s in statements if s["Resource"] == "*" for a in _actions(s)} == {
        "tag:GetResources",
        "logs:CreateLogDelivery",
    }


# On: the target functions


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_each_target_loads_the_extension_and_reads_only_the_configuration_prefix(
    game_days: Synthesis, target: str
) -> None:
    template, function = _function(game_days.templates, TARGETS[target])
    variables = function["Environment"]["Variables"]
    assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == EXEC_WRAPPER
    assert variables["AWS_FIS_EXTENSION_METRICS"] == "all"
    location = json.dumps(variables["AWS_FIS_CONFIGURATION_LOCATION"])
    assert ":s3:::omni-cx-prod-fis-config-" in location
    assert location.endswith(f'-eu-west-2/{CONFIG_PREFIX}"]]}}')
    (parameter,) = (name for name in template["Parameters"] if "fislambdaextension" in name.lower())
    assert template["Parameters"][parameter]["Default"] == FIS_EXTENSION_PARAMETER
    assert {"Ref": parameter} in function["Layers"]
    assert len(function["Layers"]) == 2  # with Powertools
    s3 = [s for s in _role_statements(template, function) if any(a.startswith("s3:") for a in _actions(s))]
    assert sorted(a for s in s3 for a in _actions(s)) == ["s3:GetObject", "s3:ListBucket"]
    for statement in s3:
        text = json.dumps(statement)
        assert "omni-cx-prod-fis-config-" in text
        if "s3:GetObject" in _actions(statement):
            assert f'/{CONFIG_PREFIX}*"' in json.dumps(statement["Resource"])
        else:
            assert statement["Condition"] == {"StringLike": {"s3:prefix": [f"{CONFIG_PREFIX}*"]}}


def test_functions_that_are_not_targets_stay_as_they_were(game_days: Synthesis) -> None:
    for name, template in game_days.templates.items():
        for logical_id, function in _resources(template, "AWS::Lambda::Function"):
            if any(logical_id.startswith(prefix) for prefix in TARGETS.values()):
                continue
            variables = function.get("Environment", {}).get("Variables", {})
            assert not set(variables) & set(FIS_ENVIRONMENT), (name, logical_id)


# The layer: recorded per region, else the public parameter


def test_a_recorded_region_uses_its_pinned_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.loads(EXTENSION_DATA.read_text())
    pinned = "arn:aws:lambda:eu-west-2:123456789012:layer:aws-fis-extension-arm64:9"
    data["pinned"]["layers"] = {"eu-west-2": {"arm64": pinned}}
    recorded = tmp_path / "fis.json"
    recorded.write_text(json.dumps(data))
    monkeypatch.setattr("infra.constructs.game_days.fis_extension", lambda: fis_extension(recorded))
    stack = Stack(App(), "Probe")
    config = config_for("prod")
    assert extension_layer_arn(stack, config, lambda_.Architecture.ARM_64) == pinned
    # A region with nothing recorded reads AWS's public parameter when the stack deploys.
    elsewhere = config.model_copy(update={"environment": config.environment.model_copy(update={"region": "us-east-1"})})
    resolved = stack.resolve(extension_layer_arn(stack, elsewhere, lambda_.Architecture.ARM_64))
    parameters = CfnTemplate.from_stack(stack).to_json()["Parameters"]
    assert parameters[resolved["Ref"]]["Default"] == FIS_EXTENSION_PARAMETER


def test_the_extension_data_names_both_architectures_and_its_sources() -> None:
    data = json.loads(EXTENSION_DATA.read_text())
    assert data["checked"]
    assert data["sources"]
    assert fis_extension().parameter("arm64") == FIS_EXTENSION_PARAMETER
    with pytest.raises(KeyError, match="no FIS extension parameter"):
        fis_extension().parameter("sparc")
