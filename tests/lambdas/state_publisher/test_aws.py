"""The EventBridge adapter: per-entry failures (Stubber, which can answer what moto never does) and moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from state_publisher.aws import MAX_ATTEMPTS, EventBridgeChangePublisher, change_entry
from state_publisher.changes import CustomerStateChanged
from state_publisher.ports import PublishFailedError

from ..conftest import REGION
from .conftest import BUS, World

CHANGE = CustomerStateChanged(
    change_id="evt-1",
    customer_id="gc-1",
    record="live_state",
    change="updated",
    changed=["cart"],
    values={"cart": None},
    version=2,
    sequence="100",
    occurred_at=datetime(2026, 11, 29, 21, 0, tzinfo=UTC),
)


def _failed(code: str = "ThrottlingException") -> dict[str, Any]:
    return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": code, "ErrorMessage": "slow down"}]}


def _accepted() -> dict[str, Any]:
    return {"FailedEntryCount": 0, "Entries": [{"EventId": "11710aed-b79e-4468-a20b-bb3c0c3b4860"}]}


def test_a_failed_entry_is_sent_again_until_accepted() -> None:
    client = boto3.client("events", region_name=REGION)
    request = {"Entries": [change_entry(CHANGE, bus_name="bus")]}
    with Stubber(client) as stubber:
        stubber.add_response("put_events", _failed(), request)
        stubber.add_response("put_events", _accepted(), request)
        event_id = EventBridgeChangePublisher(client, "bus", sleep=lambda _: None).publish(CHANGE)
        stubber.assert_no_pending_responses()
    assert event_id == "11710aed-b79e-4468-a20b-bb3c0c3b4860"


def test_an_entry_refused_every_time_fails_the_change_with_its_error_code() -> None:
    client = boto3.client("events", region_name=REGION)
    with Stubber(client) as stubber:
        for _ in range(MAX_ATTEMPTS):
            stubber.add_response("put_events", _failed("InternalFailure"))
        with pytest.raises(PublishFailedError) as raised:
            EventBridgeChangePublisher(client, "bus", sleep=lambda _: None).publish(CHANGE)
        stubber.assert_no_pending_responses()
    assert raised.value.reason == "InternalFailure"


def test_a_failed_call_is_not_repeated_by_the_adapter() -> None:
    # botocore has retried it already, and it may have been accepted: the stream's retry decides.
    client = boto3.client("events", region_name=REGION)
    with Stubber(client) as stubber:
        stubber.add_client_error("put_events", service_error_code="AccessDeniedException", http_status_code=400)
        with pytest.raises(PublishFailedError) as raised:
            EventBridgeChangePublisher(client, "bus", sleep=lambda _: None).publish(CHANGE)
        stubber.assert_no_pending_responses()
    assert raised.value.reason == "AccessDeniedException"


def test_the_entry_reaches_the_bus_with_the_contracts_envelope(world: World) -> None:
    event_id = EventBridgeChangePublisher(world.events, BUS).publish(CHANGE)
    [message] = world.drain()
    assert event_id
    assert (message["source"], message["detail-type"]) == ("omni.customer-state", "CustomerStateChanged")
    assert message["detail"] == json.loads(CHANGE.model_dump_json())
