"""Stage-upgrade safety: going from stage N to N+1 may only add resources.

`upgrade_violations` compares the synthesized templates of two stages: every
stack and resource of the lower stage must still exist (same logical id, same
type), and no stateful resource may change a property whose update makes
CloudFormation replace it (which deletes the data) or weaken its deletion policy.

The properties that force replacement come from the CloudFormation registry's
resource schemas, as shipped with cfn-lint (`createOnlyProperties` and
`conditionalCreateOnlyProperties`), joined with a hand list of those the schemas
leave out. A schema names a property by JSON pointer: "/properties/TableName",
or a nested one such as "/properties/TableInput/Name".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

Template = Mapping[str, Any]
PropertyPath = tuple[str, ...]

# Stateful resource types (their data, or a stream mapping's place in its stream, goes with a replacement),
# each with the properties known to force replacement that its registry schema does not list
# (CloudFormation reference, "Update requires: Replacement"), or that an older schema did not.
REPLACEMENT_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "AWS::DynamoDB::Table": ("TableName", "KeySchema", "LocalSecondaryIndexes"),
    "AWS::DynamoDB::GlobalTable": ("TableName", "KeySchema", "LocalSecondaryIndexes"),
    "AWS::Events::Archive": ("ArchiveName", "SourceArn"),
    "AWS::Events::EventBus": ("Name", "EventSourceName"),
    "AWS::Glue::Database": ("CatalogId", "DatabaseName"),
    "AWS::Glue::Table": ("CatalogId", "DatabaseName"),
    "AWS::Glue::MLTransform": (),  # FindMatches: its labels and trained transform
    "AWS::Kinesis::Stream": ("Name",),
    "AWS::KinesisFirehose::DeliveryStream": ("DeliveryStreamName", "DeliveryStreamType"),
    "AWS::KMS::Key": ("KeySpec", "KeyUsage", "MultiRegion"),
    "AWS::KMS::Alias": ("AliasName",),
    "AWS::Lambda::EventSourceMapping": (),  # a new mapping starts at its StartingPosition, not where the old one was
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::S3::Bucket": ("BucketName", "ObjectLockEnabled"),
    "AWS::SNS::Topic": ("TopicName", "FifoTopic"),
    "AWS::SQS::Queue": ("QueueName", "FifoQueue"),
    "AWS::Connect::Instance": ("IdentityManagementType", "InstanceAlias", "DirectoryId"),
    # The model registry: its versions are the champion's history and approvals, lost with a replacement.
    "AWS::SageMaker::ModelPackageGroup": ("ModelPackageGroupName",),
}

# Resources a stage may replace by design, being immutable snapshots named after their content:
# a function's published version (CodeDeploy shifts the alias from the old version to the new one)
# and a REST API deployment (a stage that adds a route creates a new one and the API stage moves to it).
REPLACEABLE_TYPES = frozenset({"AWS::Lambda::Version", "AWS::ApiGateway::Deployment"})

_POLICY_STRENGTH = {"Delete": 0, "Snapshot": 1, "RetainExceptOnCreate": 2, "Retain": 3}
_SCHEMAS = "cfnlint.data.schemas"  # cfn-lint's bundled copy, so the answer depends on its pinned version only


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


@cache
def replacement_paths(resource_type: str) -> tuple[PropertyPath, ...]:
    """Property paths of a stateful type whose change replaces it: the registry's and the hand list's."""
    paths: set[PropertyPath] = {(name,) for name in REPLACEMENT_PROPERTIES.get(resource_type, ())}
    for pointer in registry_create_only_pointers(resource_type):
        paths.add(tuple(pointer.removeprefix("/properties/").split("/")))
    return tuple(sorted(paths))


@cache
def registry_create_only_pointers(resource_type: str) -> frozenset[str]:
    """The registry schemas' create-only (and conditionally create-only) properties of a type, in every region."""
    schemas = resources.files(_SCHEMAS)
    pointers: set[str] = set()
    for schema_hash in _schema_hashes().get(resource_type, ()):
        schema = json.loads((schemas / "resources" / f"{schema_hash}.json").read_text(encoding="utf-8"))
        pointers.update(schema.get("createOnlyProperties", ()))
        pointers.update(schema.get("conditionalCreateOnlyProperties", ()))
    return frozenset(p for p in pointers if p.startswith("/properties/"))


@cache
def _schema_hashes() -> Mapping[str, frozenset[str]]:
    """Resource type -> the schema files that describe it (one per distinct regional version)."""
    found: dict[str, set[str]] = {}
    for provider in (resources.files(_SCHEMAS) / "providers").iterdir():
        if provider.name.endswith(".json") and provider.name != "sam.json":
            for resource_type, schema_hash in json.loads(provider.read_text(encoding="utf-8")).items():
                if resource_type in REPLACEMENT_PROPERTIES:
                    found.setdefault(resource_type, set()).add(schema_hash)
    return {resource_type: frozenset(hashes) for resource_type, hashes in found.items()}


def _stateful_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    if old["Type"] not in REPLACEMENT_PROPERTIES:
        return []
    problems = []
    old_props, new_props = old.get("Properties", {}), new.get("Properties", {})
    for path in replacement_paths(old["Type"]):
        if _differs_at(old_props, new_props, path):
            name = "/".join(path)
            problems.append(f"{name} changed, which replaces the {old['Type']} (its data would be lost)")
    old_policy, new_policy = old.get("DeletionPolicy", "Delete"), new.get("DeletionPolicy", "Delete")
    if _POLICY_STRENGTH.get(new_policy, 0) < _POLICY_STRENGTH.get(old_policy, 0):
        problems.append(f"DeletionPolicy weakened from {old_policy} to {new_policy}")
    return problems


def _differs_at(old: Any, new: Any, path: PropertyPath) -> bool:
    """Whether the values at `path` differ, compared as deep as both sides can be followed.

    Where either side stops being a plain object before the end of the path (an intrinsic
    function such as Fn::If, a list, a "*" step), the values there are compared whole: a
    change this check cannot look inside counts as a change.
    """
    for step in path:
        if step == "*" or not (is_plain_object(old) and is_plain_object(new)):
            break
        old, new = old.get(step), new.get(step)
    return bool(old != new)


def is_plain_object(value: Any) -> bool:
    """Whether a template value is an object that can be followed by key (not an intrinsic such as Ref or Fn::If)."""
    if not isinstance(value, Mapping):
        return False
    return not (list(value) == ["Ref"] or any(str(key).startswith("Fn::") for key in value))
