"""Offer check handler: the real Connect event shape, moto, and the stage-4 personalised flow walked end to end
with the real caller lookup and offer check handlers."""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from connect_flows.manifest import load_manifest
from connect_flows.simulate import Contact, HoursOfOperation, Simulator
from omni_domain.constants import ENV_IDENTITY_TABLE
from omni_domain.identity_map import IdentityLink, identity_item
from tests.lambdas.conftest import CUSTOMER_ID, REGION, TABLES, FakeLambdaContext, api_event, create_tables, load_event
from tests.lambdas.eligibility.conftest import (
    ELIGIBILITY_TABLES,
    create_eligibility_tables,
    decisions_of,
    queue_scores,
    store_customer,
)

PHONE = "+447700900123"
MONDAY_MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def offer_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        **ELIGIBILITY_TABLES,
        "OFFER_CHECK_PRODUCT": "broadband",
        "PROPENSITY_ENDPOINT_NAME": "",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def handler() -> Any:
    # Imported once the Lambda environment is set: Powertools reads it when the module loads, as in Lambda.
    from connect_offers import handler as module

    return module


@pytest.fixture
def aws(handler: Any) -> Iterator[Any]:
    """moto with every table, a customer reachable by phone, and an active rule set stored through the API."""
    from eligibility import dependencies
    from eligibility.handler import lambda_handler as eligibility_api

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client)
        create_eligibility_tables(client)
        store_customer(client)
        boto3.resource("dynamodb", region_name=REGION).Table(TABLES[ENV_IDENTITY_TABLE]).put_item(
            Item=identity_item(IdentityLink(f"phone#{PHONE}", CUSTOMER_ID, "mdm", MONDAY_MORNING.isoformat()))
        )
        dependencies.use(None)
        for name in ("put_rule_set", "activate_rule_set"):
            assert eligibility_api(api_event(name), FakeLambdaContext())["statusCode"] in (200, 201)
        handler.wiring.reset()
        yield client
        handler.wiring.reset()
        dependencies.use(None)


def _event(customer_id: str | None = CUSTOMER_ID) -> dict[str, Any]:
    event = copy.deepcopy(load_event("connect_offer_check"))
    if customer_id is None:
        del event["Details"]["Parameters"]["customer_id"]
    else:
        event["Details"]["Parameters"]["customer_id"] = customer_id
    return event


def test_an_eligible_caller_gets_true_and_the_offer_and_the_decision_is_audited(aws: Any, handler: Any) -> None:
    answer = handler.lambda_handler(_event(), FakeLambdaContext())
    assert answer == {"eligible": "true", "reason": "BB-LOYAL-20"}
    [record] = decisions_of(aws)
    assert record["score_source"] == {"S": "fallback"}
    assert record["decision_id"]["S"].endswith("#4a573372-1f28-4e26-b97b-XXXXXXXXXXX")


def test_with_the_model_deployed_a_low_score_makes_the_caller_ineligible(
    aws: Any, handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROPENSITY_ENDPOINT_NAME", "omni-propensity")
    handler.wiring.reset()
    queue_scores(0.01)
    answer = handler.lambda_handler(_event(), FakeLambdaContext())
    assert answer["reason"] == "BB-SPEED-UP"  # the loyalty offer needs a propensity of 0.2


@pytest.mark.parametrize("customer_id", [None, "", "gc-nobody"])
def test_missing_or_unknown_customers_answer_false(aws: Any, handler: Any, customer_id: str | None) -> None:
    assert handler.lambda_handler(_event(customer_id), FakeLambdaContext()) == {
        "eligible": "false",
        "reason": "unknown customer",
    }


def test_a_storage_failure_answers_false_instead_of_failing_the_contact(
    handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RULES_TABLE_NAME", "no-such-table")
    handler.wiring.reset()
    with mock_aws():
        answer = handler.lambda_handler(_event(), FakeLambdaContext())
    handler.wiring.reset()
    assert answer == {"eligible": "false", "reason": "offer check unavailable"}


def test_nothing_about_the_caller_is_logged(aws: Any, handler: Any, capsys: pytest.CaptureFixture[str]) -> None:
    buffer = io.StringIO()
    stream = logging.StreamHandler(buffer)
    stream.setFormatter(handler.logger.registered_formatter)
    handler.logger.addHandler(stream)
    try:
        handler.lambda_handler(_event(), FakeLambdaContext())
        handler.lambda_handler(_event("+447700900123"), FakeLambdaContext())
    finally:
        handler.logger.removeHandler(stream)
    logged = buffer.getvalue() + capsys.readouterr().out
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    assert {line.get("outcome") for line in lines} >= {"eligible", "unknown-customer"}
    for secret in ("Ada", "Lovelace", "example.com", "7700", "900123", "820"):
        assert secret not in logged


def _simulator(offer_check: Any) -> Simulator:
    from connect_lookup import handler as lookup

    lookup.wiring.reset()
    manifest = load_manifest()
    flows = {key: manifest.load_flow(key) for key in manifest.flows}
    hours = HoursOfOperation("Europe/London", {"MONDAY": ("08:00", "20:00")})
    return Simulator(
        flows,
        lambdas={"caller_lookup": lookup.lambda_handler, "offer_check": offer_check.lambda_handler},
        hours={"business_hours": hours},
        queue_hours={"general_support": "business_hours", "retention_offers": "business_hours"},
    )


def test_the_stage_4_flow_routes_an_eligible_caller_to_retention_offers(aws: Any, handler: Any) -> None:
    trace = _simulator(handler).run("personalised_inbound_offers", Contact(phone=PHONE, at=MONDAY_MORNING))
    assert (trace.attributes["offer_eligible"], trace.attributes["offer_reason"]) == ("true", "BB-LOYAL-20")
    assert trace.queue == "retention_offers"


def test_the_stage_4_flow_sends_an_ineligible_caller_to_general_support(aws: Any, handler: Any) -> None:
    store_customer(aws, "gc-new-and-quiet", spend="20", recent_spend="0", tenure_days=30)
    boto3.resource("dynamodb", region_name=REGION).Table(TABLES[ENV_IDENTITY_TABLE]).put_item(
        Item=identity_item(IdentityLink("phone#+447700900456", "gc-new-and-quiet", "mdm", MONDAY_MORNING.isoformat()))
    )
    trace = _simulator(handler).run("personalised_inbound_offers", Contact(phone="+447700900456", at=MONDAY_MORNING))
    assert trace.attributes["offer_eligible"] == "false"
    assert trace.queue == "general_support"
