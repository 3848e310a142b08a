"""GET /customers/{id}/next-best-action end to end: stored API Gateway event, handler in-process, moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.lambdas.conftest import CUSTOMER_ID, api_event

from .conftest import Invoke, decisions_of, queue_scores
from .test_handler import activate, problem


def next_action_event(customer_id: str = CUSTOMER_ID, **query: str) -> dict[str, Any]:
    path = f"/customers/{customer_id}/next-best-action"
    event = api_event(
        "post_eligibility",
        path=path,
        method="GET",
        headers={"Idempotency-Key": None, "Content-Type": None},
        query={"product": "broadband", **query},
        body=None,
    )
    event["resource"] = event["requestContext"]["resourcePath"] = "/customers/{customer_id}/next-best-action"
    event["pathParameters"] = {"customer_id": customer_id}
    return event


def test_given_an_eligible_customer_with_an_old_complaint_then_the_offer_is_the_next_best_action(
    invoke: Invoke, aws: Any
) -> None:
    activate(invoke)
    queue_scores(0.42)
    response = invoke(next_action_event(channel="contact_centre"))
    assert response["statusCode"] == 200, response["body"]
    body = json.loads(response["body"])
    assert (body["action"], body["offer_code"]) == ("make_offer", "BB-LOYAL-20")
    assert body["script"] == "Eligible for offer BB-LOYAL-20: mention it once their request is handled."
    assert body["inputs"]["score"] == 0.42
    assert body["inputs"]["score_source"] == "model"
    assert body["inputs"]["journey_stage"] == "new"
    assert body["inputs"]["channel"] == "contact_centre"
    assert body["policy_version"].startswith("nba-")
    # The decision it was chosen with is audited like any other, without personal data.
    [record] = decisions_of(aws)
    assert record["decision_id"]["S"] == body["decision_id"]
    for personal in ("Ada", "Lovelace", "example.com"):
        assert personal not in response["body"]


def test_without_marketing_consent_on_the_channel_asked_about_no_offer_is_made(invoke: Invoke) -> None:
    activate(invoke)
    queue_scores(0.42)
    body = json.loads(invoke(next_action_event(channel="sms"))["body"])
    assert body["action"] != "make_offer"
    assert any(reason.startswith("make_offer skipped") for reason in body["reasons"])


@pytest.mark.parametrize(
    ("event", "status", "field"),
    [
        (next_action_event("gc-unknown"), 404, "customer_id"),
        (next_action_event(product="pets"), 404, "product"),
        (next_action_event(product="Broad band"), 400, "product"),
        (next_action_event(channel="pigeon"), 400, "channel"),
        (next_action_event("not%20an%20id"), 400, "customer_id"),
    ],
)
def test_bad_requests_are_problems_naming_the_field(
    invoke: Invoke, event: dict[str, Any], status: int, field: str
) -> None:
    activate(invoke)
    response = invoke(event)
    assert response["statusCode"] == status, response["body"]
    assert problem(response).field == field


def test_a_missing_product_is_a_400_problem(invoke: Invoke) -> None:
    activate(invoke)
    event = next_action_event()
    event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
    response = invoke(event)
    assert (response["statusCode"], problem(response).field) == (400, "product")


def test_without_an_active_rule_set_the_answer_is_a_409_problem(invoke: Invoke) -> None:
    response = invoke(next_action_event())
    assert response["statusCode"] == 409
    assert problem(response).type == "urn:omni-cx:problem:no-active-rule-set"
