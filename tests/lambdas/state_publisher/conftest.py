"""Customer-table items, DynamoDB stream events in Lambda's shape, and the moto world the publisher runs in.

Stream events follow the AWS documentation's sample (Records[].eventID,
eventName, eventSource aws:dynamodb, dynamodb.Keys/NewImage/OldImage in
DynamoDB JSON, SequenceNumber, ApproximateCreationDateTime, StreamViewType,
eventSourceARN); images are built from the real item builders of
omni_domain.dynamodb_store, so they are what the table holds.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from event_processor.ledger import Ledger, ledger_document
from omni_domain.constants import (
    ENV_EVENT_BUS,
    ENV_IDEMPOTENCY_TABLE,
    IDEMPOTENCY_PARTITION_KEY,
    STATE_CHANGE_SOURCE,
)
from omni_domain.dynamodb_store import erasure_item, live_state_item, profile_item
from omni_domain.models import (
    Address,
    CartState,
    CustomerProfile,
    ErasureRecord,
    FrictionPoint,
    LiveState,
    ProfileAttributes,
    RollingSpend,
)

from ..conftest import REGION, TABLES, FakeLambdaContext

NOW = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
BUS = "test-platform-bus"
STATE_QUEUE = "test-state-changes"
STREAM_ARN = f"arn:aws:dynamodb:{REGION}:123456789012:table/test-customers/stream/2026-11-29T00:00:00.000"
# Values a PII test looks for in everything the publisher writes.
PII_VALUES = ("Grace", "Hopper", "grace.hopper@example.org", "+447700900555", "Arlington", "1906-12-09")

_sequence = itertools.count(4421584500000000017450439091)
_serializer = TypeSerializer()
Item = dict[str, Any]


def state_item(customer_id: str, state: LiveState, *, ledger: Ledger | None = None) -> Item:
    """A STATE item as the event processor writes it (live_state, version, ledger)."""
    return {**live_state_item(customer_id, state), "ledger": ledger_document(ledger or Ledger())}


def live_state(version: int = 1, **fields: Any) -> LiveState:
    return LiveState(version=version, updated_at=NOW, **fields)


def cart(status: str = "active", value: str = "20.00") -> CartState:
    return CartState(cart_id="c-1", status=status, value=Decimal(value), item_count=2, at=NOW)  # type: ignore[arg-type]


def complaint() -> FrictionPoint:
    return FrictionPoint(kind="complaint", channel="contact_centre", at=NOW, reference="cp-1")


def spend(last_30_days: str) -> RollingSpend:
    return RollingSpend(last_30_days=Decimal(last_30_days), last_365_days=Decimal(last_30_days))


def profile(customer_id: str = "gc-1", version: int = 1, **attributes: Any) -> Item:
    """A PROFILE item; the default attributes are all personal data but the channel and language."""
    values = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace.hopper@example.org",
        "phone": "+447700900555",
        "address": Address(line1="1 Navy Yard", city="Arlington", postcode="VA 22202", country="US"),
        "date_of_birth": "1906-12-09",
        "language": "en",
        "preferred_channel": "email",
        **attributes,
    }
    return profile_item(
        CustomerProfile(
            customer_id=customer_id,
            attributes=ProfileAttributes(**values),
            version=version,
            created_at=NOW,
            updated_at=NOW,
        )
    )


def erasure(customer_id: str = "gc-1") -> Item:
    return erasure_item(
        ErasureRecord(
            customer_id=customer_id,
            erased_at=NOW,
            removed_profile=True,
            removed_live_state=True,
            removed_identifiers={"email": 1, "phone": 1},
            request_id="req-1",
        )
    )


def _dynamodb_json(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def stream_record(
    event_name: str,
    *,
    old: Item | None = None,
    new: Item | None = None,
    at: datetime = NOW,
    view_type: str = "NEW_AND_OLD_IMAGES",
) -> dict[str, Any]:
    """One Lambda DynamoDB stream record of the customer table (INSERT: new only, REMOVE: old only)."""
    image = new if new is not None else old
    assert image is not None
    sequence = str(next(_sequence))
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": int(at.timestamp()),
        "Keys": _dynamodb_json({"customer_id": image["customer_id"], "record": image["record"]}),
        "SequenceNumber": sequence,
        "SizeBytes": 512,
        "StreamViewType": view_type,
    }
    if new is not None:
        dynamodb["NewImage"] = _dynamodb_json(new)
    if old is not None:
        dynamodb["OldImage"] = _dynamodb_json(old)
    return {
        "eventID": f"{int(sequence):032x}"[-32:],
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": dynamodb,
        "eventSourceARN": STREAM_ARN,
    }


def stream_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def sequence_of(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


@dataclass
class World:
    """moto DynamoDB (the idempotency table), EventBridge (the bus) and SQS (a queue every state change reaches)."""

    dynamodb: Any
    events: Any
    sqs: Any
    queue_url: str
    # Customers whose PutEvents entries the bus refuses (FailedEntryCount 1), and the calls it saw.
    refused: set[str] = field(default_factory=set)
    put_events_calls: list[str] = field(default_factory=list)
    # The publisher's backoff before re-sending a refused entry: recorded, never waited for.
    sleeps: list[float] = field(default_factory=list)

    def drain(self, url: str | None = None) -> list[dict[str, Any]]:
        """Every message on the queue (the EventBridge events as delivered), in order of arrival."""
        bodies = []
        while messages := self.sqs.receive_message(QueueUrl=url or self.queue_url, MaxNumberOfMessages=10).get(
            "Messages"
        ):
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url or self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return bodies

    def idempotency_items(self) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=TABLES[ENV_IDEMPOTENCY_TABLE])["Items"]

    def queue(self, name: str, pattern: dict[str, Any]) -> str:
        """A queue receiving what a rule with `pattern` matches on the bus."""
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.events.put_rule(Name=name, EventBusName=BUS, EventPattern=json.dumps(pattern))
        self.events.put_targets(Rule=name, EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}])
        return url

    def before_put_events(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        """botocore `before-call` hook: answers PutEvents itself (a failed entry) for a refused customer."""
        entries = json.loads(params["body"])["Entries"]
        customers = [json.loads(entry["Detail"])["customer_id"] for entry in entries]
        self.put_events_calls += customers
        if not set(customers) & self.refused:
            return None  # on to moto
        answer = [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service error"}
            if customer in self.refused
            else {"EventId": "never-sent"}
            for customer in customers
        ]
        failed = sum(1 for entry in answer if "ErrorCode" in entry)
        return AWSResponse("https://events", 200, {}, None), {"FailedEntryCount": failed, "Entries": answer}


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLES[ENV_IDEMPOTENCY_TABLE],
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": IDEMPOTENCY_PARTITION_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": IDEMPOTENCY_PARTITION_KEY, "AttributeType": "S"}],
        )
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name=BUS)
        sqs = boto3.client("sqs", region_name=REGION)
        monkeypatch.setenv(ENV_EVENT_BUS, BUS)
        world = World(dynamodb, events, sqs, "")
        world.queue_url = world.queue(STATE_QUEUE, {"source": [STATE_CHANGE_SOURCE]})
        yield world


@pytest.fixture
def handler(world: World) -> Iterator[Any]:
    """The handler module with its dependencies rebuilt inside moto; PutEvents goes through `world`'s hook."""
    # Imported once the Lambda environment is set: Powertools reads it when the module loads, as in Lambda.
    from state_publisher import dependencies
    from state_publisher import handler as module
    from state_publisher.settings import PublisherSettings

    boto3.setup_default_session(region_name=REGION)
    session: Any = boto3.DEFAULT_SESSION
    session.events.register("before-call.events.PutEvents", world.before_put_events)
    # The real composition root, with the backoff recorded instead of slept (as test_aws.py injects it).
    dependencies.use(dependencies.from_settings(PublisherSettings.from_environment(), sleep=world.sleeps.append))
    yield module
    dependencies.use(None)
    boto3.DEFAULT_SESSION = None


def invoke(handler: Any, event: dict[str, Any]) -> dict[str, Any]:
    return handler.lambda_handler(event, FakeLambdaContext(function_name="state-publisher"))
