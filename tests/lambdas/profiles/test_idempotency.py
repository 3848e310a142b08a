"""Idempotency-Key on PUT and PATCH: a retry gets the first answer back and writes nothing."""

from __future__ import annotations

from typing import Any

from tests.lambdas.conftest import CUSTOMER_ID, TABLES, Invoke, api_event


def stored_profile(dynamodb: Any) -> dict[str, Any]:
    return dynamodb.get_item(
        TableName=TABLES["CUSTOMER_TABLE_NAME"], Key={"customer_id": {"S": CUSTOMER_ID}, "record": {"S": "PROFILE"}}
    )["Item"]


def test_put_replay_returns_the_first_answer_without_writing(invoke: Invoke, dynamodb: Any) -> None:
    first = invoke(api_event("put_customer"))
    item = stored_profile(dynamodb)
    replay = invoke(api_event("put_customer"))
    assert first["statusCode"] == replay["statusCode"] == 201
    assert replay["body"] == first["body"]
    assert replay["multiValueHeaders"] == first["multiValueHeaders"]
    assert stored_profile(dynamodb) == item
    # Without the key the same request is a second write, refused: the customer exists now.
    assert invoke(api_event("put_customer", headers={"Idempotency-Key": None}))["statusCode"] == 428


def test_patch_replay_is_not_a_second_patch(invoke: Invoke, dynamodb: Any) -> None:
    invoke(api_event("put_customer", headers={"Idempotency-Key": None}))
    first = invoke(api_event("patch_customer"))
    replay = invoke(api_event("patch_customer"))
    assert first["statusCode"] == replay["statusCode"] == 200
    assert replay["body"] == first["body"]
    assert stored_profile(dynamodb)["version"] == {"N": "2"}


def test_reusing_a_key_for_another_request_is_refused(invoke: Invoke) -> None:
    invoke(api_event("put_customer", headers={"Idempotency-Key": None}))
    assert invoke(api_event("patch_customer"))["statusCode"] == 200
    other = invoke(api_event("patch_customer", body={"first_name": "Augusta"}))
    assert other["statusCode"] == 422
    assert '"urn:omni-cx:problem:idempotency-key-reused"' in other["body"]


def test_a_failed_write_is_not_replayed(invoke: Invoke) -> None:
    invoke(api_event("put_customer", headers={"Idempotency-Key": None}))
    stale = invoke(api_event("patch_customer", headers={"If-Match": '"9"'}))
    assert stale["statusCode"] == 412
    assert invoke(api_event("patch_customer", headers={"If-Match": '"1"'}))["statusCode"] == 200
