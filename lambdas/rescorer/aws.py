"""AWS adapters of the rescorer's ports: the debounce table, the delay queue, the STATE write-back, the
versioned endpoint call.

Debounce table (ENV_RESCORE_TABLE), key `customer_id` (S), one item per customer:

    customer_id   claimed_at_ms (N, epoch ms of the last rescore)   expires_at (N, epoch s, DynamoDB TTL)
    pending (BOOL, present once the window's trailing rescore is scheduled)

A claim is one conditional PutItem: absent, or claimed at least a window ago;
it replaces the item, so a new window starts without `pending`. Marking the
claim pending is one conditional UpdateItem (the claim exists and is not
pending yet), so only the first debounced change of a window schedules.
TTL deletes lazily (up to days late), so the conditions, not the TTL, decide;
the TTL only keeps the table small.

Delay queue (ENV_RESCORE_DELAY_QUEUE_URL): one SendMessage per trailing rescore,
with DelaySeconds, the body `events.TrailingRescoreMessage` (ids and a time only).

STATE write-back: one UpdateItem conditional on `version`. It replaces the
`propensity` map (every configured product, scored by one model), sets
`propensity_model`, `propensity_scored_at` and `updated_at` inside `live_state`
and bumps `version`, so the event processor's next conditional write re-reads
the item and carries the scores over. The condition also fails when the item
is gone, so an erased customer's state is never recreated.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError
from pydantic import TypeAdapter

from eligibility.scoring import ScoringUnavailable, invoke_json
from omni_domain.constants import LIVE_STATE_RECORD, RESCORE_EXPIRY_ATTRIBUTE, RESCORE_PARTITION_KEY
from omni_domain.dynamodb_store import customer_key, marshal
from rescorer.events import trailing_message
from rescorer.ports import ModelScores, StaleStateError, TrailingRescore

CLAIMED_AT = "claimed_at_ms"
PENDING = "pending"
# An endpoint serving artefacts from before answers carried a version: its scores are still the model's.
UNVERSIONED_MODEL = "unversioned"
MODEL_VERSION_MAX_LENGTH = 128
SCORE_DIGITS = 6
_timestamp = TypeAdapter(datetime)


def _conditional_check_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def _epoch_ms(moment: datetime) -> int:
    # Exact (timedelta arithmetic, not float): a window start read back converts to the same number.
    return (moment - _EPOCH) // _MILLISECOND


def _from_epoch_ms(milliseconds: int) -> datetime:
    return _EPOCH + milliseconds * _MILLISECOND


class DynamoDBDebouncer:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def claim(self, customer_id: str, *, now: datetime, window: timedelta) -> bool:
        claimed_at = _epoch_ms(now)
        item = {
            RESCORE_PARTITION_KEY: customer_id,
            CLAIMED_AT: claimed_at,
            RESCORE_EXPIRY_ATTRIBUTE: math.ceil((now + window).timestamp()),
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=marshal(item),
                ConditionExpression="attribute_not_exists(#pk) OR #claimed <= :cutoff",
                ExpressionAttributeNames={"#pk": RESCORE_PARTITION_KEY, "#claimed": CLAIMED_AT},
                ExpressionAttributeValues=marshal({":cutoff": claimed_at - int(window.total_seconds() * 1000)}),
            )
        except ClientError as error:
            if _conditional_check_failed(error):
                return False
            raise
        return True

    def release(self, customer_id: str, *, claimed_at: datetime) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=marshal({RESCORE_PARTITION_KEY: customer_id}),
                ConditionExpression="#claimed = :claimed",
                ExpressionAttributeNames={"#claimed": CLAIMED_AT},
                ExpressionAttributeValues=marshal({":claimed": _epoch_ms(claimed_at)}),
            )
        except ClientError as error:
            if not _conditional_check_failed(error):  # another claim replaced ours: it stays
                raise

    def mark_pending(self, customer_id: str) -> datetime | None:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=marshal({RESCORE_PARTITION_KEY: customer_id}),
                UpdateExpression="SET #pending = :true",
                # attribute_exists: never creates a claim (the condition refuses a missing item).
                ConditionExpression="attribute_exists(#pk) AND attribute_not_exists(#pending)",
                ExpressionAttributeNames={"#pk": RESCORE_PARTITION_KEY, "#pending": PENDING},
                ExpressionAttributeValues=marshal({":true": True}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _conditional_check_failed(error):
                return None
            raise
        return _from_epoch_ms(int(response["Attributes"][CLAIMED_AT]["N"]))

    def unmark_pending(self, customer_id: str, *, claimed_at: datetime) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=marshal({RESCORE_PARTITION_KEY: customer_id}),
                UpdateExpression="REMOVE #pending",
                ConditionExpression="#claimed = :claimed",
                ExpressionAttributeNames={"#pending": PENDING, "#claimed": CLAIMED_AT},
                ExpressionAttributeValues=marshal({":claimed": _epoch_ms(claimed_at)}),
            )
        except ClientError as error:
            if not _conditional_check_failed(error):  # another claim replaced ours: it is not pending
                raise


class SqsDelayQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, rescore: TrailingRescore, *, delay_seconds: int) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url, MessageBody=trailing_message(rescore), DelaySeconds=delay_seconds
        )


class DynamoDBPropensityWriter:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def write(
        self,
        customer_id: str,
        scores: Mapping[str, float],
        *,
        model_version: str,
        scored_at: datetime,
        expected_version: int,
    ) -> None:
        stamp = _timestamp.dump_python(scored_at, mode="json")
        try:
            self._client.update_item(
                TableName=self._table,
                Key=customer_key(customer_id, LIVE_STATE_RECORD),
                UpdateExpression=(
                    "SET #state.#propensity = :scores, #state.#model = :model, #state.#scored_at = :stamp,"
                    " #state.#updated_at = :stamp, #version = #version + :one"
                ),
                ConditionExpression="#version = :expected",
                ExpressionAttributeNames={
                    "#state": "live_state",
                    "#propensity": "propensity",
                    "#model": "propensity_model",
                    "#scored_at": "propensity_scored_at",
                    "#updated_at": "updated_at",
                    "#version": "version",
                },
                ExpressionAttributeValues=marshal(
                    {
                        ":scores": {
                            product: Decimal(str(round(score, SCORE_DIGITS))) for product, score in scores.items()
                        },
                        ":model": model_version,
                        ":stamp": stamp,
                        ":one": 1,
                        ":expected": expected_version,
                    }
                ),
            )
        except ClientError as error:
            if _conditional_check_failed(error):
                raise StaleStateError(customer_id) from None
            raise


class NoEndpoint:
    """No endpoint configured (the model is not deployed yet): every rescore is the rules score."""

    def score(self, rows: Sequence[Mapping[str, Any]]) -> ModelScores:
        raise ScoringUnavailable("no-endpoint")


class SageMakerPropensityScorer:
    """All rows in one request (the endpoint scores a JSON list in order), read with the model version.

    Same timeout and no-retry policy as eligibility's scorer (`eligibility.scoring.runtime_config`).
    """

    def __init__(self, client: Any, endpoint_name: str) -> None:
        self._client = client
        self._endpoint = endpoint_name

    def score(self, rows: Sequence[Mapping[str, Any]]) -> ModelScores:
        return model_scores(invoke_json(self._client, self._endpoint, list(rows)), expected=len(rows))


def model_scores(body: bytes, *, expected: int) -> ModelScores:
    """The endpoint's answer `{"scores": [...], "model_version": "..."}`; ScoringUnavailable when malformed."""
    try:
        answer = json.loads(body)
        scores = tuple(float(score) for score in answer["scores"])
    except (ValueError, KeyError, TypeError):
        raise ScoringUnavailable("bad-response") from None
    if len(scores) != expected or not all(0.0 <= score <= 1.0 for score in scores):  # also refuses NaN
        raise ScoringUnavailable("bad-response")
    version = answer.get("model_version")
    if not isinstance(version, str) or not version.strip() or len(version) > MODEL_VERSION_MAX_LENGTH:
        version = UNVERSIONED_MODEL
    return ModelScores(scores, version)
