"""Pure mapping from a published run to the customer domain: no I/O, no clock.

A golden record becomes `ProfileAttributes` field by field: a value that fails the
profile model's validation (or the identifier normalisers) is dropped and its
field name reported, so one bad value never stops a load. The address is one
value: it is mapped only when all of line, city, postcode and country survived. Survivorship fills a
stored profile only where the profile is empty: what a channel captured wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from mdm_loader.run_format import GoldenRecordLine, IdentityLinkLine
from omni_domain.errors import ValidationFailedError
from omni_domain.identifiers import identifier_key, normalise_email, normalise_phone
from omni_domain.models import Address, ProfileAttributes

ADDRESS_FIELDS: tuple[str, ...] = ("address_line", "city", "postcode", "country")
_SCALAR_FIELDS: tuple[str, ...] = ("first_name", "last_name", "email", "phone", "date_of_birth")


@dataclass(frozen=True, slots=True)
class MappedAttributes:
    attributes: ProfileAttributes
    # Names of the golden fields whose value was unusable (never the values: they are customer data).
    invalid: tuple[str, ...] = ()
    # Some address parts but not all four the profile model needs: the address is left out whole.
    address_incomplete: bool = False


def _canonical(field: str, value: str) -> str:
    if field == "email":
        return normalise_email(value)
    if field == "phone":
        return normalise_phone(value)
    return value


def _address_field(model_field: str) -> str:
    return "address_line" if model_field == "line1" else model_field


def profile_attributes(golden: GoldenRecordLine) -> MappedAttributes:
    """The profile attributes a golden record supports, and the fields whose values were unusable."""
    values: dict[str, object] = {}
    invalid: list[str] = []
    for field in _SCALAR_FIELDS:
        value = golden.value(field)
        if value is None or not value.strip():
            continue
        try:
            candidate = {field: _canonical(field, value)}
            values[field] = getattr(ProfileAttributes.model_validate(candidate), field)
        except (ValidationError, ValidationFailedError):
            invalid.append(field)
    parts = {field: (golden.value(field) or "").strip() for field in ADDRESS_FIELDS}
    address_incomplete = any(parts.values()) and not all(parts.values())
    if all(parts.values()):
        try:
            values["address"] = Address(
                line1=parts["address_line"], city=parts["city"], postcode=parts["postcode"], country=parts["country"]
            )
        except ValidationError as error:
            invalid.extend(sorted({_address_field(str(e["loc"][0])) for e in error.errors(include_input=False)}))
    return MappedAttributes(
        attributes=ProfileAttributes.model_validate(values),
        invalid=tuple(invalid),
        address_incomplete=address_incomplete,
    )


def filled(stored: ProfileAttributes, golden: ProfileAttributes) -> ProfileAttributes:
    """`stored` with its empty attributes taken from `golden`; nothing a channel wrote is replaced."""
    updates = {field: value for field, value in golden if value is not None and getattr(stored, field) is None}
    return stored.model_copy(update=updates) if updates else stored


def link_key(link: IdentityLinkLine) -> str | None:
    """The identity map key of a published link, in the canonical form channels look up; None if unusable."""
    if link.identifier_type == "source":
        return identifier_key("source", link.identifier)
    try:
        return identifier_key(link.identifier_type, _canonical(link.identifier_type, link.identifier))
    except ValidationFailedError:
        return None
