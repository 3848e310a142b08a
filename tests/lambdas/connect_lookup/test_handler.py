"""Caller lookup handler: real Connect event shape, moto DynamoDB, and the personalised flow simulated
end to end with the real handler."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from connect_flows.manifest import load_manifest
from connect_flows.simulate import Contact, HoursOfOperation, Simulator
from omni_domain.constants import ENV_CUSTOMER_TABLE, ENV_IDENTITY_TABLE
from omni_domain.dynamodb_store import DynamoDBCustomerRepository
from omni_domain.identity_map import IdentityLink, identity_item
from omni_domain.models import CustomerProfile, LiveState, ProfileAttributes, RollingSpend

from ..conftest import REGION, TABLES, FakeLambdaContext, create_tables, load_event

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def handler() -> Any:
    # Imported once the Lambda environment is set: Powertools reads it when the module loads, as in Lambda.
    from connect_lookup import handler as module

    return module


@pytest.fixture
def stores(handler: Any) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client)
        repository = DynamoDBCustomerRepository(
            client, customer_table=TABLES[ENV_CUSTOMER_TABLE], identity_table=TABLES[ENV_IDENTITY_TABLE]
        )
        profile = CustomerProfile(
            customer_id="gc-7",
            attributes=ProfileAttributes(first_name="Grace", last_name="Hopper", phone="+447700900123"),
            version=1,
            created_at=NOW,
            updated_at=NOW,
        )
        repository.save(
            profile,
            expected_version=None,
            add_links=[IdentityLink("phone#+447700900123", "gc-7", "mdm", NOW.isoformat())],
        )
        boto3.resource("dynamodb", region_name=REGION).Table(TABLES[ENV_IDENTITY_TABLE]).put_item(
            Item=identity_item(IdentityLink("phone#+447700900123", "gc-7", "mdm", NOW.isoformat()))
        )
        handler.wiring.reset()
        yield client
        handler.wiring.reset()


def _event(phone: str | None) -> dict[str, Any]:
    event = copy.deepcopy(load_event("connect_caller_lookup"))
    if phone is None:
        del event["Details"]["Parameters"]["phone"]
    else:
        event["Details"]["Parameters"]["phone"] = phone
    return event


def test_a_known_caller_is_found_by_the_number_the_flow_passes(stores: Any, handler: Any) -> None:
    answer = handler.lambda_handler(_event("07700 900123"), FakeLambdaContext())
    assert answer == {
        "known": "true",
        "customer_id": "gc-7",
        "first_name": "Grace",
        "tier": "standard",
        "last_contact_reason": "",
    }


def test_without_a_phone_parameter_the_callers_own_number_is_used(stores: Any, handler: Any) -> None:
    assert handler.lambda_handler(_event(None), FakeLambdaContext())["customer_id"] == "gc-7"


def test_an_unknown_number_answers_known_false(stores: Any, handler: Any) -> None:
    assert handler.lambda_handler(_event("+447700900999"), FakeLambdaContext()) == {"known": "false"}


def test_nothing_about_the_caller_is_logged(
    stores: Any, handler: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)  # what the Lambda runtime records (botocore debug is off there)
    handler.lambda_handler(_event("+447700900123"), FakeLambdaContext())
    logged = capsys.readouterr().out + caplog.text
    assert "caller lookup" in logged
    for secret in ("Grace", "Hopper", "7700", "900123"):
        assert secret not in logged


def _simulator(handler: Any) -> Simulator:
    manifest = load_manifest()
    flows = {key: manifest.load_flow(key) for key in manifest.flows}
    hours = HoursOfOperation("Europe/London", {"MONDAY": ("08:00", "20:00")})
    return Simulator(
        flows,
        lambdas={"caller_lookup": handler.lambda_handler},
        hours={"business_hours": hours},
        queue_hours={"general_support": "business_hours", "retention_offers": "business_hours"},
    )


def test_the_personalised_flow_greets_a_known_caller_by_name_through_the_real_handler(
    stores: Any, handler: Any
) -> None:
    trace = _simulator(handler).run("personalised_inbound", Contact(phone="+447700900123", at=NOW))
    assert trace.attributes["customer_id"] == "gc-7"
    assert any("Grace" in message for message in trace.messages)
    assert trace.queue == "general_support"


def test_an_unknown_caller_falls_back_to_the_basic_flow(stores: Any, handler: Any) -> None:
    trace = _simulator(handler).run("personalised_inbound", Contact(phone="+447700900999", at=NOW))
    assert "basic_inbound" in {step.flow for step in trace.steps}
    assert not any("Grace" in message for message in trace.messages)


def test_the_live_state_spend_sets_the_tier(stores: Any, handler: Any) -> None:
    # the event processor (experience pathway) owns the STATE record: written here directly
    boto3.resource("dynamodb", region_name=REGION).Table(TABLES[ENV_CUSTOMER_TABLE]).put_item(
        Item={
            "customer_id": "gc-7",
            "record": "STATE",
            "version": 3,
            "live_state": LiveState(rolling_spend=RollingSpend(last_365_days=Decimal("2500"))).model_dump(mode="json"),
        }
    )
    assert handler.lambda_handler(_event("+447700900123"), FakeLambdaContext())["tier"] == "gold"
