"""Identifier normalisation: the canonical forms the identity map is keyed on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glue_jobs.normalise import normalise_email as mdm_email
from glue_jobs.normalise import normalise_phone as mdm_phone
from omni_domain.errors import ValidationFailedError
from omni_domain.identifiers import identifier_key, identifier_kind, normalise_email, normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ada.Lovelace@Example.COM ", "ada.lovelace@example.com"),
        ("ada @ example.com", "ada@example.com"),
        ("first+tag@sub.example.co.uk", "first+tag@sub.example.co.uk"),
    ],
)
def test_email_is_trimmed_and_lower_cased(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "ada", "ada@", "@example.com", "ada@example", "a@b@example.com", "ada\t@x.com"])
def test_unusable_email_names_the_field(raw: str) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        normalise_email(raw, field="query.email")
    assert raised.value.field == "query.email"
    assert raw.strip() == "" or raw not in raised.value.detail


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("07700 900123", "GB", "+447700900123"),
        ("+44 (0)7700-900123".replace("(0)", ""), "GB", "+447700900123"),
        ("0044 7700 900123", "GB", "+447700900123"),
        ("447700900123", "GB", "+447700900123"),
        ("01 23 45 67 89", "FR", "+33123456789"),
        ("(202) 555-0143", "US", "+12025550143"),
    ],
)
def test_phone_to_e164_with_default_region(raw: str, region: str, expected: str) -> None:
    assert normalise_phone(raw, default_region=region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("", "GB"),
        ("call me", "GB"),
        ("123", "GB"),
        ("+0123456789", "GB"),
        ("0612345678", "BR"),
        ("+1234567890123456", "GB"),
    ],
)
def test_unusable_phone_is_a_validation_error(raw: str, region: str) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        normalise_phone(raw, default_region=region)
    assert raised.value.field == "phone"


def test_identifier_keys_round_trip() -> None:
    assert identifier_key("email", "ada@example.com") == "email#ada@example.com"
    assert identifier_kind("source#crm:123") == "source"
    assert identifier_kind("device#abc#def") == "device"


@pytest.mark.parametrize("key", ["ada@example.com", "email#", "fax#123", "#x"])
def test_identifier_kind_rejects_what_is_not_a_key(key: str) -> None:
    with pytest.raises(ValueError, match="not an identity map key"):
        identifier_kind(key)


# Contract with the MDM job: a value both accept has the same canonical form on both sides,
# so a lookup finds the link the job published.
phones = st.text(alphabet="0123456789 +-().", min_size=1, max_size=20)
emails = st.builds(
    lambda local, domain, tld, pad: f"{pad}{local}@{domain}.{tld}{pad}",
    st.text(alphabet="abcXYZ019._+-", min_size=1, max_size=12),
    st.text(alphabet="abcdeXYZ-", min_size=1, max_size=10),
    st.sampled_from(["com", "co.uk", "DE"]),
    st.sampled_from(["", " ", "  "]),
)


@given(raw=phones, region=st.sampled_from(["GB", "FR", "US", "IE", "DE"]))
def test_phone_agrees_with_the_mdm_job(raw: str, region: str) -> None:
    published = mdm_phone(raw, region)
    try:
        ours = normalise_phone(raw, default_region=region)
    except ValidationFailedError:
        ours = None
    # Both ways: a number the job publishes must be one a channel's lookup can find, and back.
    assert ours == published


@given(raw=emails)
def test_email_agrees_with_the_mdm_job(raw: str) -> None:
    assert normalise_email(raw) == mdm_email(raw)
