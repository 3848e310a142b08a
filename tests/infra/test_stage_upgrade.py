"""Going from stage N to N+1 only adds resources; stateful ones are never replaced."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import pytest

from infra.stages import Stage
from infra.upgrade_safety import (
    REPLACEMENT_PROPERTIES,
    PropertyPath,
    registry_create_only_pointers,
    replacement_paths,
    upgrade_violations,
)

from .conftest import ENVIRONMENTS, Synthesis

UPGRADES = [(env, Stage(n)) for env in ENVIRONMENTS for n in range(1, 5)]


@pytest.mark.parametrize(("env", "stage"), UPGRADES, ids=[f"{e}-{s.value}-to-{s.value + 1}" for e, s in UPGRADES])
def test_upgrading_one_stage_only_adds(
    syntheses: Mapping[tuple[str, Stage], Synthesis], env: str, stage: Stage
) -> None:
    before = syntheses[env, stage].templates
    after = syntheses[env, Stage(stage + 1)].templates
    assert before, "nothing to compare"
    assert upgrade_violations(before, after) == []


def _resource_of_type(templates: Mapping[str, dict], resource_type: str) -> tuple[str, str]:
    for stack, template in templates.items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == resource_type:
                return stack, logical_id
    raise AssertionError(f"no {resource_type} in the templates")


@pytest.fixture
def stage1(syntheses: Mapping[tuple[str, Stage], Synthesis]) -> dict[str, dict]:
    return syntheses["prod", Stage.DISJOINTED].templates


def test_catches_a_removed_resource(stage1: dict[str, dict]) -> None:
    # Given the next stage drops the platform key
    after = copy.deepcopy(stage1)
    stack, key = _resource_of_type(after, "AWS::KMS::Key")
    del after[stack]["Resources"][key]
    # Then the check names it
    assert upgrade_violations(stage1, after) == [f"{stack}/{key}: AWS::KMS::Key removed"]


def test_catches_a_replacing_change_to_a_stateful_resource(stage1: dict[str, dict]) -> None:
    # Given the next stage gives the raw bucket a physical name (CloudFormation would replace it)
    after = copy.deepcopy(stage1)
    stack, bucket = _resource_of_type(after, "AWS::S3::Bucket")
    after[stack]["Resources"][bucket]["Properties"]["BucketName"] = "renamed-bucket"
    violations = upgrade_violations(stage1, after)
    assert len(violations) == 1
    assert violations[0].startswith(f"{stack}/{bucket}: BucketName changed")


def test_catches_a_weakened_deletion_policy(stage1: dict[str, dict]) -> None:
    after = copy.deepcopy(stage1)
    stack, key = _resource_of_type(after, "AWS::KMS::Key")
    assert stage1[stack]["Resources"][key]["DeletionPolicy"] == "Retain"
    after[stack]["Resources"][key]["DeletionPolicy"] = "Delete"
    assert upgrade_violations(stage1, after) == [f"{stack}/{key}: DeletionPolicy weakened from Retain to Delete"]


def test_catches_a_removed_stack_and_a_changed_type(stage1: dict[str, dict]) -> None:
    stack, topic = _resource_of_type(stage1, "AWS::SNS::Topic")
    retyped = copy.deepcopy(stage1)
    retyped[stack]["Resources"][topic]["Type"] = "AWS::SQS::Queue"
    assert upgrade_violations(stage1, retyped) == [
        f"{stack}/{topic}: type changed from AWS::SNS::Topic to AWS::SQS::Queue"
    ]
    assert f"{stack}: stack removed" in upgrade_violations(stage1, {})
    assert len(upgrade_violations(stage1, {})) == len(stage1)


def test_a_stateless_change_and_an_added_resource_are_allowed(stage1: dict[str, dict]) -> None:
    after = copy.deepcopy(stage1)
    stack, topic = _resource_of_type(after, "AWS::SNS::Topic")
    after[stack]["Resources"][topic]["Properties"]["DisplayName"] = "renamed display"
    after[stack]["Resources"]["NewQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    assert upgrade_violations(stage1, after) == []


@pytest.mark.parametrize(
    ("resource_type", "old_id", "new_id"),
    [
        ("AWS::Lambda::Version", "FnCurrentVersionabc", "FnCurrentVersiondef"),
        ("AWS::ApiGateway::Deployment", "ApiDeploymentabc", "ApiDeploymentdef"),  # a stage that adds a route
    ],
)
def test_a_new_immutable_snapshot_is_not_a_violation(
    stage1: dict[str, dict], resource_type: str, old_id: str, new_id: str
) -> None:
    before = copy.deepcopy(stage1)
    stack = next(iter(before))
    before[stack]["Resources"][old_id] = {"Type": resource_type, "Properties": {}}
    after = copy.deepcopy(stage1)
    after[stack]["Resources"][new_id] = {"Type": resource_type, "Properties": {}}
    assert upgrade_violations(before, after) == []


# The stateful types the app synthesizes at stage 5 (in some environment); the first test below keeps
# this list in step with the templates, the next plants a replacing change to each of them.
STATEFUL_TYPES_IN_APP = (
    "AWS::Connect::Instance",
    "AWS::DynamoDB::Table",
    "AWS::Events::Archive",
    "AWS::Events::EventBus",
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::KMS::Alias",
    "AWS::KMS::Key",
    "AWS::Kinesis::Stream",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
    "AWS::SageMaker::ModelPackageGroup",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
)
# Replacing changes the hand list alone missed, named here so that losing the registry fails these cases.
FROM_THE_REGISTRY = [
    ("AWS::Glue::Table", ("TableInput", "Name")),
    ("AWS::Glue::Table", ("Name",)),
    ("AWS::KinesisFirehose::DeliveryStream", ("KinesisStreamSourceConfiguration",)),
    ("AWS::Lambda::EventSourceMapping", ("EventSourceArn",)),
    ("AWS::Lambda::EventSourceMapping", ("StartingPosition",)),
    ("AWS::DynamoDB::Table", ("ImportSourceSpecification",)),
    ("AWS::S3::Bucket", ("BucketNamePrefix",)),
]
REPLACING_CHANGES = sorted(
    {(t, path) for t in STATEFUL_TYPES_IN_APP for path in replacement_paths(t)} | set(FROM_THE_REGISTRY)
)


def _stage5_resources(syntheses: Mapping[tuple[str, Stage], Synthesis]) -> list[tuple[str, str, dict]]:
    return [
        (stack, logical_id, resource)
        for env in ENVIRONMENTS
        for stack, template in syntheses[env, Stage.SEAMLESS].templates.items()
        for logical_id, resource in template["Resources"].items()
    ]


def test_every_stateful_type_the_app_synthesizes_is_checked(syntheses: Mapping[tuple[str, Stage], Synthesis]) -> None:
    synthesized = {resource["Type"] for _, _, resource in _stage5_resources(syntheses)}
    assert synthesized & set(REPLACEMENT_PROPERTIES) == set(STATEFUL_TYPES_IN_APP)


def _plant(properties: dict, path: PropertyPath) -> None:
    """Give the property at `path` a new value, creating the objects above it where missing."""
    *parents, leaf = path
    for step in parents:
        properties = properties.setdefault(step, {})
    properties[leaf] = {"planted": "a value no stage writes"}


@pytest.mark.parametrize(
    ("resource_type", "path"), REPLACING_CHANGES, ids=[f"{t}-{'/'.join(p)}" for t, p in REPLACING_CHANGES]
)
def test_catches_a_change_to_each_property_that_replaces_a_stateful_resource(
    syntheses: Mapping[tuple[str, Stage], Synthesis], resource_type: str, path: PropertyPath
) -> None:
    stack, logical_id, resource = next(r for r in _stage5_resources(syntheses) if r[2]["Type"] == resource_type)
    changed = copy.deepcopy(resource)
    _plant(changed.setdefault("Properties", {}), path)
    before = {stack: {"Resources": {logical_id: resource}}}
    after = {stack: {"Resources": {logical_id: changed}}}
    assert upgrade_violations(before, after) == [
        f"{stack}/{logical_id}: {'/'.join(path)} changed, which replaces the {resource_type} (its data would be lost)"
    ]


def test_replacing_properties_come_from_the_registry_schemas_and_the_hand_list() -> None:
    # the registry's create-only properties, nested ones included, that the hand list never had
    assert {"/properties/Name", "/properties/TableInput/Name"} <= registry_create_only_pointers("AWS::Glue::Table")
    assert "/properties/KinesisStreamSourceConfiguration" in registry_create_only_pointers(
        "AWS::KinesisFirehose::DeliveryStream"
    )
    assert ("TableInput", "Name") in replacement_paths("AWS::Glue::Table")
    # the hand list stays: the registry names no create-only property of a key, KeySpec still replaces one
    assert registry_create_only_pointers("AWS::KMS::Key") == frozenset()
    assert {("KeySpec",), ("KeyUsage",), ("MultiRegion",)} <= set(replacement_paths("AWS::KMS::Key"))
    # conditionally create-only: a table's key schema
    assert "/properties/KeySchema" in registry_create_only_pointers("AWS::DynamoDB::Table")


def _glue_table(table_input: object) -> dict[str, dict]:
    resource = {"Type": "AWS::Glue::Table", "Properties": {"DatabaseName": "lake", "TableInput": table_input}}
    return {"lake": {"Resources": {"Events": resource}}}


def test_a_nested_create_only_property_is_compared_where_it_is() -> None:
    table = {"Name": "events", "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "string"}]}}
    before = _glue_table(table)
    # a new column updates the table in place
    with_column = copy.deepcopy(table)
    with_column["StorageDescriptor"]["Columns"].append({"Name": "channel", "Type": "string"})
    assert upgrade_violations(before, _glue_table(with_column)) == []
    # a new name replaces it
    assert upgrade_violations(before, _glue_table({**table, "Name": "events_v2"})) == [
        "lake/Events: TableInput/Name changed, which replaces the AWS::Glue::Table (its data would be lost)"
    ]
    # an input the check cannot look inside (a condition picks it) is compared whole: any change counts
    chosen = {"Fn::If": ["Prod", table, with_column]}
    assert upgrade_violations(_glue_table(chosen), _glue_table(chosen)) == []
    assert upgrade_violations(before, _glue_table(chosen)) == [
        "lake/Events: TableInput/Name changed, which replaces the AWS::Glue::Table (its data would be lost)"
    ]
