"""Pure rules of the customer profile: preconditions, patches, consent and erasure.

No I/O and no clock: callers pass `now`, so every rule is tested without mocks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

import pydantic

from omni_domain.errors import PreconditionRequiredError, ValidationFailedError, VersionConflictError
from omni_domain.identifiers import identifier_key, identifier_kind, normalise_email, normalise_phone
from omni_domain.merge_patch import apply_merge_patch
from omni_domain.models import (
    ConsentDecision,
    ConsentMap,
    ConsentRequest,
    CustomerId,
    CustomerProfile,
    ErasureRecord,
    ProfileAttributes,
)

# What a write says about the version it replaces: a number, `*` (any existing
# version), or None when the caller sent no If-Match at all.
ExpectedVersion = int | Literal["*"] | None
IF_MATCH = "If-Match"


def check_precondition(current_version: int | None, expected: ExpectedVersion) -> None:
    """If-Match semantics (RFC 9110 13.1.1) for a customer that may not exist yet.

    Creating needs no If-Match; changing an existing customer needs one (a write
    without it could silently overwrite someone else's change), and it must
    name the current version.
    """
    if current_version is None:
        if expected is not None:
            raise VersionConflictError("the customer does not exist, so no version can match", field=IF_MATCH)
        return
    if expected is None:
        raise PreconditionRequiredError(
            "If-Match with the current version (the ETag of a GET) is required to change a customer", field=IF_MATCH
        )
    if expected not in ("*", current_version):
        raise VersionConflictError(
            f"version {expected} is not the current version {current_version}: read the customer again",
            field=IF_MATCH,
        )


def _field(location: Iterable[int | str]) -> str:
    return ".".join(str(part) for part in location) or "body"


def attributes_from_document(document: Any) -> ProfileAttributes:
    """Profile attributes from a JSON document, or ValidationFailedError naming the first bad field."""
    try:
        return ProfileAttributes.model_validate(document)
    except pydantic.ValidationError as error:
        # Only the location and pydantic's message: the error's input may be personal data.
        first = error.errors(include_input=False, include_url=False)[0]
        raise ValidationFailedError(first["msg"], field=_field(first["loc"])) from None


def canonical_attributes(attributes: ProfileAttributes, *, default_region: str) -> ProfileAttributes:
    """E-mail and phone in the canonical forms the identity map uses."""
    changes: dict[str, str] = {}
    if attributes.email is not None:
        changes["email"] = normalise_email(attributes.email)
    if attributes.phone is not None:
        changes["phone"] = normalise_phone(attributes.phone, default_region=default_region)
    return attributes.model_copy(update=changes) if changes else attributes


def patched_attributes(current: ProfileAttributes, patch: Mapping[str, Any]) -> ProfileAttributes:
    """`current` with a JSON merge patch applied, validated again as a whole."""
    document = current.model_dump(mode="json", exclude_none=True)
    return attributes_from_document(apply_merge_patch(document, dict(patch)))


def created(customer_id: CustomerId, attributes: ProfileAttributes, *, now: datetime) -> CustomerProfile:
    return CustomerProfile(customer_id=customer_id, attributes=attributes, version=1, created_at=now, updated_at=now)


def replaced(
    current: CustomerProfile,
    *,
    now: datetime,
    attributes: ProfileAttributes | None = None,
    consent: ConsentMap | None = None,
) -> CustomerProfile:
    """The next version of a profile; what is not given is kept."""
    return current.model_copy(
        update={
            "attributes": current.attributes if attributes is None else attributes,
            "consent": current.consent if consent is None else consent,
            "version": current.version + 1,
            "updated_at": now,
        }
    )


def updated_consent(current: ConsentMap, request: ConsentRequest, *, now: datetime) -> ConsentMap:
    """The consent document a caller sent, stamped: a decision keeps its timestamp until it changes."""
    consent: ConsentMap = {}
    for channel, purposes in request.items():
        for purpose, granted in purposes.items():
            previous = current.get(channel, {}).get(purpose)
            unchanged = previous is not None and previous.granted == granted
            consent.setdefault(channel, {})[purpose] = (
                previous if unchanged and previous else ConsentDecision(granted=granted, decided_at=now)
            )
    return consent


def identity_keys(attributes: ProfileAttributes | None) -> frozenset[str]:
    """The identity map keys a profile's own attributes give (canonical e-mail and phone)."""
    if attributes is None:
        return frozenset()
    keys = set()
    if attributes.email:
        keys.add(identifier_key("email", attributes.email))
    if attributes.phone:
        keys.add(identifier_key("phone", attributes.phone))
    return frozenset(keys)


def erasure_record(
    customer_id: CustomerId,
    *,
    removed_profile: bool,
    removed_live_state: bool,
    removed_links: Iterable[str],
    now: datetime,
    request_id: str | None,
) -> ErasureRecord:
    """The audit record of an erasure: identifier kinds are counted, their values are not kept."""
    return ErasureRecord(
        customer_id=customer_id,
        erased_at=now,
        removed_profile=removed_profile,
        removed_live_state=removed_live_state,
        removed_identifiers=dict(Counter(identifier_kind(key) for key in removed_links)),
        request_id=request_id,
    )
