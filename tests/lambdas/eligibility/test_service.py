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
from eligibility.rule_sets import RuleSet, RuleSetDocument
from eligibility.rules import Target
from eligibility.scoring import (
    Contribution,
    ModelScore,
    NoModel,
    SageMakerScorer,
    ScoringUnavailable,
    first_answer,
    runtime_config,
)
from omni_domain.errors import ConflictError, NotFoundError
from omni_domain.models import CustomerProfile, LiveState, ProfileAttributes, RollingSpend
from omni_testing.customers import InMemoryCustomerRepository, InMemoryIdentityMap
from omni_testing.eligibility import InMemoryDecisionLog, InMemoryRuleSetStore

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
    def __init__(self, score: float | None, contributions: tuple[Contribution, ...] = ()) -> None:
        self.score_value = score
        self.contributions = contributions
        self.calls: list[dict[str, Any]] = []

    def score(self, features: Any) -> ModelScore:
        self.calls.append(dict(features))
        if self.score_value is None:
            raise ScoringUnavailable("timeout")
        return ModelScore(self.score_value, self.contributions, "xgb-0123456789abcdef")


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
        assert SageMakerScorer(client, "omni-propensity").score({"product": "x", "spend_30d": 1.5}).score == 0.25


CONTRIBUTIONS = (
    Contribution(feature="purchases", value=3.0, contribution=0.9),
    Contribution(feature="complaints", value=2.0, contribution=-0.4),
    Contribution(feature="tenure_days", value=1500.0, contribution=0.3),
)


def test_a_score_with_contributions_is_explained_in_the_reasons_and_kept_for_audit() -> None:
    eligibility, log = service(FixedScorer(0.6, CONTRIBUTIONS))
    record = eligibility.decide("gc-1", Target(product="broadband"), decision_id="r1")
    decision = record.decision
    assert decision.contributions == list(CONTRIBUTIONS)
    # The rules' reason stays first; what moved the score follows, raised then lowered.
    assert decision.reasons == [
        "A: all 2 conditions met",
        "likely to take the offer: 3 purchases, tenure 4 years",
        "less likely to take the offer: 2 complaints",
    ]
    assert log.records[0].model_version == "xgb-0123456789abcdef"


def test_without_contributions_the_decision_is_as_before() -> None:
    eligibility, _ = service(FixedScorer(0.6))
    decision = eligibility.decide("gc-1", Target(product="broadband"), decision_id="r1").decision
    assert (decision.contributions, decision.reasons) == ([], ["A: all 2 conditions met"])


def test_the_endpoint_answer_of_the_contract_is_read_with_its_contributions_largest_first() -> None:
    body = json.dumps(
        {
            "scores": [0.31],
            "model_version": "xgb-00ff00ff00ff00ff",
            "contributions": [
                [
                    {"feature": "tenure_days", "value": 1500, "contribution": 0.2},
                    {"feature": "cart_status", "value": None, "contribution": -0.7},
                    {"feature": "preferred_channel", "value": "web", "contribution": 0.1},
                ]
            ],
        }
    ).encode()
    answer = first_answer(body)
    assert (answer.score, answer.model_version) == (0.31, "xgb-00ff00ff00ff00ff")
    assert [(c.feature, c.value, c.contribution) for c in answer.contributions] == [
        ("cart_status", None, -0.7),
        ("tenure_days", 1500.0, 0.2),
        ("preferred_channel", "web", 0.1),
    ]


@pytest.mark.parametrize(
    "contributions",
    [
        "nope",
        [],
        [[{"feature": "x"}]],
        [[{"feature": "x", "value": 1, "contribution": "NaN"}]],
        [[{"feature": "", "value": 1, "contribution": 0.1}]],
        [[{"feature": "x", "value": [1], "contribution": 0.1}]],
    ],
)
def test_malformed_contributions_cost_the_explanation_never_the_score(contributions: Any) -> None:
    answer = first_answer(json.dumps({"scores": [0.4], "contributions": contributions}).encode())
    assert (answer.score, answer.contributions, answer.model_version) == (0.4, (), None)
