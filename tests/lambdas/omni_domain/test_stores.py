"""The storage ports' guarantees, checked on both adapters: in-memory and DynamoDB (moto)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from omni_domain.constants import ENV_CUSTOMER_TABLE, ENV_IDENTITY_TABLE
from omni_domain.dynamodb_store import (
    DynamoDBCustomerRepository,
    DynamoDBIdentityMap,
    live_state_item,
    marshal,
)
from omni_domain.errors import ConflictError, VersionConflictError
from omni_domain.identity_map import identity_item, new_link
from omni_domain.models import LiveState, ProfileAttributes
from omni_domain.profile_rules import created, erasure_record, replaced
from omni_domain.repositories import CustomerRepository, IdentityMap
from omni_testing.customers import InMemoryCustomerRepository, InMemoryIdentityMap
from tests.lambdas.conftest import TABLES

NOW = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
ADA = ProfileAttributes(first_name="Ada", email="ada@example.com")
STATE = LiveState(counters={"orders": 3}, propensity={"churn": 0.125}, version=4)


class Stores:
    """One adapter pair plus the two writes other components make (MDM loader, event processor)."""

    def __init__(self, kind: str, client: Any = None) -> None:
        self.kind = kind
        self.client = client
        self.customers: CustomerRepository
        self.identities: IdentityMap
        if client is None:
            self._memory_map = InMemoryIdentityMap()
            self._memory = InMemoryCustomerRepository(self._memory_map)
            self.customers, self.identities = self._memory, self._memory_map
        else:
            self.customers = DynamoDBCustomerRepository(
                client, customer_table=TABLES[ENV_CUSTOMER_TABLE], identity_table=TABLES[ENV_IDENTITY_TABLE]
            )
            self.identities = DynamoDBIdentityMap(client, TABLES[ENV_IDENTITY_TABLE])

    def publish_link(self, identifier: str, customer_id: str) -> None:
        link = new_link(identifier, customer_id, origin="mdm", at=NOW)
        if self.client is None:
            self._memory_map.put(link)
        else:
            self.client.put_item(TableName=TABLES[ENV_IDENTITY_TABLE], Item=marshal(identity_item(link)))

    def put_live_state(self, customer_id: str, state: LiveState) -> None:
        if self.client is None:
            self._memory.put_live_state(customer_id, state)
        else:
            self.client.put_item(
                TableName=TABLES[ENV_CUSTOMER_TABLE], Item=marshal(live_state_item(customer_id, state))
            )


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> Stores:
    if request.param == "memory":
        return Stores("memory")
    return Stores("dynamodb", request.getfixturevalue("dynamodb"))


def test_profile_and_live_state_round_trip(stores: Stores) -> None:
    profile = created("gc-1", ADA, now=NOW)
    stores.customers.save(profile, expected_version=None)
    stores.put_live_state("gc-1", STATE)
    stored = stores.customers.get("gc-1")
    assert stored.profile == profile
    assert stored.live_state == STATE
    assert stored.erasure is None


def test_unknown_customer_has_nothing(stores: Stores) -> None:
    stored = stores.customers.get("gc-404")
    assert (stored.profile, stored.live_state, stored.erasure, stored.view()) == (None, None, None, None)


def test_a_stale_version_never_overwrites(stores: Stores) -> None:
    profile = created("gc-1", ADA, now=NOW)
    stores.customers.save(profile, expected_version=None)
    stores.customers.save(replaced(profile, now=NOW), expected_version=1)
    with pytest.raises(VersionConflictError):
        stores.customers.save(
            replaced(profile, attributes=ProfileAttributes(first_name="Eve"), now=NOW), expected_version=1
        )
    with pytest.raises(VersionConflictError):
        stores.customers.save(profile, expected_version=None)  # created meanwhile
    stored = stores.customers.get("gc-1").profile
    assert stored is not None
    assert (stored.version, stored.attributes.first_name) == (2, "Ada")


def test_links_are_written_with_the_profile_or_not_at_all(stores: Stores) -> None:
    stores.publish_link("email#ada@example.com", "gc-other")
    link = new_link("email#ada@example.com", "gc-1", origin="profile-service", at=NOW)
    with pytest.raises(ConflictError) as raised:
        stores.customers.save(created("gc-1", ADA, now=NOW), expected_version=None, add_links=[link])
    assert raised.value.field == "email"
    assert stores.customers.get("gc-1").profile is None
    assert stores.identities.resolve("email#ada@example.com") == "gc-other"


def test_links_move_with_the_profile(stores: Stores) -> None:
    profile = created("gc-1", ADA, now=NOW)
    old = new_link("email#ada@example.com", "gc-1", origin="profile-service", at=NOW)
    stores.customers.save(profile, expected_version=None, add_links=[old])
    new = new_link("email#augusta@example.com", "gc-1", origin="profile-service", at=NOW)
    stores.customers.save(
        replaced(profile, now=NOW), expected_version=1, add_links=[new], remove_links=["email#ada@example.com"]
    )
    assert stores.identities.resolve("email#ada@example.com") is None
    assert stores.identities.resolve("email#augusta@example.com") == "gc-1"
    assert stores.identities.links_of("gc-1") == {"email#augusta@example.com"}


def test_erasure_removes_profile_state_and_links_and_keeps_the_record(stores: Stores) -> None:
    stores.customers.save(created("gc-1", ADA, now=NOW), expected_version=None)
    stores.put_live_state("gc-1", STATE)
    links = {"email#ada@example.com", "source#crm:1"}
    for key in links:
        stores.publish_link(key, "gc-1")
    stores.publish_link("source#crm:2", "gc-2")
    record = erasure_record(
        "gc-1", removed_profile=True, removed_live_state=True, removed_links=links, now=NOW, request_id="r-1"
    )
    stores.customers.erase(record, links=links)
    stored = stores.customers.get("gc-1")
    assert (stored.profile, stored.live_state, stored.erasure) == (None, None, record)
    assert stores.identities.links_of("gc-1") == frozenset()
    assert stores.identities.resolve("source#crm:2") == "gc-2"
    with pytest.raises(ConflictError):
        stores.customers.save(created("gc-1", ADA, now=NOW), expected_version=None)


def test_erasure_never_removes_a_link_that_now_names_another_customer(stores: Stores) -> None:
    stores.publish_link("source#crm:1", "gc-2")
    record = erasure_record(
        "gc-1",
        removed_profile=False,
        removed_live_state=False,
        removed_links=["source#crm:1"],
        now=NOW,
        request_id=None,
    )
    with pytest.raises(ConflictError):
        stores.customers.erase(record, links=["source#crm:1"])
    assert stores.identities.resolve("source#crm:1") == "gc-2"


def test_erasure_of_more_links_than_one_transaction_holds(dynamodb: Any) -> None:
    stores = Stores("dynamodb", dynamodb)
    links = {f"device#d-{number:03}" for number in range(150)}
    for key in links:
        stores.publish_link(key, "gc-1")
    assert stores.identities.links_of("gc-1") == links
    record = erasure_record(
        "gc-1", removed_profile=False, removed_live_state=False, removed_links=links, now=NOW, request_id=None
    )
    stores.customers.erase(record, links=links)
    assert stores.identities.links_of("gc-1") == frozenset()
    assert stores.customers.get("gc-1").erasure == record


def test_live_state_item_keeps_numbers_exact(dynamodb: Any) -> None:
    item = live_state_item("gc-1", STATE)
    assert item["version"] == 4
    assert item["live_state"]["propensity"]["churn"] == Decimal("0.125")
