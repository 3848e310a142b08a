"""The profile use cases over in-memory fakes: no mocks, no AWS."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from omni_domain.errors import (
    ConflictError,
    NotFoundError,
    PreconditionRequiredError,
    ValidationFailedError,
    VersionConflictError,
)
from omni_domain.identity_map import new_link
from omni_domain.models import LiveState, ProfileAttributes
from omni_domain.profile_service import ProfileService
from omni_testing.customers import InMemoryCustomerRepository, InMemoryIdentityMap

NOW = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
ADA = ProfileAttributes(first_name="Ada", email="Ada@Example.com", phone="07700 900123")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def identities() -> InMemoryIdentityMap:
    return InMemoryIdentityMap()


@pytest.fixture
def customers(identities: InMemoryIdentityMap) -> InMemoryCustomerRepository:
    return InMemoryCustomerRepository(identities)


@pytest.fixture
def service(customers: InMemoryCustomerRepository, identities: InMemoryIdentityMap) -> ProfileService:
    return ProfileService(customers=customers, identities=identities, clock=Clock())


def test_create_then_read_with_canonical_identifiers(service: ProfileService) -> None:
    result = service.put("gc-1", ADA, None)
    assert result.created
    customer = service.get("gc-1")
    assert (customer.version, customer.attributes.email, customer.attributes.phone) == (
        1,
        "ada@example.com",
        "+447700900123",
    )
    assert customer.live_state == LiveState()


def test_found_by_email_or_phone_in_any_format(service: ProfileService) -> None:
    service.put("gc-1", ADA, None)
    assert service.find(email=" ADA@example.COM ").customer_id == "gc-1"
    assert service.find(phone="+44 7700 900123").customer_id == "gc-1"


@pytest.mark.parametrize(("email", "phone"), [(None, None), ("ada@example.com", "+447700900123")])
def test_lookup_needs_exactly_one_identifier(service: ProfileService, email: str | None, phone: str | None) -> None:
    with pytest.raises(ValidationFailedError):
        service.find(email=email, phone=phone)


def test_unknown_identifier_is_not_found(service: ProfileService) -> None:
    with pytest.raises(NotFoundError):
        service.find(email="nobody@example.com")


def test_replacing_needs_the_current_version(service: ProfileService) -> None:
    service.put("gc-1", ADA, None)
    with pytest.raises(PreconditionRequiredError):
        service.put("gc-1", ADA, None)
    with pytest.raises(VersionConflictError):
        service.put("gc-1", ADA, 7)
    assert service.put("gc-1", ProfileAttributes(first_name="Augusta"), 1).customer.version == 2


def test_patch_keeps_the_identity_map_in_step(service: ProfileService, identities: InMemoryIdentityMap) -> None:
    service.put("gc-1", ADA, None)
    service.patch("gc-1", {"email": "augusta@example.com", "phone": None}, 1)
    assert set(identities.links) == {"email#augusta@example.com"}
    assert service.find(email="augusta@example.com").version == 2


def test_patch_of_an_unknown_customer_is_not_found(service: ProfileService) -> None:
    with pytest.raises(NotFoundError):
        service.patch("gc-404", {"first_name": "X"}, 1)


def test_an_email_owned_by_another_customer_is_a_conflict(service: ProfileService) -> None:
    service.put("gc-1", ADA, None)
    with pytest.raises(ConflictError) as raised:
        service.put("gc-2", ProfileAttributes(email="ada@example.com"), None)
    assert raised.value.field == "email"
    with pytest.raises(NotFoundError):
        service.get("gc-2")


def test_consent_is_stamped_and_versioned(service: ProfileService) -> None:
    service.put("gc-1", ADA, None)
    customer = service.put_consent("gc-1", {"email": {"marketing": True}}, 1)
    assert customer.version == 2
    assert customer.consent["email"]["marketing"].granted
    with pytest.raises(VersionConflictError):
        service.put_consent("gc-1", {"email": {"marketing": False}}, 1)


def test_erasure_removes_everything_and_keeps_an_audit_record(
    service: ProfileService, customers: InMemoryCustomerRepository, identities: InMemoryIdentityMap
) -> None:
    service.put("gc-1", ADA, None)
    identities.put(new_link("source#crm:123", "gc-1", origin="mdm", at=NOW))
    identities.put(new_link("source#crm:999", "gc-2", origin="mdm", at=NOW))
    customers.put_live_state("gc-1", LiveState(counters={"orders": 3}))

    record = service.erase("gc-1", request_id="req-1")

    assert record.removed_identifiers == {"email": 1, "phone": 1, "source": 1}
    assert (record.removed_profile, record.removed_live_state) == (True, True)
    assert set(identities.links) == {"source#crm:999"}
    stored = customers.get("gc-1")
    assert (stored.profile, stored.live_state, stored.erasure) == (None, None, record)
    assert service.erase("gc-1") == record  # erasing again answers with the first record
    with pytest.raises(ConflictError):
        service.put("gc-1", ADA, None)  # an erased id is never brought back


def test_erasing_an_unknown_customer_is_not_found(service: ProfileService) -> None:
    with pytest.raises(NotFoundError):
        service.erase("gc-404")


def test_two_patches_of_the_same_version_exactly_one_wins(
    service: ProfileService, customers: InMemoryCustomerRepository
) -> None:
    service.put("gc-1", ADA, None)
    both_read = threading.Barrier(2)
    read = customers.get

    def get_then_wait(customer_id: str):  # type: ignore[no-untyped-def]
        stored = read(customer_id)
        both_read.wait(timeout=5)
        return stored

    customers.get = get_then_wait  # type: ignore[method-assign]
    outcomes: list[str] = []

    def patch(name: str) -> None:
        try:
            service.patch("gc-1", {"first_name": name}, 1)
            outcomes.append("ok")
        except VersionConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=patch, args=(name,)) for name in ("Augusta", "Ada")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    customers.get = read  # type: ignore[method-assign]
    assert service.get("gc-1").version == 2
