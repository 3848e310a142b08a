"""Stage-5 next best action in the contact centre: the function, its grants, its Connect wiring and its flows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk.assertions import Template

from connect_flows.manifest import load_manifest
from connect_flows.validate import validate_flow
from eligibility import constants as eligibility
from infra.stages import Stage
from omni_domain import constants

from .conftest import ENVIRONMENTS, Synthesis
from .test_contact_centre_stack import _deployed_content

CAPABILITY = "next-action-contact-centre"
STAGE_5_FLOWS = ["Agent whisper with next best action", "Personalised inbound with next best action"]


def _template(synthesis: Synthesis) -> Template:
    assert synthesis.error is None, synthesis.error
    return Template.from_json(synthesis.template(CAPABILITY))


def _function(template: Template) -> Mapping[str, Any]:
    (function,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == constants.NEXT_ACTION_HANDLER
    ]
    return function


def _role_actions(template: Template, role: str) -> set[str]:
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if role in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_stage_5_deploys_the_next_action_contact_centre(
    syntheses: Mapping[tuple[str, Stage], Synthesis], env: str
) -> None:
    assert syntheses[env, Stage.SEAMLESS].error is None, syntheses[env, Stage.SEAMLESS].error
    assert any(name.endswith(f"-{CAPABILITY}") for name in syntheses[env, Stage.SEAMLESS].templates)
    assert not any(name.endswith(f"-{CAPABILITY}") for name in syntheses[env, Stage.ORCHESTRATED].templates)


def test_the_function_answers_within_the_flows_limit_and_asks_about_the_configured_product(dev5: Synthesis) -> None:
    function = _function(_template(dev5))["Properties"]
    assert function["Timeout"] == 3
    variables = function["Environment"]["Variables"]
    assert variables[eligibility.ENV_OFFER_PRODUCT] == "retention-offer"
    assert variables[constants.ENV_SERVICE_NAME] == constants.NEXT_ACTION_SERVICE
    assert {eligibility.ENV_RULES_TABLE, eligibility.ENV_DECISIONS_TABLE, constants.ENV_CUSTOMER_TABLE} <= set(
        variables
    )


def test_the_function_decides_and_records_but_never_changes_rules_or_customers(dev5: Synthesis) -> None:
    actions = _role_actions(_template(dev5), "NextActionRole")
    assert {a for a in actions if a.startswith("dynamodb:")} == {
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    }
    assert "sagemaker:InvokeEndpoint" in actions


def test_only_this_instance_may_invoke_the_function_and_it_is_associated_with_it(dev5: Synthesis) -> None:
    template = _template(dev5)
    (association,) = template.find_resources("AWS::Connect::IntegrationAssociation").values()
    assert association["Properties"]["IntegrationType"] == "LAMBDA_FUNCTION"
    (permission,) = template.find_resources("AWS::Lambda::Permission").values()
    assert permission["Properties"]["Principal"] == "connect.amazonaws.com"
    assert permission["Properties"]["Action"] == "lambda:InvokeFunction"
    assert "SourceArn" in permission["Properties"]
    assert association["Properties"]["InstanceId"] == permission["Properties"]["SourceArn"]


def test_the_stage_5_flows_are_the_manifests_and_depend_on_the_integrations(dev5: Synthesis) -> None:
    template = _template(dev5)
    flows = template.find_resources("AWS::Connect::ContactFlow")
    manifest = load_manifest()
    assert [f["Properties"]["Name"] for f in flows.values()] == STAGE_5_FLOWS
    assert [entry.name for entry in manifest.flows.values() if entry.min_stage == 5] == STAGE_5_FLOWS
    wiring = set(template.find_resources("AWS::Connect::IntegrationAssociation")) | set(
        template.find_resources("AWS::Lambda::Permission")
    )
    for flow in flows.values():
        assert wiring <= set(flow["DependsOn"])


def test_the_inbound_flow_invokes_this_function_and_sets_the_whisper_created_here(dev5: Synthesis) -> None:
    template = _template(dev5)
    flows = {f["Properties"]["Name"]: f for f in template.find_resources("AWS::Connect::ContactFlow").values()}
    (whisper_id,) = [
        logical_id
        for logical_id, f in template.find_resources("AWS::Connect::ContactFlow").items()
        if f["Properties"]["Name"] == STAGE_5_FLOWS[0]
    ]
    content = json.dumps(flows[STAGE_5_FLOWS[1]]["Properties"]["Content"])
    (alias_id,) = template.find_resources("AWS::Lambda::Alias")
    assert alias_id in content  # ${lambda:next_action} rendered to this stack's live alias
    assert whisper_id in content  # ${flow:agent_whisper_next_action} rendered to the whisper flow created here
    assert flows[STAGE_5_FLOWS[0]]["Properties"]["Type"] == "AGENT_WHISPER"


def test_the_deployed_flows_validate_with_every_placeholder_rendered(dev5: Synthesis) -> None:
    for flow in _template(dev5).find_resources("AWS::Connect::ContactFlow").values():
        content = _deployed_content(flow["Properties"]["Content"])
        assert "${" not in content
        problems = validate_flow(json.loads(content), rendered=True, flow_type=flow["Properties"]["Type"])
        assert [p for p in problems if p.severity == "error"] == []
