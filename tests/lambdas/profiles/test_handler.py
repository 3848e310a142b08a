"""The API end to end: stored API Gateway events, the Lambda handler in-process, DynamoDB in moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from profiles.problems import PROBLEM_JSON, Problem
from tests.lambdas.conftest import CUSTOMER_ID, Invoke, api_event


def header(response: dict[str, Any], name: str) -> str | None:
    values = {key.lower(): value for key, value in response["multiValueHeaders"].items()}.get(name.lower())
    return values[0] if values else None


def problem(response: dict[str, Any]) -> Problem:
    assert header(response, "Content-Type") == PROBLEM_JSON
    return Problem.model_validate_json(response["body"])


def create(invoke: Invoke, **changes: Any) -> dict[str, Any]:
    response = invoke(api_event("put_customer", headers={"Idempotency-Key": None}, **changes))
    assert response["statusCode"] == 201, response["body"]
    return response


def test_put_creates_with_location_and_etag(invoke: Invoke) -> None:
    response = create(invoke)
    body = json.loads(response["body"])
    assert header(response, "Location") == f"/customers/{CUSTOMER_ID}"
    assert header(response, "ETag") == '"1"'
    assert (body["attributes"]["email"], body["attributes"]["phone"]) == ("ada.lovelace@example.com", "+447700900123")


def test_get_returns_profile_and_live_state(invoke: Invoke) -> None:
    create(invoke)
    response = invoke(api_event("get_customer"))
    assert response["statusCode"] == 200
    assert header(response, "ETag") == '"1"'
    assert set(json.loads(response["body"])) >= {"attributes", "consent", "live_state", "version"}


def test_patch_applies_a_merge_patch(invoke: Invoke) -> None:
    create(invoke)
    response = invoke(api_event("patch_customer", headers={"Idempotency-Key": None}))
    body = json.loads(response["body"])
    assert response["statusCode"] == 200, response["body"]
    assert (body["version"], body["attributes"]["preferred_channel"], body["attributes"]["address"]["line2"]) == (
        2,
        "sms",
        "Flat 3",
    )
    assert header(response, "ETag") == '"2"'


def test_patch_as_plain_json_is_accepted(invoke: Invoke) -> None:
    create(invoke)
    response = invoke(
        api_event("patch_customer", headers={"Content-Type": "application/json", "Idempotency-Key": None})
    )
    assert response["statusCode"] == 200


@pytest.mark.parametrize(
    ("name", "headers", "status", "slug", "field"),
    [
        ("patch_customer", {"If-Match": None}, 428, "precondition-required", "If-Match"),
        ("patch_customer", {"If-Match": '"7"'}, 412, "version-conflict", "If-Match"),
        ("patch_customer", {"If-Match": 'W/"1"'}, 400, "bad-request", "If-Match"),
        ("put_customer", {}, 428, "precondition-required", "If-Match"),
        ("put_consent", {"If-Match": None}, 428, "precondition-required", "If-Match"),
        ("patch_customer", {"Content-Type": "text/plain"}, 415, "unsupported-media-type", "Content-Type"),
    ],
)
def test_writes_are_conditional(
    invoke: Invoke, *, name: str, headers: dict[str, str | None], status: int, slug: str, field: str
) -> None:
    create(invoke)
    response = invoke(api_event(name, headers={"Idempotency-Key": None, **headers}))
    assert response["statusCode"] == status, response["body"]
    assert problem(response).type.endswith(slug)
    assert problem(response).field == field


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"email": "  ADA.LOVELACE@example.com"}, 200),
        ({"phone": "+44 7700 900123"}, 200),
        ({"phone": "07700900123"}, 200),
        ({"email": "someone.else@example.com"}, 404),
        ({"email": "not-an-email"}, 422),
        ({}, 422),
    ],
)
def test_lookup_through_the_identity_map(invoke: Invoke, query: dict[str, str], status: int) -> None:
    create(invoke)
    response = invoke(api_event("find_customer", query=query))
    assert response["statusCode"] == status, response["body"]
    if status == 200:
        assert header(response, "Content-Location") == f"/customers/{CUSTOMER_ID}"
    else:
        problem(response)


def test_consent_is_stamped(invoke: Invoke) -> None:
    create(invoke)
    response = invoke(api_event("put_consent"))
    body = json.loads(response["body"])
    assert response["statusCode"] == 200, response["body"]
    assert body["consent"]["email"]["marketing"]["granted"] is True
    assert body["consent"]["sms"]["marketing"]["decided_at"]


@pytest.mark.parametrize("decision", ["yes", 1, "true", None])
def test_a_consent_decision_is_true_or_false_and_nothing_else(invoke: Invoke, decision: Any) -> None:
    # Consent is a legal record: "yes" or 1 is not read as a grant (pydantic's lax booleans would)
    create(invoke)
    response = invoke(api_event("put_consent", body={"email": {"marketing": decision}}))
    assert response["statusCode"] == 422, response["body"]
    assert problem(response).field == "email.marketing"


def test_consent_for_an_unknown_channel_is_422(invoke: Invoke) -> None:
    create(invoke)
    response = invoke(api_event("put_consent", body={"carrier_pigeon": {"marketing": True}}))
    assert response["statusCode"] == 422
    assert "carrier_pigeon" in (problem(response).field or "")


def test_erasure(invoke: Invoke) -> None:
    create(invoke)
    assert invoke(api_event("delete_customer"))["statusCode"] == 204
    assert invoke(api_event("delete_customer"))["statusCode"] == 204
    assert invoke(api_event("get_customer"))["statusCode"] == 404
    assert invoke(api_event("find_customer"))["statusCode"] == 404
    recreated = invoke(api_event("put_customer", headers={"Idempotency-Key": None}))
    assert (recreated["statusCode"], problem(recreated).type) == (409, "urn:omni-cx:problem:conflict")


def test_erasing_an_unknown_customer_is_404(invoke: Invoke) -> None:
    assert invoke(api_event("delete_customer", customer_id="gc-unknown"))["statusCode"] == 404


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"body": "{not json"}, 400, "body"),
        ({"body": {"first_name": "Ada", "shoe_size": 9}}, 422, "shoe_size"),
        ({"body": {"email": "nobody"}}, 422, "email"),
        ({"body": {"phone": "call me maybe"}}, 422, "phone"),
        ({"customer_id": "not valid!"}, 400, "customer_id"),
        ({"headers": {"Idempotency-Key": "short"}}, 400, "idempotency-key"),
        # a number is not a date (pydantic alone would read 0 as 1970-01-01)
        ({"body": {"first_name": "Ada", "date_of_birth": 0}}, 422, "date_of_birth"),
        (
            {"headers": {"Content-Type": "application/x-www-form-urlencoded"}, "body": "first_name=Ada"},
            415,
            "Content-Type",
        ),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    invoke: Invoke, changes: dict[str, Any], status: int, field: str
) -> None:
    response = invoke(api_event("put_customer", **changes))
    assert response["statusCode"] == status, response["body"]
    assert problem(response).field == field


def test_an_email_of_another_customer_is_409(invoke: Invoke) -> None:
    create(invoke)
    response = invoke(api_event("put_customer", customer_id="gc-other", headers={"Idempotency-Key": None}))
    assert response["statusCode"] == 409
    assert problem(response).field == "email"


def test_unknown_route_is_a_404_problem(invoke: Invoke) -> None:
    response = invoke(api_event("get_customer", path="/orders/1"))
    assert (response["statusCode"], problem(response).type) == (404, "urn:omni-cx:problem:no-such-route")


def test_an_unexpected_failure_is_a_500_problem_without_detail(invoke: Invoke, dynamodb: Any) -> None:
    dynamodb.delete_table(TableName="test-customers")
    response = invoke(api_event("get_customer"))
    assert response["statusCode"] == 500
    assert problem(response).type == "urn:omni-cx:problem:internal-error"
    assert "ResourceNotFound" not in response["body"]
