"""Next-action handler: a real Connect contact-flow event, moto, and the stage-5 flow and whisper walked end to end
with the real caller lookup and next-action handlers."""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from connect_flows.manifest import load_manifest
from connect_flows.simulate import Contact, EndReason, HoursOfOperation, Simulator
from omni_domain.constants import ENV_IDENTITY_TABLE
from omni_domain.identity_map import IdentityLink, identity_item
from tests.lambdas.conftest import CUSTOMER_ID, REGION, TABLES, FakeLambdaContext, api_event, create_tables
from tests.lambdas.eligibility.conftest import (
    ELIGIBILITY_TABLES,
    create_eligibility_tables,
    decisions_of,
    queue_scores,
    store_customer,
)

EVENT = Path(__file__).resolve().parents[3] / "sample_events" / "connect-next-action" / "connect_next_action.json"
PHONE = "+447700900123"
MONDAY_MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
FALLBACK = {
    "next_action": "no_action",
    "next_action_script": "No recommendation available: handle the request as usual.",
    "next_action_offer": "",
    "eligible": "false",
}
OFFER = "Eligible for offer BB-LOYAL-20: mention it once their request is handled."


@pytest.fixture(autouse=True)
def next_action_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        **ELIGIBILITY_TABLES,
        "OFFER_CHECK_PRODUCT": "broadband",
        "PROPENSITY_ENDPOINT_NAME": "",
        "POWERTOOLS_SERVICE_NAME": "connect-next-action",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def handler() -> Any:
    # Imported once the Lambda environment is set: Powertools reads it when the module loads, as in Lambda.
    from connect_next_action import handler as module

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
    event: dict[str, Any] = copy.deepcopy(json.loads(EVENT.read_text()))
    if customer_id is None:
        del event["Details"]["Parameters"]["customer_id"]
    else:
        event["Details"]["Parameters"]["customer_id"] = customer_id
    return event


def test_an_eligible_caller_with_consent_gets_the_offer_as_next_action_and_the_decision_is_audited(
    aws: Any, handler: Any
) -> None:
    answer = handler.lambda_handler(_event(), FakeLambdaContext(function_name="connect-next-action"))
    assert answer == {
        "next_action": "make_offer",
        "next_action_script": OFFER,
        "next_action_offer": "BB-LOYAL-20",
        "eligible": "true",
    }
    [record] = decisions_of(aws)
    assert record["decision_id"]["S"].endswith("#5ca32fbd-8f92-46af-92a5-XXXXXXXXXXXX")


def test_with_the_model_deployed_a_low_score_leaves_no_offer_to_make(
    aws: Any, handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROPENSITY_ENDPOINT_NAME", "omni-propensity")
    handler.wiring.reset()
    queue_scores(0.01)
    answer = handler.lambda_handler(_event(), FakeLambdaContext())
    # The loyalty offer needs a propensity of 0.2; the speed-up offer is still eligible and made instead.
    assert (answer["next_action"], answer["next_action_offer"]) == ("make_offer", "BB-SPEED-UP")


@pytest.mark.parametrize("customer_id", [None, "", "gc-nobody"])
def test_missing_or_unknown_customers_answer_the_fallback(aws: Any, handler: Any, customer_id: str | None) -> None:
    assert handler.lambda_handler(_event(customer_id), FakeLambdaContext()) == FALLBACK


def test_a_storage_failure_answers_the_fallback_instead_of_failing_the_contact(
    handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RULES_TABLE_NAME", "no-such-table")
    handler.wiring.reset()
    with mock_aws():
        answer = handler.lambda_handler(_event(), FakeLambdaContext())
    handler.wiring.reset()
    assert answer == FALLBACK


def test_bad_settings_answer_the_fallback_too(handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OFFER_CHECK_PRODUCT")
    handler.wiring.reset()
    try:
        assert handler.lambda_handler(_event(), FakeLambdaContext()) == FALLBACK
    finally:
        handler.wiring.reset()


def test_nothing_about_the_caller_is_logged(aws: Any, handler: Any, capsys: pytest.CaptureFixture[str]) -> None:
    buffer = io.StringIO()
    stream = logging.StreamHandler(buffer)
    stream.setFormatter(handler.logger.registered_formatter)
    handler.logger.addHandler(stream)
    try:
        handler.lambda_handler(_event(), FakeLambdaContext())
        handler.lambda_handler(_event(PHONE), FakeLambdaContext())
    finally:
        handler.logger.removeHandler(stream)
    logged = buffer.getvalue() + capsys.readouterr().out
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    assert {line.get("outcome") for line in lines} >= {"advised", "unknown-customer"}
    assert any(line.get("action") == "make_offer" for line in lines)
    for secret in ("Ada", "Lovelace", "example.com", "7700", "900123", "820"):
        assert secret not in logged


def _simulator(next_action: Any) -> Simulator:
    from connect_lookup import handler as lookup

    lookup.wiring.reset()
    manifest = load_manifest()
    flows = {key: manifest.load_flow(key) for key in manifest.flows}
    hours = HoursOfOperation("Europe/London", {"MONDAY": ("08:00", "20:00")})
    return Simulator(
        flows,
        lambdas={"caller_lookup": lookup.lambda_handler, "next_action": next_action.lambda_handler},
        hours={"business_hours": hours},
        queue_hours={"general_support": "business_hours", "retention_offers": "business_hours"},
    )


def test_the_stage_5_flow_routes_on_one_decision_and_the_whisper_says_the_next_best_action(
    aws: Any, handler: Any
) -> None:
    sim = _simulator(handler)
    trace = sim.run("personalised_inbound_next_action", Contact(phone=PHONE, at=MONDAY_MORNING))
    assert trace.attributes["next_action"] == "make_offer"
    assert trace.attributes["offer_eligible"] == "true"
    assert trace.queue == "retention_offers"
    assert len(decisions_of(aws)) == 1  # one decision per contact: routing and the whisper share it
    whisper = sim.run(trace.event_hooks["AgentWhisper"], Contact(phone=PHONE, attributes=trace.attributes))
    assert whisper.messages[-1] == f"Next best action: {OFFER}"
    assert whisper.end_reason is EndReason.FLOW_ENDED


def test_the_stage_5_flow_puts_service_recovery_in_the_whisper_for_a_caller_with_an_open_complaint(
    aws: Any, handler: Any
) -> None:
    from omni_domain.dynamodb_store import live_state_item
    from omni_domain.models import FrictionPoint, LiveState

    state = LiveState(
        friction_points=[FrictionPoint(kind="complaint", channel="web", at=MONDAY_MORNING, reference="cmp-1")],
        journey_stage="at_risk",
        version=5,
    )
    boto3.resource("dynamodb", region_name=REGION).Table(TABLES["CUSTOMER_TABLE_NAME"]).put_item(
        Item=json.loads(json.dumps(live_state_item(CUSTOMER_ID, state), default=str))
    )
    sim = _simulator(handler)
    trace = sim.run("personalised_inbound_next_action", Contact(phone=PHONE, at=MONDAY_MORNING))
    assert trace.attributes["next_action"] == "resolve_complaint"
    whisper = sim.run(trace.event_hooks["AgentWhisper"], Contact(phone=PHONE, attributes=trace.attributes))
    assert whisper.messages[-1] == (
        "Next best action: Open complaint: acknowledge it and resolve it before anything else."
    )
