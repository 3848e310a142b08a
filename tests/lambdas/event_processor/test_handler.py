"""The handler end to end: records put on a moto stream, read back as Lambda's Kinesis event, applied to
moto DynamoDB; dead letters in SQS; triggers observed through an EventBridge rule targeting a queue."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from event_processor.batch import new_customer_id
from omni_domain.constants import ENV_CUSTOMER_TABLE, ENV_IDENTITY_TABLE
from omni_domain.dynamodb_store import DynamoDBCustomerRepository, erasure_item
from omni_domain.identity_map import IdentityLink, identity_item
from omni_domain.models import ErasureRecord

from ..conftest import REGION, TABLES, FakeLambdaContext, load_event
from .conftest import NOW, World, event_dict


def _line(item: dict[str, Any]) -> bytes:
    return json.dumps(item).encode()


@pytest.fixture
def handler(world: World) -> Iterator[Any]:
    # Imported once the Lambda environment is set: Powertools reads it when the module loads, as in Lambda.
    from event_processor import dependencies
    from event_processor import handler as module

    boto3.setup_default_session(region_name=REGION)
    session: Any = boto3.DEFAULT_SESSION
    session.events.register("before-call.dynamodb", lambda model, **_: world.calls.append(model.name))
    dependencies.use(None)
    yield module
    dependencies.use(None)
    boto3.DEFAULT_SESSION = None


def _invoke(handler: Any, event: dict[str, Any]) -> dict[str, Any]:
    return handler.lambda_handler(event, FakeLambdaContext(function_name="event-processor"))


def _state(world: World, customer_id: str) -> Any:
    repository = DynamoDBCustomerRepository(
        world.dynamodb, customer_table=TABLES[ENV_CUSTOMER_TABLE], identity_table=TABLES[ENV_IDENTITY_TABLE]
    )
    return repository.get(customer_id).live_state


def test_the_stored_kinesis_fixture_is_processed(world: World, handler: Any) -> None:
    # Given the stored Lambda Kinesis event (one page view of gc-1)
    event = load_event("kinesis_customer_events")
    # When the handler runs
    response = _invoke(handler, event)
    # Then nothing failed and the page view is the customer's last web interaction
    assert response == {"batchItemFailures": []}
    assert _state(world, "gc-1").last_interaction["web"].event_type == "page_view"


def test_a_mixed_batch_applies_every_valid_record_and_dead_letters_every_invalid_one(
    world: World, handler: Any
) -> None:
    # Given 6 valid events of 3 customers and 4 invalid records on the stream
    valid = [
        event_dict("purchase", identity={"customer_id": f"gc-{number % 3}"}, order_id=f"o-{number}")
        for number in range(6)
    ]
    invalid = [
        b"not json",
        _line({**event_dict("purchase"), "payload": {"order_id": "o-9", "amount": "-3", "currency": "GBP"}}),
        _line({**event_dict("page_view"), "occurred_at": "2026-11-23T10:00:00"}),
        _line({**event_dict("page_view"), "event_type": "teleport"}),
    ]
    event = world.put([_line(item) for item in valid[:3]] + invalid + [_line(item) for item in valid[3:]])
    # The not-JSON record's data replaced by something that is not even base64
    event["Records"][3]["kinesis"]["data"] = "%%% not base64 %%%"
    # When the batch is processed
    response = _invoke(handler, event)
    # Then no record is reported for retry, all valid ones are applied and all invalid ones are in the DLQ
    assert response == {"batchItemFailures": []}
    assert sum(_state(world, f"gc-{number}").counters["purchases"] for number in range(3)) == 6
    letters = world.drain(world.dlq_url)
    assert len(letters) == 4
    assert sorted(letter["reason"] for letter in letters) == ["not base64"] + ["schema-invalid"] * 3
    by_reason = {letter["reason"]: letter for letter in letters}
    assert by_reason["not base64"]["data"] == "%%% not base64 %%%"
    errors = [error for letter in letters for error in letter["errors"]]
    assert "payload.amount: Input should be greater than 0" in errors
    assert any(error.startswith("occurred_at: ") for error in errors)
    assert any(error.startswith("event_type: ") for error in errors)
    schema_invalid = [letter for letter in letters if letter["reason"] == "schema-invalid"]
    assert all(json.loads(base64.b64decode(letter["data"]))["event_id"] for letter in schema_invalid)
    sequence_numbers = {record["kinesis"]["sequenceNumber"] for record in event["Records"]}
    assert {letter["sequence_number"] for letter in letters} <= sequence_numbers
    # And both sides add up to the batch: none lost
    assert 6 + len(letters) == len(event["Records"])


def test_a_refused_dead_letter_is_reported_for_retry(world: World, handler: Any) -> None:
    # Given an invalid record and a dead-letter queue that no longer exists
    event = world.put([b"{}", _line(event_dict("page_view"))])
    world.sqs.delete_queue(QueueUrl=world.dlq_url)
    # When the batch is processed
    response = _invoke(handler, event)
    # Then the invalid record is a batch item failure (Lambda retries it), the valid one is applied
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["kinesis"]["sequenceNumber"]}]}
    assert _state(world, "gc-1") is not None


def test_state_writes_per_batch_equal_distinct_customers(world: World, handler: Any) -> None:
    # Given 40 events of 8 known customers
    lines = [
        _line(event_dict("page_view", identity={"customer_id": f"gc-{number % 8}"}, at=NOW + timedelta(seconds=number)))
        for number in range(40)
    ]
    event = world.put(lines)
    # When the batch is processed
    _invoke(handler, event)
    # Then DynamoDB saw exactly one write per customer
    assert world.writes() == 8
    assert world.calls.count("TransactWriteItems") == 8  # first writes also check there is no erasure record


def test_replaying_a_batch_changes_nothing(world: World, handler: Any) -> None:
    # Given a batch with purchases, a complaint and a cart abandonment, processed once
    lines = [
        _line(event_dict("purchase", at=NOW - timedelta(hours=2))),
        _line(event_dict("complaint", at=NOW - timedelta(hours=1), channel="contact_centre")),
        _line(event_dict("cart_abandoned", at=NOW - timedelta(minutes=5), cart_id="c-2")),
    ]
    event = world.put(lines)
    _invoke(handler, event)
    first = _state(world, "gc-1")
    world.drain(world.triggers_url)
    writes = world.writes()
    # When Lambda delivers the same batch again
    _invoke(handler, event)
    # Then the state is identical, nothing was written and no trigger fired again
    assert _state(world, "gc-1") == first
    assert world.writes() == writes
    assert world.drain(world.triggers_url) == []


def test_an_unknown_email_gets_a_provisional_id_recorded_in_the_identity_map(world: World, handler: Any) -> None:
    # Given two events from an e-mail nobody knows, and one from a phone the MDM job linked
    world.dynamodb.put_item(
        TableName=TABLES[ENV_IDENTITY_TABLE],
        Item={
            key: {"S": value}
            for key, value in identity_item(
                IdentityLink("phone#+447700900123", "gc-known", "mdm", NOW.isoformat())
            ).items()
        },
    )
    lines = [
        _line(event_dict("page_view", identity={"email": "New.Person@Example.com"})),
        _line(event_dict("product_viewed", identity={"email": "new.person@example.com"})),
        _line(event_dict("page_view", identity={"phone": "07700 900123"})),
    ]
    # When processed
    _invoke(handler, world.put(lines))
    # Then the e-mail has one provisional link (origin event-processor) and both its events are on that customer
    link = world.dynamodb.get_item(
        TableName=TABLES[ENV_IDENTITY_TABLE], Key={"identifier": {"S": "email#new.person@example.com"}}
    )["Item"]
    assert link["origin"]["S"] == "event-processor"
    provisional = link["customer_id"]["S"]
    assert provisional.startswith("gc-")
    assert len(new_customer_id()) == len(provisional)
    # (both at the same instant: the later event id wins the register)
    assert _state(world, provisional).last_interaction["web"].event_type == "product_viewed"
    # And the known phone's event is applied to the linked customer
    assert _state(world, "gc-known") is not None


def test_an_erased_customer_is_not_resurrected(world: World, handler: Any) -> None:
    # Given a customer erased earlier (the ERASURE record remains)
    record = ErasureRecord(
        customer_id="gc-gone",
        erased_at=NOW,
        removed_profile=True,
        removed_live_state=True,
        removed_identifiers={},
    )
    world.dynamodb.put_item(
        TableName=TABLES[ENV_CUSTOMER_TABLE],
        Item={
            key: boto3.dynamodb.types.TypeSerializer().serialize(value) for key, value in erasure_item(record).items()
        },
    )
    # When events for it arrive
    response = _invoke(handler, world.put([_line(event_dict("purchase", identity={"customer_id": "gc-gone"}))]))
    # Then they are consumed (not retried) and no live state appears
    assert response == {"batchItemFailures": []}
    assert _state(world, "gc-gone") is None
    assert world.writes() == 0


def test_triggers_reach_the_bus_once_per_crossing(world: World, handler: Any) -> None:
    # Given purchases of 60 then 50 (threshold 100): the second batch crosses it
    _invoke(handler, world.put([_line(event_dict("purchase", amount="60.00"))]))
    assert world.drain(world.triggers_url) == []
    _invoke(handler, world.put([_line(event_dict("purchase", amount="50.00", order_id="o-2"))]))
    crossed = world.drain(world.triggers_url)
    # Then exactly one SpendingThresholdCrossed arrived, with the customer id and no personal data
    assert [message["detail-type"] for message in crossed] == ["SpendingThresholdCrossed"]
    assert crossed[0]["source"] == "omni.experience"
    assert crossed[0]["detail"]["customer_id"] == "gc-1"
    assert crossed[0]["detail"]["last_30_days"] == "110.00"
    # When another purchase keeps the spend above the threshold
    _invoke(handler, world.put([_line(event_dict("purchase", amount="5.00", order_id="o-3"))]))
    # Then nothing fires again
    assert world.drain(world.triggers_url) == []


def test_the_handler_emits_emf_metrics_per_event_type_and_channel(
    world: World, handler: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two web page views and one app event
    lines = [
        _line(event_dict("page_view")),
        _line(event_dict("page_view", at=NOW + timedelta(seconds=1))),
        _line(event_dict("app_event", channel="app")),
    ]
    # When processed
    _invoke(handler, world.put(lines))
    # Then EventsApplied is emitted per (event_type, channel) with those two dimensions only
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    applied = {
        (blob["event_type"], blob["channel"]): blob["EventsApplied"] for blob in blobs if "EventsApplied" in blob
    }
    assert applied == {("page_view", "web"): [2.0], ("app_event", "app"): [1.0]}
    dimensions = [blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for blob in blobs if "EventsApplied" in blob]
    assert all(set(dims[0]) <= {"event_type", "channel", "service"} for dims in dimensions)
    assert any(blob.get("RecordsReceived") == [3.0] for blob in blobs)


def test_logs_and_metrics_carry_no_personal_data(
    world: World, handler: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given events named by e-mail and phone, one of them invalid (it goes to the DLQ with its errors)
    lines = [
        _line(event_dict("purchase", identity={"email": "Grace.Hopper@Example.org"})),
        _line(event_dict("page_view", identity={"phone": "+447700900555"})),
        _line({**event_dict("page_view", identity={"email": "grace.hopper@example.org"}), "channel": "telex"}),
    ]
    # When processed
    _invoke(handler, world.put(lines))
    # Then neither stdout (logs, EMF) nor the log records mention them
    written = capsys.readouterr().out + caplog.text
    assert "batch processed" in written
    for needle in ("hopper", "Hopper", "example.org", "7700900555"):
        assert needle not in written


def _totals(output: str) -> dict[str, float]:
    """The batch's EMF metrics: each total once, EventsApplied summed over its dimensions."""
    totals: Counter[str] = Counter()
    for blob in (json.loads(line) for line in output.splitlines() if '"_aws"' in line):
        for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            totals[metric["Name"]] += sum(blob[metric["Name"]])
    return dict(totals)


ACCOUNTED = ("EventsApplied", "DuplicateEvents", "RecordsDeadLettered", "ErasedCustomerEventsSkipped", "RecordsFailed")


def test_every_record_is_accounted_for_once_in_the_metrics(
    world: World, handler: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a batch with a purchase and a page view each put twice (a producer's retry), a page view dated a day
    # after it reaches the stream, a record that is not an event, and an erased customer's event
    record = ErasureRecord(
        customer_id="gc-gone", erased_at=NOW, removed_profile=True, removed_live_state=True, removed_identifiers={}
    )
    world.dynamodb.put_item(
        TableName=TABLES[ENV_CUSTOMER_TABLE],
        Item={key: TypeSerializer().serialize(value) for key, value in erasure_item(record).items()},
    )
    purchase = _line(event_dict("purchase", event_id="evt-purchase-1"))
    view = _line(event_dict("page_view", event_id="evt-view-0001"))
    future = event_dict("page_view", at=datetime.now(UTC) + timedelta(days=1), channel="app")
    erased = _line(event_dict("loyalty_points", identity={"customer_id": "gc-gone"}))
    first = world.put([purchase, view, purchase, view, _line(future), b"[]", erased])
    capsys.readouterr()
    # When it is processed, then the page view is delivered again in a later batch beside a new event
    assert _invoke(handler, first) == {"batchItemFailures": []}
    first_totals = _totals(capsys.readouterr().out)
    _invoke(handler, world.put([view, _line(event_dict("page_view", at=NOW + timedelta(minutes=1)))]))
    second_totals = _totals(capsys.readouterr().out)
    # Then in each batch every record received is applied, a duplicate, dead-lettered, skipped or failed, once
    assert {name: first_totals.get(name, 0) for name in ("RecordsReceived", *ACCOUNTED)} == {
        "RecordsReceived": 7,
        "EventsApplied": 2,
        "DuplicateEvents": 2,
        "RecordsDeadLettered": 2,
        "ErasedCustomerEventsSkipped": 1,
        "RecordsFailed": 0,
    }
    assert {name: second_totals.get(name, 0) for name in ("RecordsReceived", *ACCOUNTED)} == {
        "RecordsReceived": 2,
        "EventsApplied": 1,
        "DuplicateEvents": 1,
        "RecordsDeadLettered": 0,
        "ErasedCustomerEventsSkipped": 0,
        "RecordsFailed": 0,
    }
    # And the purchase counted once; the future-dated event is in the dead-letter queue, with why, as it was put
    assert _state(world, "gc-1").counters == {"purchases": 1}
    assert "app" not in _state(world, "gc-1").last_interaction
    letters = {letter["reason"]: letter for letter in world.drain(world.dlq_url)}
    assert set(letters) == {"occurred_at in the future", "schema-invalid"}
    late = letters["occurred_at in the future"]
    assert json.loads(base64.b64decode(late["data"])) == future
    assert late["errors"][0].startswith("occurred_at: 86")
    assert late["sequence_number"] == first["Records"][4]["kinesis"]["sequenceNumber"]
