"""Pure rules: preconditions, patches, consent stamping, erasure records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omni_domain import profile_rules as rules
from omni_domain.errors import PreconditionRequiredError, ValidationFailedError, VersionConflictError
from omni_domain.models import ProfileAttributes

NOW = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
ADA = ProfileAttributes(
    first_name="Ada",
    last_name="Lovelace",
    email="ada@example.com",
    phone="+447700900123",
    address={"line1": "12 St James's Square", "city": "London", "postcode": "SW1Y 4JH", "country": "GB"},
)


@pytest.mark.parametrize(("current", "expected"), [(None, None), (3, 3), (3, "*")])
def test_precondition_holds(current: int | None, expected: rules.ExpectedVersion) -> None:
    rules.check_precondition(current, expected)


@pytest.mark.parametrize(
    ("current", "expected", "error"),
    [
        (3, None, PreconditionRequiredError),
        (3, 2, VersionConflictError),
        (None, 1, VersionConflictError),
        (None, "*", VersionConflictError),
    ],
)
def test_precondition_fails(current: int | None, expected: rules.ExpectedVersion, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        rules.check_precondition(current, expected)
    assert raised.value.field == "If-Match"  # type: ignore[attr-defined]


def test_merge_patch_changes_removes_and_keeps() -> None:
    patched = rules.patched_attributes(ADA, {"first_name": "Augusta", "phone": None, "address": {"line2": "Flat 3"}})
    assert patched.first_name == "Augusta"
    assert patched.phone is None
    assert patched.address is not None
    assert (patched.address.line1, patched.address.line2) == ("12 St James's Square", "Flat 3")
    assert patched.last_name == "Lovelace"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"address": {"country": "Britain"}}, "address.country"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"address": {"city": None}}, "address.city"),
        ({"preferred_channel": "pigeon"}, "preferred_channel"),
    ],
)
def test_a_patch_that_breaks_the_model_names_the_field(patch: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        rules.patched_attributes(ADA, patch)
    assert raised.value.field == field


def test_validation_errors_never_quote_the_input() -> None:
    with pytest.raises(ValidationFailedError) as raised:
        rules.attributes_from_document({"first_name": "Ada" * 50})
    assert "AdaAda" not in raised.value.detail


def test_canonical_attributes_normalise_email_and_phone() -> None:
    raw = ProfileAttributes(email=" Ada@Example.COM", phone="07700 900123")
    canonical = rules.canonical_attributes(raw, default_region="GB")
    assert (canonical.email, canonical.phone) == ("ada@example.com", "+447700900123")


def test_replacing_bumps_the_version_and_keeps_what_is_not_given() -> None:
    profile = rules.created("gc-1", ADA, now=NOW)
    later = NOW + timedelta(minutes=5)
    replaced = rules.replaced(profile, attributes=ProfileAttributes(first_name="Ada"), now=later)
    assert (profile.version, replaced.version) == (1, 2)
    assert (replaced.created_at, replaced.updated_at) == (NOW, later)
    assert replaced.consent == profile.consent


def test_consent_keeps_the_timestamp_of_unchanged_decisions() -> None:
    first = rules.updated_consent({}, {"email": {"marketing": True, "analytics": True}}, now=NOW)
    later = NOW + timedelta(days=1)
    second = rules.updated_consent(
        first, {"email": {"marketing": True, "analytics": False}, "sms": {"marketing": False}}, now=later
    )
    assert second["email"]["marketing"].decided_at == NOW
    assert (second["email"]["analytics"].granted, second["email"]["analytics"].decided_at) == (False, later)
    assert second["sms"]["marketing"].decided_at == later


def test_identity_keys_of_a_profile() -> None:
    assert rules.identity_keys(ADA) == {"email#ada@example.com", "phone#+447700900123"}
    assert rules.identity_keys(None) == frozenset()


def test_erasure_record_counts_identifier_kinds_and_holds_no_personal_data() -> None:
    links = ["email#ada@example.com", "phone#+447700900123", "source#crm:123", "source#web:9"]
    record = rules.erasure_record(
        "gc-1", removed_profile=True, removed_live_state=False, removed_links=links, now=NOW, request_id="req-1"
    )
    assert record.removed_identifiers == {"email": 1, "phone": 1, "source": 2}
    stored = record.model_dump_json()
    for personal in ("ada@example.com", "+447700900123", "crm:123", "Ada", "Lovelace"):
        assert personal not in stored
