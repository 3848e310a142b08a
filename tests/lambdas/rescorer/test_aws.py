"""The AWS adapters: the debounce claim (moto), the STATE write-back (moto), and the versioned endpoint call
(a botocore Stubber, or a client that times out), checked against what the serving code answers."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from eligibility.scoring import ScoringUnavailable
from omni_domain.constants import RESCORE_EXPIRY_ATTRIBUTE, RESCORE_PARTITION_KEY
from propensity.inference import Prediction, output_fn
from rescorer.aws import (
    CLAIMED_AT,
    PENDING,
    UNVERSIONED_MODEL,
    DynamoDBDebouncer,
    DynamoDBPropensityWriter,
    SageMakerPropensityScorer,
    SqsDelayQueue,
    model_scores,
)
from rescorer.events import trailing_rescore
from rescorer.ports import ModelScores, StaleStateError, TrailingRescore
from tests.lambdas.conftest import CUSTOMER_ID, TABLES

from .conftest import (
    DELAY_QUEUE_URL,
    ENDPOINT,
    NOW,
    RESCORE_TABLE,
    RecordingSqs,
    StubbedRuntime,
    repository,
    state_item,
    store_customer,
)

WINDOW = timedelta(seconds=300)
CUSTOMER_TABLE = TABLES["CUSTOMER_TABLE_NAME"]


def test_a_claim_is_refused_inside_the_window_and_granted_from_its_end(dynamodb: Any) -> None:
    debouncer = DynamoDBDebouncer(dynamodb, RESCORE_TABLE)
    assert debouncer.claim(CUSTOMER_ID, now=NOW, window=WINDOW)
    assert not debouncer.claim(CUSTOMER_ID, now=NOW + WINDOW - timedelta(milliseconds=1), window=WINDOW)
    assert debouncer.claim(CUSTOMER_ID, now=NOW + WINDOW, window=WINDOW)
    assert not debouncer.claim(CUSTOMER_ID, now=NOW + WINDOW + timedelta(seconds=1), window=WINDOW)


def test_claims_are_per_customer_and_carry_the_ttl_attribute(dynamodb: Any) -> None:
    debouncer = DynamoDBDebouncer(dynamodb, RESCORE_TABLE)
    assert debouncer.claim(CUSTOMER_ID, now=NOW, window=WINDOW)
    assert debouncer.claim("gc-other", now=NOW, window=WINDOW)
    item = dynamodb.get_item(TableName=RESCORE_TABLE, Key={RESCORE_PARTITION_KEY: {"S": CUSTOMER_ID}})["Item"]
    assert int(item[RESCORE_EXPIRY_ATTRIBUTE]["N"]) == int((NOW + WINDOW).timestamp())
    assert int(item[CLAIMED_AT]["N"]) == int(NOW.timestamp() * 1000)


def test_a_release_forgets_only_its_own_claim(dynamodb: Any) -> None:
    debouncer = DynamoDBDebouncer(dynamodb, RESCORE_TABLE)
    assert debouncer.claim(CUSTOMER_ID, now=NOW, window=WINDOW)
    debouncer.release(CUSTOMER_ID, claimed_at=NOW - timedelta(seconds=1))  # someone else's (older) claim
    assert not debouncer.claim(CUSTOMER_ID, now=NOW + timedelta(seconds=1), window=WINDOW)
    debouncer.release(CUSTOMER_ID, claimed_at=NOW)
    assert debouncer.claim(CUSTOMER_ID, now=NOW + timedelta(seconds=1), window=WINDOW)


def _claim_item(dynamodb: Any) -> dict[str, Any]:
    item: dict[str, Any] = dynamodb.get_item(
        TableName=RESCORE_TABLE, Key={RESCORE_PARTITION_KEY: {"S": CUSTOMER_ID}}, ConsistentRead=True
    )["Item"]
    return item


def test_only_the_first_mark_of_a_window_is_granted_and_a_new_claim_clears_it(dynamodb: Any) -> None:
    debouncer = DynamoDBDebouncer(dynamodb, RESCORE_TABLE)
    started = NOW + timedelta(milliseconds=123)
    assert debouncer.claim(CUSTOMER_ID, now=started, window=WINDOW)
    assert debouncer.mark_pending(CUSTOMER_ID) == started  # the window's start, to the millisecond
    assert _claim_item(dynamodb)[PENDING] == {"BOOL": True}
    assert debouncer.mark_pending(CUSTOMER_ID) is None
    assert debouncer.claim(CUSTOMER_ID, now=started + WINDOW, window=WINDOW)
    assert PENDING not in _claim_item(dynamodb)
    assert debouncer.mark_pending(CUSTOMER_ID) == started + WINDOW


def test_a_mark_never_creates_a_claim(dynamodb: Any) -> None:
    assert DynamoDBDebouncer(dynamodb, RESCORE_TABLE).mark_pending(CUSTOMER_ID) is None
    assert dynamodb.scan(TableName=RESCORE_TABLE)["Items"] == []


def test_an_unmark_undoes_only_its_own_windows_mark(dynamodb: Any) -> None:
    debouncer = DynamoDBDebouncer(dynamodb, RESCORE_TABLE)
    assert debouncer.claim(CUSTOMER_ID, now=NOW, window=WINDOW)
    assert debouncer.mark_pending(CUSTOMER_ID) == NOW
    debouncer.unmark_pending(CUSTOMER_ID, claimed_at=NOW - WINDOW)  # an older window's: refused
    assert debouncer.mark_pending(CUSTOMER_ID) is None
    debouncer.unmark_pending(CUSTOMER_ID, claimed_at=NOW)
    assert debouncer.mark_pending(CUSTOMER_ID) == NOW
    debouncer.release(CUSTOMER_ID, claimed_at=NOW)
    debouncer.unmark_pending(CUSTOMER_ID, claimed_at=NOW)  # the claim is gone: nothing to undo, nothing created
    assert dynamodb.scan(TableName=RESCORE_TABLE)["Items"] == []


def test_a_trailing_rescore_is_sent_with_its_delay_and_reads_back_the_same(dynamodb: Any) -> None:
    sqs = RecordingSqs()
    rescore = TrailingRescore(CUSTOMER_ID, NOW + timedelta(milliseconds=5), "c7a3e0d2b51f4a0e9d8b6f2a1c3e5d70")
    SqsDelayQueue(sqs, DELAY_QUEUE_URL).send(rescore, delay_seconds=290)
    [sent] = sqs.sent
    assert (sent["QueueUrl"], sent["DelaySeconds"]) == (DELAY_QUEUE_URL, 290)
    assert trailing_rescore(sent["MessageBody"]) == rescore
    assert set(json.loads(sent["MessageBody"])) == {"customer_id", "window_started_at", "change_id"}
    attributes = sqs.get_queue_attributes(QueueUrl=DELAY_QUEUE_URL, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"  # moto holds it back too


def test_the_write_back_sets_the_scores_model_and_time_and_bumps_the_version(dynamodb: Any) -> None:
    store_customer(dynamodb)
    before = state_item(dynamodb)
    assert before is not None
    writer = DynamoDBPropensityWriter(dynamodb, CUSTOMER_TABLE)
    writer.write(
        CUSTOMER_ID,
        {"retention-offer": 0.8123456789, "broadband": 0.25},
        model_version="xgb-0123456789abcdef",
        scored_at=NOW,
        expected_version=5,
    )
    after = state_item(dynamodb)
    assert after is not None
    assert after["version"] == 6
    state = after["live_state"]
    assert state["propensity"] == {"retention-offer": Decimal("0.812346"), "broadband": Decimal("0.25")}
    assert state["propensity_model"] == "xgb-0123456789abcdef"
    assert state["propensity_scored_at"] == state["updated_at"] == "2026-11-29T21:00:05Z"
    # Everything else is untouched: the event processor's projection and its ledger.
    untouched = {"propensity", "propensity_model", "propensity_scored_at", "updated_at"}
    assert {k: v for k, v in state.items() if k not in untouched} == {
        k: v for k, v in before["live_state"].items() if k not in untouched
    }
    # The repository reads it back as a valid live state.
    stored = repository(dynamodb).get(CUSTOMER_ID).live_state
    assert stored is not None
    assert (stored.version, stored.propensity_model, stored.propensity_scored_at) == (6, "xgb-0123456789abcdef", NOW)
    assert stored.propensity == {"retention-offer": 0.812346, "broadband": 0.25}


def test_a_write_at_a_stale_version_is_refused_and_changes_nothing(dynamodb: Any) -> None:
    store_customer(dynamodb)
    before = state_item(dynamodb)
    writer = DynamoDBPropensityWriter(dynamodb, CUSTOMER_TABLE)
    with pytest.raises(StaleStateError):
        writer.write(CUSTOMER_ID, {"broadband": 0.5}, model_version="m", scored_at=NOW, expected_version=4)
    assert state_item(dynamodb) == before


def test_a_write_for_a_missing_state_item_never_creates_it(dynamodb: Any) -> None:
    writer = DynamoDBPropensityWriter(dynamodb, CUSTOMER_TABLE)
    with pytest.raises(StaleStateError):
        writer.write(CUSTOMER_ID, {"broadband": 0.5}, model_version="m", scored_at=NOW, expected_version=5)
    assert state_item(dynamodb) is None


def test_the_endpoint_is_asked_once_for_every_row_and_its_version_is_read(runtime: StubbedRuntime) -> None:
    runtime.answer({"scores": [0.7, 0.2], "model_version": "xgb-0123456789abcdef"}, rows=2)
    scorer = SageMakerPropensityScorer(runtime.client, ENDPOINT)
    answer = scorer.score([{"product": "a", "spend_365d": 1.0}, {"product": "b", "spend_365d": 1.0}])
    assert answer == ModelScores((0.7, 0.2), "xgb-0123456789abcdef")


def test_an_endpoint_error_is_an_unavailable_score(runtime: StubbedRuntime) -> None:
    runtime.fail("ModelError", 424)
    with pytest.raises(ScoringUnavailable) as raised:
        SageMakerPropensityScorer(runtime.client, ENDPOINT).score([{"product": "a"}])
    assert raised.value.reason == "error"


class TimingOut:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def invoke_endpoint(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://runtime.sagemaker.eu-west-2.amazonaws.com"),
        ConnectTimeoutError(endpoint_url="https://runtime.sagemaker.eu-west-2.amazonaws.com"),
    ],
)
def test_a_timeout_is_an_unavailable_score_without_a_retry(error: Exception) -> None:
    client = TimingOut(error)
    with pytest.raises(ScoringUnavailable) as raised:
        SageMakerPropensityScorer(client, ENDPOINT).score([{"product": "a"}])
    assert (raised.value.reason, client.calls) == ("timeout", 1)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[0.5]",
        '{"score": 0.5}',
        '{"scores": 0.5}',
        '{"scores": ["high"]}',
        '{"scores": [1.5]}',
        '{"scores": [-0.1]}',
        '{"scores": [NaN]}',
        '{"scores": [0.5, 0.5]}',
        '{"scores": []}',
    ],
)
def test_a_malformed_answer_is_a_bad_response(body: str) -> None:
    with pytest.raises(ScoringUnavailable) as raised:
        model_scores(body.encode(), expected=1)
    assert raised.value.reason == "bad-response"


@pytest.mark.parametrize("version", [None, "", "   ", 7, "x" * 129])
def test_an_answer_without_a_usable_version_is_still_the_models_score_marked_unversioned(version: Any) -> None:
    answer = {"scores": [0.4]} if version is None else {"scores": [0.4], "model_version": version}
    assert model_scores(json.dumps(answer).encode(), expected=1) == ModelScores((0.4,), UNVERSIONED_MODEL)


def test_an_answer_with_contributions_per_customer_is_read_for_its_scores_and_version() -> None:
    # The endpoint's answer with explanations: one list of top contributions per scored object, in order.
    answer = {
        "scores": [0.25, 0.75],
        "model_version": "xgb-0123456789abcdef",
        "contributions": [
            [{"feature": "purchases", "value": 3, "contribution": 0.9}],
            [{"feature": "cart_status", "value": None, "contribution": -0.4}],
        ],
    }
    assert model_scores(json.dumps(answer).encode(), expected=2) == ModelScores((0.25, 0.75), "xgb-0123456789abcdef")


def test_the_adapter_reads_exactly_what_the_inference_script_answers() -> None:
    body, content_type = output_fn(Prediction([0.1234567, 0.9], "xgb-0123456789abcdef"), "application/json")
    assert content_type == "application/json"
    assert model_scores(body.encode(), expected=2) == ModelScores((0.123457, 0.9), "xgb-0123456789abcdef")
