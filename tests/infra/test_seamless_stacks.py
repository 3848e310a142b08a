"""Stage 5: the customer table's stream, the state fan-out and real-time rescoring."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from infra.stages import Stage
from infra.upgrade_safety import upgrade_violations
from omni_domain import constants
from state_publisher.changes import MODEL_RELEVANT_FIELDS

from .conftest import ENVIRONMENTS, Synthesis


def _customer_table(synthesis: Synthesis) -> tuple[str, dict[str, Any]]:
    resources = synthesis.template("customer-domain")["Resources"]
    (found,) = (
        (logical_id, resource)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::DynamoDB::Table"
        and resource["Properties"]["TableName"].endswith(f"-{constants.CUSTOMER_TABLE_SUFFIX}")
    )
    return found


def _statements(template: Template) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_enabling_the_stream_updates_the_customer_table_in_place(
    syntheses: Mapping[tuple[str, Stage], Synthesis], env: str
) -> None:
    # Given the customer table at stage 4 (no stream) and at stage 5
    before_id, before = _customer_table(syntheses[env, Stage.ORCHESTRATED])
    after_id, after = _customer_table(syntheses[env, Stage.SEAMLESS])
    # Then it is the same resource, and the stream is the only property that changes
    assert after_id == before_id
    assert "StreamSpecification" not in before["Properties"]
    assert after["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    changed = {
        name
        for name in before["Properties"].keys() | after["Properties"].keys()
        if before["Properties"].get(name) != after["Properties"].get(name)
    }
    assert changed == {"StreamSpecification"}
    # And the CloudFormation registry schema (shipped with cfn-lint) does not make it create-only:
    # changing it is an update of the existing table, never a replacement that would lose its data.
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region="eu-west-2", resource_type="AWS::DynamoDB::Table")
    create_only = {path.removeprefix("/properties/").split("/")[0] for path in schema.schema["createOnlyProperties"]}
    assert not changed & create_only
    assert after["DeletionPolicy"] == before["DeletionPolicy"]
    stack = next(name for name in syntheses[env, Stage.SEAMLESS].templates if name.endswith("-customer-domain"))
    assert (
        upgrade_violations(
            {stack: syntheses[env, Stage.ORCHESTRATED].templates[stack]},
            {stack: syntheses[env, Stage.SEAMLESS].templates[stack]},
        )
        == []
    )


def test_the_publisher_reads_the_customer_stream_in_order_and_keeps_what_fails(dev5: Synthesis) -> None:
    template = Template.from_json(dev5.template("state-fanout"))
    (mapping,) = template.find_resources("AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert "StreamArn" in json.dumps(properties["EventSourceArn"])
    assert properties["StartingPosition"] == "TRIM_HORIZON"
    assert properties["ParallelizationFactor"] == 1
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["MaximumRetryAttempts"] == 10
    assert "FailedChanges" in json.dumps(properties["DestinationConfig"]["OnFailure"])
    # The mapping invokes the alias, so CodeDeploy's traffic shifting covers the stream too.
    assert ":live" in json.dumps(properties["FunctionName"])


def test_the_publisher_may_put_events_only_on_the_platform_bus(dev5: Synthesis) -> None:
    template = Template.from_json(dev5.template("state-fanout"))
    puts = [s for s in _statements(template) if "events:PutEvents" in json.dumps(s["Action"])]
    assert len(puts) == 1
    assert puts[0]["Resource"] != "*"
    assert "event-bus/omni-cx-dev-customer-events" in json.dumps(puts[0]["Resource"])
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": constants.STATE_PUBLISHER_HANDLER,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        constants.ENV_EVENT_BUS: "omni-cx-dev-customer-events",
                        constants.ENV_IDEMPOTENCY_TABLE: Match.any_value(),
                    }
                )
            },
        },
    )


@pytest.mark.parametrize(("fixture", "debounce"), [("dev5", "30"), ("prod5", "300")])
def test_the_rescorer_hears_model_relevant_changes_only(
    request: pytest.FixtureRequest, fixture: str, debounce: str
) -> None:
    synthesis: Synthesis = request.getfixturevalue(fixture)
    template = Template.from_json(synthesis.template("realtime-rescoring"))
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == [constants.STATE_CHANGE_SOURCE]
    assert pattern["detail-type"] == [constants.STATE_CHANGED_DETAIL_TYPE]
    assert sorted(pattern["detail"]["changed"]) == sorted(MODEL_RELEVANT_FIELDS)
    assert "propensity" not in pattern["detail"]["changed"]  # the rescorer's own write never triggers it again
    assert rule["Properties"]["EventBusName"] == f"omni-cx-{synthesis.env}-customer-events"
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": constants.RESCORER_HANDLER,
            "Environment": {"Variables": Match.object_like({constants.ENV_RESCORE_DEBOUNCE_SECONDS: debounce})},
        },
    )
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {"TimeToLiveSpecification": {"AttributeName": constants.RESCORE_EXPIRY_ATTRIBUTE, "Enabled": True}},
    )


def test_the_rescorer_invokes_only_the_propensity_endpoint_and_updates_only_the_customer_table(dev5: Synthesis) -> None:
    template = Template.from_json(dev5.template("realtime-rescoring"))
    statements = _statements(template)
    invoke = [s for s in statements if s["Action"] == "sagemaker:InvokeEndpoint"]
    assert len(invoke) == 1
    assert "endpoint/omni-cx-dev-propensity" in json.dumps(invoke[0]["Resource"])
    writes = [s for s in statements if "dynamodb:UpdateItem" in json.dumps(s["Action"])]
    assert len(writes) == 1
    deletes = [s for s in statements if "dynamodb:DeleteItem" in json.dumps(s["Action"])]
    assert len(deletes) == 1
    assert "Debounce" in json.dumps(deletes[0]["Resource"])  # claims only: customer data is never deleted


def test_stage_4_has_no_stage_5_capability(syntheses: Mapping[tuple[str, Stage], Synthesis]) -> None:
    names = syntheses["dev", Stage.ORCHESTRATED].templates
    assert not [name for name in names if name.endswith(("-state-fanout", "-realtime-rescoring"))]
