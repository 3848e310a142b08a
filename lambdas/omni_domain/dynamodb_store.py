"""DynamoDB adapters of the storage ports.

Customer table (on demand, platform KMS key), one partition per customer:

    customer_id (PK)   record (SK)   content
    gc-...             PROFILE       attributes, consent, version, created_at, updated_at  (this service)
    gc-...             STATE         live_state, version, updated_at                        (event processor)
    gc-...             ERASURE       the PII-free audit record of an erasure (kept)

A GET is one consistent Query on the partition. Profile and live state are
separate items so the event processor's frequent updates never conflict with a
channel's write; each has its own `version`. Profile writes are conditional on
`version` (create: `attribute_not_exists`), so a stale write fails instead of
overwriting. The ERASURE item doubles as a tombstone: a create checks it is absent.

Identity map table (written by the MDM loader and by this service), item shape
in `omni_domain.identity_map`:

    identifier (PK)    "email#...", "phone#+44...", "source#crm:123", "device#..."
    customer_id        GSI `by-customer` (KEYS_ONLY): every link of a customer, for erasure

A profile write whose e-mail or phone changes is one transaction: the profile
put, the new links (condition: absent or already ours) and the removed links
(condition: absent or still ours). Erasure is one transaction too (links beyond
what fits in one transaction are removed in earlier transactions first): delete
profile, live state and links, put the ERASURE record. Links come from the GSI
(eventually consistent) plus the profile's own e-mail and phone.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from omni_domain.constants import (
    CUSTOMER_PARTITION_KEY,
    CUSTOMER_SORT_KEY,
    ERASURE_RECORD,
    IDENTITY_BY_CUSTOMER_INDEX,
    IDENTITY_CUSTOMER_ATTRIBUTE,
    IDENTITY_PARTITION_KEY,
    LIVE_STATE_RECORD,
    PROFILE_RECORD,
)
from omni_domain.errors import ConflictError, VersionConflictError
from omni_domain.identifiers import identifier_kind
from omni_domain.identity_map import IdentityLink, identity_item
from omni_domain.models import CustomerProfile, ErasureRecord, LiveState
from omni_domain.repositories import StoredCustomer

TRANSACTION_LIMIT = 100
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

AttributeValues = dict[str, Any]


def _document(model: BaseModel) -> dict[str, Any]:
    # DynamoDB numbers are decimals: floats (propensity scores) must not reach the serializer.
    return json.loads(model.model_dump_json(exclude_none=True), parse_float=Decimal)


def marshal(item: Mapping[str, Any]) -> AttributeValues:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _unmarshal(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def customer_key(customer_id: str, record: str) -> AttributeValues:
    return marshal({CUSTOMER_PARTITION_KEY: customer_id, CUSTOMER_SORT_KEY: record})


def profile_item(profile: CustomerProfile) -> dict[str, Any]:
    return {CUSTOMER_PARTITION_KEY: profile.customer_id, CUSTOMER_SORT_KEY: PROFILE_RECORD, **_document(profile)}


def live_state_item(customer_id: str, state: LiveState) -> dict[str, Any]:
    """The STATE item the event processor writes (`version` at the top level for its conditional updates)."""
    document = _document(state)
    return {
        CUSTOMER_PARTITION_KEY: customer_id,
        CUSTOMER_SORT_KEY: LIVE_STATE_RECORD,
        "version": document.pop("version"),
        "live_state": document,
    }


def erasure_item(record: ErasureRecord) -> dict[str, Any]:
    return {CUSTOMER_PARTITION_KEY: record.customer_id, CUSTOMER_SORT_KEY: ERASURE_RECORD, **_document(record)}


def _without_sort_key(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name != CUSTOMER_SORT_KEY}


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DynamoDBIdentityMap:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def resolve(self, identifier: str) -> str | None:
        # Consistent: a channel that has just written an e-mail finds it at once.
        response = self._client.get_item(
            TableName=self._table, Key=marshal({IDENTITY_PARTITION_KEY: identifier}), ConsistentRead=True
        )
        item = response.get("Item")
        return str(_unmarshal(item)[IDENTITY_CUSTOMER_ATTRIBUTE]) if item else None

    def links_of(self, customer_id: str) -> frozenset[str]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName=IDENTITY_BY_CUSTOMER_INDEX,
            KeyConditionExpression="#customer = :customer",
            ExpressionAttributeNames={"#customer": IDENTITY_CUSTOMER_ATTRIBUTE},
            ExpressionAttributeValues=marshal({":customer": customer_id}),
        )
        return frozenset(item[IDENTITY_PARTITION_KEY]["S"] for page in pages for item in page["Items"])


class DynamoDBCustomerRepository:
    def __init__(self, client: Any, *, customer_table: str, identity_table: str) -> None:
        self._client = client
        self._customers = customer_table
        self._identities = identity_table

    def get(self, customer_id: str) -> StoredCustomer:
        response = self._client.query(
            TableName=self._customers,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": CUSTOMER_PARTITION_KEY},
            ExpressionAttributeValues=marshal({":pk": customer_id}),
            ConsistentRead=True,
        )
        records = {item[CUSTOMER_SORT_KEY]["S"]: _unmarshal(item) for item in response["Items"]}
        profile = records.get(PROFILE_RECORD)
        state = records.get(LIVE_STATE_RECORD)
        erasure = records.get(ERASURE_RECORD)
        return StoredCustomer(
            profile=CustomerProfile.model_validate(_without_sort_key(profile)) if profile else None,
            live_state=(
                LiveState.model_validate({**state.get("live_state", {}), "version": state.get("version", 0)})
                if state
                else None
            ),
            erasure=ErasureRecord.model_validate(_without_sort_key(erasure)) if erasure else None,
        )

    def save(
        self,
        profile: CustomerProfile,
        *,
        expected_version: int | None,
        add_links: Collection[IdentityLink] = (),
        remove_links: Collection[str] = (),
    ) -> None:
        customer_id = profile.customer_id
        put_profile: dict[str, Any] = {"TableName": self._customers, "Item": marshal(profile_item(profile))}
        if expected_version is None:
            put_profile["ConditionExpression"] = "attribute_not_exists(#pk)"
            put_profile["ExpressionAttributeNames"] = {"#pk": CUSTOMER_PARTITION_KEY}
        else:
            put_profile["ConditionExpression"] = "#version = :expected"
            put_profile["ExpressionAttributeNames"] = {"#version": "version"}
            put_profile["ExpressionAttributeValues"] = marshal({":expected": expected_version})
        items: list[dict[str, Any]] = [{"Put": put_profile}]
        # Why each transaction item can fail, in order, to name the error from CancellationReasons.
        failures: list[Exception] = [
            VersionConflictError("the customer changed since it was read: read it again", field="If-Match")
        ]
        if expected_version is None:
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": self._customers,
                        "Key": customer_key(customer_id, ERASURE_RECORD),
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": CUSTOMER_PARTITION_KEY},
                    }
                }
            )
            failures.append(ConflictError("this customer id was erased and is not reused", field="id"))
        for link in add_links:
            items.append(
                {
                    "Put": {
                        "TableName": self._identities,
                        "Item": marshal(identity_item(link)),
                        **self._ours(customer_id),
                    }
                }
            )
            failures.append(ConflictError(f"this {link.kind} belongs to another customer", field=link.kind))
        for key in remove_links:
            items.append({"Delete": self._delete_link(key, customer_id)})
            failures.append(ConflictError("the identity map changed meanwhile: retry", field=identifier_kind(key)))
        self._transact(items, failures)

    def erase(self, record: ErasureRecord, *, links: Collection[str]) -> None:
        customer_id = record.customer_id
        # The last transaction also deletes the profile and live state and puts the audit record.
        room = TRANSACTION_LIMIT - 3
        keys = sorted(links)
        split = max(0, len(keys) - room)
        leading, last = keys[:split], keys[split:]
        for batch in _chunks(leading, TRANSACTION_LIMIT):
            self._transact(
                [{"Delete": self._delete_link(key, customer_id)} for key in batch],
                [
                    ConflictError("the identity map changed meanwhile: retry", field=identifier_kind(key))
                    for key in batch
                ],
            )
        items: list[dict[str, Any]] = [{"Delete": self._delete_link(key, customer_id)} for key in last]
        failures: list[Exception] = [
            ConflictError("the identity map changed meanwhile: retry", field=identifier_kind(key)) for key in last
        ]
        items += [
            {"Delete": {"TableName": self._customers, "Key": customer_key(customer_id, PROFILE_RECORD)}},
            {"Delete": {"TableName": self._customers, "Key": customer_key(customer_id, LIVE_STATE_RECORD)}},
            {"Put": {"TableName": self._customers, "Item": marshal(erasure_item(record))}},
        ]
        self._transact(items, failures)

    @staticmethod
    def _ours(customer_id: str) -> dict[str, Any]:
        return {
            "ConditionExpression": "attribute_not_exists(#identifier) OR #customer = :customer",
            "ExpressionAttributeNames": {
                "#identifier": IDENTITY_PARTITION_KEY,
                "#customer": IDENTITY_CUSTOMER_ATTRIBUTE,
            },
            "ExpressionAttributeValues": marshal({":customer": customer_id}),
        }

    def _delete_link(self, key: str, customer_id: str) -> dict[str, Any]:
        return {
            "TableName": self._identities,
            "Key": marshal({IDENTITY_PARTITION_KEY: key}),
            **self._ours(customer_id),
        }

    def _transact(self, items: list[dict[str, Any]], failures: Sequence[Exception]) -> None:
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons", [])
            for reason, failure in zip(reasons, failures, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise failure from None
            raise
