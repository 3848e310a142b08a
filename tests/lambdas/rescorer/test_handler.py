"""The function end to end: EventBridge CustomerStateChanged events and delay-queue SQS batches in, moto
DynamoDB (customer and debounce tables) and SQS (the delay queue), the endpoint answered by a botocore
Stubber; metrics and logs read from stdout."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from eligibility.constants import ENV_PROPENSITY_ENDPOINT
from omni_domain.constants import RESCORE_PARTITION_KEY
from omni_domain.models import ErasureRecord
from rescorer import dependencies
from rescorer.composition import rescorer_from_settings
from rescorer.fallback import RULES_VERSION, RulesInputs, rules_score
from rescorer.handler import lambda_handler
from rescorer.observability import logger
from rescorer.settings import RescorerSettings
from tests.lambdas.conftest import CUSTOMER_ID, FakeLambdaContext

from .conftest import (
    DEBOUNCE_SECONDS,
    NOW,
    PII,
    PRODUCTS,
    RESCORE_TABLE,
    Clock,
    RecordingSqs,
    StubbedRuntime,
    delay_queue_batch,
    live_state,
    put_state,
    repository,
    state_event,
    state_item,
    store_customer,
)

VERSION = "xgb-0123456789abcdef"
MODEL_ANSWER = {"scores": [0.81, 0.27], "model_version": VERSION}
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


class Function:
    def __init__(self, dynamodb: Any, runtime: Any) -> None:
        self.dynamodb = dynamodb
        self.clock = Clock()
        self.sqs = RecordingSqs()
        settings = RescorerSettings.from_environment()
        rescorer = rescorer_from_settings(settings, dynamodb=dynamodb, sagemaker_runtime=runtime, sqs=self.sqs)
        dependencies.use(replace(rescorer, clock=self.clock))

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return lambda_handler(event, FakeLambdaContext(function_name="rescorer"))

    def deliver_delayed(self) -> dict[str, Any]:
        """Every message sent to the delay queue so far, as one SQS batch (the test has moved the clock)."""
        bodies = [sent["MessageBody"] for sent in self.sqs.sent]
        self.sqs.sent.clear()
        return self(delay_queue_batch(*bodies))


@pytest.fixture
def function(dynamodb: Any, runtime: StubbedRuntime) -> Iterator[Function]:
    store_customer(dynamodb)
    yield Function(dynamodb, runtime.client)
    dependencies.use(None)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Every log line of the function (the Powertools logger's stream was bound before capsys)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    logger.setLevel("DEBUG")
    yield buffer
    logger.setLevel("INFO")
    logging.getLogger(logger.name).removeHandler(handler)


def metric_names(output: str) -> set[str]:
    blobs = [json.loads(line) for line in output.splitlines() if '"_aws"' in line]
    return {
        metric["Name"]
        for blob in blobs
        for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        if blob[metric["Name"]]
    }


def test_given_a_spend_change_when_handled_then_the_models_scores_and_version_are_written_with_version_plus_one(
    function: Function, runtime: StubbedRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime.answer(MODEL_ANSWER, rows=len(PRODUCTS))
    assert function(state_event()) == {
        "status": "rescored",
        "source": "model",
        "model_version": VERSION,
        "reason": None,
    }
    item = state_item(function.dynamodb)
    assert item is not None
    assert item["version"] == 6
    assert item["live_state"]["propensity"] == {"retention-offer": Decimal("0.81"), "broadband": Decimal("0.27")}
    assert item["live_state"]["propensity_model"] == VERSION
    assert item["live_state"]["propensity_scored_at"] == "2026-11-29T21:00:05Z"
    names = metric_names(capsys.readouterr().out)
    assert {"Rescored", "RescoredModel"} <= names
    assert not {"RescoredFallback", "Debounced", "Skipped"} & names


def test_given_a_date_of_birth_change_on_the_profile_then_the_customer_is_rescored(
    function: Function, runtime: StubbedRuntime
) -> None:
    runtime.answer(MODEL_ANSWER, rows=len(PRODUCTS))
    assert function(state_event("customer_profile_changed"))["status"] == "rescored"


def test_given_changes_inside_and_after_the_window_then_only_the_first_and_the_later_rescore(
    function: Function, runtime: StubbedRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime.answer(MODEL_ANSWER, rows=len(PRODUCTS))
    assert function(state_event())["status"] == "rescored"
    function.clock.advance(DEBOUNCE_SECONDS - 1)
    # No answer is queued: an endpoint call here would fail the stubber.
    assert function(state_event(change_id="second"))["status"] == "debounced"
    assert {"Debounced", "TrailingRescoreScheduled"} <= metric_names(capsys.readouterr().out)
    item = state_item(function.dynamodb)
    assert item is not None
    assert item["version"] == 6
    function.clock.advance(1)
    runtime.answer({"scores": [0.5, 0.6], "model_version": VERSION}, rows=len(PRODUCTS))
    assert function(state_event(change_id="third"))["status"] == "rescored"
    item = state_item(function.dynamodb)
    assert item is not None
    assert (item["version"], item["live_state"]["propensity"]["broadband"]) == (7, Decimal("0.6"))
    # The first window's trailing rescore is covered by the third change's: no endpoint call, no write.
    assert function.deliver_delayed() == {"batchItemFailures": []}
    assert {"TrailingRescores", "SkippedSuperseded"} <= metric_names(capsys.readouterr().out)
    assert state_item(function.dynamodb) == item


def abandon_cart(dynamodb: Any) -> None:
    """The event processor's next write: the cart abandoned, the scores carried over, the version bumped."""
    state = repository(dynamodb).get(CUSTOMER_ID).live_state
    assert state is not None
    assert state.cart is not None
    cart = state.cart.model_copy(update={"status": "abandoned"})
    put_state(dynamodb, CUSTOMER_ID, state.model_copy(update={"cart": cart, "version": state.version + 1}))


def rules(cart: str) -> Decimal:
    inputs = RulesInputs(spend_365d=820, purchases=3, complaints=1, friction_points=1, cart_status=cart)
    return Decimal(str(rules_score(inputs)))


@pytest.fixture
def without_endpoint(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Function]:
    """The function with no endpoint configured: the rules score, which moves with the cart's status."""
    monkeypatch.setenv(ENV_PROPENSITY_ENDPOINT, "")
    store_customer(dynamodb)
    yield Function(dynamodb, runtime=None)
    dependencies.use(None)


def test_given_a_cart_abandoned_inside_the_window_then_the_delayed_message_scores_the_abandoned_cart(
    without_endpoint: Function, capsys: pytest.CaptureFixture[str]
) -> None:
    function = without_endpoint
    # Given the active cart scored (version 5 -> 6)
    assert function(state_event(changed=["cart"]))["status"] == "rescored"
    # When the cart is abandoned 10 s later, inside the window, and another change follows
    function.clock.advance(10)
    abandon_cart(function.dynamodb)
    assert function(state_event(change_id="abandoned", changed=["cart"]))["status"] == "debounced"
    function.clock.advance(5)
    assert function(state_event(change_id="again", changed=["cart"]))["status"] == "debounced"
    # Then one message only is due at the end of the window, and the live state keeps the stale score
    [sent] = function.sqs.sent
    assert sent["DelaySeconds"] == DEBOUNCE_SECONDS - 10
    item = state_item(function.dynamodb)
    assert item is not None
    # (as put_state wrote it back: numbers as strings)
    assert {product: Decimal(str(score)) for product, score in item["live_state"]["propensity"].items()} == (
        dict.fromkeys(PRODUCTS, rules("active"))
    )
    # And when it is delivered, the abandoned cart is scored and the customer claimed for a fresh window
    function.clock.advance(DEBOUNCE_SECONDS - 15)
    assert function.deliver_delayed() == {"batchItemFailures": []}
    item = state_item(function.dynamodb)
    assert item is not None
    assert item["live_state"]["propensity"] == dict.fromkeys(PRODUCTS, rules("abandoned"))
    assert (item["version"], item["live_state"]["propensity_scored_at"]) == (8, "2026-11-29T21:05:05Z")
    assert {"TrailingRescores", "Rescored", "RescoredFallback"} <= metric_names(capsys.readouterr().out)
    assert function.sqs.sent == []


def test_given_a_delayed_message_for_an_erased_customer_then_it_does_nothing(function: Function) -> None:
    record = ErasureRecord(
        customer_id=CUSTOMER_ID, erased_at=NOW, removed_profile=True, removed_live_state=True, removed_identifiers={}
    )
    repository(function.dynamodb).erase(record, links=())
    body = json.dumps({"customer_id": CUSTOMER_ID, "window_started_at": "2026-11-29T20:55:05Z", "change_id": "c-1"})
    assert function(delay_queue_batch(body)) == {"batchItemFailures": []}
    assert state_item(function.dynamodb) is None
    assert function.dynamodb.scan(TableName=RESCORE_TABLE)["Items"] == []
    assert function.sqs.sent == []


class FailingReads:
    """The DynamoDB client, with every read of the customer failing (a throttled table)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def query(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "Query")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_given_a_delayed_message_that_fails_then_only_it_is_reported_and_its_claim_released(
    dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    store_customer(dynamodb)
    function = Function(FailingReads(dynamodb), runtime=None)
    good = json.dumps({"customer_id": CUSTOMER_ID, "window_started_at": "2026-11-29T20:55:05Z", "change_id": "c-1"})
    try:
        response = function(delay_queue_batch("not json", good))
    finally:
        dependencies.use(None)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}  # the malformed one is dropped
    assert dynamodb.scan(TableName=RESCORE_TABLE)["Items"] == []  # the retry is not debounced
    assert "InvalidEvents" in metric_names(capsys.readouterr().out)


TYPICAL = rules_score(RulesInputs(spend_365d=820, purchases=3, complaints=1, friction_points=1, cart_status="active"))


def test_given_no_endpoint_configured_then_the_rules_score_is_written_under_the_rules_version(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_PROPENSITY_ENDPOINT, "")
    store_customer(dynamodb)
    function = Function(dynamodb, runtime=None)
    try:
        answer = function(state_event())
        assert (answer["status"], answer["source"], answer["model_version"]) == ("rescored", "fallback", RULES_VERSION)
        assert answer["reason"] is not None  # why the model was not used
    finally:
        dependencies.use(None)
    item = state_item(dynamodb)
    assert item is not None
    assert item["live_state"]["propensity"] == dict.fromkeys(PRODUCTS, Decimal(str(TYPICAL)))
    assert (item["live_state"]["propensity_model"], item["version"]) == (RULES_VERSION, 6)
    assert {"RescoredFallback", "RescoreFallbackNoEndpoint"} <= metric_names(capsys.readouterr().out)


class TimingOut:
    def invoke_endpoint(self, **_: Any) -> dict[str, Any]:
        raise ReadTimeoutError(endpoint_url="https://runtime.sagemaker.eu-west-2.amazonaws.com")


def test_given_the_endpoint_times_out_then_the_rules_score_is_written(
    dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    store_customer(dynamodb)
    function = Function(dynamodb, TimingOut())
    try:
        assert function(state_event())["model_version"] == RULES_VERSION
    finally:
        dependencies.use(None)
    item = state_item(dynamodb)
    assert item is not None
    assert item["live_state"]["propensity_model"] == RULES_VERSION
    assert "RescoreFallbackTimeout" in metric_names(capsys.readouterr().out)


def test_given_an_endpoint_error_then_the_rules_score_is_written(function: Function, runtime: StubbedRuntime) -> None:
    runtime.fail("ModelError", 424)
    assert function(state_event())["source"] == "fallback"


class RacingClient:
    """The DynamoDB client, with the event processor writing the STATE item just before the first update."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.updates = 0

    def update_item(self, **kwargs: Any) -> Any:
        self.updates += 1
        if self.updates == 1:
            put_state(self._client, CUSTOMER_ID, live_state(version=6))
        return self._client.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_given_a_concurrent_state_write_then_the_write_back_is_retried_once_at_the_new_version(
    dynamodb: Any, runtime: StubbedRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    store_customer(dynamodb)
    racing = RacingClient(dynamodb)
    function = Function(racing, runtime.client)
    runtime.answer(MODEL_ANSWER, rows=len(PRODUCTS))  # the facts did not change: one endpoint call
    try:
        assert function(state_event())["status"] == "rescored"
    finally:
        dependencies.use(None)
    item = state_item(dynamodb)
    assert item is not None
    assert (racing.updates, item["version"], item["live_state"]["propensity_model"]) == (2, 7, VERSION)
    assert "StaleStateRetries" in metric_names(capsys.readouterr().out)


def test_given_an_irrelevant_change_then_nothing_is_scored_claimed_or_written(
    function: Function, capsys: pytest.CaptureFixture[str]
) -> None:
    before = state_item(function.dynamodb)
    assert function(state_event(changed=["last_interaction"])) == {
        "status": "skipped",
        "source": None,
        "model_version": None,
        "reason": "irrelevant",
    }
    assert state_item(function.dynamodb) == before
    assert function.dynamodb.scan(TableName=RESCORE_TABLE)["Items"] == []
    assert {"Skipped", "SkippedIrrelevant"} <= metric_names(capsys.readouterr().out)


def test_given_an_erased_customer_then_no_state_is_recreated(
    function: Function, capsys: pytest.CaptureFixture[str]
) -> None:
    record = ErasureRecord(
        customer_id=CUSTOMER_ID, erased_at=NOW, removed_profile=True, removed_live_state=True, removed_identifiers={}
    )
    repository(function.dynamodb).erase(record, links=())
    assert function(state_event())["status"] == "skipped"
    assert state_item(function.dynamodb) is None
    assert (
        function.dynamodb.get_item(TableName=RESCORE_TABLE, Key={RESCORE_PARTITION_KEY: {"S": CUSTOMER_ID}}).get("Item")
        is None
    )
    assert "SkippedErased" in metric_names(capsys.readouterr().out)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({**state_event(), "source": "omni.experience"}, id="another-source"),
        pytest.param({**state_event(), "detail-type": "SpendingThresholdCrossed"}, id="another-detail-type"),
        pytest.param(state_event(customer_id=None), id="detail-without-customer"),
        pytest.param(state_event(record="basket"), id="unknown-record"),
    ],
)
def test_given_an_event_that_is_not_a_state_change_then_it_is_counted_and_dropped_without_retry(
    function: Function, event: dict[str, Any], capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    before = state_item(function.dynamodb)
    assert function(event) == {"status": "invalid"}
    assert state_item(function.dynamodb) == before
    assert "InvalidEvents" in metric_names(capsys.readouterr().out)
    [line] = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert line["message"] == "invalid event"
    assert "basket" not in json.dumps(line)  # the event's values are never logged


def test_no_log_line_or_metric_carries_personal_data_or_scores(
    function: Function, runtime: StubbedRuntime, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    runtime.answer(MODEL_ANSWER, rows=len(PRODUCTS))
    function(state_event())
    function(state_event(change_id="again"))
    function(state_event("customer_profile_changed"))
    output = capsys.readouterr()
    text = logs.getvalue() + output.out + output.err
    statuses = [json.loads(line).get("status") for line in logs.getvalue().splitlines()]
    assert statuses == ["rescored", "debounced", "debounced"]  # the outcomes were logged
    function.clock.advance(DEBOUNCE_SECONDS)
    runtime.answer(MODEL_ANSWER, rows=len(PRODUCTS))
    function.deliver_delayed()
    output = capsys.readouterr()
    text = logs.getvalue() + output.out + output.err
    assert json.loads(logs.getvalue().splitlines()[-1])["trigger"] == "trailing"
    assert not [value for value in PII if value in text]
    assert "0.81" not in text
    assert "820" not in text
