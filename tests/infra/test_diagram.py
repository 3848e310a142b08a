"""docs/architecture.md is generated from the synthesized templates and must match the code.

Reuses the session's dev, stage-5 synthesis (tests/infra/conftest.py), so it costs no
extra synthesis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.assembly import Stack
from infra.capabilities import CAPABILITIES, capabilities_deployed
from infra.config import config_for
from infra.diagram import (
    DEFAULT_OUTPUT,
    DIAGRAM_ENV,
    DIAGRAM_STAGE,
    REGENERATE_COMMAND,
    Assembly,
    Endpoint,
    data_flows,
    render,
    resource_summary,
)

from .conftest import Synthesis

pytestmark = pytest.mark.synth

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated(dev5: Synthesis) -> str:
    assert (dev5.env, dev5.stage) == (DIAGRAM_ENV, DIAGRAM_STAGE)
    return render(dev5.outdir, config_for(DIAGRAM_ENV, DIAGRAM_STAGE.value))


def test_architecture_md_is_up_to_date(generated: str) -> None:
    path = ROOT / DEFAULT_OUTPUT
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    assert current == generated, f"{DEFAULT_OUTPUT} is out of date: run `{REGENERATE_COMMAND}` and commit it"


def test_every_capability_of_the_table_is_a_node_in_its_stage(generated: str) -> None:
    config = config_for(DIAGRAM_ENV, DIAGRAM_STAGE.value)
    for capability in capabilities_deployed(config, CAPABILITIES):  # an opt-in left off is no node
        node = capability.name.replace("-", "_")
        stage_block = generated.split(f'subgraph stage{capability.stage.value}["')[1].split("  end", maxsplit=1)[0]
        assert f"    {node}[" in stage_block, capability.name
        assert capability.stack_name(config) in stage_block


def test_the_experience_pathway_flows_are_read_from_the_templates(dev5: Synthesis) -> None:
    flows = {(flow.source, flow.target, flow.via) for flow in data_flows(Assembly.read(dev5.outdir))}
    stream = Endpoint("omni-cx-dev-experience-pathway", "stream CustomerEvents")
    processor = Endpoint("omni-cx-dev-experience-pathway", "function EventProcessorFunction")
    firehose = Endpoint("omni-cx-dev-analytical-pathway", "Firehose EventsToLake")
    assert (stream, processor, "event source mapping") in flows
    assert (stream, firehose, "Firehose source") in flows
    assert (firehose, Endpoint("omni-cx-dev-foundation", "bucket RawDataBucket"), "Firehose delivery") in flows


def _template(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"Resources": resources, "Outputs": outputs or {}}


def test_references_are_followed_through_stack_outputs_names_and_aliases() -> None:
    producer = Stack(
        "p",
        _template(
            {
                "QueueABCDEF12": {"Type": "AWS::SQS::Queue", "Properties": {}},
                "Bucket": {
                    "Type": "AWS::S3::Bucket",
                    "Properties": {"BucketName": {"Fn::Join": ["", ["lake-", {"Ref": "AWS::AccountId"}]]}},
                },
            },
            {"QueueArn": {"Value": {"Fn::GetAtt": ["QueueABCDEF12", "Arn"]}}},
        ),
    )
    consumer = Stack(
        "c",
        _template(
            {
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
                "Live": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Fn"}}},
                "Mapping": {
                    "Type": "AWS::Lambda::EventSourceMapping",
                    "Properties": {
                        "EventSourceArn": {"Fn::GetStackOutput": {"StackName": "p", "OutputName": "QueueArn"}},
                        "FunctionName": {"Ref": "Live"},
                    },
                },
                "Stream": {
                    "Type": "AWS::KinesisFirehose::DeliveryStream",
                    "Properties": {
                        "ExtendedS3DestinationConfiguration": {
                            "BucketARN": {
                                "Fn::Join": [
                                    "",
                                    ["arn:", {"Ref": "AWS::Partition"}, ":s3:::lake-", {"Ref": "AWS::AccountId"}],
                                ]
                            }
                        }
                    },
                },
            }
        ),
        dependencies=("p",),
    )
    flows = data_flows(Assembly({"p": producer, "c": consumer}))
    assert [(f.source, f.target, f.via) for f in flows] == [
        (Endpoint("c", "Firehose Stream"), Endpoint("p", "bucket Bucket"), "Firehose delivery"),
        (Endpoint("p", "queue Queue"), Endpoint("c", "function Fn"), "event source mapping"),
    ]


def test_cdk_helper_functions_and_plumbing_count_as_supporting() -> None:
    phrases, supporting = resource_summary(
        _template(
            {
                "CustomS3AutoDeleteObjectsCustomResourceProviderHandler9D90184F": {"Type": "AWS::Lambda::Function"},
                "Handler": {"Type": "AWS::Lambda::Function"},
                "TableA": {"Type": "AWS::DynamoDB::Table"},
                "TableB": {"Type": "AWS::DynamoDB::Table"},
                "Role": {"Type": "AWS::IAM::Role"},
            }
        )
    )
    assert phrases == ["2 tables", "1 function"]
    assert supporting == 2


def test_a_name_shared_by_two_kinds_of_resource_is_settled_by_the_arn_or_the_variable_name() -> None:
    shared = "omni-customer-events"
    owner = Stack(
        "o",
        _template(
            {
                "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": shared}},
                "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": shared}},
            }
        ),
    )
    user = Stack(
        "u",
        _template(
            {
                "Fn": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {"Environment": {"Variables": {"EVENT_BUS_NAME": shared, "WHATEVER": shared}}},
                },
                "Rule": {
                    "Type": "AWS::Events::Rule",
                    "Properties": {
                        "EventBusName": shared,
                        "Targets": [
                            {
                                "Arn": {
                                    "Fn::Join": [
                                        "",
                                        ["arn:aws:kinesis:eu-west-2:", {"Ref": "AWS::AccountId"}, f":stream/{shared}"],
                                    ]
                                }
                            }
                        ],
                    },
                },
            }
        ),
    )
    flows = {(f.source, f.target, f.via) for f in data_flows(Assembly({"o": owner, "u": user}))}
    assert flows == {
        (Endpoint("u", "function Fn"), Endpoint("o", "event bus Bus"), "uses (EVENT_BUS_NAME)"),
        (Endpoint("o", "event bus Bus"), Endpoint("o", "stream Stream"), "EventBridge rule"),
    }
