"""Stage-3 profile service: IAM auth everywhere, encrypted and protected tables, scoped IAM,
safe deployments, WAF, logs and alarms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.stacks.profile_service_stack import ROUTES
from omni_domain import constants

from .conftest import Synthesis


def _profiles(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.template("profiles"))


def _domain(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.template("customer-domain"))


def test_every_method_requires_iam_authorization(dev5: Synthesis) -> None:
    methods = _profiles(dev5).find_resources("AWS::ApiGateway::Method")
    routes = {(m["Properties"]["HttpMethod"], json.dumps(m["Properties"]["ResourceId"])) for m in methods.values()}
    assert len(routes) == 6  # GET /customers, GET PUT PATCH DELETE /customers/{id}, PUT /customers/{id}/consent
    assert {m["Properties"]["AuthorizationType"] for m in methods.values()} == {"AWS_IAM"}


@pytest.mark.parametrize(("fixture", "protected"), [("dev5", False), ("prod5", True)])
def test_tables_are_encrypted_with_the_platform_key_and_recoverable(
    request: pytest.FixtureRequest, fixture: str, protected: bool
) -> None:
    synthesis: Synthesis = request.getfixturevalue(fixture)
    tables = {
        **_domain(synthesis).find_resources("AWS::DynamoDB::Table"),
        **_profiles(synthesis).find_resources("AWS::DynamoDB::Table"),
    }
    assert len(tables) == 3
    for logical_id, table in tables.items():
        properties = table["Properties"]
        assert properties["SSESpecification"]["SSEEnabled"] is True, logical_id
        assert properties["SSESpecification"]["SSEType"] == "KMS"
        assert "PlatformKey" in json.dumps(properties["SSESpecification"]["KMSMasterKeyId"])
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties.get("DeletionProtectionEnabled", False) is protected
        assert table["DeletionPolicy"] == ("Retain" if protected else "Delete")


def test_key_design_follows_the_shared_constants(dev5: Synthesis) -> None:
    _domain(dev5).has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": "omni-cx-dev-customers",
            "KeySchema": [
                {"AttributeName": constants.CUSTOMER_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": constants.CUSTOMER_SORT_KEY, "KeyType": "RANGE"},
            ],
        },
    )
    _domain(dev5).has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": constants.IDENTITY_PARTITION_KEY, "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [
                Match.object_like(
                    {"IndexName": constants.IDENTITY_BY_CUSTOMER_INDEX, "Projection": {"ProjectionType": "KEYS_ONLY"}}
                )
            ],
        },
    )
    _profiles(dev5).has_resource_properties(
        "AWS::DynamoDB::Table",
        {"TimeToLiveSpecification": {"AttributeName": constants.IDEMPOTENCY_EXPIRY_ATTRIBUTE, "Enabled": True}},
    )


def _function_policy(synthesis: Synthesis) -> list[dict[str, Any]]:
    policies = _profiles(synthesis).find_resources("AWS::IAM::Policy")
    (policy,) = [p for p in policies.values() if "ProfilesRole" in json.dumps(p["Properties"]["Roles"])]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_the_function_may_touch_only_its_tables_and_index_with_named_actions(dev5: Synthesis) -> None:
    statements = _function_policy(dev5)
    dynamo = [s for s in statements if str(s["Action"]).count("dynamodb:")]
    resources = {
        json.dumps(resource)
        for s in dynamo
        for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    assert len(resources) == 4  # customers, identity map, its by-customer index, idempotency
    assert not any("*" in resource for resource in resources)
    assert any(resource.endswith('/index/by-customer"]]}') for resource in resources)
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not [action for action in actions if "*" in action]


def test_function_environment_names_come_from_the_shared_constants(dev5: Synthesis) -> None:
    (function,) = [
        f
        for f in _profiles(dev5).find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == constants.PROFILES_HANDLER
    ]
    variables = function["Properties"]["Environment"]["Variables"]
    for name in (constants.ENV_CUSTOMER_TABLE, constants.ENV_IDENTITY_TABLE, constants.ENV_IDEMPOTENCY_TABLE):
        assert name in variables
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    properties = function["Properties"]
    assert properties["Runtime"] == "python3.14"
    assert properties["Architectures"] == ["arm64"]
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert properties["ReservedConcurrentExecutions"] == 10
    assert "AWSLambdaPowertoolsPythonV3-python314-arm64:" in json.dumps(properties["Layers"])
    assert "KmsKeyArn" in properties


@pytest.mark.parametrize(("fixture", "config_name"), [("dev5", "AllAtOnce"), ("prod5", "Canary10Percent5Minutes")])
def test_new_versions_shift_through_codedeploy_and_roll_back_on_alarm(
    request: pytest.FixtureRequest, fixture: str, config_name: str
) -> None:
    template = _profiles(request.getfixturevalue(fixture))
    (group,) = template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()
    properties = group["Properties"]
    assert config_name in json.dumps(properties["DeploymentConfigName"])
    assert properties["AutoRollbackConfiguration"]["Enabled"] is True
    assert set(properties["AutoRollbackConfiguration"]["Events"]) >= {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
    assert properties["AlarmConfiguration"]["Enabled"] is True
    (alias,) = template.find_resources("AWS::Lambda::Alias").values()
    assert alias["Properties"]["Name"] == "live"
    assert "CodeDeployLambdaAliasUpdate" in json.dumps(alias.get("UpdatePolicy", {}))


def test_api_stage_logs_without_bodies_traces_and_throttles(dev5: Synthesis) -> None:
    (stage,) = _profiles(dev5).find_resources("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    assert properties["TracingEnabled"] is True
    assert "DestinationArn" in properties["AccessLogSetting"]
    (method_settings,) = properties["MethodSettings"]
    assert method_settings["DataTraceEnabled"] is False
    assert method_settings["LoggingLevel"] == "ERROR"
    assert method_settings["ThrottlingRateLimit"] == 100


def test_a_waf_web_acl_with_managed_rules_guards_the_api_and_is_logged(dev5: Synthesis) -> None:
    template = _profiles(dev5)
    (acl,) = template.find_resources("AWS::WAFv2::WebACL").values()
    groups = {rule["Statement"]["ManagedRuleGroupStatement"]["Name"] for rule in acl["Properties"]["Rules"]}
    assert "AWSManagedRulesCommonRuleSet" in groups
    assert template.find_resources("AWS::WAFv2::WebACLAssociation")
    template.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": "aws-waf-logs-omni-cx-dev-profiles"})


def test_alarms_cover_5xx_latency_throttles_and_errors_and_notify_the_alert_topic(dev5: Synthesis) -> None:
    alarms = _profiles(dev5).find_resources("AWS::CloudWatch::Alarm")
    metrics = {a["Properties"].get("MetricName") for a in alarms.values()}
    assert {"5XXError", "Latency", "Throttles", "Errors"} <= metrics
    for alarm in alarms.values():
        assert ":omni-cx-dev-alerts" in json.dumps(alarm["Properties"]["AlarmActions"])


def test_every_log_group_is_encrypted_and_expires(prod5: Synthesis) -> None:
    groups = _profiles(prod5).find_resources("AWS::Logs::LogGroup")
    assert len(groups) >= 3  # function, API access, WAF
    for group in groups.values():
        assert "KmsKeyId" in group["Properties"]
        assert group["Properties"]["RetentionInDays"] == 365


def test_api_routes_are_the_paths_and_methods_of_the_published_openapi_document() -> None:
    document = json.loads((Path(__file__).resolve().parents[2] / "docs/api/profiles-openapi.json").read_text())
    published = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    deployed = {(path, method) for path, methods in ROUTES for method in methods}
    assert deployed == published


def test_the_api_5xx_alarm_also_rolls_a_bad_version_back(dev5: Synthesis) -> None:
    template = _profiles(dev5)
    (group,) = template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()
    rollback_alarms = json.dumps(group["Properties"]["AlarmConfiguration"]["Alarms"])
    five_xx = [
        logical_id
        for logical_id, alarm in template.find_resources("AWS::CloudWatch::Alarm").items()
        if alarm["Properties"].get("MetricName") == "5XXError"
    ]
    assert len(five_xx) == 1
    assert five_xx[0] in rollback_alarms


def test_the_function_has_exactly_the_table_actions_the_service_uses(dev5: Synthesis) -> None:
    actions = {
        action
        for statement in _function_policy(dev5)
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if action.startswith("dynamodb:")
    }
    assert actions == {
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",  # idempotency records only
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    }
    assert "dynamodb:Scan" not in actions
