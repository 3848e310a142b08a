"""No personal data in the logs of any route, success or failure."""

from __future__ import annotations

import io
import json
import logging

import pytest

from profiles.observability import logger
from tests.lambdas.conftest import Invoke, api_event

PERSONAL = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "Ada.Lovelace@Example.com",
    "phone": "07700 900123",
    "address": {"line1": "12 St James's Square", "city": "London", "postcode": "SW1Y 4JH", "country": "GB"},
}
NEEDLES = [
    "Lovelace",
    "ada.lovelace",
    "Ada.Lovelace",
    "example.com",
    "7700",
    "900123",
    "St James",
    "SW1Y",
    '"Ada"',
    "London",
    "Augusta",
]


def test_no_route_logs_personal_data(invoke: Invoke, capsys: pytest.CaptureFixture[str]) -> None:
    # The logger's own JSON output (its handler kept the stdout of import time), and whatever reaches stdout.
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    logger.setLevel("DEBUG")
    try:
        events = [
            api_event("put_customer", body=PERSONAL),
            api_event("put_customer", body=PERSONAL),  # idempotent replay
            api_event("get_customer"),
            api_event("find_customer", query={"email": "ada.lovelace@example.com"}),
            api_event("find_customer", query={"phone": "+447700900123"}),
            api_event("find_customer", query={"email": "augusta@example.com"}),
            api_event("find_customer", query={"email": "Lovelace-not-an-email"}),
            api_event("patch_customer", body={"last_name": "Augusta King", "email": "Augusta@example.com"}),
            api_event(
                "patch_customer", body={"last_name": "Augusta"}, headers={"If-Match": '"1"', "Idempotency-Key": None}
            ),
            api_event(
                "patch_customer",
                body={"email": "Lovelace at example.com"},
                headers={"Idempotency-Key": None, "If-Match": '"2"'},
            ),
            api_event("put_customer", body={**PERSONAL, "address": "London"}, headers={"Idempotency-Key": None}),
            api_event(
                "put_customer",
                customer_id="gc-other",
                body=PERSONAL | {"email": "augusta@example.com"},
                headers={"Idempotency-Key": None},
            ),
            api_event("put_consent", headers={"If-Match": '"2"'}),
            api_event("delete_customer"),
        ]
        statuses = [invoke(event)["statusCode"] for event in events]
    finally:
        logger.setLevel("INFO")
        logger.removeHandler(handler)
    captured = capsys.readouterr()
    output = buffer.getvalue() + captured.out + captured.err
    log_lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]

    assert statuses == [201, 201, 200, 200, 200, 404, 422, 200, 412, 422, 422, 409, 200, 204]
    assert any(line.get("customer_id") for line in log_lines), "the test must see the service's logs"
    for needle in NEEDLES:
        assert needle.lower() not in output.lower(), f"{needle!r} found in the logs"
