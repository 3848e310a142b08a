"""DynamoDB adapters: the rule-set table (versions + ACTIVE pointer) and the decision audit table.

Rule-set table, key `rule_set` (S):

    <version>   document (JSON string, exactly as checked), stored_at
    ACTIVE      active_version, activated_at, previous_version

A version is written once (condition: absent); activation is one transaction:
the version must exist, and the pointer must still name the version read just
before (so two concurrent activations cannot both believe they replaced the same one).

Decision table, key `customer_id` (S) + `decision_id` (S, time-ordered), TTL on `expires_at`.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from eligibility.constants import (
    ACTIVE_POINTER,
    DECISION_EXPIRY_ATTRIBUTE,
    DECISION_PARTITION_KEY,
    DECISION_SORT_KEY,
    RULES_PARTITION_KEY,
)
from eligibility.decisions import ActiveRuleSet, DecisionRecord
from eligibility.rule_sets import RuleSet, RuleSetDocument
from omni_domain.errors import ConflictError, NotFoundError

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _marshal(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items() if value is not None}


def _unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class DynamoDBRuleSetStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, version: str) -> RuleSet | None:
        item = self._item(version, consistent=True)
        if item is None:
            return None
        return RuleSet(version=version, document=RuleSetDocument.model_validate_json(item["document"]))

    def active_version(self) -> str | None:
        # Eventually consistent: a decision may use the previous version for a second after an activation.
        item = self._item(ACTIVE_POINTER, consistent=False)
        return str(item["active_version"]) if item else None

    def put(self, rule_set: RuleSet, *, now: datetime) -> bool:
        item = {
            RULES_PARTITION_KEY: rule_set.version,
            "document": rule_set.document.model_dump_json(),
            "stored_at": now.isoformat(),
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_marshal(item),
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": RULES_PARTITION_KEY},
            )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise
            stored = self.get(rule_set.version)
            if stored is not None and stored.document == rule_set.document:
                return False
            raise ConflictError(
                "this version is stored with other rules; versions never change: use a new version", field="version"
            ) from None
        return True

    def activate(self, version: str, *, now: datetime) -> ActiveRuleSet:
        pointer = self._item(ACTIVE_POINTER, consistent=True)
        previous = str(pointer["active_version"]) if pointer else None
        condition = (
            {
                "ConditionExpression": "attribute_not_exists(#key)",
                "ExpressionAttributeNames": {"#key": RULES_PARTITION_KEY},
            }
            if previous is None
            else {
                "ConditionExpression": "active_version = :previous",
                "ExpressionAttributeValues": _marshal({":previous": previous}),
            }
        )
        active = ActiveRuleSet(version=version, activated_at=now, previous_version=previous)
        pointer_item = {
            RULES_PARTITION_KEY: ACTIVE_POINTER,
            "active_version": version,
            "activated_at": now.isoformat(),
            "previous_version": previous,
        }
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": _marshal({RULES_PARTITION_KEY: version}),
                            "ConditionExpression": "attribute_exists(#key)",
                            "ExpressionAttributeNames": {"#key": RULES_PARTITION_KEY},
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": _marshal(pointer_item), **condition}},
                ]
            )
        except ClientError as error:
            if _error_code(error) != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise NotFoundError("no rule set with this version: store it first", field="version") from None
            raise ConflictError("another activation happened meanwhile: retry", field="version") from None
        return active

    def _item(self, key: str, *, consistent: bool) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key=_marshal({RULES_PARTITION_KEY: key}), ConsistentRead=consistent
        )
        item = response.get("Item")
        return _unmarshal(item) if item else None


class DynamoDBDecisionLog:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def record(self, record: DecisionRecord) -> None:
        self._client.put_item(TableName=self._table, Item=_marshal(decision_item(record)))


def decision_item(record: DecisionRecord) -> dict[str, Any]:
    """The audit item: the decision's members at the top level, the facts used under `inputs`."""
    document = json.loads(record.model_dump_json(), parse_float=Decimal)
    decision = document.pop("decision")
    return {
        DECISION_PARTITION_KEY: decision.pop("customer_id"),
        DECISION_SORT_KEY: decision.pop("decision_id"),
        **decision,
        **document,
        DECISION_EXPIRY_ATTRIBUTE: record.expires_at,
    }
