"""Publishing rendered flows and flow modules to an Amazon Connect instance: create, or update in place.

A deployment walks the manifest's deploy order (modules first), so each flow or
module created is added to the resolver for the ones after it: a later flow's
`${flow:key}` or `${module:key}` resolves to what was just created. The Connect
client is passed in, so tests drive it with botocore's Stubber; `omni flows
deploy` (`omni_cli.flows`) renders, validates and reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connect_flows.instance import InstanceResource
from connect_flows.manifest import FlowEntry, ModuleEntry


@dataclass(frozen=True)
class TargetInstance:
    """The instance a deployment writes to: its client, id, existing flows and modules, and the resolver it grows."""

    client: Any
    id: str
    existing: dict[tuple[str, str], InstanceResource]
    resolver: dict[tuple[str, str], str]


@dataclass(frozen=True)
class Deployed:
    """What one publish did: `created` holds the new ARN, None when an existing one was updated."""

    name: str
    created: str | None = None


def deploy_flow(instance: TargetInstance, key: str, entry: FlowEntry, content: str) -> Deployed:
    """Update the flow of that name in the instance, or create it published; ClientError when refused."""
    client, instance_id, existing, resolver = instance.client, instance.id, instance.existing, instance.resolver
    if ("flow", entry.name) in existing:
        client.update_contact_flow_content(
            InstanceId=instance_id, ContactFlowId=existing["flow", entry.name].id, Content=content
        )
        return Deployed(entry.name)
    created = client.create_contact_flow(
        InstanceId=instance_id,
        Name=entry.name,
        Type=entry.type,
        Description=entry.description,
        Content=content,
        Status="PUBLISHED",
    )
    # Later flows may transfer to this one: let them resolve ${flow:key} to it.
    resolver["flow", key] = created["ContactFlowArn"]
    return Deployed(entry.name, created["ContactFlowArn"])


def deploy_module(instance: TargetInstance, key: str, entry: ModuleEntry, content: str) -> Deployed:
    """Update the flow module of that name in the instance, or create it; ClientError when refused."""
    client, instance_id, existing, resolver = instance.client, instance.id, instance.existing, instance.resolver
    if ("module", entry.name) in existing:
        client.update_contact_flow_module_content(
            InstanceId=instance_id, ContactFlowModuleId=existing["module", entry.name].id, Content=content
        )
        return Deployed(entry.name)
    created = client.create_contact_flow_module(
        InstanceId=instance_id, Name=entry.name, Description=entry.description, Content=content
    )
    # The flows created after it invoke it: let them resolve ${module:key} to it.
    resolver["module", key] = created["Arn"]
    return Deployed(entry.name, created["Arn"])
