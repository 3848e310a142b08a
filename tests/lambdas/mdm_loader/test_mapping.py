"""Pure mapping from published lines to the customer domain: no moto, no fakes."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from mdm_loader.mapping import filled, link_key, profile_attributes
from mdm_loader.run_format import GoldenRecordLine, IdentityLinkLine
from omni_domain.models import Address, ProfileAttributes

GOLDEN_ID = "gc-0a1b2c3d4e5f60718293"


def golden(**values: str | None) -> GoldenRecordLine:
    return GoldenRecordLine.model_validate(
        {
            "golden_id": GOLDEN_ID,
            "members": ["crm:C1"],
            "updated_at": "2026-01-01T00:00:00Z",
            "attributes": {
                name: {"value": value, "source_system": "crm", "source_id": "C1"} for name, value in values.items()
            },
        }
    )


COMPLETE = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": " Ada@Example.COM",
    "phone": "+447700900123",
    "address_line": "12 St James's Square",
    "city": "London",
    "postcode": "SW1Y 4JH",
    "country": "GB",
    "date_of_birth": "1815-12-10",
}


def test_given_a_complete_golden_record_when_mapped_then_every_attribute_in_canonical_form() -> None:
    mapped = profile_attributes(golden(**COMPLETE))

    assert mapped.attributes == ProfileAttributes(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="+447700900123",
        address=Address(line1="12 St James's Square", city="London", postcode="SW1Y 4JH", country="GB"),
        date_of_birth=date(1815, 12, 10),
    )
    assert (mapped.invalid, mapped.address_incomplete) == ((), False)


def test_given_unusable_values_when_mapped_then_each_is_skipped_and_named_without_its_value() -> None:
    mapped = profile_attributes(
        golden(**COMPLETE | {"email": "ada at example", "phone": "call me", "date_of_birth": "1815-02-30"})
    )

    assert (mapped.attributes.email, mapped.attributes.phone, mapped.attributes.date_of_birth) == (None, None, None)
    assert mapped.attributes.last_name == "Lovelace"
    assert mapped.invalid == ("email", "phone", "date_of_birth")


def test_given_an_address_with_an_invalid_part_when_mapped_then_the_address_is_skipped_and_the_part_named() -> None:
    mapped = profile_attributes(golden(**COMPLETE | {"country": "United Kingdom"}))

    assert mapped.attributes.address is None
    assert mapped.invalid == ("country",)


def test_given_an_address_missing_a_part_when_mapped_then_left_out_as_incomplete_not_invalid() -> None:
    mapped = profile_attributes(golden(**COMPLETE | {"postcode": None}))

    assert mapped.attributes.address is None
    assert (mapped.invalid, mapped.address_incomplete) == ((), True)


def test_given_a_golden_record_without_values_when_mapped_then_empty_attributes() -> None:
    mapped = profile_attributes(golden(first_name=None))

    assert mapped.attributes == ProfileAttributes()
    assert (mapped.invalid, mapped.address_incomplete) == ((), False)


def test_given_a_stored_profile_when_filled_then_only_its_empty_attributes_take_golden_values() -> None:
    stored = ProfileAttributes(first_name="Augusta", email="augusta@example.com", language="en")
    survivor = profile_attributes(golden(**COMPLETE)).attributes

    result = filled(stored, survivor)

    assert (result.first_name, result.email, result.language) == ("Augusta", "augusta@example.com", "en")
    assert (result.last_name, result.phone) == ("Lovelace", "+447700900123")
    assert result.address == survivor.address


def test_given_nothing_to_fill_when_filled_then_the_stored_attributes_are_returned_unchanged() -> None:
    stored = profile_attributes(golden(**COMPLETE)).attributes

    assert filled(stored, ProfileAttributes(first_name="Other")) is stored


_names = st.none() | st.text(alphabet="abcdefghij", min_size=1, max_size=8)


@given(stored_first=_names, stored_last=_names, golden_first=_names, golden_last=_names)
def test_property_a_stored_value_is_never_replaced_and_an_empty_one_takes_the_golden_value(
    stored_first: str | None, stored_last: str | None, golden_first: str | None, golden_last: str | None
) -> None:
    stored = ProfileAttributes(first_name=stored_first, last_name=stored_last)
    survivor = ProfileAttributes(first_name=golden_first, last_name=golden_last)

    result = filled(stored, survivor)

    assert result.first_name == (stored_first if stored_first is not None else golden_first)
    assert result.last_name == (stored_last if stored_last is not None else golden_last)


def test_given_published_links_when_keyed_then_canonical_keys_and_unusable_ones_dropped() -> None:
    def key(kind: str, identifier: str) -> str | None:
        return link_key(
            IdentityLinkLine.model_validate({"identifier_type": kind, "identifier": identifier, "golden_id": GOLDEN_ID})
        )

    assert key("source", "crm:C1") == "source#crm:C1"
    assert key("email", "Ada@Example.com") == "email#ada@example.com"
    assert key("phone", "+44 7700 900123") == "phone#+447700900123"
    assert key("email", "not an e-mail") is None
    assert key("phone", "12") is None
