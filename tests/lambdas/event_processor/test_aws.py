"""AWS adapters against moto (and Stubber for partial failures moto cannot produce)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.stub import Stubber

from event_processor.aws import (
    SQS_MESSAGE_LIMIT,
    DynamoDBResolver,
    DynamoDBStateStore,
    EventBridgePublisher,
    letter_body,
)
from event_processor.ledger import Ledger
from event_processor.ports import DeadLetter, ErasedCustomerError, StaleVersionError
from omni_domain.constants import ENV_CUSTOMER_TABLE, ENV_IDENTITY_TABLE
from omni_domain.event_triggers import ComplaintLogged, trigger_entry
from omni_domain.models import LiveState

from ..conftest import REGION, TABLES
from .conftest import NOW, World


def test_provisioning_a_linked_identifier_adopts_the_existing_id(world: World) -> None:
    resolver = DynamoDBResolver(world.dynamodb, TABLES[ENV_IDENTITY_TABLE])
    assert resolver.provision("email#a@example.com", "gc-first", at=NOW) == "gc-first"
    assert resolver.provision("email#a@example.com", "gc-second", at=NOW) == "gc-first"
    assert resolver.resolve_many(["email#a@example.com", "email#b@example.com"]) == {"email#a@example.com": "gc-first"}


def test_state_writes_are_conditional(world: World) -> None:
    store = DynamoDBStateStore(world.dynamodb, TABLES[ENV_CUSTOMER_TABLE])
    store.write("gc-1", Ledger(counters={"purchases": 1}), LiveState(version=1), expected_version=0)
    loaded = store.load_many(["gc-1", "gc-2"])
    assert (loaded["gc-1"].version, loaded["gc-1"].ledger.counters) == (1, {"purchases": 1})
    assert loaded["gc-2"].version == 0
    for expected in (0, 5):
        try:
            store.write("gc-1", Ledger(), LiveState(version=expected + 1), expected_version=expected)
        except StaleVersionError:
            continue
        raise AssertionError(f"a write expecting version {expected} replaced version 1")


def test_a_first_write_after_an_erasure_is_refused(world: World) -> None:
    world.dynamodb.put_item(
        TableName=TABLES[ENV_CUSTOMER_TABLE], Item={"customer_id": {"S": "gc-9"}, "record": {"S": "ERASURE"}}
    )
    store = DynamoDBStateStore(world.dynamodb, TABLES[ENV_CUSTOMER_TABLE])
    assert store.load_many(["gc-9"])["gc-9"].erased
    try:
        store.write("gc-9", Ledger(), LiveState(version=1), expected_version=0)
    except ErasedCustomerError:
        return
    raise AssertionError("state was written for an erased customer")


def test_put_events_batches_of_ten_and_retries_only_failed_entries() -> None:
    client = boto3.client("events", region_name=REGION)
    triggers = [
        ComplaintLogged(
            trigger_id=f"t{n}",
            customer_id="gc-1",
            complaint_id=f"c{n}",
            category="delivery",
            severity="low",
            channel="web",
            occurred_at=NOW,
            open_complaints=1,
        )
        for n in range(12)
    ]
    stubber = Stubber(client)

    def answer(count: int, failed: int | None = None) -> dict[str, Any]:
        entries = [{"ErrorCode": "ThrottlingException"} if n == failed else {"EventId": "e"} for n in range(count)]
        return {"FailedEntryCount": int(failed is not None), "Entries": entries}

    def request(chosen: list[ComplaintLogged]) -> dict[str, Any]:
        return {"Entries": [trigger_entry(trigger, bus_name="bus") for trigger in chosen]}

    # Given a first call of ten whose fourth entry is throttled
    stubber.add_response("put_events", answer(10, failed=3), request(triggers[:10]))
    # Then the fourth alone is sent again, then the remaining two
    stubber.add_response("put_events", answer(1), request([triggers[3]]))
    stubber.add_response("put_events", answer(2), request(triggers[10:]))
    with stubber:
        refused = EventBridgePublisher(client, "bus", sleep=lambda _: None).publish(triggers)
        stubber.assert_no_pending_responses()
    assert refused == set()


def test_a_letter_too_big_for_sqs_keeps_its_stream_position_instead_of_its_data() -> None:
    letter = DeadLetter("49", "schema-invalid", ("payload: too big",), "A" * SQS_MESSAGE_LIMIT, "pk", "arn:stream", 1.0)
    body = json.loads(letter_body(letter))
    assert body["data"] is None
    assert body["data_omitted_bytes"] == SQS_MESSAGE_LIMIT
    assert (body["sequence_number"], body["event_source_arn"]) == ("49", "arn:stream")
