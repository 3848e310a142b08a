"""The DynamoDB adapter: batch retries of unprocessed items (a fake client), conditional writes (moto)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mdm_loader.dynamodb_adapter import DynamoDBLoaderStore
from mdm_loader.errors import UnwrittenItemsError
from mdm_loader.store import Claim
from omni_domain.identity_map import IdentityLink, LinkOrigin
from tests.lambdas.mdm_loader.conftest import CUSTOMER_TABLE, IDENTITY_TABLE, Aws

AT = datetime(2026, 11, 4, 12, 0, tzinfo=UTC).isoformat()


def _links(count: int) -> list[IdentityLink]:
    return [IdentityLink(f"source#crm:C{number}", "gc-a", "mdm", AT) for number in range(count)]


class _Throttling:
    """A client that leaves the last item of each batch unprocessed the first `times` calls."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        [(table, requests)] = RequestItems.items()
        self.calls.append(len(requests))
        if self.times:
            self.times -= 1
            return {"UnprocessedItems": {table: requests[-1:]}}
        return {"UnprocessedItems": {}}


def _store(client: Any, sleeps: list[float]) -> DynamoDBLoaderStore:
    return DynamoDBLoaderStore(
        client, customer_table=CUSTOMER_TABLE, identity_table=IDENTITY_TABLE, sleep=sleeps.append
    )


def test_given_unprocessed_items_when_batch_written_then_only_those_are_retried_after_a_backoff() -> None:
    client, sleeps = _Throttling(times=2), []

    _store(client, sleeps).put_links(_links(30))

    assert client.calls == [25, 1, 1, 5]
    assert len(sleeps) == 2
    assert all(0 <= delay <= 5 for delay in sleeps)


def test_given_items_never_processed_when_batch_written_then_the_write_fails_with_a_count() -> None:
    client, sleeps = _Throttling(times=10**6), []

    with pytest.raises(UnwrittenItemsError, match=f"1 items for table {IDENTITY_TABLE} .*after 8 attempts"):
        _store(client, sleeps).put_links(_links(3))
    assert len(client.calls) == 8


@pytest.fixture
def store(aws: Aws) -> DynamoDBLoaderStore:
    return DynamoDBLoaderStore(aws.dynamodb, customer_table=CUSTOMER_TABLE, identity_table=IDENTITY_TABLE)


def _held(aws: Aws, identifier: str) -> dict[str, str]:
    item = aws.dynamodb.get_item(TableName=IDENTITY_TABLE, Key={"identifier": {"S": identifier}})["Item"]
    return {name: value["S"] for name, value in item.items()}


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        (("profile-service", "gc-b"), (Claim.CONFLICT, "gc-b", "profile-service")),
        (("profile-service", "gc-a"), (Claim.KEPT, "gc-a", "profile-service")),
        (("event-processor", "gc-b"), (Claim.WRITTEN, "gc-a", "mdm")),
        (("mdm", "gc-b"), (Claim.WRITTEN, "gc-a", "mdm")),
    ],
)
def test_given_a_held_email_when_claimed_then_only_a_channel_captured_link_is_not_taken(
    aws: Aws, store: DynamoDBLoaderStore, held: tuple[LinkOrigin, str], expected: tuple[Claim, str, str]
) -> None:
    key = "email#ada@example.com"
    origin, owner = held
    store.put_links([IdentityLink(key, owner, origin, AT)])

    claim = store.claim_link(IdentityLink(key, "gc-a", "mdm", AT))

    assert (claim, _held(aws, key)["customer_id"], _held(aws, key)["origin"]) == expected


def test_given_a_link_moved_meanwhile_when_re_pointed_then_it_is_left_alone(
    aws: Aws, store: DynamoDBLoaderStore
) -> None:
    store.put_links([IdentityLink("device#d1", "gc-old", "event-processor", AT), *_links(1)])

    assert store.repoint_link("device#d1", old="gc-old", new="gc-new", updated_at=AT) is True
    assert store.repoint_link("source#crm:C0", old="gc-old", new="gc-new", updated_at=AT) is False
    assert _held(aws, "device#d1")["customer_id"] == "gc-new"
    assert _held(aws, "source#crm:C0")["customer_id"] == "gc-a"
