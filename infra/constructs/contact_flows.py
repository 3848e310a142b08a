"""Contact flows and flow modules from `connect_flows/manifest.json`, rendered with this deployment's ARNs.

Each flow in the repository holds placeholders (`${queue:general_support}`); the
renderer replaces them with CDK tokens, so CloudFormation writes the real ARNs and
no instance's ARN is ever in the repository. A flow whose placeholder has no value
here fails synthesis, naming the placeholder and the action. Flow modules are
created first: the flows that invoke them name them by `${module:key}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_cdk import Stack
from aws_cdk import aws_connect as connect
from constructs import Construct, IDependable

from connect_flows.manifest import Manifest
from connect_flows.render import UnresolvedPlaceholderError, render
from infra.errors import PlatformDefinitionError


class ContactFlowRenderError(PlatformDefinitionError):
    """A flow refers to a resource this deployment does not provide."""


class ContactFlows(Construct):
    """The modules `module_keys`, then the flows `keys` (manifest order), each published.

    The resolver grows as they are created: `${module:key}` and `${flow:key}` of
    later flows (and of later stacks, through `resolver`) name them.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        instance_arn: str,
        manifest: Manifest,
        keys: Iterable[str],
        resources: Mapping[tuple[str, str], str],
        depends_on: Iterable[IDependable] = (),
        module_keys: Iterable[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.resolver: dict[tuple[str, str], str] = dict(resources)
        self.flows: dict[str, connect.CfnContactFlow] = {}
        self.modules: dict[str, connect.CfnContactFlowModule] = {}
        dependencies = list(depends_on)
        for key in module_keys:
            module_entry = manifest.modules[key]
            try:
                rendered = render(manifest.load_module(key), self.resolver)
            except UnresolvedPlaceholderError as error:
                raise ContactFlowRenderError(f"flow module {key} ({module_entry.file}): {error}") from None
            module = connect.CfnContactFlowModule(
                self,
                f"Module-{key}",
                instance_arn=instance_arn,
                name=module_entry.name,
                description=module_entry.description or None,
                state="ACTIVE",
                content=Stack.of(self).to_json_string(rendered),
            )
            for dependency in dependencies:
                module.node.add_dependency(dependency)
            self.modules[key] = module
            self.resolver["module", key] = module.attr_contact_flow_module_arn
        for key in keys:
            entry = manifest.entry(key)
            try:
                rendered = render(manifest.load_flow(key), self.resolver)
            except UnresolvedPlaceholderError as error:
                raise ContactFlowRenderError(f"flow {key} ({entry.file}): {error}") from None
            flow = connect.CfnContactFlow(
                self,
                key,
                instance_arn=instance_arn,
                name=entry.name,
                type=entry.type,
                description=entry.description or None,
                state="ACTIVE",
                content=Stack.of(self).to_json_string(rendered),
            )
            for dependency in dependencies:
                flow.node.add_dependency(dependency)
            self.flows[key] = flow
            self.resolver["flow", key] = flow.attr_contact_flow_arn
