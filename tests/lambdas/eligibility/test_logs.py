"""No personal data in the logs of any route, success or failure."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from eligibility.observability import logger
from tests.lambdas.conftest import api_event

from .conftest import Invoke, queue_scores
from .test_next_action_api import next_action_event

NEEDLES = ["Lovelace", "ada.lovelace", "example.com", '"Ada"', "820", "64.5"]


def test_no_route_logs_personal_data(invoke: Invoke, aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    logger.setLevel("DEBUG")
    queue_scores("not json")  # moto answers the same payload alike: every decision here falls back
    try:
        events = [
            api_event("put_rule_set"),
            api_event("activate_rule_set"),
            api_event("post_eligibility"),
            api_event("post_eligibility"),  # idempotent replay
            api_event("post_eligibility", headers={"Idempotency-Key": None}, body={"offer_code": "BB-LOYAL-20"}),
            api_event("post_eligibility", headers={"Idempotency-Key": None}, body={"product": "Lovelace"}),
            api_event("post_eligibility", headers={"Idempotency-Key": None}, body="{Lovelace"),
            api_event("put_rule_set", body={"offers": [{"code": "X", "product": "x", "description": "Lovelace"}]}),
            next_action_event(channel="contact_centre"),
            next_action_event(product="Lovelace"),
        ]
        statuses = [invoke(event)["statusCode"] for event in events]
    finally:
        logger.setLevel("INFO")
        logger.removeHandler(handler)
    captured = capsys.readouterr()
    output = buffer.getvalue() + captured.out + captured.err
    log_lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]

    assert statuses == [201, 200, 200, 200, 200, 422, 400, 409, 200, 400]
    assert any(line.get("message") == "decision" and line.get("customer_id") for line in log_lines)
    assert any(line.get("fallback_reason") == "bad-response" for line in log_lines)
    assert any(line.get("message") == "next best action" and line.get("action") for line in log_lines)
    for needle in NEEDLES:
        assert needle.lower() not in output.lower(), f"{needle!r} found in the logs"
