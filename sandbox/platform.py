"""The platform stood up locally: moto resources provisioned from the synthesized templates.

`local_platform()` synthesizes the app in-process (the same `infra.platform_app`
the CDK CLI runs), starts `mock_aws()` and creates every table, stream, queue,
bus, rule, bucket and topic the templates define, with the names and settings
the templates give them. Nothing is named twice, so the sandbox cannot drift
from the infrastructure: a renamed table or a new queue appears here on the next run.

Handlers run in-process through `LocalPlatform.invoke`, with the environment the
template gives their function (intrinsics resolved against the provisioned
resources, cross-stack references through the exporting stack's outputs: what
each resource is called and how templates resolve is `sandbox.templates`).

What moto cannot run is replaced by something observable:
- an EventBridge rule's targets (Lambda functions, topics) become one sandbox
  inbox per rule (a CloudWatch Logs group: moto's SQS receive is quadratic in the
  queue's length), so the events a rule matches "arrive" and can be fed to the
  target's handler (`RuleRoute.target_handlers`);
- every custom bus gets a catch-all tap rule into an inbox (`bus_events`);
- every topic gets a subscribed SQS queue (`topic_messages`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import json
import os
import re
import sys
import time
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
from aws_lambda_powertools import Metrics
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from infra.config import PlatformConfig, config_for
from omni_domain.wiring import reset_all
from sandbox.moto_speedups import faster_moto
from sandbox.templates import (
    BUCKET_TYPE,
    BUS_TYPE,
    PSEUDO_PARTITION,
    QUEUE_TYPE,
    RULE_TYPE,
    STREAM_TYPE,
    TABLE_TYPES,
    TOPIC_TYPE,
    URL_SUFFIX,
    CloudAssembly,
    EventSource,
    FunctionDefinition,
    LoadedFunction,
    Resource,
    SandboxError,
    TemplateFunctions,
    TemplateResolver,
    function_ids,
    synthesize_assembly,
)

SANDBOX_PREFIX = "omni-sandbox"
METRICS_NAMESPACE_VARIABLE = "POWERTOOLS_METRICS_NAMESPACE"


class StandInError(Exception):
    """An error answer of a stood-in operation (the service's error code and HTTP status)."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True, slots=True)
class RuleRoute:
    """One EventBridge rule as provisioned: its pattern, where its targets would deliver, and the sandbox inbox standing in for them."""

    stack: str
    logical_id: str
    name: str
    bus: str
    pattern: Mapping[str, Any] | None
    inbox: str | None  # the log group standing in for the targets (None: the rule has no targets)
    target_handlers: tuple[str, ...]  # handler paths of the Lambda targets


@dataclass(slots=True)
class LambdaContext:
    """The parts of the Lambda context object handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


class _HandlerOutput(io.TextIOBase):
    """Where handlers' stdout goes (Powertools logs and EMF metrics): the last lines are kept, not printed.

    One per process: Powertools binds its log stream when a handler module is first
    imported, so every platform of the process must write to the same place.
    """

    def __init__(self, keep: int = 2000) -> None:
        self.lines: deque[str] = deque(maxlen=keep)
        self.written = 0  # lines written so far (the deque keeps the last `keep`)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        lines = [line for line in text.splitlines() if line.strip()]
        self.lines.extend(lines)
        self.written += len(lines)
        return len(text)

    def since(self, mark: int) -> list[str]:
        """The lines written after `mark` (a past `written`), as far as they are still kept."""
        return list(self.lines)[-(self.written - mark) :] if self.written > mark else []


HANDLER_OUTPUT = _HandlerOutput()


class LocalPlatform:
    """The platform provisioned in moto, with lookups by name and in-process handler invocation."""

    def __init__(self, config: PlatformConfig, templates: CloudAssembly, *, account: str) -> None:
        self.config = config
        self.templates = templates
        self.account = account
        self.region = config.region
        self.resolver = TemplateResolver(templates, account=account, region=self.region)
        self.rules: list[RuleRoute] = []
        self.bus_taps: dict[str, str] = {}  # bus name -> the inbox of its catch-all tap
        self._read: dict[str, int] = {}  # inbox -> events already returned
        self.topic_taps: dict[str, str] = {}  # topic arn -> queue url subscribed to it
        self._clients: dict[str, Any] = {}
        self._wired: dict[str, tuple[str, str]] = {}  # handler package -> the function its wiring was built for
        self._functions: TemplateFunctions | None = None  # built by provision(), once the resources exist
        # Around every handler invocation, outermost first: wrapper(handler_path, run) returns run()'s answer
        # (the seam where the sandbox's injected faults see which function runs and what it answered).
        self.invocation_wrappers: list[Callable[[str, Callable[[], Any]], Any]] = []

    # -- clients and lookups -------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        if service not in self._clients:
            # botocore sends stream-ARN calls to account endpoints (`ACCOUNT.streams-ddb...`), which moto 5.2 does not route.
            config = Config(account_id_endpoint_mode="disabled") if service == "dynamodbstreams" else None
            self._clients[service] = boto3.client(service, region_name=self.region, config=config)
        return self._clients[service]

    def resources(self, *types: str) -> list[Resource]:
        return self.templates.resources(*types)

    def name_of(self, resource: Resource) -> str:
        return self.resolver.physical_name(resource)

    def attribute(self, resource: Resource, attribute: str) -> str:
        return self.resolver.attributes(*resource.key)[attribute]

    def find(self, key: str, *types: str) -> Resource:
        """The one resource of these types whose physical name is `key` or ends with `-key`, or whose logical id starts with `key`."""
        candidates = self.resources(*types)
        for matches in (
            lambda r: self.name_of(r) == key,
            lambda r: self.name_of(r).endswith("-" + key),
            lambda r: r.logical_id == key,
            lambda r: r.logical_id.startswith(key),
        ):
            found = [resource for resource in candidates if matches(resource)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                names = ", ".join(f"{r.stack}/{r.logical_id}" for r in found)
                raise SandboxError(f"{key!r} names several resources: {names}")
        known = ", ".join(sorted(self.name_of(resource) for resource in candidates))
        raise SandboxError(f"no {'/'.join(types)} named {key!r}; known: {known}")

    def table(self, key: str) -> str:
        return self.name_of(self.find(key, *TABLE_TYPES))

    def stream(self, key: str) -> str:
        return self.name_of(self.find(key, STREAM_TYPE))

    def stream_arn(self, key: str) -> str:
        return self.attribute(self.find(key, STREAM_TYPE), "Arn")

    def bus(self, key: str) -> str:
        return self.name_of(self.find(key, BUS_TYPE))

    def bucket(self, key: str) -> str:
        return self.name_of(self.find(key, BUCKET_TYPE))

    def topic_arn(self, key: str) -> str:
        return self.attribute(self.find(key, TOPIC_TYPE), "TopicArn")

    def rule(self, key: str) -> RuleRoute:
        found = [rule for rule in self.rules if key in (rule.name, rule.logical_id) or rule.logical_id.startswith(key)]
        if len(found) != 1:
            raise SandboxError(f"{key!r} matches {len(found)} rules; known: {', '.join(r.name for r in self.rules)}")
        return found[0]

    # -- functions -------------------------------------------------------------------------------------
    def functions(self) -> list[FunctionDefinition]:
        return [fn.definition for fn in self._function_index().all]

    def _function_index(self) -> TemplateFunctions:
        if self._functions is None:
            raise SandboxError("the platform's functions are known once it is provisioned")
        return self._functions

    def _loaded(self, handler_path: str) -> LoadedFunction:
        return self._function_index().loaded(handler_path)

    def function(self, handler_path: str) -> FunctionDefinition:
        return self._loaded(handler_path).definition

    def has_function(self, handler_path: str) -> bool:
        return handler_path in self._function_index()

    def function_environment(self, handler_path: str) -> dict[str, str]:
        """The function's Environment.Variables from its template, every intrinsic resolved."""
        return dict(self._loaded(handler_path).environment)

    def event_sources(self, handler_path: str) -> list[EventSource]:
        """The event source mappings that feed this function."""
        return self._function_index().event_sources(handler_path)

    def function_ids(self, stack: str, expression: Any) -> list[str]:
        """The Lambda functions an expression (a function, version or alias reference) points at, each once."""
        return function_ids(self.templates, stack, expression)

    def context_for(self, handler_path: str) -> LambdaContext:
        return self._context(self.function(handler_path))

    def _context(self, fn: FunctionDefinition) -> LambdaContext:
        return LambdaContext(
            function_name=fn.name,
            invoked_function_arn=f"arn:{PSEUDO_PARTITION}:lambda:{self.region}:{self.account}:function:{fn.name}",
            memory_limit_in_mb=fn.memory_mb,
            timeout_seconds=fn.timeout_seconds,
        )

    def invoke(self, handler_path: str, event: Any, *, context: LambdaContext | None = None) -> Any:
        """Run the function's real handler in-process, with its template environment, as Lambda would."""
        loaded = self._loaded(handler_path)
        fn = loaded.definition
        environment = {**self._runtime_environment(), **loaded.environment}
        module_name, _, attribute = fn.handler.rpartition(".")
        package = module_name.split(".", 1)[0]
        with (
            mock.patch.dict(os.environ, environment),
            contextlib.redirect_stdout(HANDLER_OUTPUT),
            warnings.catch_warnings(),
        ):
            # Powertools warns on stderr when a batch had no metric to flush: the output is kept, not printed.
            warnings.simplefilter("ignore", UserWarning)
            if self._wired.get(package) != (fn.stack, fn.logical_id):
                # Every handler wires itself through omni_domain.wiring: forget it all, each package rebuilds
                # from its own function's environment on its next invocation.
                reset_all()
                self._wired[package] = (fn.stack, fn.logical_id)
            handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module_name), attribute)
            _metrics_in(package, environment)

            def run() -> Any:
                return handler(event, context or self._context(fn))

            call: Callable[[], Any] = run
            for wrapper in reversed(self.invocation_wrappers):
                call = functools.partial(wrapper, handler_path, call)
            return call()

    def stand_in(self, service: str, operation: str, answer: Callable[[Mapping[str, Any]], Mapping[str, Any]]) -> None:
        """Answer one AWS operation in-process for every client created from now on (what moto cannot run).

        `answer(request)` gets the serialized request (`body`, `headers`, `url_path`) and returns the parsed response. Handlers' wiring is rebuilt on
        their next invocation, so the clients they create see the stand-in.
        """

        url = f"https://{service}.{self.region}.{URL_SUFFIX}/"

        def respond(params: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, Mapping[str, Any]]:
            # botocore passes the serialized request as `params`; a response here skips the HTTP call.
            try:
                return AWSResponse(url, 200, {}, None), answer(params)
            except StandInError as error:  # the service's error answer: botocore raises it as a ClientError
                parsed = {"Error": {"Code": error.code, "Message": str(error)}, "ResponseMetadata": {}}
                return AWSResponse(url, error.status, {}, None), parsed

        service_id = boto3.DEFAULT_SESSION._session.get_service_model(service).service_id.hyphenize()
        boto3.DEFAULT_SESSION.events.register(f"before-call.{service_id}.{operation}", respond)
        self._wired.clear()
        self._clients.pop(service, None)

    def _runtime_environment(self) -> dict[str, str]:
        """What the Lambda runtime sets besides the function's own variables (no X-Ray here)."""
        return {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    # -- observing what arrived ---------------------------------------------------------------------
    def drain(self, queue_url: str, *, limit: int = 10_000) -> list[str]:
        """Every message body waiting in a queue (received and deleted)."""
        sqs = self.client("sqs")
        bodies: list[str] = []
        while len(bodies) < limit:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            if not messages:
                break
            bodies += [message["Body"] for message in messages]
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
            )
        return bodies

    def peek(self, queue_url: str, *, limit: int = 10_000) -> list[str]:
        """Every message body waiting in a queue, left in it (received, then made visible again)."""
        sqs = self.client("sqs")
        bodies: list[str] = []
        handles: list[str] = []
        while len(bodies) < limit:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=300
            ).get("Messages", [])
            if not messages:
                break
            bodies += [message["Body"] for message in messages]
            handles += [message["ReceiptHandle"] for message in messages]
        for start in range(0, len(handles), 10):
            sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for n, handle in enumerate(handles[start : start + 10])
                ],
            )
        return bodies

    def queue_url_of(self, arn: str) -> str:
        """The URL of the queue with this ARN."""
        account, name = arn.split(":")[4:6]
        return str(self.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])

    def queue_depth(self, queue_url: str) -> int:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def bus_events(self, key: str) -> list[dict[str, Any]]:
        """Every event put on a custom bus since the last call (the bus's catch-all tap).

        moto 5.2 hands a bucket's S3 events to the rules of every bus; S3 sends them to
        the default bus only, so they are not counted as arrivals on a custom bus.
        """
        return [event for event in self._read_inbox(self.bus_taps[self.bus(key)]) if event.get("source") != "aws.s3"]

    def rule_deliveries(self, key: str) -> list[dict[str, Any]]:
        """The events a rule matched since the last call: what its targets would have received."""
        route = self.rule(key)
        if route.inbox is None:
            raise SandboxError(f"rule {route.name} has no targets")
        return self._read_inbox(route.inbox)

    def deliveries_to(self, handler_path: str) -> tuple[str, list[dict[str, Any]]] | None:
        """The first rule with a Lambda target running this handler, and the events it matched since the last call.

        None when no rule delivers to the handler at this stage.
        """
        for route in self.rules:
            if handler_path in route.target_handlers and route.inbox is not None:
                return route.name, self._read_inbox(route.inbox)
        return None

    def _read_inbox(self, group: str) -> list[dict[str, Any]]:
        paginator = self.client("logs").get_paginator("filter_log_events")
        events = [event for page in paginator.paginate(logGroupName=group) for event in page["events"]]
        events.sort(key=lambda event: (event["timestamp"], event["ingestionTime"]))
        new = events[self._read.get(group, 0) :]
        self._read[group] = len(events)
        # moto's log-group delivery drops the envelope's `account` (EventBridge always sends it): put it back.
        return [{"account": self.account, **json.loads(event["message"])} for event in new]

    def topic_messages(self, key: str) -> list[dict[str, Any]]:
        """The SNS notifications published to a topic since the last call (subject, message, attributes)."""
        return [json.loads(body) for body in self.drain(self.topic_taps[self.topic_arn(key)])]

    def handler_output(self, since: int | None = None) -> list[str]:
        """Handlers' stdout lines (logs, EMF metrics): the last ones kept, or those after `output_mark()`."""
        return list(HANDLER_OUTPUT.lines) if since is None else HANDLER_OUTPUT.since(since)

    def output_mark(self) -> int:
        return HANDLER_OUTPUT.written

    def emitted_metric(self, lines: list[str], namespace: str, name: str, dimensions: Mapping[str, str]) -> float:
        """The sum of an EMF metric over these output lines, for the datapoints with these dimension values."""
        total = 0.0
        for line in lines:
            if not line.startswith("{") or '"_aws"' not in line:
                continue
            document = json.loads(line)
            for directive in document["_aws"].get("CloudWatchMetrics", []):
                names = {metric["Name"] for metric in directive.get("Metrics", [])}
                if directive.get("Namespace") != namespace or name not in names:
                    continue
                if any(str(document.get(key)) != value for key, value in dimensions.items()):
                    continue
                value = document[name]
                total += sum(value) if isinstance(value, list) else float(value)
        return total

    # -- provisioning -------------------------------------------------------------------------------
    def provision(self) -> None:
        for resource in self.resources(BUCKET_TYPE):
            self._create_bucket(resource)
        for resource in self.resources(*TABLE_TYPES):
            self._create_table(resource)
        for resource in self.resources(STREAM_TYPE):
            self._create_stream(resource)
        queues = self.resources(QUEUE_TYPE)
        # Dead-letter queues first: a redrive policy names an existing queue.
        for resource in sorted(queues, key=lambda r: "RedrivePolicy" in r.properties):
            self._create_queue(resource)
        for resource in self.resources(TOPIC_TYPE):
            self._create_topic(resource)
        for resource in self.resources(BUS_TYPE):
            self._create_bus(resource)
        for resource in self.resources(RULE_TYPE):
            self._create_rule(resource)
        self._functions = TemplateFunctions(self.resolver)

    def _create_bucket(self, resource: Resource) -> None:
        s3, name = self.client("s3"), self.name_of(resource)
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        if resource.properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        notifications = resource.properties.get("NotificationConfiguration") or {}
        if (notifications.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
            # moto then puts the bucket's S3 events (e.g. "Object Created") on EventBridge itself.
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )

    def _create_table(self, resource: Resource) -> None:
        props = self.resolver.resolve(dict(resource.properties), resource.stack)
        name = self.name_of(resource)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
        }
        if "ProvisionedThroughput" in props:
            request["BillingMode"] = "PROVISIONED"
            request["ProvisionedThroughput"] = _throughput(props["ProvisionedThroughput"])
        else:
            request["BillingMode"] = "PAY_PER_REQUEST"
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(kind):
                request[kind] = [
                    _index(index, provisioned=request["BillingMode"] == "PROVISIONED") for index in props[kind]
                ]
        view_type = (props.get("StreamSpecification") or {}).get("StreamViewType")
        if view_type:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
        description = self.client("dynamodb").create_table(**request)["TableDescription"]
        if description.get("LatestStreamArn"):
            self.resolver.overrides.setdefault(resource.key, {})["StreamArn"] = description["LatestStreamArn"]
        ttl = props.get("TimeToLiveSpecification") or {}
        if ttl.get("Enabled"):
            self.client("dynamodb").update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )

    def _create_stream(self, resource: Resource) -> None:
        props = resource.properties
        mode = (props.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        request: dict[str, Any] = {"StreamName": self.name_of(resource), "StreamModeDetails": {"StreamMode": mode}}
        if mode == "PROVISIONED":
            request["ShardCount"] = int(props.get("ShardCount", 1))
        self.client("kinesis").create_stream(**request)

    def _create_queue(self, resource: Resource) -> None:
        props = self.resolver.resolve(dict(resource.properties), resource.stack)
        attributes = {
            name: str(props[name]).lower() if isinstance(props[name], bool) else str(props[name])
            for name in (
                "FifoQueue",
                "ContentBasedDeduplication",
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "DelaySeconds",
            )
            if name in props
        }
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = self.client("sqs").create_queue(QueueName=self.name_of(resource), Attributes=attributes)["QueueUrl"]
        self.resolver.overrides.setdefault(resource.key, {}).update({"Ref": url, "QueueUrl": url})

    def _create_topic(self, resource: Resource) -> None:
        name = self.name_of(resource)
        fifo = bool(resource.properties.get("FifoTopic"))
        attributes = {"FifoTopic": "true"} if fifo else {}
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        tap = self._sandbox_queue(f"topic-{name}", fifo=fifo)
        self.client("sns").subscribe(TopicArn=arn, Protocol="sqs", Endpoint=self._queue_arn(tap))
        self.topic_taps[arn] = tap

    def _create_bus(self, resource: Resource) -> None:
        name = self.name_of(resource)
        events = self.client("events")
        events.create_event_bus(Name=name)
        tap = self._inbox(f"bus/{name}")
        rule = f"{SANDBOX_PREFIX}-tap"
        events.put_rule(Name=rule, EventBusName=name, EventPattern=json.dumps({"account": [self.account]}))
        events.put_targets(Rule=rule, EventBusName=name, Targets=[{"Id": "tap", "Arn": self._inbox_arn(tap)}])
        self.bus_taps[name] = tap

    def _create_rule(self, resource: Resource) -> None:
        props = resource.properties
        stack = resource.stack
        name = self.name_of(resource)
        bus = str(self.resolver.resolve(props.get("EventBusName", "default"), stack))
        bus = bus.rsplit("/", 1)[-1]  # an ARN names the bus too
        pattern = self.resolver.resolve(props.get("EventPattern"), stack)
        request: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        if pattern is not None:
            request["EventPattern"] = json.dumps(pattern)
        if props.get("ScheduleExpression"):
            request["ScheduleExpression"] = props["ScheduleExpression"]
        events = self.client("events")
        events.put_rule(**request)
        targets = props.get("Targets", [])
        inbox = None
        if targets:
            inbox = self._inbox(f"rule/{name}")
            events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "sandbox", "Arn": self._inbox_arn(inbox)}])
        handlers = []
        for target in targets:
            for logical_id in self.function_ids(stack, target.get("Arn")):
                handlers.append(self.templates.resource(stack, logical_id).properties.get("Handler", ""))
        self.rules.append(
            RuleRoute(
                stack=stack,
                logical_id=resource.logical_id,
                name=name,
                bus=bus,
                pattern=pattern,
                inbox=inbox,
                target_handlers=tuple(dict.fromkeys(h for h in handlers if h)),
            )
        )

    def _sandbox_queue(self, purpose: str, *, fifo: bool = False) -> str:
        name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{SANDBOX_PREFIX}-{purpose}")[: 75 if fifo else 80]
        attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
        return str(
            self.client("sqs").create_queue(QueueName=name + (".fifo" if fifo else ""), Attributes=attributes)[
                "QueueUrl"
            ]
        )

    def _inbox(self, purpose: str) -> str:
        group = f"/{SANDBOX_PREFIX}/{purpose}"
        self.client("logs").create_log_group(logGroupName=group)
        return group

    def _inbox_arn(self, group: str) -> str:
        return f"arn:{PSEUDO_PARTITION}:logs:{self.region}:{self.account}:log-group:{group}"

    def _queue_arn(self, queue_url: str) -> str:
        return f"arn:{PSEUDO_PARTITION}:sqs:{self.region}:{self.account}:{queue_url.rsplit('/', 1)[-1]}"


def _throughput(value: Mapping[str, Any]) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(value.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(value.get("WriteCapacityUnits", 5)),
    }


def _index(index: Mapping[str, Any], *, provisioned: bool) -> dict[str, Any]:
    shaped: dict[str, Any] = {name: index[name] for name in ("IndexName", "KeySchema", "Projection") if name in index}
    if provisioned:
        shaped["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput", {}))
    return shaped


@contextlib.contextmanager
def local_platform(
    *, env: str = "dev", maturity: int = 5, templates: CloudAssembly | None = None
) -> Iterator[LocalPlatform]:
    """The platform of `env` at `maturity`, provisioned in moto for the duration of the block.

    `templates` skips the synthesis (a caller that already synthesized the same
    env and stage, such as a test session); by default the app is synthesized here.
    """
    config = config_for(env, maturity)
    templates = templates or synthesize_assembly(env, maturity)
    account = config.account or DEFAULT_ACCOUNT_ID
    # moto answers as the configured account, so ARNs built from the templates match moto's.
    with (
        mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": config.region, "MOTO_ACCOUNT_ID": account}),
        mock_aws(),
        faster_moto(),
    ):
        boto3.setup_default_session(region_name=config.region)
        try:
            platform = LocalPlatform(config, templates, account=account)
            platform.provision()
            yield platform
        finally:
            boto3.DEFAULT_SESSION = None


def _metrics_in(package: str, environment: Mapping[str, str]) -> None:
    """Point the package's module-level Powertools `Metrics` at the function's namespace.

    Lambda imports a handler in its own environment; in this process the module may have been imported
    first under another one (a unit test's), and `Metrics` reads its namespace once, when created.
    """
    namespace = environment.get(METRICS_NAMESPACE_VARIABLE)
    if not namespace:
        return
    for name, module in list(sys.modules.items()):
        if module is None or (name != package and not name.startswith(f"{package}.")):
            continue
        for value in vars(module).values():
            if isinstance(value, Metrics):
                value.namespace = namespace
