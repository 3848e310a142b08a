"""Builders of customer events and Kinesis Lambda events, the moto world the processor runs in, and the
handler run in-process as the deployed function's stand-in."""

from __future__ import annotations

import base64
import contextlib
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from event_processor.batch import DecodedRecord, EventBatch
from event_processor.policy import Policy
from event_processor.redrive import InvokeAnswer
from omni_domain.constants import (
    ENV_DEAD_LETTER_QUEUE_URL,
    ENV_EVENT_BUS,
    ENV_SPEND_THRESHOLD,
    TRIGGER_SOURCE,
)
from omni_domain.customer_events import CUSTOMER_EVENT, CustomerEvent
from omni_testing.event_processor import InMemoryResolver, InMemoryStateStore, RecordingDeadLetters, RecordingPublisher

from ..conftest import REGION, FakeLambdaContext, create_tables, load_event

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLICY = Policy(spend_threshold=Decimal(100))
STREAM = "test-customer-events"
BUS = "test-bus"
DLQ = "test-events-dlq"
TRIGGERS_QUEUE = "test-triggers"

_ids = itertools.count(1)

PAYLOADS: dict[str, dict[str, Any]] = {
    "page_view": {"page": "/home"},
    "product_viewed": {"product_id": "p-1"},
    "cart_updated": {
        "cart_id": "c-1",
        "items": [{"product_id": "p-1", "quantity": 2, "unit_price": "10.00"}],
        "value": "20.00",
        "currency": "GBP",
    },
    "cart_abandoned": {"cart_id": "c-1", "value": "20.00", "currency": "GBP", "item_count": 2},
    "purchase": {"order_id": "o-1", "amount": "40.00", "currency": "GBP"},
    "return": {"order_id": "o-1", "amount": "15.00", "currency": "GBP"},
    "loyalty_points": {"points": 50},
    "contact_started": {"contact_id": "k-1"},
    "contact_resolved": {"contact_id": "k-1", "outcome": "resolved"},
    "complaint": {"complaint_id": "cp-1", "category": "delivery", "severity": "high"},
    "app_event": {"name": "opened", "properties": {"screen": "home"}},
}


def event_dict(
    event_type: str,
    *,
    at: datetime = NOW,
    channel: str = "web",
    identity: dict[str, str] | None = None,
    event_id: str | None = None,
    **payload: Any,
) -> dict[str, Any]:
    """A valid event as a producer sends it; keyword arguments replace payload fields."""
    return {
        "event_id": event_id or f"evt-{next(_ids):08d}",
        "event_type": event_type,
        "occurred_at": at.isoformat().replace("+00:00", "Z"),
        "channel": channel,
        "identity": identity or {"customer_id": "gc-1"},
        "payload": {**PAYLOADS[event_type], **payload},
    }


def event(event_type: str, **kwargs: Any) -> CustomerEvent:
    return CUSTOMER_EVENT.validate_python(event_dict(event_type, **kwargs))


def decoded(*events: CustomerEvent) -> list[DecodedRecord]:
    return [DecodedRecord(f"{index:056d}", item) for index, item in enumerate(events, start=1)]


@dataclass
class Fakes:
    resolver: InMemoryResolver
    states: InMemoryStateStore
    publisher: RecordingPublisher
    dead_letters: RecordingDeadLetters
    batch: EventBatch


def fakes(*, now: datetime = NOW, policy: Policy = POLICY) -> Fakes:
    ids = (f"gc-p{number:05d}" for number in itertools.count(1))
    resolver, states = InMemoryResolver(), InMemoryStateStore()
    publisher, dead_letters = RecordingPublisher(), RecordingDeadLetters()
    batch = EventBatch(
        identities=resolver,
        states=states,
        publisher=publisher,
        dead_letters=dead_letters,
        policy=policy,
        clock=lambda: now,
        new_id=lambda: next(ids),
    )
    return Fakes(resolver, states, publisher, dead_letters, batch)


def kinesis_event(records: list[dict[str, Any]], stream_arn: str) -> dict[str, Any]:
    """A Lambda Kinesis event (the stored fixture's shape) from records read with get_records."""
    template = load_event("kinesis_customer_events")["Records"][0]
    lambda_records = []
    for record in records:
        entry = json.loads(json.dumps(template))
        entry["kinesis"].update(
            partitionKey=record["PartitionKey"],
            sequenceNumber=record["SequenceNumber"],
            data=base64.b64encode(record["Data"]).decode(),
            approximateArrivalTimestamp=record["ApproximateArrivalTimestamp"].timestamp(),
        )
        entry["eventID"] = f"shardId-000000000000:{record['SequenceNumber']}"
        entry["eventSourceARN"] = stream_arn
        lambda_records.append(entry)
    return {"Records": lambda_records}


@dataclass
class World:
    """moto Kinesis, DynamoDB, SQS (dead letters, and a queue the bus's rule copies every trigger to), EventBridge."""

    kinesis: Any
    dynamodb: Any
    sqs: Any
    stream_arn: str
    dlq_url: str
    triggers_url: str
    calls: list[str]

    def put(self, lines: list[bytes], partition_key: str = "pk") -> dict[str, Any]:
        """Put raw records on the stream, read them back, and shape them as Lambda's Kinesis event."""
        self.kinesis.put_records(
            StreamName=STREAM, Records=[{"Data": line, "PartitionKey": partition_key} for line in lines]
        )
        iterator = self.kinesis.get_shard_iterator(
            StreamName=STREAM, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = self.kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
        return kinesis_event(records[-len(lines) :], self.stream_arn)

    def drain(self, url: str) -> list[dict[str, Any]]:
        bodies = []
        while messages := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return bodies

    def writes(self) -> int:
        return sum(1 for call in self.calls if call in ("PutItem", "TransactWriteItems", "UpdateItem"))


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_tables(dynamodb)
        kinesis = boto3.client("kinesis", region_name=REGION)
        kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        stream_arn = kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["StreamARN"]
        sqs = boto3.client("sqs", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
        triggers_url = sqs.create_queue(QueueName=TRIGGERS_QUEUE)["QueueUrl"]
        triggers_arn = sqs.get_queue_attributes(QueueUrl=triggers_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name=BUS)
        events.put_rule(Name="all-triggers", EventBusName=BUS, EventPattern=json.dumps({"source": [TRIGGER_SOURCE]}))
        events.put_targets(Rule="all-triggers", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": triggers_arn}])
        monkeypatch.setenv(ENV_DEAD_LETTER_QUEUE_URL, dlq_url)
        monkeypatch.setenv(ENV_EVENT_BUS, BUS)
        monkeypatch.setenv(ENV_SPEND_THRESHOLD, "100")
        calls: list[str] = []
        yield World(kinesis, dynamodb, sqs, stream_arn, dlq_url, triggers_url, calls)


class InProcessInvoker:
    """The deployed function stood in by its real handler, run in-process over the adapters it is wired with
    (in-memory ones, or moto's); answers as Lambda's Invoke does (the payload as JSON; FunctionError with the
    error's type and message when it raised)."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.events: list[dict[str, Any]] = []
        self.logs = io.StringIO()

    def invoke(self, event: dict[str, Any]) -> InvokeAnswer:
        delivered = json.loads(json.dumps(event))  # what crosses the wire
        self.events.append(delivered)
        try:
            # The function's log lines go to its log group, not to the caller's output.
            with contextlib.redirect_stdout(self.logs):
                response = self.handler.lambda_handler(delivered, FakeLambdaContext(function_name="event-processor"))
        except Exception as error:  # noqa: BLE001 - Lambda answers any exception as an Unhandled function error
            payload = {"errorType": type(error).__name__, "errorMessage": str(error)}
            return InvokeAnswer("Unhandled", json.dumps(payload).encode())
        return InvokeAnswer(None, json.dumps(response).encode())
