"""The synthesized templates as the sandbox reads them: physical names, attributes, intrinsics and functions.

On top of `infra.assembly` (which reads the cloud assembly once), this decides what
each resource is called and what its attributes are, as CloudFormation would
(the template's name property, or a generated `stack-LogicalId`), and resolves the
templates' intrinsics on those names, cross-stack references included. The running
platform (`sandbox.platform`) provisions moto from these names and records what moto
decided itself (a queue's URL, a table's stream ARN) as overrides.

Also read from the templates: every Python function with its resolved environment,
the event source mappings that feed it, and which functions an expression points at.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.assembly import AssemblyError, CloudAssembly, Intrinsics, Resource, referenced_ids
from infra.platform_app import synthesize

PSEUDO_PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
STREAM_TYPE = "AWS::Kinesis::Stream"
QUEUE_TYPE = "AWS::SQS::Queue"
BUS_TYPE = "AWS::Events::EventBus"
RULE_TYPE = "AWS::Events::Rule"
BUCKET_TYPE = "AWS::S3::Bucket"
TOPIC_TYPE = "AWS::SNS::Topic"
FUNCTION_TYPE = "AWS::Lambda::Function"
ALIAS_TYPE = "AWS::Lambda::Alias"
VERSION_TYPE = "AWS::Lambda::Version"
EVENT_SOURCE_TYPE = "AWS::Lambda::EventSourceMapping"
PROVISIONED_TYPES = (*TABLE_TYPES, STREAM_TYPE, QUEUE_TYPE, BUS_TYPE, RULE_TYPE, BUCKET_TYPE, TOPIC_TYPE)

__all__ = [
    "PROVISIONED_TYPES",
    "CloudAssembly",
    "EventSource",
    "FunctionDefinition",
    "LoadedFunction",
    "Resource",
    "SandboxError",
    "TemplateFunctions",
    "TemplateResolver",
    "function_ids",
    "read_assembly",
    "synthesize_assembly",
]


class SandboxError(Exception):
    """The templates ask for something the sandbox cannot stand up or resolve."""


@dataclass(frozen=True, slots=True)
class FunctionDefinition:
    stack: str
    logical_id: str
    name: str
    handler: str
    memory_mb: int
    timeout_seconds: int


@dataclass(frozen=True, slots=True)
class LoadedFunction:
    definition: FunctionDefinition
    environment: Mapping[str, str]  # Environment.Variables, every intrinsic resolved


@dataclass(frozen=True, slots=True)
class EventSource:
    """An event source mapping: which stream or queue feeds which function, and how."""

    handler: str
    source_arn: str
    batch_size: int
    starting_position: str | None
    properties: Mapping[str, Any]


def read_assembly(outdir: Path) -> CloudAssembly:
    """The cloud assembly in `outdir`; a sandbox error when it cannot be read or holds no stack."""
    try:
        assembly = CloudAssembly.read(outdir)
    except AssemblyError as error:
        raise SandboxError(str(error)) from None
    if not assembly.stacks:
        raise SandboxError(f"{outdir}: the cloud assembly has no stacks")
    return assembly


def synthesize_assembly(env: str, maturity: int, outdir: Path | None = None) -> CloudAssembly:
    """Synthesize the app in-process (cdk-nag included, as `cdk synth` does) and read its assembly."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    if outdir is not None:
        synthesize(env, maturity, str(outdir))
        return read_assembly(outdir)
    with tempfile.TemporaryDirectory(prefix="omni-sandbox-") as scratch:
        synthesize(env, maturity, scratch)
        return read_assembly(Path(scratch))


class TemplateResolver:
    """Physical names and attributes of the templates' resources, and CloudFormation intrinsics resolved on them.

    Names are what CloudFormation would use: the template's name property, or a
    generated `stack-LogicalId` where the template leaves the name to CloudFormation.
    """

    def __init__(self, templates: CloudAssembly, *, account: str, region: str) -> None:
        self.templates = templates
        self.account = account
        self.region = region
        self._attributes: dict[tuple[str, str], dict[str, str]] = {}
        self.overrides: dict[tuple[str, str], dict[str, str]] = {}  # set once moto has created the resource
        self._intrinsics = Intrinsics(
            templates,
            account=account,
            region=region,
            attributes=self.attributes,
            partition=PSEUDO_PARTITION,
            url_suffix=URL_SUFFIX,
        )

    # -- physical names and attributes -------------------------------------------------------------
    def attributes(self, stack: str, logical_id: str) -> dict[str, str]:
        key = (stack, logical_id)
        if key not in self._attributes:
            try:
                resource = self.templates.resource(stack, logical_id)
            except AssemblyError as error:
                raise SandboxError(str(error)) from None
            self._attributes[key] = self._compute(resource)
        return {**self._attributes[key], **self.overrides.get(key, {})}

    def physical_name(self, resource: Resource) -> str:
        return self.attributes(*resource.key)["Name"]

    def _named(self, resource: Resource, prop: str, *, limit: int, lower: bool = False, suffix: str = "") -> str:
        if prop in resource.properties:
            return str(self.resolve(resource.properties[prop], resource.stack))
        generated = f"{resource.stack}-{resource.logical_id}"
        generated = generated.lower() if lower else generated
        return generated[: limit - len(suffix)] + suffix

    def _compute(self, resource: Resource) -> dict[str, str]:  # noqa: PLR0911 - one return per resource type
        region, account, kind = self.region, self.account, resource.type
        if kind in TABLE_TYPES:
            name = self._named(resource, "TableName", limit=255)
            arn = f"arn:{PSEUDO_PARTITION}:dynamodb:{region}:{account}:table/{name}"
            return {"Ref": name, "Name": name, "Arn": arn}
        if kind == STREAM_TYPE:
            name = self._named(resource, "Name", limit=128)
            return {
                "Ref": name,
                "Name": name,
                "Arn": f"arn:{PSEUDO_PARTITION}:kinesis:{region}:{account}:stream/{name}",
            }
        if kind == QUEUE_TYPE:
            fifo = bool(resource.properties.get("FifoQueue"))
            name = self._named(resource, "QueueName", limit=80, suffix=".fifo" if fifo else "")
            url = f"https://sqs.{region}.{URL_SUFFIX}/{account}/{name}"
            arn = f"arn:{PSEUDO_PARTITION}:sqs:{region}:{account}:{name}"
            return {"Ref": url, "Name": name, "QueueName": name, "QueueUrl": url, "Arn": arn}
        if kind == TOPIC_TYPE:
            name = self._named(resource, "TopicName", limit=256)
            arn = f"arn:{PSEUDO_PARTITION}:sns:{region}:{account}:{name}"
            return {"Ref": arn, "Name": name, "TopicName": name, "TopicArn": arn}
        if kind == BUCKET_TYPE:
            name = self._named(resource, "BucketName", limit=63, lower=True)
            return {
                "Ref": name,
                "Name": name,
                "Arn": f"arn:{PSEUDO_PARTITION}:s3:::{name}",
                "DomainName": f"{name}.s3.{URL_SUFFIX}",
                "RegionalDomainName": f"{name}.s3.{region}.{URL_SUFFIX}",
            }
        if kind == BUS_TYPE:
            name = self._named(resource, "Name", limit=256)
            arn = f"arn:{PSEUDO_PARTITION}:events:{region}:{account}:event-bus/{name}"
            return {"Ref": name, "Name": name, "Arn": arn}
        if kind == RULE_TYPE:
            name = self._named(resource, "Name", limit=64)
            return {"Ref": name, "Name": name, "Arn": f"arn:{PSEUDO_PARTITION}:events:{region}:{account}:rule/{name}"}
        if kind == FUNCTION_TYPE:
            name = self._named(resource, "FunctionName", limit=64)
            arn = f"arn:{PSEUDO_PARTITION}:lambda:{region}:{account}:function:{name}"
            return {"Ref": name, "Name": name, "Arn": arn}
        if kind in (ALIAS_TYPE, VERSION_TYPE):
            function = self.resolve(resource.properties.get("FunctionName"), resource.stack)
            function_arn = str(function)
            if not function_arn.startswith("arn:"):
                function_arn = f"arn:{PSEUDO_PARTITION}:lambda:{region}:{account}:function:{function}"
            qualifier = resource.properties.get("Name", "1") if kind == ALIAS_TYPE else "1"
            arn = f"{function_arn}:{qualifier}"
            return {"Ref": arn, "Name": arn, "Arn": arn, "Version": "1"}
        name = f"{resource.stack}-{resource.logical_id}"
        service = kind.split("::")[1].lower() if kind.count("::") == 2 else "unknown"
        return {"Ref": name, "Name": name, "Arn": f"arn:{PSEUDO_PARTITION}:{service}:{region}:{account}:{name}"}

    # -- intrinsics ----------------------------------------------------------------------------------
    def resolve(self, value: Any, stack: str) -> Any:
        """A template value with every intrinsic resolved (references to other stacks through their outputs)."""
        try:
            return self._intrinsics.resolve(value, stack)
        except AssemblyError as error:
            raise SandboxError(str(error)) from None

    @staticmethod
    def referenced_ids(value: Any) -> list[str]:
        """Logical ids a (possibly nested) expression refers to, in order."""
        return referenced_ids(value)


def function_ids(templates: CloudAssembly, stack: str, expression: Any) -> list[str]:
    """The Lambda functions an expression (a function, version or alias reference) points at, each once."""
    return list(dict.fromkeys(_referenced_functions(templates, stack, expression)))


def _referenced_functions(templates: CloudAssembly, stack: str, expression: Any) -> list[str]:
    ids = []
    resources = templates.template(stack).get("Resources", {})
    for logical_id in referenced_ids(expression):
        resource = resources.get(logical_id)
        if resource is None:
            continue
        if resource["Type"] == FUNCTION_TYPE:
            ids.append(logical_id)
        elif resource["Type"] in (ALIAS_TYPE, VERSION_TYPE):
            ids += _referenced_functions(templates, stack, resource["Properties"].get("FunctionName"))
            ids += _referenced_functions(templates, stack, resource["Properties"].get("FunctionVersion"))
    return ids


class TemplateFunctions:
    """Every Python function of the templates with its resolved environment, by handler path and by logical id.

    Built once the resources exist: environments name what moto created (queue URLs, stream ARNs).
    """

    def __init__(self, resolver: TemplateResolver) -> None:
        self.resolver = resolver
        self.templates = resolver.templates
        self.all: list[LoadedFunction] = []
        self._by_key: dict[str, list[LoadedFunction]] = {}
        for resource in self.templates.resources(FUNCTION_TYPE):
            handler = resource.properties.get("Handler")
            if not handler or handler.startswith("index."):  # CDK's own custom-resource providers (Node.js)
                continue
            definition = FunctionDefinition(
                stack=resource.stack,
                logical_id=resource.logical_id,
                name=resolver.physical_name(resource),
                handler=handler,
                memory_mb=int(resource.properties.get("MemorySize", 128)),
                timeout_seconds=int(resource.properties.get("Timeout", 3)),
            )
            raw = resource.properties.get("Environment", {}).get("Variables", {})
            environment = {name: str(resolver.resolve(value, resource.stack)) for name, value in raw.items()}
            loaded = LoadedFunction(definition, environment)
            self.all.append(loaded)
            for key in dict.fromkeys((handler, resource.logical_id)):
                self._by_key.setdefault(key, []).append(loaded)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def loaded(self, handler_path: str) -> LoadedFunction:
        found = self._by_key.get(handler_path, [])
        if not found:
            known = ", ".join(sorted(fn.definition.handler for fn in self.all))
            raise SandboxError(f"no function with handler {handler_path!r} at this stage; defined: {known}")
        if len(found) > 1:
            raise SandboxError(f"several functions use {handler_path!r}: name one by logical id")
        return found[0]

    def event_sources(self, handler_path: str) -> list[EventSource]:
        """The event source mappings that feed this function."""
        fn = self.loaded(handler_path).definition
        sources = []
        for mapping in self.templates.resources(EVENT_SOURCE_TYPE):
            if mapping.stack != fn.stack or fn.logical_id not in function_ids(
                self.templates, mapping.stack, mapping.properties.get("FunctionName")
            ):
                continue
            props = mapping.properties
            sources.append(
                EventSource(
                    handler=fn.handler,
                    source_arn=str(self.resolver.resolve(props.get("EventSourceArn"), mapping.stack)),
                    batch_size=int(props.get("BatchSize", 100)),
                    starting_position=props.get("StartingPosition"),
                    properties=props,
                )
            )
        return sources
