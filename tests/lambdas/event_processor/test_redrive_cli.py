"""`omni events redrive` end to end in moto: the customer event stream, the on-failure queue holding AWS's
documented record, the tables the processor writes; the deployed function's Invoke (which moto runs only in
Docker) answered by the real handler in-process, with the environment the stack gives it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from omni_cli.events import PROCESSOR_ALIAS_LOGICAL_ID, environment_region_and_stack, processor_alias
from omni_cli.main import main
from omni_domain.constants import ENV_CUSTOMER_TABLE, ENV_DEAD_LETTER_QUEUE_URL, ENV_IDENTITY_TABLE
from omni_domain.dynamodb_store import DynamoDBCustomerRepository

from ..conftest import REGION, TABLES, load_event
from .conftest import STREAM, InProcessInvoker, World, event_dict, kinesis_event
from .test_redrive import ON_FAILURE

FUNCTION = "test-event-processor:live"
# The execution role the stored Kinesis event names (sample_events/event-processor/kinesis_customer_events.json).
ROLE = load_event("kinesis_customer_events")["Records"][0]["invokeIdentityArn"]


class Processor:
    """The on-failure queue in `world`'s moto, and the function: its Invoke runs the real handler in-process."""

    def __init__(self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        from event_processor import dependencies
        from event_processor import handler as module

        self.world = world
        self.failed_url = world.sqs.create_queue(QueueName="test-failed-batches")["QueueUrl"]
        self.invoker = InProcessInvoker(module)
        self.invoked: list[str] = []
        boto3.setup_default_session(region_name=REGION)  # the handler's clients: moto, as in the handler tests
        default: Any = boto3.DEFAULT_SESSION
        default.events.register("before-call.dynamodb", lambda model, **_: world.calls.append(model.name))
        dependencies.use(None)
        real_session = boto3.Session

        def session(*args: Any, **kwargs: Any) -> boto3.Session:
            created = real_session(*args, **kwargs)
            created.events.register("before-call.lambda.Invoke", self._invoke)
            created.events.register("before-call.lambda.GetFunctionConfiguration", self._configuration)
            return created

        monkeypatch.setattr(boto3, "Session", session)

    def _configuration(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        assert unquote(params["url_path"]).endswith(f"/functions/{FUNCTION}/configuration")
        return AWSResponse("https://lambda", 200, {}, None), {"FunctionName": FUNCTION, "Role": ROLE}

    def _invoke(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        # botocore's serialized request: the function in the path, the event as the body, the invocation type.
        self.invoked.append(unquote(params["url_path"]))
        assert params["headers"]["X-Amz-Invocation-Type"] == "RequestResponse"
        answer = self.invoker.invoke(json.loads(params["body"]))
        response: dict[str, Any] = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(answer.payload), None)}
        if answer.function_error:
            response["FunctionError"] = answer.function_error
        return AWSResponse("https://lambda", 200, {}, None), response

    def put(self, *lines: bytes) -> list[dict[str, Any]]:
        """Put records on the stream; the records as GetRecords returns them."""
        self.world.put(list(lines))
        iterator = self.world.kinesis.get_shard_iterator(
            StreamName=STREAM, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        return list(self.world.kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"])[-len(lines) :]

    def given_up_on(self, records: list[dict[str, Any]], *, start: str | None = None) -> None:
        """Lambda's on-failure record for a batch of `records`, as it lands on the queue."""
        body = json.loads(ON_FAILURE.read_text())
        body["KinesisBatchInfo"].update(
            shardId="shardId-000000000000",
            startSequenceNumber=start or records[0]["SequenceNumber"],
            endSequenceNumber=records[-1]["SequenceNumber"],
            batchSize=len(records),
            streamArn=self.world.stream_arn,
        )
        self.world.sqs.send_message(QueueUrl=self.failed_url, MessageBody=json.dumps(body))

    def count(self, *attributes: str) -> int:
        answer = self.world.sqs.get_queue_attributes(QueueUrl=self.failed_url, AttributeNames=list(attributes))
        return sum(int(value) for value in answer["Attributes"].values())

    def redrive(self, *options: str) -> int:
        arguments = ["--queue-url", self.failed_url, "--function", FUNCTION, "--region", REGION]
        return main(["events", "redrive", *arguments, *options])


@pytest.fixture
def processor(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Processor]:
    from event_processor import dependencies

    yield Processor(world, monkeypatch)
    dependencies.use(None)
    boto3.DEFAULT_SESSION = None


def _line(item: dict[str, Any]) -> bytes:
    return json.dumps(item).encode()


def _state(world: World, customer_id: str) -> Any:
    repository = DynamoDBCustomerRepository(
        world.dynamodb, customer_table=TABLES[ENV_CUSTOMER_TABLE], identity_table=TABLES[ENV_IDENTITY_TABLE]
    )
    return repository.get(customer_id).live_state


def test_a_batch_given_up_on_is_applied_by_the_function_once(
    processor: Processor, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given three events of two customers on the stream, a batch the stream mapping gave up on
    records = processor.put(
        _line(event_dict("page_view", identity={"customer_id": "gc-1"})),
        _line(event_dict("purchase", identity={"customer_id": "gc-2"}, order_id="o-1", amount="40.00")),
        _line(event_dict("purchase", identity={"customer_id": "gc-1"}, order_id="o-2", amount="120.00")),
    )
    processor.given_up_on(records)
    # When redriven
    assert processor.redrive() == 0
    # Then the function was invoked (its live alias) on the Kinesis event Lambda delivers, the events are in the
    # customers' state, and the message is gone
    assert processor.invoked == [f"/2015-03-31/functions/{FUNCTION}/invocations"]
    assert processor.invoker.events == [kinesis_event(records, world.stream_arn)]
    assert _state(world, "gc-1").counters["purchases"] == 1
    assert _state(world, "gc-1").last_interaction["web"].event_type == "purchase"
    assert _state(world, "gc-2").counters["purchases"] == 1
    assert processor.count("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible") == 0
    captured = capsys.readouterr()
    [line] = captured.out.splitlines()
    assert line.startswith("redriven ")
    assert f"shardId-000000000000 {records[0]['SequenceNumber']}..{records[-1]['SequenceNumber']}" in line
    assert line.endswith(
        "3 record(s), none failed (events applied before are answered as duplicates, not "
        "applied again); message deleted"
    )
    assert f"invoking {FUNCTION}" in captured.err
    assert "1 message(s): 1 redriven, 0 kept in the queue" in captured.err
    state, writes, triggers = _state(world, "gc-1"), world.writes(), world.drain(world.triggers_url)
    # When the same batch is given up on again (a redelivered on-failure record) and redriven
    processor.given_up_on(records)
    assert processor.redrive() == 0
    # Then the events come back as duplicates: nothing is written, no trigger raised again, the message is gone
    assert world.writes() == writes
    assert _state(world, "gc-1") == state
    assert triggers
    assert world.drain(world.triggers_url) == []
    assert processor.count("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible") == 0


def test_records_gone_from_the_stream_are_reported_and_the_message_kept(
    processor: Processor, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a batch whose first record has passed the stream's retention: the shard starts after it
    records = processor.put(_line(event_dict("page_view")))
    processor.given_up_on(records, start=str(int(records[0]["SequenceNumber"]) - 1))
    # When redriven
    assert processor.redrive() == 1
    # Then the function is not invoked, the message stays (visible again) and the output names it and why
    assert processor.invoked == []
    assert processor.count("ApproximateNumberOfMessages") == 1
    captured = capsys.readouterr()
    [line] = captured.out.splitlines()
    assert line.startswith("KEPT ")
    assert "records no longer in the stream (the batch's first record is no longer in the stream)" in line
    assert "0 redriven, 1 kept in the queue" in captured.err


def test_a_function_error_keeps_the_message_and_reports_only_the_errors_type(
    processor: Processor, world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a batch of one invalid record whose dead letter cannot be sent (the function's queue is missing):
    # every record fails, so the function raises, naming the record in its message
    from event_processor import dependencies

    monkeypatch.setenv(ENV_DEAD_LETTER_QUEUE_URL, world.dlq_url.replace("test-events-dlq", "missing-queue"))
    dependencies.use(None)
    records = processor.put(b'{"identity": {"customer_id": "gc-secret"}}')
    processor.given_up_on(records)
    # When redriven
    assert processor.redrive() == 1
    # Then the message is kept and visible again; the line names the error's type, none of its text
    assert processor.count("ApproximateNumberOfMessages") == 1
    captured = capsys.readouterr()
    [line] = captured.out.splitlines()
    assert line.startswith("KEPT ")
    assert line.endswith(
        "the function failed (Unhandled: BatchProcessingError), nothing of the batch is known applied;"
        " run the redrive again"
    )
    assert "gc-secret" not in captured.out + captured.err


def test_a_dry_run_reads_back_but_applies_and_deletes_nothing(
    processor: Processor, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    records = processor.put(_line(event_dict("page_view")), b"not json")
    processor.given_up_on(records)
    assert processor.redrive("--dry-run") == 0
    assert processor.invoked == []
    assert world.writes() == 0
    assert processor.count("ApproximateNumberOfMessages") == 1
    captured = capsys.readouterr()
    assert captured.out.rstrip().endswith("2 record(s), 1 event(s)")
    assert "dry run: nothing is applied or deleted" in captured.err
    # And the real run afterwards finds the message at once
    assert processor.redrive() == 0
    assert _state(world, "gc-1").last_interaction["web"].event_type == "page_view"


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--max-messages", "0"], "--max-messages = '0'"),
        (["--queue-url", "test-failed-batches"], "--queue-url = 'test-failed-batches'"),
        (["--env", "qa"], "--env: env = 'qa'"),
    ],
)
def test_a_bad_option_is_one_line_naming_it(
    processor: Processor, capsys: pytest.CaptureFixture[str], options: list[str], named: str
) -> None:
    arguments = ["--function", FUNCTION] if "--env" not in options else []
    assert main(["events", "redrive", "--queue-url", processor.failed_url, *arguments, *options]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("omni events: error: ")
    assert named in line


def test_without_function_the_environments_stack_is_asked_and_its_absence_named(
    processor: Processor, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events", "redrive", "--queue-url", processor.failed_url, "--env", "dev"]) == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith("omni events: error: cannot find the event processor in stack omni-cx-dev-experience-")
    assert error.endswith("name it with --function")
    assert processor.invoked == []


class FakeCloudFormation:
    """ListStackResources of one stack, a page at a time."""

    def __init__(self, *pages: list[dict[str, str]]) -> None:
        self.pages = pages
        self.stacks: list[str] = []

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_stack_resources"
        fake = self

        class Paginator:
            def paginate(self, StackName: str) -> Iterator[dict[str, Any]]:  # noqa: N803 - boto3's names
                fake.stacks.append(StackName)
                for page in fake.pages:
                    yield {"StackResourceSummaries": page}

        return Paginator()


def _resource(logical: str, kind: str, physical: str) -> dict[str, str]:
    return {"LogicalResourceId": logical, "ResourceType": kind, "PhysicalResourceId": physical}


def test_the_default_function_is_the_processors_live_alias_in_the_stack() -> None:
    alias = "arn:aws:lambda:eu-west-2:123456789012:function:omni-cx-dev-ExperiencePathway-EventProcessorFun-x:live"
    cloudformation = FakeCloudFormation(
        [_resource("EventProcessorFunction1A2B3C4D", "AWS::Lambda::Function", "omni-cx-dev-ExperiencePathway-x")],
        [
            _resource("EventProcessorLiveKinesisEventSource9F8E7D6C", "AWS::Lambda::EventSourceMapping", "uuid"),
            _resource("EventProcessorLive5E6F7A8B", "AWS::Lambda::Alias", alias),
            _resource("StateLive1A2B3C4D", "AWS::Lambda::Alias", "another"),
        ],
    )
    assert processor_alias(cloudformation, "omni-cx-dev-experience-pathway") == alias
    assert cloudformation.stacks == ["omni-cx-dev-experience-pathway"]
    with pytest.raises(Exception, match="has 0 event processor aliases, not one; name it with --function"):
        processor_alias(FakeCloudFormation([]), "omni-cx-dev-experience-pathway")


def test_the_default_names_are_the_ones_the_stacks_deploy() -> None:
    # Built (not synthesized) for dev at stage 5: the stack's name, its region, and the logical id of the alias
    # the stream mapping invokes.
    from aws_cdk import App, Stack
    from aws_cdk import aws_lambda as lambda_

    from infra.config import ENV_KEY, MATURITY_KEY, load_config, read_cdk_json_context
    from infra.platform_app import build_platform
    from infra.stacks.experience_pathway_stack import ExperiencePathwayStack

    context = {**read_cdk_json_context(), ENV_KEY: "dev", MATURITY_KEY: 5}
    app = App(context=context)
    config = load_config(app.node.try_get_context)
    build_platform(app, config)
    [pathway] = [child for child in app.node.children if isinstance(child, ExperiencePathwayStack)]
    assert environment_region_and_stack("dev") == (config.region, pathway.stack_name)
    alias = pathway.processor.alias.node.default_child
    assert isinstance(alias, lambda_.CfnAlias)
    logical_ids = {
        Stack.of(pathway).resolve(pathway.get_logical_id(child))
        for child in pathway.node.find_all()
        if isinstance(child, lambda_.CfnAlias)
    }
    processor_aliases = [name for name in logical_ids if name.startswith(PROCESSOR_ALIAS_LOGICAL_ID)]
    assert processor_aliases == [pathway.resolve(pathway.get_logical_id(alias))]
    [mapping] = [child for child in pathway.node.find_all() if isinstance(child, lambda_.CfnEventSourceMapping)]
    # The mapping names the alias (its function name and `:live`, taken from the alias's Ref).
    assert json.dumps({"Ref": processor_aliases[0]}) in json.dumps(pathway.resolve(mapping.function_name))
