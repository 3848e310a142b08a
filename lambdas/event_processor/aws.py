"""AWS adapters of the processor's ports: DynamoDB (identity map, STATE items), SQS (dead letters), EventBridge.

Requests per batch: identity map reads in BatchGetItem calls of 100 keys, one
conditional PutItem per unknown identifier, STATE/ERASURE reads in BatchGetItem
calls of 100 keys, and one write per changed customer: a conditional PutItem on
`version` when the STATE item exists, or a TransactWriteItems (still one
request) that also checks the ERASURE record is absent when it does not, so a
concurrent erasure can never be undone by a first write.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from event_processor.ledger import Ledger, ledger_document, ledger_from_document
from event_processor.ports import (
    DeadLetter,
    ErasedCustomerError,
    StaleVersionError,
    StoredState,
    StoreUnavailableError,
)
from omni_domain.constants import (
    CUSTOMER_PARTITION_KEY,
    CUSTOMER_SORT_KEY,
    ERASURE_RECORD,
    IDENTITY_CUSTOMER_ATTRIBUTE,
    IDENTITY_PARTITION_KEY,
    LIVE_STATE_RECORD,
)
from omni_domain.dynamodb_store import live_state_item
from omni_domain.event_triggers import Trigger, trigger_entry
from omni_domain.identity_map import identity_item, new_link
from omni_domain.models import LiveState

BATCH_GET_LIMIT = 100
PUT_EVENTS_LIMIT = 10
SEND_MESSAGE_BATCH_LIMIT = 10
# SQS accepts 256 KiB per message (and per batch): a record's data is kept whole only if it fits.
SQS_MESSAGE_LIMIT = 256 * 1024
MAX_ATTEMPTS = 4
T = TypeVar("T")
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _marshal(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _pause(attempt: int, sleep: Callable[[float], None]) -> None:
    sleep(random.uniform(0, min(1.0, 0.05 * 2**attempt)))  # noqa: S311 - jitter, not cryptography


def _batch_get(
    client: Any, table: str, keys: Sequence[dict[str, Any]], sleep: Callable[[float], None]
) -> list[dict[str, Any]]:
    """Every item of `keys` (consistent reads), following UnprocessedKeys with backoff."""
    found: list[dict[str, Any]] = []
    for chunk in _chunks(keys, BATCH_GET_LIMIT):
        request: dict[str, Any] = {table: {"Keys": list(chunk), "ConsistentRead": True}}
        for attempt in range(MAX_ATTEMPTS * 2):
            try:
                response = client.batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError) as error:
                raise StoreUnavailableError(type(error).__name__) from error
            found += [_unmarshal(item) for item in response["Responses"].get(table, [])]
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            _pause(attempt, sleep)
        else:
            raise StoreUnavailableError("BatchGetItem left keys unprocessed")
    return found


class DynamoDBResolver:
    def __init__(self, client: Any, table_name: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._table = table_name
        self._sleep = sleep

    def resolve_many(self, keys: Collection[str]) -> dict[str, str]:
        items = _batch_get(
            self._client, self._table, [_marshal({IDENTITY_PARTITION_KEY: key}) for key in keys], self._sleep
        )
        return {str(item[IDENTITY_PARTITION_KEY]): str(item[IDENTITY_CUSTOMER_ATTRIBUTE]) for item in items}

    def provision(self, key: str, customer_id: str, *, at: datetime) -> str:
        link = new_link(key, customer_id, origin="event-processor", at=at)
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_marshal(identity_item(link)),
                ConditionExpression="attribute_not_exists(#identifier)",
                ExpressionAttributeNames={"#identifier": IDENTITY_PARTITION_KEY},
            )
            return customer_id
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StoreUnavailableError("PutItem failed") from error
        # Someone linked it first (another batch, the MDM loader): adopt their id.
        winner = self.resolve_many([key]).get(key)
        if winner is None:
            raise StoreUnavailableError("identity link vanished while provisioning")
        return winner


class DynamoDBStateStore:
    def __init__(self, client: Any, table_name: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._table = table_name
        self._sleep = sleep

    def load_many(self, customer_ids: Collection[str]) -> dict[str, StoredState]:
        keys = [
            _marshal({CUSTOMER_PARTITION_KEY: customer_id, CUSTOMER_SORT_KEY: record})
            for customer_id in customer_ids
            for record in (LIVE_STATE_RECORD, ERASURE_RECORD)
        ]
        states: dict[str, dict[str, Any]] = {}
        erased: set[str] = set()
        for item in _batch_get(self._client, self._table, keys, self._sleep):
            customer_id = str(item[CUSTOMER_PARTITION_KEY])
            if item[CUSTOMER_SORT_KEY] == ERASURE_RECORD:
                erased.add(customer_id)
            else:
                states[customer_id] = item
        return {customer_id: _stored(states.get(customer_id), customer_id in erased) for customer_id in customer_ids}

    def write(self, customer_id: str, ledger: Ledger, live_state: LiveState, *, expected_version: int) -> None:
        item = _marshal({**live_state_item(customer_id, live_state), "ledger": ledger_document(ledger)})
        put: dict[str, Any] = {"TableName": self._table, "Item": item}
        try:
            if expected_version:
                self._client.put_item(
                    **put,
                    ConditionExpression="#version = :expected",
                    ExpressionAttributeNames={"#version": "version"},
                    ExpressionAttributeValues=_marshal({":expected": expected_version}),
                )
            else:
                self._create(customer_id, put)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                raise StaleVersionError(customer_id) from None
            if code == "TransactionCanceledException":
                reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    raise ErasedCustomerError(customer_id) from None
                if "ConditionalCheckFailed" in reasons:
                    raise StaleVersionError(customer_id) from None
            raise StoreUnavailableError(str(code)) from error
        except BotoCoreError as error:
            raise StoreUnavailableError(type(error).__name__) from error

    def _create(self, customer_id: str, put: dict[str, Any]) -> None:
        absent = {
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": CUSTOMER_PARTITION_KEY},
        }
        erasure_key = _marshal({CUSTOMER_PARTITION_KEY: customer_id, CUSTOMER_SORT_KEY: ERASURE_RECORD})
        self._client.transact_write_items(
            TransactItems=[
                {"ConditionCheck": {"TableName": self._table, "Key": erasure_key, **absent}},
                {"Put": {**put, **absent}},
            ]
        )


def _stored(item: dict[str, Any] | None, erased: bool) -> StoredState:
    if item is None:
        return StoredState(version=0, ledger=Ledger(), live_state=LiveState(), erased=erased)
    version = int(item["version"])
    live_state = LiveState.model_validate({**item.get("live_state", {}), "version": version})
    ledger = ledger_from_document(item["ledger"]) if "ledger" in item else Ledger()
    return StoredState(version=version, ledger=ledger, live_state=live_state, erased=erased)


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._bus = bus_name
        self._sleep = sleep

    def publish(self, triggers: Sequence[Trigger]) -> set[str]:
        refused: set[str] = set()
        for chunk in _chunks(triggers, PUT_EVENTS_LIMIT):
            refused |= self._put(list(chunk))
        return refused

    def _put(self, pending: list[Trigger]) -> set[str]:
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                _pause(attempt, self._sleep)
            try:
                response = self._client.put_events(
                    Entries=[trigger_entry(trigger, bus_name=self._bus) for trigger in pending]
                )
            except (ClientError, BotoCoreError):
                continue
            # Entries answer positionally; a failed one carries an ErrorCode.
            pending = [
                trigger for trigger, entry in zip(pending, response["Entries"], strict=True) if "ErrorCode" in entry
            ]
            if not pending:
                return set()
        return {trigger.trigger_id for trigger in pending}


class SqsDeadLetters:
    def __init__(self, client: Any, queue_url: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._queue = queue_url
        self._sleep = sleep

    def send(self, letters: Sequence[DeadLetter]) -> set[str]:
        refused: set[str] = set()
        bodies = [(letter.sequence_number, letter_body(letter)) for letter in letters]
        for chunk in _size_bounded(bodies):
            refused |= self._send(dict(chunk))
        return refused

    def _send(self, pending: dict[str, str]) -> set[str]:
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                _pause(attempt, self._sleep)
            # Ids must be short and alphanumeric: the position in the batch is; the sequence number is not.
            ids = list(pending)
            try:
                response = self._client.send_message_batch(
                    QueueUrl=self._queue,
                    Entries=[{"Id": str(index), "MessageBody": pending[key]} for index, key in enumerate(ids)],
                )
            except (ClientError, BotoCoreError):
                continue
            failed = {ids[int(entry["Id"])] for entry in response.get("Failed", [])}
            pending = {key: body for key, body in pending.items() if key in failed}
            if not pending:
                return set()
        return set(pending)


def letter_body(letter: DeadLetter) -> str:
    """The message: why, where on the stream, and the record's data as received (base64) when it fits."""
    body: dict[str, Any] = {
        "reason": letter.reason,
        "errors": list(letter.errors),
        "sequence_number": letter.sequence_number,
        "partition_key": letter.partition_key,
        "event_source_arn": letter.event_source_arn,
        "approximate_arrival_timestamp": letter.arrived_at,
        "data": letter.data,
    }
    text = json.dumps(body)
    if len(text.encode()) <= SQS_MESSAGE_LIMIT:
        return text
    # Too big for SQS: the stream position identifies the record, readable there for the retention period.
    body["data"] = None
    body["data_omitted_bytes"] = len(letter.data)
    return json.dumps(body)


def _size_bounded(bodies: Sequence[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    chunk: list[tuple[str, str]] = []
    size = 0
    for key, body in bodies:
        length = len(body.encode())
        if chunk and (len(chunk) == SEND_MESSAGE_BATCH_LIMIT or size + length > SQS_MESSAGE_LIMIT):
            yield chunk
            chunk, size = [], 0
        chunk.append((key, body))
        size += length
    if chunk:
        yield chunk
