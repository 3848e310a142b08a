"""The customer-profile use cases, one method each, over the storage ports.

Every channel goes through these: they apply the pure rules of `profile_rules`
and keep the identity map in step with the e-mail and phone of the profile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from omni_domain import profile_rules as rules
from omni_domain.errors import ConflictError, NotFoundError, ValidationFailedError
from omni_domain.identifiers import DEFAULT_REGION, identifier_key, normalise_email, normalise_phone
from omni_domain.identity_map import new_link
from omni_domain.models import (
    ConsentRequest,
    CustomerProfile,
    CustomerView,
    ErasureRecord,
    LiveState,
    ProfileAttributes,
)
from omni_domain.repositories import CustomerRepository, IdentityMap, StoredCustomer


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class WriteResult:
    customer: CustomerView
    created: bool


@dataclass(frozen=True)
class ProfileService:
    customers: CustomerRepository
    identities: IdentityMap
    default_region: str = DEFAULT_REGION
    clock: Callable[[], datetime] = field(default=utc_now)

    def get(self, customer_id: str) -> CustomerView:
        view = self.customers.get(customer_id).view()
        if view is None:
            raise NotFoundError("no customer with this id", field="id")
        return view

    def find(self, *, email: str | None = None, phone: str | None = None) -> CustomerView:
        """The customer an e-mail or a phone resolves to through the identity map."""
        if (email is None) == (phone is None):
            raise ValidationFailedError(
                "give exactly one of email or phone", field="email" if email is None else "phone"
            )
        if email is not None:
            key = identifier_key("email", normalise_email(email))
        else:
            key = identifier_key("phone", normalise_phone(phone or "", default_region=self.default_region))
        customer_id = self.identities.resolve(key)
        if customer_id is None:
            raise NotFoundError("no customer has this identifier", field="email" if email is not None else "phone")
        return self.get(customer_id)

    def put(self, customer_id: str, attributes: ProfileAttributes, expected: rules.ExpectedVersion) -> WriteResult:
        """Create a customer, or replace its attributes (consent and live state are kept)."""
        stored = self.customers.get(customer_id)
        if stored.erasure is not None and stored.profile is None:
            raise ConflictError("this customer id was erased and is not reused", field="id")
        current = stored.profile
        rules.check_precondition(current.version if current else None, expected)
        canonical = rules.canonical_attributes(attributes, default_region=self.default_region)
        now = self.clock()
        if current is None:
            profile = rules.created(customer_id, canonical, now=now)
        else:
            profile = rules.replaced(current, attributes=canonical, now=now)
        return WriteResult(self._save(profile, current, stored.live_state), created=current is None)

    def patch(self, customer_id: str, patch: Mapping[str, Any], expected: rules.ExpectedVersion) -> CustomerView:
        """Apply a JSON merge patch to a customer's attributes."""
        stored = self.customers.get(customer_id)
        current = self._existing(stored)
        rules.check_precondition(current.version, expected)
        attributes = rules.canonical_attributes(
            rules.patched_attributes(current.attributes, patch), default_region=self.default_region
        )
        profile = rules.replaced(current, attributes=attributes, now=self.clock())
        return self._save(profile, current, stored.live_state)

    def put_consent(self, customer_id: str, consent: ConsentRequest, expected: rules.ExpectedVersion) -> CustomerView:
        """Replace the consent document; each decision is stamped when it changes."""
        stored = self.customers.get(customer_id)
        current = self._existing(stored)
        rules.check_precondition(current.version, expected)
        now = self.clock()
        profile = rules.replaced(current, consent=rules.updated_consent(current.consent, consent, now=now), now=now)
        return self._save(profile, current, stored.live_state)

    def erase(self, customer_id: str, *, request_id: str | None = None) -> ErasureRecord:
        """Right to be forgotten: remove profile, live state and identity links; keep an audit record.

        Erasing again answers with the first audit record; erasing an id the
        platform never knew is NotFoundError.
        """
        stored = self.customers.get(customer_id)
        links = self.identities.links_of(customer_id) | rules.identity_keys(
            stored.profile.attributes if stored.profile else None
        )
        if stored.profile is None and stored.live_state is None and not links:
            if stored.erasure is not None:
                return stored.erasure
            raise NotFoundError("no customer with this id", field="id")
        record = rules.erasure_record(
            customer_id,
            removed_profile=stored.profile is not None,
            removed_live_state=stored.live_state is not None,
            removed_links=links,
            now=self.clock(),
            request_id=request_id,
        )
        self.customers.erase(record, links=links)
        return record

    @staticmethod
    def _existing(stored: StoredCustomer) -> CustomerProfile:
        if stored.profile is None:
            raise NotFoundError("no customer with this id", field="id")
        return stored.profile

    def _save(self, profile: CustomerProfile, current: CustomerProfile | None, state: LiveState | None) -> CustomerView:
        before = rules.identity_keys(current.attributes if current else None)
        after = rules.identity_keys(profile.attributes)
        self.customers.save(
            profile,
            expected_version=current.version if current else None,
            add_links=[
                new_link(key, profile.customer_id, origin="profile-service", at=profile.updated_at)
                for key in sorted(after - before)
            ],
            remove_links=sorted(before - after),
        )
        return CustomerView(**dict(profile), live_state=state or LiveState())
