"""A target Amazon Connect instance's resources, and the placeholder mappings built from them.

Admins render and export against their own instance: its queues, hours, prompts,
flows, flow modules and associated Lambda functions are listed (paginated) and
matched to placeholders by display name, following the manifest's convention.
The Connect client is passed in, so tests drive it with botocore's Stubber.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from connect_flows.manifest import Manifest
from connect_flows.placeholders import Kind, Placeholder, parse_placeholder

# (kind, list operation, response key, extra arguments); Lambda functions are listed as bare ARNs.
_LISTINGS: tuple[tuple[Kind, str, str, dict[str, Any]], ...] = (
    ("queue", "list_queues", "QueueSummaryList", {"QueueTypes": ["STANDARD"]}),
    ("hours", "list_hours_of_operations", "HoursOfOperationSummaryList", {}),
    ("prompt", "list_prompts", "PromptSummaryList", {}),
    ("flow", "list_contact_flows", "ContactFlowSummaryList", {}),
    ("module", "list_contact_flow_modules", "ContactFlowModulesSummaryList", {}),
)


@dataclass(frozen=True)
class InstanceResource:
    kind: Kind
    name: str
    arn: str
    id: str


class AmbiguousResourceError(ValueError):
    """Two resources of the instance match one placeholder; rendering would have to guess."""


def list_instance_resources(client: Any, instance_id: str) -> list[InstanceResource]:
    """Every resource of the instance a flow can reference."""
    resources = []
    for kind, operation, key, extra in _LISTINGS:
        for page in client.get_paginator(operation).paginate(InstanceId=instance_id, **extra):
            resources += [InstanceResource(kind, item["Name"], item["Arn"], item["Id"]) for item in page.get(key, [])]
    for page in client.get_paginator("list_lambda_functions").paginate(InstanceId=instance_id):
        for arn in page.get("LambdaFunctions", []):
            name = arn.split(":")[6]
            resources.append(InstanceResource("lambda", name, arn, name))
    return resources


def _matches(manifest: Manifest, placeholder: Placeholder, resource: InstanceResource) -> bool:
    if resource.kind != placeholder.kind:
        return False
    wanted = manifest.display_name(placeholder.kind, placeholder.name)
    if placeholder.kind == "lambda":
        # Deployments prefix function names (omni-dev-caller-lookup): match the suffix.
        return resource.name == wanted or resource.name.endswith(f"-{wanted}")
    return resource.name == wanted


def find(
    manifest: Manifest, placeholder: Placeholder, resources: Iterable[InstanceResource]
) -> InstanceResource | None:
    found = [resource for resource in resources if _matches(manifest, placeholder, resource)]
    if len(found) > 1:
        names = ", ".join(resource.name for resource in found)
        raise AmbiguousResourceError(f"{placeholder} matches several {placeholder.kind} resources: {names}")
    return found[0] if found else None


def describe_wanted(manifest: Manifest, placeholder: Placeholder) -> str:
    """What the instance needs for a placeholder, for error messages."""
    name = manifest.display_name(placeholder.kind, placeholder.name)
    if placeholder.kind == "lambda":
        return f"{placeholder}: an associated Lambda function named {name} or *-{name}"
    return f"{placeholder}: a {placeholder.kind} named {name!r}"


def resolver_for(
    manifest: Manifest, resources: Iterable[InstanceResource], placeholders: Iterable[Placeholder]
) -> dict[tuple[str, str], str]:
    """(kind, name) -> ARN for each placeholder the instance has; the renderer reports the rest."""
    pool = list(resources)
    resolver: dict[tuple[str, str], str] = {}
    for placeholder in placeholders:
        resource = find(manifest, placeholder, pool)
        if resource is not None:
            resolver[placeholder.kind, placeholder.name] = resource.arn
    return resolver


def known_arns(
    manifest: Manifest, resources: Iterable[InstanceResource], placeholders: Iterable[Placeholder]
) -> dict[str, Placeholder]:
    """ARN -> placeholder for exporting: the placeholders the repository uses, plus any flow,
    queue, hours, prompt or module whose display name reverses the naming convention
    ("Retention offers" -> ${queue:retention_offers})."""
    pool = list(resources)
    known = {}
    for resource in pool:
        if resource.kind == "flow":
            for key, entry in manifest.flows.items():
                if entry.name == resource.name:
                    known[resource.arn] = Placeholder("flow", key)
        elif resource.kind != "lambda":
            candidate = parse_placeholder(f"${{{resource.kind}:{resource.name.lower().replace(' ', '_')}}}")
            if candidate is not None and manifest.display_name(candidate.kind, candidate.name) == resource.name:
                known[resource.arn] = candidate
    for placeholder in placeholders:
        match = find(manifest, placeholder, pool)
        if match is not None:
            known[match.arn] = placeholder
    return known
