"""Stage-upgrade safety: going from stage N to N+1 may only add resources.

`upgrade_violations` compares the synthesized templates of two stages: every
stack and resource of the lower stage must still exist (same logical id, same
type), and no stateful resource may change a property whose update makes
CloudFormation replace it (which deletes the data) or weaken its deletion policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Template = Mapping[str, Any]

# Stateful resource types and the properties whose change forces replacement
# (CloudFormation reference, "Update requires: Replacement").
REPLACEMENT_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "AWS::DynamoDB::Table": ("TableName", "KeySchema", "LocalSecondaryIndexes"),
    "AWS::DynamoDB::GlobalTable": ("TableName", "KeySchema", "LocalSecondaryIndexes"),
    "AWS::Events::Archive": ("ArchiveName", "SourceArn"),
    "AWS::Events::EventBus": ("Name", "EventSourceName"),
    "AWS::Glue::Database": ("CatalogId", "DatabaseName"),
    "AWS::Glue::Table": ("CatalogId", "DatabaseName"),
    "AWS::Kinesis::Stream": ("Name",),
    "AWS::KinesisFirehose::DeliveryStream": ("DeliveryStreamName", "DeliveryStreamType"),
    "AWS::KMS::Key": ("KeySpec", "KeyUsage", "MultiRegion"),
    "AWS::KMS::Alias": ("AliasName",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::S3::Bucket": ("BucketName", "ObjectLockEnabled"),
    "AWS::SNS::Topic": ("TopicName", "FifoTopic"),
    "AWS::SQS::Queue": ("QueueName", "FifoQueue"),
    "AWS::Connect::Instance": ("IdentityManagementType", "InstanceAlias", "DirectoryId"),
}

# Resources a stage may replace by design, being immutable snapshots named after their content:
# a function's published version (CodeDeploy shifts the alias from the old version to the new one)
# and a REST API deployment (a stage that adds a route creates a new one and the API stage moves to it).
REPLACEABLE_TYPES = frozenset({"AWS::Lambda::Version", "AWS::ApiGateway::Deployment"})

_POLICY_STRENGTH = {"Delete": 0, "Snapshot": 1, "RetainExceptOnCreate": 2, "Retain": 3}


def upgrade_violations(before: Mapping[str, Template], after: Mapping[str, Template]) -> list[str]:
    """Problems found going from `before` to `after` (stack name -> template); empty when safe."""
    problems: list[str] = []
    for stack, old_template in before.items():
        new_template = after.get(stack)
        if new_template is None:
            problems.append(f"{stack}: stack removed")
            continue
        new_resources = new_template.get("Resources", {})
        for logical_id, old in old_template.get("Resources", {}).items():
            where = f"{stack}/{logical_id}"
            new = new_resources.get(logical_id)
            if old["Type"] in REPLACEABLE_TYPES:
                continue
            if new is None:
                problems.append(f"{where}: {old['Type']} removed")
            elif new["Type"] != old["Type"]:
                problems.append(f"{where}: type changed from {old['Type']} to {new['Type']}")
            else:
                problems.extend(f"{where}: {problem}" for problem in _stateful_changes(old, new))
    return problems


def _stateful_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    replacing = REPLACEMENT_PROPERTIES.get(old["Type"])
    if replacing is None:
        return []
    problems = []
    old_props, new_props = old.get("Properties", {}), new.get("Properties", {})
    for prop in replacing:
        if old_props.get(prop) != new_props.get(prop):
            problems.append(f"{prop} changed, which replaces the {old['Type']} (its data would be lost)")
    old_policy, new_policy = old.get("DeletionPolicy", "Delete"), new.get("DeletionPolicy", "Delete")
    if _POLICY_STRENGTH.get(new_policy, 0) < _POLICY_STRENGTH.get(old_policy, 0):
        problems.append(f"DeletionPolicy weakened from {old_policy} to {new_policy}")
    return problems
