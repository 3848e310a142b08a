"""The clients' timeouts keep a published record's three calls inside the function's timeout."""

from __future__ import annotations

from omni_domain.constants import STATE_PUBLISHER_TIMEOUT_SECONDS
from state_publisher import dependencies
from state_publisher.dependencies import CLIENT_CONFIG


def test_the_config_is_the_one_the_arithmetic_is_about() -> None:
    assert CLIENT_CONFIG.connect_timeout == dependencies.CONNECT_TIMEOUT_SECONDS
    assert CLIENT_CONFIG.read_timeout == dependencies.READ_TIMEOUT_SECONDS
    assert CLIENT_CONFIG.retries == {"mode": "standard", "total_max_attempts": dependencies.CALL_ATTEMPTS}


def test_a_published_records_three_calls_fit_the_function_timeout_with_margin() -> None:
    # idempotency in-progress write, PutEvents, idempotency completion: each hanging to the worst case
    three_calls = dependencies.CALLS_PER_PUBLISHED_RECORD * dependencies.worst_case_call_seconds()
    assert dependencies.worst_case_call_seconds() == 7
    assert three_calls == 21
    assert three_calls <= STATE_PUBLISHER_TIMEOUT_SECONDS - 5
