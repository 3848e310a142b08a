"""Stage-1 contact centre: instance settings, encrypted recordings, hours and queues from config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from connect_flows.manifest import load_manifest
from connect_flows.validate import validate_flow
from infra.constructs.contact_flows import ContactFlowRenderError
from infra.platform_app import synthesize
from tests.infra.full_context import full_context

from .conftest import Synthesis, load_templates

EXISTING = "arn:aws:connect:eu-west-2:111122223333:instance/0a1b2c3d-0000-4000-8000-123456789abc"


def _contact_centre(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.template("contact-centre"))


def test_instance_has_managed_identities_calls_and_flow_logs(dev5: Synthesis) -> None:
    _contact_centre(dev5).has_resource_properties(
        "AWS::Connect::Instance",
        {
            "IdentityManagementType": "CONNECT_MANAGED",
            "InstanceAlias": "omni-cx-dev",
            "Attributes": Match.object_like({"InboundCalls": True, "OutboundCalls": True, "ContactflowLogs": True}),
        },
    )


def test_recordings_and_transcripts_are_kms_encrypted_with_the_platform_key(dev5: Synthesis) -> None:
    storage = _contact_centre(dev5).find_resources("AWS::Connect::InstanceStorageConfig")
    assert sorted(s["Properties"]["ResourceType"] for s in storage.values()) == ["CALL_RECORDINGS", "CHAT_TRANSCRIPTS"]
    for config in storage.values():
        encryption = config["Properties"]["S3Config"]["EncryptionConfig"]
        assert encryption["EncryptionType"] == "KMS"
        assert "PlatformKey" in str(encryption["KeyId"])  # imported from the foundation stack


def test_hours_and_queues_come_from_config(dev5: Synthesis) -> None:
    template = _contact_centre(dev5)
    (hours,) = template.find_resources("AWS::Connect::HoursOfOperation").values()
    days = {slot["Day"]: (slot["StartTime"], slot["EndTime"]) for slot in hours["Properties"]["Config"]}
    assert days["MONDAY"] == ({"Hours": 8, "Minutes": 0}, {"Hours": 20, "Minutes": 0})
    assert "SUNDAY" not in days
    assert hours["Properties"]["TimeZone"] == "Europe/London"
    queues = template.find_resources("AWS::Connect::Queue")
    assert sorted(q["Properties"]["Name"] for q in queues.values()) == ["General support", "Retention offers"]
    (profile,) = template.find_resources("AWS::Connect::RoutingProfile").values()
    assert len(profile["Properties"]["QueueConfigs"]) == 2 * len(queues)  # voice and chat for each queue


def test_production_keeps_the_instance(prod5: Synthesis) -> None:
    (instance,) = _contact_centre(prod5).find_resources("AWS::Connect::Instance").values()
    assert instance["DeletionPolicy"] == "Retain"


def test_an_existing_instance_is_used_instead_of_creating_one(tmp_path: Path) -> None:
    # Given config that names an existing instance
    context: dict[str, Any] = full_context()
    context["omni:environments"]["dev"]["contact_centre"]["existing_instance_arn"] = EXISTING
    # When stage 1 is synthesized
    synthesize("dev", 1, str(tmp_path), context=context)
    template = next(t for name, t in load_templates(tmp_path).items() if name.endswith("contact-centre"))
    # Then no instance or storage is created, and the queues and hours attach to the given one
    resources = template["Resources"].values()
    assert not [r for r in resources if r["Type"] in ("AWS::Connect::Instance", "AWS::Connect::InstanceStorageConfig")]
    attached = [r for r in resources if r["Type"] in ("AWS::Connect::Queue", "AWS::Connect::HoursOfOperation")]
    assert attached
    assert all(r["Properties"]["InstanceArn"] == EXISTING for r in attached)


def _deployed_content(content: Any) -> str:
    """The flow JSON CloudFormation would send: the token join with each ARN filled in."""
    if isinstance(content, str):
        return content
    ((function, argument),) = content.items()
    if function == "Fn::Join":
        return argument[0].join(_deployed_content(part) for part in argument[1])
    # A resource of this stack (Ref, GetAtt) or one exported by another stack: any well-formed ARN will do.
    names = {
        "Ref": lambda: argument,
        "Fn::GetAtt": lambda: argument[0],
        "Fn::GetStackOutput": lambda: argument["OutputName"],
    }
    if function in names:
        resource = str(names[function]()).lower()
        return f"arn:aws:connect:eu-west-2:111122223333:instance/0a1b2c3d-0000-4000-8000-123456789abc/{resource}"
    raise AssertionError(f"unexpected intrinsic {function}")


def test_stage_one_deploys_the_stage_one_flows_rendered_with_this_deployments_arns(dev5: Synthesis) -> None:
    flows = _contact_centre(dev5).find_resources("AWS::Connect::ContactFlow")
    by_name = {flow["Properties"]["Name"]: flow["Properties"] for flow in flows.values()}
    manifest = load_manifest()
    assert set(by_name) == {entry.name for entry in manifest.flows.values() if entry.min_stage == 1}
    for name, properties in by_name.items():
        content = _deployed_content(properties["Content"])
        assert "${" not in content, f"{name} still holds a placeholder"
        problems = validate_flow(json.loads(content), rendered=True, flow_type=properties["Type"])
        assert [p for p in problems if p.severity == "error"] == [], name


def test_a_flow_naming_a_resource_the_deployment_lacks_fails_synthesis(tmp_path: Path) -> None:
    # Given config without the queue that the basic flow sends callers to
    context: dict[str, Any] = full_context()
    del context["omni:environments"]["dev"]["contact_centre"]["queues"]["general_support"]
    # Then synthesis names the flow and the placeholder
    with pytest.raises(
        ContactFlowRenderError,
        match=r"(?s)flow basic_inbound .*Actions\[\d+\]\.Parameters\.QueueId: no value for \$\{queue:general_support\}",
    ):
        synthesize("dev", 1, str(tmp_path), context=context)


def test_stage_three_associates_the_caller_lookup_and_lets_only_this_instance_invoke_it(dev5: Synthesis) -> None:
    template = Template.from_json(dev5.template("personalised-contact-centre"))
    (association,) = template.find_resources("AWS::Connect::IntegrationAssociation").values()
    (permission,) = template.find_resources("AWS::Lambda::Permission").values()
    instance = association["Properties"]["InstanceId"]
    assert association["Properties"]["IntegrationType"] == "LAMBDA_FUNCTION"
    assert permission["Properties"]["Principal"] == "connect.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == instance
    assert permission["Properties"]["FunctionName"] == association["Properties"]["IntegrationArn"]
    alias_id = permission["Properties"]["FunctionName"]["Ref"]
    assert template.to_json()["Resources"][alias_id]["Type"] == "AWS::Lambda::Alias"


def test_stage_three_flows_depend_on_the_association_and_permission_and_call_the_alias(dev5: Synthesis) -> None:
    template = Template.from_json(dev5.template("personalised-contact-centre"))
    association_id = next(iter(template.find_resources("AWS::Connect::IntegrationAssociation")))
    permission_id = next(iter(template.find_resources("AWS::Lambda::Permission")))
    flows = template.find_resources("AWS::Connect::ContactFlow")
    assert {f["Properties"]["Name"] for f in flows.values()} == {"Personalised inbound"}
    for flow in flows.values():
        assert {association_id, permission_id} <= set(flow["DependsOn"])
        content = _deployed_content(flow["Properties"]["Content"])
        assert "${" not in content
        problems = validate_flow(json.loads(content), rendered=True, flow_type="CONTACT_FLOW")
        assert [p for p in problems if p.severity == "error"] == []


def test_the_caller_lookup_reads_only_what_it_needs(dev5: Synthesis) -> None:
    template = Template.from_json(dev5.template("personalised-contact-centre"))
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    dynamo_actions = {s["Action"] for s in statements if str(s["Action"]).startswith("dynamodb:")}
    assert dynamo_actions == {"dynamodb:Query", "dynamodb:GetItem"}


def test_stage_three_ships_the_caller_greeting_module_the_inbound_flows_invoke(dev5: Synthesis) -> None:
    template = Template.from_json(dev5.template("personalised-contact-centre"))
    association_id = next(iter(template.find_resources("AWS::Connect::IntegrationAssociation")))
    permission_id = next(iter(template.find_resources("AWS::Lambda::Permission")))
    ((module_id, module),) = template.find_resources("AWS::Connect::ContactFlowModule").items()
    # The module calls the caller lookup, so it waits for the association and the permission
    assert module["Properties"]["Name"] == load_manifest().modules["caller_greeting"].name
    assert {association_id, permission_id} <= set(module["DependsOn"])
    content = _deployed_content(module["Properties"]["Content"])
    assert "${" not in content
    problems = validate_flow(json.loads(content), rendered=True, flow_type="FLOW_MODULE")
    assert [p for p in problems if p.severity == "error"] == []
    # And the stage-3 flow invokes this very module
    (flow,) = template.find_resources("AWS::Connect::ContactFlow").values()
    assert {"Fn::GetAtt": [module_id, "ContactFlowModuleArn"]} in flow["Properties"]["Content"]["Fn::Join"][1]


@pytest.mark.parametrize("stack", ["offers-contact-centre", "next-action-contact-centre"])
def test_later_stages_invoke_the_stage_three_module_and_ship_no_copy(dev5: Synthesis, stack: str) -> None:
    template = Template.from_json(dev5.template(stack))
    assert template.find_resources("AWS::Connect::ContactFlowModule") == {}
    inbound = [
        flow
        for flow in template.find_resources("AWS::Connect::ContactFlow").values()
        if flow["Properties"]["Type"] == "CONTACT_FLOW"
    ]
    assert inbound
    for flow in inbound:
        # The module's ARN comes from the stage-3 stack's output, not from a resource of this stack
        parts = [part for part in flow["Properties"]["Content"]["Fn::Join"][1] if isinstance(part, dict)]
        assert any("Fn::GetAtt" not in part and "ContactFlowModuleArn" in json.dumps(part) for part in parts)
