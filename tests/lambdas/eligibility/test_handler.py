"""The API end to end: stored API Gateway events, the handler in-process, DynamoDB and SageMaker runtime in moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eligibility.problems import PROBLEM_JSON, Problem
from tests.lambdas.conftest import api_event

from .conftest import Invoke, decisions_of, queue_scores


def header(response: dict[str, Any], name: str) -> str | None:
    values = {key.lower(): value for key, value in response["multiValueHeaders"].items()}.get(name.lower())
    return values[0] if values else None


def problem(response: dict[str, Any]) -> Problem:
    assert header(response, "Content-Type") == PROBLEM_JSON
    return Problem.model_validate_json(response["body"])


def activate(invoke: Invoke) -> None:
    assert invoke(api_event("put_rule_set"))["statusCode"] == 201
    assert invoke(api_event("activate_rule_set"))["statusCode"] == 200


def decide(invoke: Invoke, **changes: Any) -> dict[str, Any]:
    response = invoke(api_event("post_eligibility", **changes))
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def test_given_an_active_rule_set_and_a_model_score_when_deciding_then_the_score_is_used(invoke: Invoke) -> None:
    activate(invoke)
    queue_scores(0.42)
    body = decide(invoke)
    assert body["eligible"] is True
    assert body["offers"] == ["BB-LOYAL-20", "BB-SPEED-UP"]
    assert (body["score"], body["score_source"], body["rule_set_version"]) == (0.42, "model", "2026-11-a")
    assert "BB-LOYAL-20: all 5 conditions met" in body["reasons"]


def test_given_a_low_score_when_deciding_then_the_propensity_rule_fails_and_says_why(invoke: Invoke) -> None:
    activate(invoke)
    queue_scores(0.05)
    body = decide(invoke, body={"offer_code": "BB-LOYAL-20"})
    assert (body["eligible"], body["offers"]) == (False, [])
    assert body["reasons"] == ["BB-LOYAL-20: propensity is 0.05, needs >= 0.2"]


def test_given_the_endpoint_answers_garbage_when_deciding_then_rules_decide_alone(invoke: Invoke, aws: Any) -> None:
    activate(invoke)
    queue_scores('{"error": "model not loaded"}')
    body = decide(invoke)
    assert (body["eligible"], body["score"], body["score_source"]) == (True, None, "fallback")
    assert "BB-LOYAL-20: propensity unknown, condition skipped" in body["reasons"]
    [record] = decisions_of(aws)
    assert record["fallback_reason"] == {"S": "bad-response"}


def test_given_no_endpoint_configured_when_deciding_then_it_falls_back(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROPENSITY_ENDPOINT_NAME", "")
    activate(invoke)
    assert decide(invoke)["score_source"] == "fallback"


def test_every_decision_is_recorded_with_its_inputs_and_an_expiry_but_no_personal_data(
    invoke: Invoke, aws: Any
) -> None:
    activate(invoke)
    queue_scores(0.3)
    body = decide(invoke)
    [record] = decisions_of(aws)
    assert record["decision_id"]["S"] == body["decision_id"]
    assert record["rule_set_version"] == {"S": "2026-11-a"}
    assert record["score"] == {"N": "0.3"}
    assert record["inputs"]["M"]["spend_365d"] == {"N": "820.0"}
    assert int(record["expires_at"]["N"]) > 0
    stored = json.dumps(record)
    for personal in ("Ada", "Lovelace", "example.com"):
        assert personal not in stored


def test_a_decision_carries_the_models_contributions_in_plain_words_and_the_audit_keeps_them(
    invoke: Invoke, aws: Any
) -> None:
    activate(invoke)
    answer = {
        "scores": [0.42],
        "model_version": "xgb-0011223344556677",
        "contributions": [
            [
                {"feature": "spend_365d", "value": 820.0, "contribution": 0.61},
                {"feature": "complaints", "value": 1.0, "contribution": -0.35},
                {"feature": "tenure_days", "value": 800.0, "contribution": 0.12},
            ]
        ],
    }
    queue_scores(json.dumps(answer))
    body = decide(invoke)
    assert body["contributions"] == answer["contributions"][0]
    assert body["reasons"][-2:] == [
        "likely to take the offer: spent 820 in the last year, tenure 2 years",
        "less likely to take the offer: 1 complaint",
    ]
    [record] = decisions_of(aws)
    assert record["model_version"] == {"S": "xgb-0011223344556677"}
    assert record["contributions"]["L"][0] == {
        "M": {"feature": {"S": "spend_365d"}, "value": {"N": "820.0"}, "contribution": {"N": "0.61"}}
    }


def test_an_idempotent_retry_gets_the_first_decision_and_records_one(invoke: Invoke, aws: Any) -> None:
    activate(invoke)
    queue_scores(0.3, 0.9)
    first, replay = decide(invoke), decide(invoke)
    assert first == replay
    assert len(decisions_of(aws)) == 1
    other = invoke(api_event("post_eligibility", body={"product": "credit_card"}))
    assert problem(other).type == "urn:omni-cx:problem:idempotency-key-reused"


def test_without_an_active_rule_set_the_answer_is_a_409_problem(invoke: Invoke) -> None:
    response = invoke(api_event("post_eligibility"))
    assert response["statusCode"] == 409
    assert problem(response).type == "urn:omni-cx:problem:no-active-rule-set"


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"body": {"product": "pets"}}, 404, "product"),
        ({"body": {"offer_code": "NOPE"}}, 404, "offer_code"),
        ({"body": {}}, 422, "body"),
        ({"body": {"product": "broadband", "offer_code": "BB-SPEED-UP"}}, 422, "body"),
        ({"body": {"product": "Broad band"}}, 422, "product"),
        ({"body": "{not json"}, 400, "body"),
        ({"headers": {"Idempotency-Key": "short"}}, 400, "idempotency-key"),
        ({"path": "/customers/gc-unknown/eligibility"}, 404, "customer_id"),
        ({"path": "/customers/not%20an%20id/eligibility"}, 400, "customer_id"),
    ],
)
def test_bad_requests_are_problems_naming_the_field(
    invoke: Invoke, changes: dict[str, Any], status: int, field: str
) -> None:
    activate(invoke)
    response = invoke(api_event("post_eligibility", **{"headers": {"Idempotency-Key": None}, **changes}))
    assert response["statusCode"] == status, response["body"]
    assert problem(response).field == field


def test_a_stored_rule_set_reads_back_and_storing_it_again_is_idempotent(invoke: Invoke) -> None:
    assert invoke(api_event("put_rule_set"))["statusCode"] == 201
    again = invoke(api_event("put_rule_set"))
    assert again["statusCode"] == 200
    stored = json.loads(invoke(api_event("get_rule_set"))["body"])
    assert stored["version"] == "2026-11-a"
    assert [offer["code"] for offer in stored["document"]["offers"]] == ["BB-LOYAL-20", "BB-SPEED-UP", "CC-0APR"]


def test_other_rules_under_a_stored_version_are_a_conflict(invoke: Invoke) -> None:
    invoke(api_event("put_rule_set"))
    changed = {"offers": [{"code": "X1", "product": "broadband"}]}
    response = invoke(api_event("put_rule_set", body=changed))
    assert (response["statusCode"], problem(response).field) == (409, "version")


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"attribute": "shoe_size", "op": "gt", "value": 9}, "offers.0.conditions.0.attribute"),
        ({"attribute": "spend_30d", "op": "about", "value": 9}, "offers.0.conditions.0.op"),
        ({"attribute": "spend_30d", "op": "gt", "value": "lots"}, "offers.0.conditions.0.value"),
        ({"attribute": "marketing_consent", "op": "gte", "value": True}, "offers.0.conditions.0.op"),
        ({"attribute": "credit_band", "op": "in", "value": ["A", "Z"]}, "offers.0.conditions.0.value"),
    ],
)
def test_an_invalid_rule_set_is_refused_with_the_field_named(
    invoke: Invoke, condition: dict[str, Any], field: str
) -> None:
    body = {"offers": [{"code": "X1", "product": "broadband", "conditions": [condition]}]}
    response = invoke(api_event("put_rule_set", body=body))
    assert response["statusCode"] == 422, response["body"]
    assert problem(response).field == field
    assert invoke(api_event("get_rule_set"))["statusCode"] == 404


def test_activation_names_the_previous_version_and_unknown_versions_are_404(invoke: Invoke) -> None:
    activate(invoke)
    invoke(api_event("put_rule_set", path="/rule-sets/2026-12-a"))
    response = invoke(api_event("activate_rule_set", path="/rule-sets/2026-12-a/activate"))
    assert json.loads(response["body"])["previous_version"] == "2026-11-a"
    missing = invoke(api_event("activate_rule_set", path="/rule-sets/2099-01/activate"))
    assert (missing["statusCode"], problem(missing).field) == (404, "version")


def test_unknown_routes_are_problems(invoke: Invoke) -> None:
    response = invoke(api_event("get_rule_set", path="/rules"))
    assert response["statusCode"] == 404
    assert problem(response).type == "urn:omni-cx:problem:no-such-route"
