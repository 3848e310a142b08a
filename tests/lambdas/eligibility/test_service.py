"""Decisions over in-memory fakes and the SageMaker adapter's failure modes (no moto)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from eligibility.decisions import EligibilityService, NoActiveRuleSetError
from eligibility.memory import InMemoryDecisionLog, InMemoryRuleSetStore
from eligibility.rule_sets import RuleSet, RuleSetDocument
from eligibility.rules import Target
from eligibility.scoring import NoModel, SageMakerScorer, ScoringUnavailable, runtime_config
from omni_domain.errors import ConflictError, NotFoundError
from omni_domain.memory_store import InMemoryCustomerRepository, InMemoryIdentityMap
from omni_domain.models import CustomerProfile, LiveState, ProfileAttributes, RollingSpend

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
RULES = RuleSetDocument.model_validate(
    {
        "offers": [
            {
                "code": "A",
                "product": "broadband",
                "conditions": [
                    {"attribute": "spend_365d", "op": "gte", "value": 500},
                    {"attribute": "propensity", "op": "gte", "value": 0.2, "if_missing": "pass"},
                ],
            }
        ]
    }
)


class FixedScorer:
    def __init__(self, score: float | None) -> None:
        self.score_value = score
        self.calls: list[dict[str, Any]] = []

    def score(self, features: Any) -> float:
        self.calls.append(dict(features))
        if self.score_value is None:
            raise ScoringUnavailable("timeout")
        return self.score_value


def service(scorer: Any) -> tuple[EligibilityService, InMemoryDecisionLog]:
    customers = InMemoryCustomerRepository(InMemoryIdentityMap())
    customers.profiles["gc-1"] = CustomerProfile(
        customer_id="gc-1",
        attributes=ProfileAttributes(first_name="Ada"),
        version=1,
        created_at=NOW - timedelta(days=400),
        updated_at=NOW,
    )
    customers.live_states["gc-1"] = LiveState(rolling_spend=RollingSpend(last_365_days=Decimal(900)))
    rule_sets = InMemoryRuleSetStore()
    rule_sets.put(RuleSet(version="v1", document=RULES), now=NOW)
    rule_sets.activate("v1", now=NOW)
    log = InMemoryDecisionLog()
    return EligibilityService(customers, rule_sets, log, scorer, retention_days=30, clock=lambda: NOW), log


def test_given_a_score_when_deciding_then_it_is_used_and_recorded_with_an_expiry() -> None:
    scorer = FixedScorer(0.1)
    eligibility, log = service(scorer)
    record = eligibility.decide("gc-1", Target(product="broadband"), decision_id="r1")
    assert (record.decision.eligible, record.decision.score, record.decision.score_source) == (False, 0.1, "model")
    assert log.records == [record]
    assert record.expires_at == int((NOW + timedelta(days=30)).timestamp())
    assert scorer.calls[0]["product"] == "broadband"
    assert scorer.calls[0]["tenure_days"] == 400.0
    assert "first_name" not in scorer.calls[0]


def test_given_the_model_times_out_when_deciding_then_the_rules_decide_alone_and_say_so() -> None:
    eligibility, _ = service(FixedScorer(None))
    record = eligibility.decide("gc-1", Target(product="broadband"), decision_id="r1")
    assert (record.decision.eligible, record.decision.score_source, record.fallback_reason) == (
        True,
        "fallback",
        "timeout",
    )


def test_an_unknown_product_is_refused_before_the_model_is_called() -> None:
    scorer = FixedScorer(0.5)
    eligibility, log = service(scorer)
    with pytest.raises(NotFoundError):
        eligibility.decide("gc-1", Target(product="mobile"), decision_id="r1")
    assert (scorer.calls, log.records) == ([], [])


def test_an_unknown_customer_is_not_found_and_no_active_rules_a_conflict() -> None:
    eligibility, _ = service(NoModel())
    with pytest.raises(NotFoundError):
        eligibility.decide("gc-2", Target(product="broadband"), decision_id="r1")
    empty = EligibilityService(eligibility.customers, InMemoryRuleSetStore(), InMemoryDecisionLog(), NoModel())
    with pytest.raises(NoActiveRuleSetError):
        empty.decide("gc-1", Target(product="broadband"), decision_id="r1")


def test_stored_versions_never_change() -> None:
    eligibility, _ = service(NoModel())
    assert eligibility.put_rule_set("v1", RULES) is False
    with pytest.raises(ConflictError):
        eligibility.put_rule_set("v1", RuleSetDocument.model_validate({"offers": [{"code": "B", "product": "x"}]}))


class RaisingRuntime:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def invoke_endpoint(self, **_: Any) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ReadTimeoutError(endpoint_url="https://runtime.sagemaker"), "timeout"),
        (ConnectTimeoutError(endpoint_url="https://runtime.sagemaker"), "timeout"),
        (EndpointConnectionError(endpoint_url="https://runtime.sagemaker"), "error"),
    ],
)
def test_transport_failures_become_unavailable_scores(error: Exception, reason: str) -> None:
    with pytest.raises(ScoringUnavailable) as raised:
        SageMakerScorer(RaisingRuntime(error), "omni-propensity").score({"product": "x"})
    assert raised.value.reason == reason


def test_a_model_error_answer_is_an_unavailable_score() -> None:
    client = boto3.client("sagemaker-runtime", region_name="eu-west-2", config=runtime_config(800))
    with Stubber(client) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code="ModelError", http_status_code=424)
        with pytest.raises(ScoringUnavailable) as raised:
            SageMakerScorer(client, "omni-propensity").score({"product": "x"})
    assert raised.value.reason == "error"


@pytest.mark.parametrize("body", [b"[]", b'{"scores": []}', b'{"scores": [1.5]}', b'{"scores": ["NaN"]}', b"nope"])
def test_an_answer_without_a_probability_is_a_bad_response(body: bytes) -> None:
    client = boto3.client("sagemaker-runtime", region_name="eu-west-2")
    with Stubber(client) as stub:
        stub.add_response("invoke_endpoint", {"Body": io.BytesIO(body), "ContentType": "application/json"})
        with pytest.raises(ScoringUnavailable) as raised:
            SageMakerScorer(client, "omni-propensity").score({"product": "x"})
    assert raised.value.reason == "bad-response"


def test_the_runtime_client_waits_briefly_and_never_retries() -> None:
    config = runtime_config(800)
    assert (config.connect_timeout, config.read_timeout) == (0.8, 0.8)
    assert config.retries == {"total_max_attempts": 1, "mode": "standard"}


def test_the_payload_is_json_of_the_raw_attributes() -> None:
    client = boto3.client("sagemaker-runtime", region_name="eu-west-2")
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_endpoint",
            {"Body": io.BytesIO(b'{"scores": [0.25]}')},
            {
                "EndpointName": "omni-propensity",
                "ContentType": "application/json",
                "Accept": "application/json",
                "Body": json.dumps({"product": "x", "spend_30d": 1.5}),
            },
        )
        assert SageMakerScorer(client, "omni-propensity").score({"product": "x", "spend_30d": 1.5}) == 0.25
