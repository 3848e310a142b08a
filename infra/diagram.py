"""The architecture picture, generated from a synthesized cloud assembly so it cannot go stale.

`omni diagram` synthesizes the platform (dev, the highest stage) and writes
docs/architecture.md: a Mermaid flowchart with one subgraph per maturity stage and
one node per capability stack, labelled with its main resources counted by type,
plus the data flows read from the templates (event source mappings, EventBridge
rules and schedules, Firehose sources and destinations, API Gateway integrations,
Connect integrations, functions' environment pointing at another stack's
resources). Stack dependencies not explained by a data flow are drawn dotted.

Everything is read from the templates and the capability table: a new capability
appears once its stack is in `infra.capabilities.CAPABILITIES` and the file is
regenerated. The output is deterministic (sorted, no timestamps, no hashes).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.assembly import CloudAssembly, Stack
from infra.capabilities import CAPABILITIES, Capability, capabilities_deployed
from infra.config import PlatformConfig
from infra.stages import Stage

DIAGRAM_ENV = "dev"
DIAGRAM_STAGE = Stage.SEAMLESS
DEFAULT_OUTPUT = Path("docs/architecture.md")
REGENERATE_COMMAND = ".venv/bin/omni diagram"

# The resource types worth naming on a node, in display order: (type, singular, plural).
MAIN_TYPES: tuple[tuple[str, str, str], ...] = (
    ("AWS::KMS::Key", "KMS key", "KMS keys"),
    ("AWS::S3::Bucket", "bucket", "buckets"),
    ("AWS::DynamoDB::Table", "table", "tables"),
    ("AWS::Kinesis::Stream", "Kinesis stream", "Kinesis streams"),
    ("AWS::KinesisFirehose::DeliveryStream", "Firehose stream", "Firehose streams"),
    ("AWS::Events::EventBus", "event bus", "event buses"),
    ("AWS::Events::Rule", "EventBridge rule", "EventBridge rules"),
    ("AWS::Pipes::Pipe", "pipe", "pipes"),
    ("AWS::Scheduler::Schedule", "schedule", "schedules"),
    ("AWS::SQS::Queue", "queue", "queues"),
    ("AWS::SNS::Topic", "topic", "topics"),
    ("AWS::Lambda::Function", "function", "functions"),
    ("AWS::ApiGateway::RestApi", "REST API", "REST APIs"),
    ("AWS::WAFv2::WebACL", "web ACL", "web ACLs"),
    ("AWS::StepFunctions::StateMachine", "state machine", "state machines"),
    ("AWS::Glue::Database", "Glue database", "Glue databases"),
    ("AWS::Glue::Table", "Glue table", "Glue tables"),
    ("AWS::Glue::Job", "Glue job", "Glue jobs"),
    ("AWS::Glue::MLTransform", "FindMatches transform", "FindMatches transforms"),
    ("AWS::SageMaker::Model", "SageMaker model", "SageMaker models"),
    ("AWS::SageMaker::Endpoint", "SageMaker endpoint", "SageMaker endpoints"),
    ("AWS::Connect::Instance", "Connect instance", "Connect instances"),
    ("AWS::Connect::Queue", "Connect queue", "Connect queues"),
    ("AWS::Connect::ContactFlow", "contact flow", "contact flows"),
    ("AWS::Connect::ContactFlowModule", "flow module", "flow modules"),
    ("AWS::LookoutMetrics::AnomalyDetector", "Lookout detector (retired)", "Lookout detectors (retired)"),
    ("AWS::CloudWatch::Alarm", "alarm", "alarms"),
    ("AWS::CloudWatch::CompositeAlarm", "composite alarm", "composite alarms"),
    ("AWS::CloudWatch::Dashboard", "dashboard", "dashboards"),
)
_MAIN_TYPE_NAMES = {resource_type for resource_type, _, _ in MAIN_TYPES}

# Short names for the ends of a data flow.
KIND: Mapping[str, str] = {
    "AWS::S3::Bucket": "bucket",
    "AWS::DynamoDB::Table": "table",
    "AWS::Kinesis::Stream": "stream",
    "AWS::KinesisFirehose::DeliveryStream": "Firehose",
    "AWS::Events::EventBus": "event bus",
    "AWS::SQS::Queue": "queue",
    "AWS::SNS::Topic": "topic",
    "AWS::Lambda::Function": "function",
    "AWS::ApiGateway::RestApi": "REST API",
    "AWS::StepFunctions::StateMachine": "state machine",
    "AWS::Glue::Job": "Glue job",
    "AWS::Connect::Instance": "Connect instance",
    "AWS::SageMaker::Endpoint": "endpoint",
}

# What a function's environment may point at that counts as a data flow between stacks.
_DATA_TYPES = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::DynamoDB::Table",
        "AWS::Kinesis::Stream",
        "AWS::Events::EventBus",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::StepFunctions::StateMachine",
        "AWS::SageMaker::Endpoint",
    }
)

# Properties that carry a resource's physical name, matched against literal names and ARNs.
_NAME_PROPERTIES = (
    "BucketName",
    "TableName",
    "TopicName",
    "QueueName",
    "FunctionName",
    "StateMachineName",
    "DeliveryStreamName",
    "EndpointName",
    "Name",
)
_NAMED_TYPES = frozenset(KIND)
# The service an ARN names, per resource type: an ARN settles which of two same-named resources it means.
_SERVICE: Mapping[str, str] = {
    "AWS::S3::Bucket": "s3",
    "AWS::DynamoDB::Table": "dynamodb",
    "AWS::Kinesis::Stream": "kinesis",
    "AWS::KinesisFirehose::DeliveryStream": "firehose",
    "AWS::Events::EventBus": "events",
    "AWS::SQS::Queue": "sqs",
    "AWS::SNS::Topic": "sns",
    "AWS::Lambda::Function": "lambda",
    "AWS::ApiGateway::RestApi": "apigateway",
    "AWS::StepFunctions::StateMachine": "states",
    "AWS::Glue::Job": "glue",
    "AWS::Connect::Instance": "connect",
    "AWS::SageMaker::Endpoint": "sagemaker",
}
_BUS = frozenset({"AWS::Events::EventBus"})
# Words in an environment variable's name that say which kind of resource its value names.
_VARIABLE_HINTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("BUS", _BUS),
    ("STREAM", frozenset({"AWS::Kinesis::Stream", "AWS::KinesisFirehose::DeliveryStream"})),
    ("TABLE", frozenset({"AWS::DynamoDB::Table"})),
    ("QUEUE", frozenset({"AWS::SQS::Queue"})),
    ("TOPIC", frozenset({"AWS::SNS::Topic"})),
    ("BUCKET", frozenset({"AWS::S3::Bucket"})),
    ("ENDPOINT", frozenset({"AWS::SageMaker::Endpoint"})),
    ("STATE", frozenset({"AWS::StepFunctions::StateMachine"})),
)


def _hint_for(variable: str) -> frozenset[str]:
    """The resource types an environment variable's name points to (EVENT_BUS_NAME: an event bus)."""
    words = set(variable.upper().split("_"))
    return frozenset().union(*(types for word, types in _VARIABLE_HINTS if word in words))


# Functions the CDK adds for its own custom resources: supporting, not part of the design.
_CDK_HELPER_FUNCTION = re.compile(
    r"^(Custom[A-Za-z0-9]*CustomResourceProvider|AWS679f53fac002430cb0da5b7982bd2287|LogRetention|BucketNotificationsHandler)"
)
_HASH_SUFFIX = re.compile(r"[0-9A-F]{8}$")
_WILDCARD = "\x00"


@dataclass(frozen=True, order=True)
class Endpoint:
    """One end of a data flow: a resource of a stack, or something outside the platform (stack "")."""

    stack: str
    label: str


@dataclass(frozen=True, order=True)
class Flow:
    source: Endpoint
    target: Endpoint
    via: str


@dataclass
class Assembly:
    """The stacks of one cloud assembly, with what is needed to follow references between them."""

    stacks: dict[str, Stack]
    _names: list[tuple[str, str, str, str]] = field(default_factory=list)  # (flattened name, stack, logical id, type)

    def __post_init__(self) -> None:
        for stack in sorted(self.stacks.values(), key=lambda s: s.name):
            for logical_id, resource in sorted(stack.resources.items()):
                if resource.get("Type") not in _NAMED_TYPES:
                    continue
                properties = resource.get("Properties", {})
                for key in _NAME_PROPERTIES:
                    if key in properties:
                        name = _flatten(properties[key])
                        if name is not None and name.strip(_WILDCARD):
                            self._names.append((name, stack.name, logical_id, resource["Type"]))
                        break

    @classmethod
    def read(cls, outdir: Path) -> Assembly:
        return cls(CloudAssembly.read(outdir).stacks)

    # -- following references -------------------------------------------------------------

    def resource(self, stack: str, logical_id: str) -> dict[str, Any] | None:
        return self.stacks[stack].resources.get(logical_id) if stack in self.stacks else None

    def refs(self, value: Any, stack: str, hint: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        """The (stack, logical id) resources a template value points at, through outputs and names.

        `hint`: the resource types a bare name most likely names (an event bus name may
        also be a stream's); a name that stays ambiguous across types is not followed.
        """
        found: list[tuple[str, str]] = []
        self._collect(value, stack, found, hint)
        return sorted(set(found))

    def _collect(self, value: Any, stack: str, found: list[tuple[str, str]], hint: frozenset[str]) -> None:
        if isinstance(value, str):
            found.extend(self._by_name(value, hint))
        elif isinstance(value, list):
            for item in value:
                self._collect(item, stack, found, hint)
        elif isinstance(value, dict):
            self._collect_intrinsic(value, stack, found, hint)

    def _collect_intrinsic(
        self, value: dict[str, Any], stack: str, found: list[tuple[str, str]], hint: frozenset[str]
    ) -> None:
        if isinstance(value.get("Ref"), str):
            if not value["Ref"].startswith("AWS::"):
                found.append(self._follow(stack, value["Ref"]))
        elif "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            found.append(self._follow(stack, target[0] if isinstance(target, list) else str(target).split(".")[0]))
        elif "Fn::GetStackOutput" in value:
            spec = value["Fn::GetStackOutput"]
            owner = self.stacks.get(spec.get("StackName"))
            output = owner.outputs.get(spec.get("OutputName")) if owner else None
            if output is not None:
                self._collect(output.value, output.stack, found, hint)
        elif "Fn::ImportValue" in value:
            self._collect_export(value["Fn::ImportValue"], found, hint)
        elif "Fn::Join" in value:
            # A name or ARN built from parts: match it whole first, else look inside it.
            by_name = self._by_name(_flatten(value), hint)
            found.extend(by_name)
            if not by_name:
                self._collect(value["Fn::Join"][1], stack, found, hint)
        else:
            for item in value.values():
                self._collect(item, stack, found, hint)

    def _collect_export(self, export: Any, found: list[tuple[str, str]], hint: frozenset[str]) -> None:
        wanted = _flatten(export)
        for stack in self.stacks.values():
            for output in stack.outputs.values():
                if output.export_name is not None and _flatten(output.export_name) == wanted:
                    self._collect(output.value, output.stack, found, hint)

    def _follow(self, stack: str, logical_id: str) -> tuple[str, str]:
        """Aliases and versions stand for their function."""
        resource = self.resource(stack, logical_id) or {}
        if resource.get("Type") in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            function = resource.get("Properties", {}).get("FunctionName")
            if isinstance(function, dict) and isinstance(function.get("Ref"), str):
                return self._follow(stack, function["Ref"])
        return stack, logical_id

    def _by_name(self, text: str | None, hint: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        """Resources named by a literal name or ARN; an ARN's service, or else the hint, settles a shared name."""
        if not text:
            return []
        matches = [
            (stack, logical_id, kind) for name, stack, logical_id, kind in self._names if _name_matches(text, name)
        ]
        service = text.split(":")[2] if text.startswith("arn:") and text.count(":") >= 2 else ""
        if service and service != _WILDCARD:
            matches = [match for match in matches if _SERVICE.get(match[2]) == service]
        elif hint:
            matches = [match for match in matches if match[2] in hint] or matches
        if len({kind for _, _, kind in matches}) > 1:
            return []  # the same name for resources of different types: not a reference we can follow
        return [(stack, logical_id) for stack, logical_id, _ in matches]

    # -- describing ------------------------------------------------------------------------

    def endpoint(self, stack: str, logical_id: str) -> Endpoint:
        resource = self.resource(stack, logical_id) or {}
        kind = KIND.get(resource.get("Type", ""), resource.get("Type", "resource").split("::")[-1])
        return Endpoint(stack, f"{kind} {_short_id(logical_id)}")


def _flatten(value: Any) -> str | None:
    """A name or ARN as text, with every unresolved part (account, partition, tokens) as a wildcard."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        flattened = [_flatten(part) for part in parts]
        return str(separator).join(part if part is not None else _WILDCARD for part in flattened)
    if isinstance(value, dict) and "Ref" in value:
        return _WILDCARD
    return None


def _name_matches(text: str, name: str) -> bool:
    """A literal name, or an ARN ending in it (or in it and a path: `bucket/*`, `table/name/index/...`)."""
    if text == name:
        return True
    if not text.startswith("arn:"):
        return False
    return any(text.endswith(prefix + name) or (prefix + name + "/") in text for prefix in (":", "/"))


def _short_id(logical_id: str) -> str:
    stripped = _HASH_SUFFIX.sub("", logical_id)
    return stripped or logical_id


# -- flows -------------------------------------------------------------------------------------


def data_flows(assembly: Assembly) -> list[Flow]:
    flows: set[Flow] = set()
    for stack in assembly.stacks.values():
        for logical_id, resource in stack.resources.items():
            flows.update(_flows_of(assembly, stack.name, logical_id, resource))
    return sorted(flow for flow in flows if flow.source != flow.target)


_Ends = Callable[[Any], list[Endpoint]]


def _flows_of(assembly: Assembly, stack: str, logical_id: str, resource: Mapping[str, Any]) -> Iterable[Flow]:
    reader = _FLOW_READERS.get(resource.get("Type", ""))
    if reader is None:
        return []

    def ends(value: Any) -> list[Endpoint]:
        return [assembly.endpoint(*ref) for ref in assembly.refs(value, stack)]

    context = _FlowContext(assembly, stack, assembly.endpoint(stack, logical_id), ends)
    return list(reader(context, resource.get("Properties", {})))


@dataclass(frozen=True)
class _FlowContext:
    assembly: Assembly
    stack: str
    here: Endpoint
    ends: _Ends


def _pairs(sources: Iterable[Endpoint], targets: Iterable[Endpoint], via: str) -> Iterator[Flow]:
    targets = list(targets)
    for source in sources:
        for target in targets:
            yield Flow(source, target, via)


def _event_source_mapping(c: _FlowContext, properties: Mapping[str, Any]) -> Iterator[Flow]:
    yield from _pairs(
        c.ends(properties.get("EventSourceArn")), c.ends(properties.get("FunctionName")), "event source mapping"
    )


def _events_rule(c: _FlowContext, properties: Mapping[str, Any]) -> Iterator[Flow]:
    pattern = properties.get("EventPattern") or {}
    bus = [c.assembly.endpoint(*ref) for ref in c.assembly.refs(properties.get("EventBusName"), c.stack, _BUS)]
    sources = bus + c.ends(pattern.get("detail"))
    if not sources:
        origin = ", ".join(sorted(pattern.get("source", []))) or properties.get("ScheduleExpression", "schedule")
        sources = [Endpoint("", str(origin))]
    detail_types = ", ".join(sorted(pattern.get("detail-type", [])))
    via = f"EventBridge rule ({detail_types})" if detail_types else "EventBridge rule"
    for target in properties.get("Targets", []):
        yield from _pairs(sources, c.ends(target.get("Arn")), via)


def _schedule(c: _FlowContext, properties: Mapping[str, Any]) -> Iterator[Flow]:
    origin = Endpoint("", str(properties.get("ScheduleExpression", "schedule")))
    yield from _pairs([origin], c.ends((properties.get("Target") or {}).get("Arn")), "EventBridge Scheduler")


def _glue_trigger(c: _FlowContext, properties: Mapping[str, Any]) -> Iterator[Flow]:
    origin = Endpoint("", str(properties.get("Schedule", properties.get("Type", "trigger"))))
    for action in properties.get("Actions", []):
        yield from _pairs([origin], c.ends(action.get("JobName")), "Glue trigger")


def _firehose(c: _FlowContext, properties: Mapping[str, Any]) -> Iterator[Flow]:
    source = (properties.get("KinesisStreamSourceConfiguration") or {}).get("KinesisStreamARN")
    yield from _pairs(c.ends(source), [c.here], "Firehose source")
    for key in ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration"):
        yield from _pairs([c.here], c.ends((properties.get(key) or {}).get("BucketARN")), "Firehose delivery")


def _pipe(c: _FlowContext, properties: Mapping[str, Any]) -> Iterator[Flow]:
    yield from _pairs(c.ends(properties.get("Source")), c.ends(properties.get("Target")), "EventBridge pipe")


def _subscription(c: _FlowContext, properties: Mapping[str, Any]) -> Iterator[Flow]:
    via = f"SNS subscription ({properties.get('Protocol', '?')})"
    yield from _pairs(c.ends(properties.get("TopicArn")), c.ends(properties.get("Endpoint")), via)


def _api_method(c: _FlowContext, properties: Mapping[str, Any]) -> Iterator[Flow]:
    uri = (properties.get("Integration") or {}).get("Uri")
    yield from _pairs(c.ends(properties.get("RestApiId")), c.ends(uri), "API Gateway proxy")


def _connect_integration(c: _FlowContext, properties: Mapping[str, Any]) -> Iterator[Flow]:
    yield from _pairs(
        c.ends(properties.get("InstanceId")), c.ends(properties.get("IntegrationArn")), "contact flows invoke"
    )


def _function_environment(c: _FlowContext, properties: Mapping[str, Any]) -> Iterator[Flow]:
    """A function configured with another stack's table, bus, stream... reads or writes it."""
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    for variable, value in sorted(variables.items()):
        for ref in c.assembly.refs(value, c.stack, _hint_for(variable)):
            resource_type = (c.assembly.resource(*ref) or {}).get("Type")
            if ref[0] != c.stack and resource_type in _DATA_TYPES:
                yield Flow(c.here, c.assembly.endpoint(*ref), f"uses ({variable})")


_FLOW_READERS: Mapping[str, Callable[[_FlowContext, Mapping[str, Any]], Iterator[Flow]]] = {
    "AWS::Lambda::EventSourceMapping": _event_source_mapping,
    "AWS::Events::Rule": _events_rule,
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::Glue::Trigger": _glue_trigger,
    "AWS::KinesisFirehose::DeliveryStream": _firehose,
    "AWS::Pipes::Pipe": _pipe,
    "AWS::SNS::Subscription": _subscription,
    "AWS::ApiGateway::Method": _api_method,
    "AWS::Connect::IntegrationAssociation": _connect_integration,
    "AWS::Lambda::Function": _function_environment,
}


# -- rendering ---------------------------------------------------------------------------------


def resource_summary(template: Mapping[str, Any]) -> tuple[list[str], int]:
    """The main resources as '3 tables' phrases in display order, and how many others support them."""
    counts: Counter[str] = Counter()
    supporting = 0
    for logical_id, resource in template.get("Resources", {}).items():
        resource_type = resource.get("Type", "")
        if resource_type == "AWS::Lambda::Function" and _CDK_HELPER_FUNCTION.match(logical_id):
            supporting += 1
        elif resource_type in _MAIN_TYPE_NAMES:
            counts[resource_type] += 1
        else:
            supporting += 1
    phrases = [
        f"{counts[resource_type]} {singular if counts[resource_type] == 1 else plural}"
        for resource_type, singular, plural in MAIN_TYPES
        if counts[resource_type]
    ]
    return phrases, supporting


def _node_id(capability: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", capability)


def _text(label: str) -> str:
    """Mermaid label text: quotes and angle brackets as entities."""
    return label.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _wrap(phrases: Sequence[str], width: int = 3) -> list[str]:
    return [" · ".join(phrases[index : index + width]) for index in range(0, len(phrases), width)]


def mermaid(assembly: Assembly, config: PlatformConfig, table: tuple[Capability, ...] = CAPABILITIES) -> str:
    capabilities = capabilities_deployed(config, table)
    by_stack = {capability.stack_name(config): capability for capability in capabilities}
    lines = ["flowchart LR"]
    for stage in Stage:
        if stage > config.maturity:
            break
        lines.append(f'  subgraph stage{stage.value}["{stage.label}"]')
        members = [capability for capability in capabilities if capability.stage == stage]
        for capability in members:
            stack_name = capability.stack_name(config)
            stack = assembly.stacks.get(stack_name)
            phrases, supporting = resource_summary(stack.template if stack else {})
            body = [stack_name, *_wrap(phrases)]
            if supporting:
                body.append(f"+{supporting} supporting (IAM, logs, permissions...)")
            if stack is None:
                body.append("(not synthesized)")
            text = "<br/>".join([f"<b>{_text(capability.name)}</b>", *(_text(part) for part in body)])
            lines.append(f'    {_node_id(capability.name)}["{text}"]')
        if not members:
            lines.append(f'    stage{stage.value}_empty["no capability yet"]')
        lines.append("  end")

    flows = data_flows(assembly)
    flow_labels: dict[tuple[str, str], set[str]] = defaultdict(set)
    for flow in flows:
        if flow.source.stack in by_stack and flow.target.stack in by_stack and flow.source.stack != flow.target.stack:
            flow_labels[flow.source.stack, flow.target.stack].add(_edge_label(flow))
    for (source, target), labels in sorted(flow_labels.items()):
        label = _text(", ".join(sorted(labels)))
        lines.append(f'  {_node_id(by_stack[source].name)} ==>|"{label}"| {_node_id(by_stack[target].name)}')

    # Dependencies: the assembly's (references between templates) and the capability table's.
    explained = {frozenset(pair) for pair in flow_labels}
    names = {capability.name: stack_name for stack_name, capability in by_stack.items()}
    for stack_name in sorted(by_stack):
        stack = assembly.stacks.get(stack_name)
        declared = {names[name] for name in by_stack[stack_name].depends_on if name in names}
        for dependency in sorted(declared.union(stack.dependencies if stack else ())):
            if dependency in by_stack and frozenset((stack_name, dependency)) not in explained:
                lines.append(f"  {_node_id(by_stack[stack_name].name)} -.-> {_node_id(by_stack[dependency].name)}")
    return "\n".join(lines)


def _edge_label(flow: Flow) -> str:
    if flow.via.startswith("uses"):
        return flow.target.label
    return f"{flow.source.label} → {flow.target.label}" if flow.via != "Firehose delivery" else flow.target.label


def _endpoint_cell(endpoint: Endpoint, names: Mapping[str, str]) -> str:
    if not endpoint.stack:
        return f"`{endpoint.label}`"
    return f"{names.get(endpoint.stack, endpoint.stack)}: {endpoint.label}"


def architecture_markdown(
    assembly: Assembly, config: PlatformConfig, table: tuple[Capability, ...] = CAPABILITIES
) -> str:
    capabilities = capabilities_deployed(config, table)
    names = {capability.stack_name(config): capability.name for capability in capabilities}
    lines = [
        "# Architecture",
        "",
        "<!-- Generated by `omni diagram` from the synthesized templates; do not edit by hand. -->",
        "",
        f"Generated from the templates of the `{config.env_name}` environment at stage {config.maturity.label} "
        f"(`{REGENERATE_COMMAND}` writes this file; `tests/infra/test_diagram.py` fails when it is out of date).",
        "Each box is one capability's stack, labelled with its main resources; the rest (IAM roles and",
        "policies, log groups, permissions, CDK helpers) is counted as supporting. Thick arrows are data",
        "flows found in the templates; dotted arrows are the remaining stack dependencies (from the",
        "dependent stack to the one it needs).",
        "",
        "```mermaid",
        mermaid(assembly, config, table),
        "```",
        "",
        "## Data flows",
        "",
        "| from | to | via |",
        "|---|---|---|",
    ]
    for flow in data_flows(assembly):
        lines.append(f"| {_endpoint_cell(flow.source, names)} | {_endpoint_cell(flow.target, names)} | {flow.via} |")
    lines += [
        "",
        "## Stacks",
        "",
        "| stage | capability | stack | main resources |",
        "|---|---|---|---|",
    ]
    for capability in capabilities:
        stack_name = capability.stack_name(config)
        stack = assembly.stacks.get(stack_name)
        phrases, supporting = resource_summary(stack.template if stack else {})
        summary = ", ".join(phrases) or "-"
        lines.append(
            f"| {capability.stage.label} | `{capability.name}` | `{stack_name}` | {summary} (+{supporting} supporting) |"
        )
    return "\n".join(lines) + "\n"


def render(outdir: Path, config: PlatformConfig, table: tuple[Capability, ...] = CAPABILITIES) -> str:
    """docs/architecture.md's text from a cloud assembly synthesized for `config`."""
    return architecture_markdown(Assembly.read(outdir), config, table)
