"""DynamoDB adapter of `LoaderStore`.

Unconditional writes (source links, MERGED records) go in BatchWriteItem calls of
25; DynamoDB may leave some of a batch unprocessed under load, so those are
retried with exponential backoff and full jitter, and whatever is still
unprocessed after the last attempt raises UnwrittenItemsError: the invocation
fails and EventBridge retries it (the load is idempotent). Writes that need a
condition (channel-owned e-mails and phones, re-pointed links, profiles) are
single conditional requests. Throttled requests themselves are retried by
botocore (the client is built with its standard retry mode).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from mdm_loader.constants import MERGED_RECORD
from mdm_loader.errors import UnwrittenItemsError
from mdm_loader.store import Claim, MergedRecord
from omni_domain.constants import (
    CUSTOMER_PARTITION_KEY,
    CUSTOMER_SORT_KEY,
    IDENTITY_CUSTOMER_ATTRIBUTE,
    IDENTITY_PARTITION_KEY,
)
from omni_domain.dynamodb_store import DynamoDBCustomerRepository, DynamoDBIdentityMap
from omni_domain.identity_map import IdentityLink, identity_item
from omni_domain.models import CustomerProfile
from omni_domain.repositories import StoredCustomer

BATCH_WRITE_LIMIT = 25
MAX_BATCH_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 5.0
CHANNEL_ORIGIN = "profile-service"

_serializer = TypeSerializer()
Sleep = Callable[[float], None]


def _marshal(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _chunks(items: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def merged_item(record: MergedRecord) -> dict[str, str]:
    return {
        CUSTOMER_PARTITION_KEY: record.customer_id,
        CUSTOMER_SORT_KEY: MERGED_RECORD,
        "merged_into": record.merged_into,
        "run_id": record.run_id,
        "merged_at": record.merged_at,
    }


class DynamoDBLoaderStore:
    def __init__(
        self,
        client: Any,
        *,
        customer_table: str,
        identity_table: str,
        sleep: Sleep = time.sleep,
        max_batch_attempts: int = MAX_BATCH_ATTEMPTS,
    ) -> None:
        self._client = client
        self._customers = customer_table
        self._identities = identity_table
        self._profiles = DynamoDBCustomerRepository(
            client, customer_table=customer_table, identity_table=identity_table
        )
        self._identity_map = DynamoDBIdentityMap(client, identity_table)
        self._sleep = sleep
        self._max_attempts = max_batch_attempts

    def customer(self, customer_id: str) -> StoredCustomer:
        return self._profiles.get(customer_id)

    def save_profile(self, profile: CustomerProfile, *, expected_version: int | None) -> None:
        self._profiles.save(profile, expected_version=expected_version)

    def put_links(self, links: Sequence[IdentityLink]) -> None:
        # One BatchWriteItem may not name a key twice: the last link for an identifier wins.
        unique = {link.identifier: identity_item(link) for link in links}
        self._batch_put(self._identities, list(unique.values()))

    def claim_link(self, link: IdentityLink) -> Claim:
        try:
            self._client.put_item(
                TableName=self._identities,
                Item=_marshal(identity_item(link)),
                ConditionExpression="attribute_not_exists(#identifier) OR #origin <> :channel",
                ExpressionAttributeNames={"#identifier": IDENTITY_PARTITION_KEY, "#origin": "origin"},
                ExpressionAttributeValues=_marshal({":channel": CHANNEL_ORIGIN}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            held = error.response.get("Item", {}).get(IDENTITY_CUSTOMER_ATTRIBUTE, {}).get("S")
            return Claim.KEPT if held == link.customer_id else Claim.CONFLICT
        return Claim.WRITTEN

    def links_of(self, customer_id: str) -> frozenset[str]:
        return self._identity_map.links_of(customer_id)

    def repoint_link(self, identifier: str, *, old: str, new: str, updated_at: str) -> bool:
        try:
            self._client.update_item(
                TableName=self._identities,
                Key=_marshal({IDENTITY_PARTITION_KEY: identifier}),
                UpdateExpression="SET #customer = :new, #updated = :at",
                ConditionExpression="#customer = :old",
                ExpressionAttributeNames={"#customer": IDENTITY_CUSTOMER_ATTRIBUTE, "#updated": "updated_at"},
                ExpressionAttributeValues=_marshal({":new": new, ":old": old, ":at": updated_at}),
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            return False
        return True

    def put_merged(self, records: Sequence[MergedRecord]) -> None:
        unique = {record.customer_id: merged_item(record) for record in records}
        self._batch_put(self._customers, list(unique.values()))

    def _batch_put(self, table: str, items: Sequence[dict[str, Any]]) -> None:
        for chunk in _chunks(items, BATCH_WRITE_LIMIT):
            pending = [{"PutRequest": {"Item": _marshal(item)}} for item in chunk]
            for attempt in range(1, self._max_attempts + 1):
                response = self._client.batch_write_item(RequestItems={table: pending})
                pending = response.get("UnprocessedItems", {}).get(table, [])
                if not pending:
                    break
                if attempt < self._max_attempts:
                    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
                    self._sleep(random.uniform(0, delay))  # noqa: S311 - jitter, not security
            if pending:
                raise UnwrittenItemsError(
                    f"{len(pending)} items for table {table} were still unprocessed after {self._max_attempts} attempts"
                )
