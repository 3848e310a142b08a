"""Stage-4 eligibility service and contact-centre offers: routes, tables, exact grants, one endpoint."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from eligibility import constants as eligibility
from infra.stacks.eligibility_service_stack import NEXT_BEST_ACTION_ROUTE, ROUTES, routes_for
from infra.stages import Stage

from .conftest import ENVIRONMENTS, Synthesis


def _template(synthesis: Synthesis, capability: str) -> Template:
    return Template.from_json(synthesis.template(capability))


def _role_statements(template: Template, role: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if role in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def test_api_routes_are_the_published_openapi_paths_and_all_use_iam(dev5: Synthesis) -> None:
    document = json.loads((Path(__file__).resolve().parents[2] / "docs/api/eligibility-openapi.json").read_text())
    published = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert {(path, method) for path, methods in routes_for(Stage.SEAMLESS) for method in methods} == published
    methods = _template(dev5, "eligibility").find_resources("AWS::ApiGateway::Method")
    assert {m["Properties"]["AuthorizationType"] for m in methods.values()} == {"AWS_IAM"}


def test_rule_sets_and_decisions_tables_follow_the_shared_key_design(dev5: Synthesis) -> None:
    template = _template(dev5, "eligibility")
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": "omni-cx-dev-eligibility-rules",
            "KeySchema": [{"AttributeName": eligibility.RULES_PARTITION_KEY, "KeyType": "HASH"}],
        },
    )
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": "omni-cx-dev-eligibility-decisions",
            "KeySchema": [
                {"AttributeName": eligibility.DECISION_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": eligibility.DECISION_SORT_KEY, "KeyType": "RANGE"},
            ],
            "TimeToLiveSpecification": {"AttributeName": eligibility.DECISION_EXPIRY_ATTRIBUTE, "Enabled": True},
        },
    )


def test_decisions_expire_after_the_configured_days(dev5: Synthesis, prod5: Synthesis) -> None:
    for synthesis, days in ((dev5, "30"), (prod5, "400")):
        (function,) = [
            f
            for f in _template(synthesis, "eligibility").find_resources("AWS::Lambda::Function").values()
            if f["Properties"].get("Handler") == eligibility.ELIGIBILITY_HANDLER
        ]
        assert function["Properties"]["Environment"]["Variables"][eligibility.ENV_DECISION_TTL_DAYS] == days


def test_the_service_may_invoke_only_the_propensity_endpoint(dev5: Synthesis) -> None:
    statements = _role_statements(_template(dev5, "eligibility"), "EligibilityRole")
    (invoke,) = [s for s in statements if s["Action"] == "sagemaker:InvokeEndpoint"]
    assert json.dumps(invoke["Resource"]).endswith(':endpoint/omni-cx-dev-propensity"]]}')
    assert {a for a in _actions(statements) if a.startswith("dynamodb:")} == {
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    }


def test_the_offer_check_reads_and_records_but_never_changes_rules(dev5: Synthesis) -> None:
    template = _template(dev5, "offers-contact-centre")
    statements = _role_statements(template, "OfferCheckRole")
    assert {a for a in _actions(statements) if a.startswith("dynamodb:")} == {
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    }
    (function,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == eligibility.OFFER_CHECK_HANDLER
    ]
    assert function["Properties"]["Timeout"] == 3
    assert function["Properties"]["Environment"]["Variables"][eligibility.ENV_OFFER_PRODUCT] == "retention-offer"


def test_the_offers_flow_depends_on_both_integrations_and_is_the_only_stage_four_flow(dev5: Synthesis) -> None:
    template = _template(dev5, "offers-contact-centre")
    flows = template.find_resources("AWS::Connect::ContactFlow")
    assert [f["Properties"]["Name"] for f in flows.values()] == ["Personalised inbound with offers"]
    (flow,) = flows.values()
    associations = template.find_resources("AWS::Connect::IntegrationAssociation")
    permissions = template.find_resources("AWS::Lambda::Permission")
    assert set(associations) | set(permissions) <= set(flow["DependsOn"])
    (permission,) = permissions.values()
    assert permission["Properties"]["Principal"] == "connect.amazonaws.com"


def _methods(synthesis: Synthesis) -> set[tuple[str, str]]:
    """(resource path, HTTP method) of every API Gateway method in the eligibility template."""
    template = synthesis.template("eligibility")
    resources = template["Resources"]

    def path_of(logical_id: str) -> str:
        resource = resources[logical_id]["Properties"]
        parent = resource["ParentId"]
        prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{resource['PathPart']}"

    return {
        (path_of(method["Properties"]["ResourceId"]["Ref"]), method["Properties"]["HttpMethod"])
        for method in resources.values()
        if method["Type"] == "AWS::ApiGateway::Method" and "Ref" in method["Properties"]["ResourceId"]
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_next_best_action_route_arrives_at_stage_5_with_iam_and_stage_4_keeps_its_routes(
    syntheses: Mapping[tuple[str, Stage], Synthesis], env: str
) -> None:
    path, (method,) = NEXT_BEST_ACTION_ROUTE
    stage4, stage5 = _methods(syntheses[env, Stage.ORCHESTRATED]), _methods(syntheses[env, Stage.SEAMLESS])
    assert (path, method) not in stage4
    assert stage4 == {(p, m) for p, methods in ROUTES for m in methods}
    assert stage5 == stage4 | {(path, method)}
    template = Template.from_json(syntheses[env, Stage.SEAMLESS].template("eligibility"))
    methods = template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": method}})
    assert {m["Properties"]["AuthorizationType"] for m in methods.values()} == {"AWS_IAM"}
