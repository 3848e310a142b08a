"""What deploying a target stage would do to the stacks deployed in an account (`omni plan`).

`plan_upgrade` compares the deployed stacks (name -> status and template, as
CloudFormation returns them) with the target's synthesized templates, stack by
stack: created, updated or unchanged; resources added, changed (with the property
paths that differ) and removed; and the upgrade-safety verdict of each deployed
stack against its target template, by the same rules the stage-upgrade tests apply
to two synthesized stages (`infra.upgrade_safety.upgrade_violations`).

A stack deployed in the account that the target does not have is reported as
drift in the stage set, not as a violation: `cdk deploy` never deletes a stack,
so nothing of it is lost by the deploy (CloudFormation refuses to remove an export
such a stack still imports, failing the deploy instead).

Pure over templates: reading the account is `infra.deployed`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.upgrade_safety import Template, is_plain_object, upgrade_violations

Action = Literal["create", "update", "unchanged", "not-in-app"]
ACTIONS: tuple[Action, ...] = ("create", "update", "unchanged", "not-in-app")
JSON_SCHEMA = "omni-plan/1"

# A stack in these states holds no resources: the deploy creates it anew (the CDK deletes a
# ROLLBACK_COMPLETE stack, a first creation that failed, before creating it again).
EMPTY_STATUSES = frozenset({"REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE"})
# States a deploy can start from; anything else is an operation still running or one that failed
# and needs a person (UPDATE_ROLLBACK_FAILED needs `continue-update-rollback`), and blocks the plan.
SETTLED_STATUSES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}
)
# A resource's attributes other than its properties that a plan reports when they change.
_ATTRIBUTES = ("Type", "DeletionPolicy", "UpdateReplacePolicy", "DependsOn", "Condition", "Metadata")


@dataclass(frozen=True, slots=True)
class DeployedStack:
    """One stack as the account has it: its status and its template (TemplateStage Original)."""

    name: str
    status: str
    template: Template


@dataclass(frozen=True, slots=True)
class ResourceChange:
    logical_id: str
    type: str
    properties: tuple[str, ...] = ()  # property paths that differ, "Code/S3Key"
    attributes: tuple[str, ...] = ()  # resource attributes that differ, "DeletionPolicy"

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"logical_id": self.logical_id, "type": self.type}
        if self.properties or self.attributes:
            document.update(properties=list(self.properties), attributes=list(self.attributes))
        return document


@dataclass(frozen=True)
class StackPlan:
    name: str
    action: Action
    deployed_status: str | None = None
    added: tuple[ResourceChange, ...] = ()
    changed: tuple[ResourceChange, ...] = ()
    removed: tuple[ResourceChange, ...] = ()
    sections_changed: tuple[str, ...] = ()  # entries of the other template sections: "Outputs/ExportsOutput..."
    violations: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "deployed_status": self.deployed_status,
            "resources": {
                "added": [change.as_json() for change in self.added],
                "changed": [change.as_json() for change in self.changed],
                "removed": [change.as_json() for change in self.removed],
            },
            "sections_changed": list(self.sections_changed),
            "violations": list(self.violations),
        }


@dataclass(frozen=True)
class Plan:
    """The plan of one environment: where it is deployed and what the target is, stack by stack."""

    project: str
    env: str
    region: str
    account: str | None
    target: str  # "stage 4 Orchestrated", or the assembly directory the target was read from
    stacks: tuple[StackPlan, ...] = field(default_factory=tuple)

    @property
    def violations(self) -> list[str]:
        return [violation for stack in self.stacks for violation in stack.violations]

    @property
    def safe(self) -> bool:
        return not self.violations

    def count(self, action: Action) -> int:
        return sum(1 for stack in self.stacks if stack.action == action)

    def as_json(self) -> dict[str, Any]:
        return {
            "schema": JSON_SCHEMA,
            "project": self.project,
            "env": self.env,
            "region": self.region,
            "account": self.account,
            "target": self.target,
            "safe": self.safe,
            "summary": {action: self.count(action) for action in ACTIONS},
            "stacks": [stack.as_json() for stack in self.stacks],
            "violations": self.violations,
        }

    def as_text(self) -> str:
        where = f"{self.region}, account {self.account}" if self.account else self.region
        lines = [f"{self.project} / {self.env} ({where}): deployed stacks -> {self.target}", ""]
        width = max((len(stack.name) for stack in self.stacks), default=0)
        for stack in self.stacks:
            lines.append(f"  {stack.name:<{width}}  {_headline(stack)}")
            if stack.action == "create":  # a new stack's resources by type; --json lists each one
                types = Counter(change.type for change in stack.added)
                lines += [f"      + {count} {resource_type}" for resource_type, count in sorted(types.items())]
            else:
                lines += [f"      + {change.logical_id}  {change.type}" for change in stack.added]
            lines += [
                f"      ~ {change.logical_id}  {change.type}  ({_changed_paths(change)})" for change in stack.changed
            ]
            lines += [f"      - {change.logical_id}  {change.type}" for change in stack.removed]
            if stack.sections_changed:
                lines += [f"      ~ {entry}" for entry in stack.sections_changed]
            lines += [f"      ! {violation}" for violation in stack.violations]
        words = dict(zip(ACTIONS, ("to create", "to update", "unchanged", "in the account only"), strict=True))
        summary = ", ".join(f"{self.count(action)} {words[action]}" for action in ACTIONS)
        lines.append("")
        if self.safe:
            lines.append(f"verdict: safe ({summary})")
        else:
            lines.append(f"verdict: UNSAFE, {len(self.violations)} problem(s) ({summary}):")
            lines += [f"  {violation}" for violation in self.violations]
        return "\n".join(lines)


def plan_upgrade(
    deployed: Mapping[str, DeployedStack],
    target: Mapping[str, Template],
    *,
    project: str,
    env: str,
    region: str,
    account: str | None,
    target_label: str,
) -> Plan:
    """The plan of deploying `target` (stack name -> template) over `deployed`, in the target's stack order."""
    stacks = [_stack_plan(name, template, deployed.get(name)) for name, template in target.items()]
    stacks += [StackPlan(name, "not-in-app", deployed[name].status) for name in sorted(deployed) if name not in target]
    return Plan(project, env, region, account, target_label, tuple(stacks))


def _stack_plan(name: str, target: Template, deployed: DeployedStack | None) -> StackPlan:
    new_resources: Mapping[str, Any] = target.get("Resources", {})
    if deployed is None or deployed.status in EMPTY_STATUSES:
        added = tuple(ResourceChange(logical_id, r["Type"]) for logical_id, r in new_resources.items())
        return StackPlan(name, "create", deployed.status if deployed else None, added=added)

    old_resources: Mapping[str, Any] = deployed.template.get("Resources", {})
    added = tuple(ResourceChange(i, r["Type"]) for i, r in new_resources.items() if i not in old_resources)
    removed = tuple(ResourceChange(i, r["Type"]) for i, r in old_resources.items() if i not in new_resources)
    changed = tuple(
        change
        for logical_id, new in new_resources.items()
        if logical_id in old_resources
        for change in [_resource_change(logical_id, old_resources[logical_id], new)]
        if change.properties or change.attributes
    )
    sections = tuple(
        "/".join(path)
        for section in sorted(set(deployed.template) | set(target))
        if section != "Resources"
        for path in _section_changes(section, deployed.template.get(section), target.get(section))
    )
    violations = list(upgrade_violations({name: deployed.template}, {name: target}))
    if deployed.status not in SETTLED_STATUSES:
        violations.insert(0, f"{name}: stack is {deployed.status}; a deploy cannot start until it settles")
    action: Action = "update" if added or removed or changed or sections else "unchanged"
    return StackPlan(name, action, deployed.status, added, changed, removed, sections, tuple(violations))


def _resource_change(logical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> ResourceChange:
    properties = changed_paths(old.get("Properties", {}), new.get("Properties", {}))
    attributes = tuple(name for name in _ATTRIBUTES if old.get(name) != new.get(name))
    return ResourceChange(
        logical_id, str(new["Type"]), tuple("/".join(path) or "Properties" for path in properties), attributes
    )


def _section_changes(section: str, old: Any, new: Any) -> list[tuple[str, ...]]:
    """A template section's entries that differ ("Outputs", "ExportsOutputRef..."), or the section whole."""
    old, new = ({} if old is None else old), ({} if new is None else new)  # an absent section is an empty one
    if old == new:
        return []
    if not (is_plain_object(old) and is_plain_object(new)):
        return [(section,)]
    return [(section, str(key)) for key in sorted(set(old) | set(new), key=str) if old.get(key) != new.get(key)]


def changed_paths(old: Any, new: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The paths at which two property values differ, followed as deep as both are plain objects.

    A list, a scalar or an intrinsic (Ref, Fn::If...) that differs is reported at its own path, whole.
    """
    if old == new:
        return []
    if not (is_plain_object(old) and is_plain_object(new)):
        return [prefix]
    paths: list[tuple[str, ...]] = []
    for key in sorted(set(old) | set(new), key=str):
        paths += changed_paths(old.get(key), new.get(key), (*prefix, str(key)))
    return paths


def _headline(stack: StackPlan) -> str:
    if stack.action == "not-in-app":
        return f"in the account only ({stack.deployed_status}): not in the app at this stage; the deploy leaves it"
    if stack.action == "create":
        again = f" (deployed as {stack.deployed_status}: nothing in it)" if stack.deployed_status else ""
        return f"create, {len(stack.added)} resources{again}"
    if stack.action == "unchanged":
        return "unchanged"
    return f"update: {len(stack.added)} added, {len(stack.changed)} changed, {len(stack.removed)} removed"


def _changed_paths(change: ResourceChange) -> str:
    return ", ".join([*change.properties, *change.attributes]) or "-"
