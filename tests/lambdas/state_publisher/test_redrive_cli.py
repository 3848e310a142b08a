"""`omni state-changes redrive` end to end in moto: a customer table with its stream, the on-failure queue
holding AWS's documented record, the bus observed through a rule targeting a queue."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from omni_cli.main import main
from omni_cli.state import environment_targets
from omni_domain.constants import ENV_CUSTOMER_TABLE, ENV_IDEMPOTENCY_TABLE

from ..conftest import REGION, TABLES
from .conftest import BUS, World, cart, live_state, profile, state_item
from .test_redrive import ON_FAILURE


class Customers:
    """The customer table (NEW_AND_OLD_IMAGES stream) and the on-failure queue, in `world`'s moto."""

    def __init__(self, world: World) -> None:
        self.world = world
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        self.table = dynamodb.create_table(
            TableName=TABLES[ENV_CUSTOMER_TABLE],
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": "customer_id", "KeyType": "HASH"},
                {"AttributeName": "record", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "customer_id", "AttributeType": "S"},
                {"AttributeName": "record", "AttributeType": "S"},
            ],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.streams = boto3.client("dynamodbstreams", region_name=REGION)
        self.stream_arn = self.table.latest_stream_arn
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        self.shard_id = shards[0]["ShardId"]
        self.failed_url = world.sqs.create_queue(QueueName="test-failed-changes")["QueueUrl"]

    def write(self, *items: dict[str, Any]) -> list[dict[str, Any]]:
        """Put the items; the stream records they produced (as GetRecords returns them)."""
        before = len(self.records())
        for item in items:
            self.table.put_item(Item=item)
        return self.records()[before:]

    def records(self) -> list[dict[str, Any]]:
        iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=self.shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        return list(self.streams.get_records(ShardIterator=iterator)["Records"])

    def given_up_on(self, records: list[dict[str, Any]]) -> None:
        """Lambda's on-failure record for a batch of `records`, as it lands on the queue."""
        body = json.loads(ON_FAILURE.read_text())
        body["DDBStreamBatchInfo"].update(
            shardId=self.shard_id,
            startSequenceNumber=records[0]["dynamodb"]["SequenceNumber"],
            endSequenceNumber=records[-1]["dynamodb"]["SequenceNumber"],
            batchSize=len(records),
            streamArn=self.stream_arn,
        )
        self.world.sqs.send_message(QueueUrl=self.failed_url, MessageBody=json.dumps(body))

    def waiting(self) -> int:
        attributes = self.world.sqs.get_queue_attributes(
            QueueUrl=self.failed_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def visible(self) -> int:
        attributes = self.world.sqs.get_queue_attributes(
            QueueUrl=self.failed_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def redrive(self, *options: str) -> int:
        return main(
            [
                "state-changes",
                "redrive",
                "--queue-url",
                self.failed_url,
                "--bus",
                BUS,
                "--idempotency-table",
                TABLES[ENV_IDEMPOTENCY_TABLE],
                "--region",
                REGION,
                *options,
            ]
        )


@pytest.fixture
def customers(world: World, monkeypatch: pytest.MonkeyPatch) -> Customers:
    # botocore addresses DynamoDB Streams at ACCOUNT.streams-ddb.REGION (account-based endpoints), which moto
    # does not route yet; the regional endpoint it serves is set the way an operator would override it.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", f"https://streams.dynamodb.{REGION}.amazonaws.com")
    return Customers(world)


def test_a_batch_given_up_on_is_published_once_in_stream_order(
    customers: Customers, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given three writes of two customers, a batch the stream mapping gave up on
    records = customers.write(
        state_item("gc-1", live_state(1, cart=cart())),
        profile("gc-2"),
        state_item("gc-1", live_state(2, cart=cart("abandoned"))),
    )
    customers.given_up_on(records)
    # When redriven
    assert customers.redrive() == 0
    # Then each change reached the bus once, in stream order, under the stream record's id, and the message is gone
    details = [message["detail"] for message in world.drain()]
    assert [(d["customer_id"], d["record"], d["change"]) for d in details] == [
        ("gc-1", "live_state", "created"),
        ("gc-2", "profile", "created"),
        ("gc-1", "live_state", "updated"),
    ]
    assert [d["change_id"] for d in details] == [record["eventID"] for record in records]
    assert [d["sequence"] for d in details] == [record["dynamodb"]["SequenceNumber"] for record in records]
    assert customers.waiting() == 0
    out = capsys.readouterr().out
    assert "3 published, 0 already published" in out
    # When the same batch is given up on again (a redelivered on-failure record) and redriven
    customers.given_up_on(records)
    assert customers.redrive() == 0
    # Then the idempotency table answers: nothing is put on the bus again
    assert world.drain() == []
    assert "0 published, 3 already published" in capsys.readouterr().out
    assert customers.waiting() == 0


def test_records_gone_from_the_stream_are_reported_and_the_message_kept(
    customers: Customers, world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a batch given up on more than 24 hours ago: the stream has trimmed its records
    records = customers.write(profile("gc-1"))
    customers.given_up_on(records)

    def trimmed(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "TrimmedDataAccessException", "Message": "The data you are trying to access has been trimmed."}
        return AWSResponse("https://streams.dynamodb", 400, {}, None), {"Error": error, "ResponseMetadata": {}}

    real_session = boto3.Session

    def session(*args: Any, **kwargs: Any) -> boto3.Session:
        created = real_session(*args, **kwargs)
        created.events.register("before-call.dynamodbstreams.GetShardIterator", trimmed)
        return created

    monkeypatch.setattr(boto3, "Session", session)
    # When redriven
    assert customers.redrive() == 1
    # Then nothing is published, the message stays (visible again) and the output names it and why
    assert world.drain() == []
    assert customers.visible() == 1
    captured = capsys.readouterr()
    [line] = captured.out.splitlines()
    assert line.startswith("KEPT ")
    assert records[0]["dynamodb"]["SequenceNumber"] in line
    assert "records no longer in the stream (TrimmedDataAccessException)" in line
    assert "0 redriven, 1 kept in the queue" in captured.err


def test_a_batch_the_stream_no_longer_reaches_the_end_of_is_kept(
    customers: Customers, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an on-failure record whose last sequence number the shard never reaches
    records = customers.write(profile("gc-1"))
    beyond = {"dynamodb": {"SequenceNumber": str(int(records[0]["dynamodb"]["SequenceNumber"]) + 5)}}
    customers.given_up_on([records[0], beyond])
    assert customers.redrive() == 1
    assert world.drain() == []
    assert customers.waiting() == 1
    assert "the stream ended before the batch's last record" in capsys.readouterr().out


def test_a_dry_run_reads_back_but_publishes_and_deletes_nothing(
    customers: Customers, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    records = customers.write(profile("gc-1"), state_item("gc-2", live_state(1)))
    customers.given_up_on(records)
    assert customers.redrive("--dry-run") == 0
    assert world.drain() == []
    assert world.idempotency_items() == []
    assert customers.visible() == 1
    assert "would redrive" in capsys.readouterr().out
    # And the real run afterwards finds the message at once
    assert customers.redrive() == 0
    assert len(world.drain()) == 2


def test_a_run_stopped_by_an_error_prints_what_it_did_then_the_error(
    customers: Customers, world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two batches given up on, the stream refusing the second read (permissions changed mid-run)
    first = customers.write(profile("gc-1"))
    second = customers.write(profile("gc-2"))
    customers.given_up_on(first)
    customers.given_up_on(second)
    calls: list[str] = []

    def refuse_the_second(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        calls.append("GetShardIterator")
        if len(calls) < 2:
            return None
        error = {"Code": "AccessDeniedException", "Message": "not authorized to perform GetShardIterator"}
        return AWSResponse("https://streams.dynamodb", 400, {}, None), {"Error": error, "ResponseMetadata": {}}

    real_session = boto3.Session

    def session(*args: Any, **kwargs: Any) -> boto3.Session:
        created = real_session(*args, **kwargs)
        created.events.register("before-call.dynamodbstreams.GetShardIterator", refuse_the_second)
        return created

    monkeypatch.setattr(boto3, "Session", session)
    # When redriven
    assert customers.redrive() == 2
    # Then the first batch went out and its message is gone, the report says so and names the message not
    # reached, the one-line error comes last, and the message not reached is visible again at once
    assert [message["detail"]["customer_id"] for message in world.drain()] == ["gc-1"]
    captured = capsys.readouterr()
    redriven, not_reached = captured.out.splitlines()
    assert redriven.startswith("redriven ")
    assert first[0]["dynamodb"]["SequenceNumber"] in redriven
    assert not_reached.startswith("KEPT ")
    assert "not reached (the run stopped); made visible again" in not_reached
    error = captured.err.splitlines()[-1]
    assert error.startswith("omni state-changes: error: redrive from ")
    assert "AccessDeniedException" in error
    assert "2 message(s): 1 redriven, 1 kept in the queue" in captured.err
    assert customers.visible() == 1
    assert customers.waiting() == 1


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--max-messages", "0"], "--max-messages = '0'"),
        (["--max-messages", "lots"], "--max-messages = 'lots'"),
        (["--queue-url", "test-failed-changes"], "--queue-url = 'test-failed-changes'"),
        (["--idempotency-table", "t"], "--idempotency-table = 't'"),
    ],
)
def test_a_bad_option_is_one_line_naming_it(
    customers: Customers, capsys: pytest.CaptureFixture[str], options: list[str], named: str
) -> None:
    assert customers.redrive(*options) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("omni state-changes: error: ")
    assert named in line


def test_a_missing_queue_is_one_line_naming_it(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"https://sqs.{REGION}.amazonaws.com/123456789012/no-such-queue"
    arguments = [
        "state-changes",
        "redrive",
        "--queue-url",
        url,
        "--bus",
        BUS,
        "--idempotency-table",
        "test-idempotency",
    ]
    assert main([*arguments, "--region", REGION]) == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith(f"omni state-changes: error: redrive from {url} stopped:")


def test_the_default_names_are_the_ones_the_stacks_deploy() -> None:
    # Built (not synthesized) for dev at stage 5: the bus and the table the publisher is given.
    from aws_cdk import App, Stack

    from infra.config import ENV_KEY, MATURITY_KEY, load_config, read_cdk_json_context
    from infra.platform_app import build_platform
    from infra.stacks.foundation_stack import FoundationStack
    from infra.stacks.state_fanout_stack import StateFanoutStack

    context = {**read_cdk_json_context(), ENV_KEY: "dev", MATURITY_KEY: 5}
    app = App(context=context)
    config = load_config(app.node.try_get_context)
    build_platform(app, config)
    [foundation] = [child for child in app.node.children if isinstance(child, FoundationStack)]
    [fanout] = [child for child in app.node.children if isinstance(child, StateFanoutStack)]
    table_name = Stack.of(fanout).resolve(fanout.idempotency_table.node.default_child.table_name)  # type: ignore[union-attr]
    assert environment_targets("dev") == type(environment_targets("dev"))(
        foundation.event_bus_name, table_name, config.region
    )
