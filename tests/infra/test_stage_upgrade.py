"""Going from stage N to N+1 only adds resources; stateful ones are never replaced."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import pytest

from infra.stages import Stage
from infra.upgrade_safety import upgrade_violations

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
