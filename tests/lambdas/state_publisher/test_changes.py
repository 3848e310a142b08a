"""The pure diff: no AWS, no mocks. Examples first, then properties (hypothesis)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from state_publisher.changes import (
    MODEL_RELEVANT_FIELDS,
    PII_PROFILE_FIELDS,
    ItemChange,
    state_change,
    to_json,
)

AT = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)


def change(event_name: str, sort_key: str, old: dict[str, Any], new: dict[str, Any]) -> ItemChange:
    return ItemChange("evt-1", "gc-1", sort_key, event_name, "100", AT, old, new)  # type: ignore[arg-type]


def state(version: int, **fields: Any) -> dict[str, Any]:
    return {"customer_id": "gc-1", "record": "STATE", "version": Decimal(version), "live_state": fields}


def test_model_relevant_fields_are_the_contracts() -> None:
    # The rescorer's rule is built from this tuple: the stack imports it, so it must stay a tuple of names.
    assert MODEL_RELEVANT_FIELDS == (
        "rolling_spend",
        "counters",
        "friction_points",
        "cart",
        "journey_stage",
        "date_of_birth",
        "preferred_channel",
        "consent",
    )


def test_live_state_numbers_come_out_as_json_numbers() -> None:
    old = state(1, counters={"purchases": Decimal(1)})
    new = state(2, counters={"purchases": Decimal(2)}, propensity={"upgrade": Decimal("0.42")})
    detail = state_change(change("MODIFY", "STATE", old, new))
    assert detail is not None
    assert detail.values == {"counters": {"purchases": 2}, "propensity": {"upgrade": 0.42}}
    assert json.loads(detail.model_dump_json())["values"]["propensity"]["upgrade"] == 0.42


def test_a_field_that_disappears_is_named_with_a_null_value() -> None:
    detail = state_change(change("MODIFY", "STATE", state(1, cart={"status": "active"}), state(2)))
    assert detail is not None
    assert (detail.changed, detail.values) == (["cart"], {"cart": None})


def test_the_erasure_record_publishes_counts_not_its_request_id() -> None:
    item = {
        "customer_id": "gc-1",
        "record": "ERASURE",
        "erased_at": "2026-11-29T21:00:00Z",
        "removed_profile": True,
        "removed_live_state": False,
        "removed_identifiers": {"email": Decimal(1)},
        "request_id": "req-7",
    }
    detail = state_change(change("INSERT", "ERASURE", {}, item))
    assert detail is not None
    assert (detail.record, detail.change, detail.version) == ("erasure", "created", None)
    assert "request_id" in detail.changed
    assert "request_id" not in detail.values
    assert detail.values["removed_identifiers"] == {"email": 1}


@pytest.mark.parametrize("sort_key", ["MERGED", "SOMETHING_NEW"])
def test_other_record_kinds_are_not_published(sort_key: str) -> None:
    assert state_change(change("INSERT", sort_key, {}, {"customer_id": "gc-1", "record": sort_key})) is None


def test_to_json_keeps_sets_and_bytes_serialisable() -> None:
    assert to_json({"tags": {"b", "a"}, "blob": b"\x00\x01", "n": Decimal("1.50")}) == {
        "tags": ["a", "b"],
        "blob": "AAE=",
        "n": 1.5,
    }


# Properties ---------------------------------------------------------------------------------------------------

FIELD_NAMES = st.sampled_from(
    ["cart", "counters", "journey_stage", "rolling_spend", "propensity", "friction_points", "last_interaction"]
)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=5),
    st.integers(-5, 5).map(Decimal),
    st.decimals(min_value=-10, max_value=10, places=2, allow_nan=False),
)
VALUE = st.recursive(LEAF, lambda inner: st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=6)
DOCUMENT = st.dictionaries(FIELD_NAMES, VALUE, max_size=5)
# Personal values carry a marker no published value can contain.
PERSONAL = st.dictionaries(st.sampled_from(PII_PROFILE_FIELDS), st.text(max_size=8).map(lambda text: f"PII<{text}>"))
PUBLISHED = st.dictionaries(st.sampled_from(["language", "preferred_channel"]), st.sampled_from(["en", "fr", "push"]))
ATTRIBUTES = st.builds(lambda personal, published: {**personal, **published}, PERSONAL, PUBLISHED)


def _as_json(document: dict[str, Any]) -> dict[str, Any]:
    """A document as a consumer sees it: JSON values, a field holding null the same as an absent one."""
    return {name: to_json(value) for name, value in document.items() if value is not None}


def _apply(document: dict[str, Any], changed: list[str], values: dict[str, Any]) -> dict[str, Any]:
    """What a consumer holding `document` does with an event: set each changed field, drop it when null."""
    result = dict(document)
    for name in changed:
        result.pop(name, None)
        if values[name] is not None:
            result[name] = values[name]
    return result


@given(old=DOCUMENT, new=DOCUMENT)
def test_applying_the_event_to_the_old_state_gives_the_new_one(old: dict[str, Any], new: dict[str, Any]) -> None:
    detail = state_change(change("MODIFY", "STATE", state(1, **old), state(2, **new)))
    if detail is None:
        assert old == new
        return
    # A consumer that applies `changed`/`values` to the old live state holds the new one...
    assert _apply(_as_json(old), detail.changed, detail.values) == _as_json(new)
    # ...and every field named really changed (nothing named for nothing), each named once, in order.
    assert detail.changed == sorted(set(detail.changed))
    for name in detail.changed:
        assert (name in old, old.get(name)) != (name in new, new.get(name))


@given(old=ATTRIBUTES, new=ATTRIBUTES)
def test_a_profile_event_carries_the_public_fields_and_names_exactly_the_personal_ones_that_differ(
    old: dict[str, str], new: dict[str, str]
) -> None:
    def item(attributes: dict[str, str]) -> dict[str, Any]:
        return {"customer_id": "gc-1", "record": "PROFILE", "version": Decimal(1), "attributes": attributes}

    def public(attributes: dict[str, str]) -> dict[str, str]:
        return {name: value for name, value in attributes.items() if name not in PII_PROFILE_FIELDS}

    detail = state_change(change("MODIFY", "PROFILE", item(old), item(new)))
    if detail is None:
        assert old == new
        return
    public_changed = [name for name in detail.changed if name not in PII_PROFILE_FIELDS]
    assert _apply(public(old), public_changed, detail.values) == public(new)
    assert {name for name in detail.changed if name in PII_PROFILE_FIELDS} == {
        name for name in PII_PROFILE_FIELDS if old.get(name) != new.get(name)
    }


@given(document=DOCUMENT, version=st.integers(1, 1000), stamp=st.text(max_size=8), ledger=VALUE)
def test_bookkeeping_alone_never_publishes(document: dict[str, Any], version: int, stamp: str, ledger: Any) -> None:
    old = {**state(version, **document, updated_at="a"), "ledger": "before"}
    new = {**state(version + 1, **document, updated_at=stamp), "ledger": ledger}
    assert state_change(change("MODIFY", "STATE", old, new)) is None


@given(old=ATTRIBUTES, new=ATTRIBUTES, event_name=st.sampled_from(["INSERT", "MODIFY", "REMOVE"]))
def test_personal_values_never_reach_the_detail(old: dict[str, str], new: dict[str, str], event_name: str) -> None:
    def item(attributes: dict[str, str]) -> dict[str, Any]:
        return {"customer_id": "gc-1", "record": "PROFILE", "version": Decimal(1), "attributes": attributes}

    detail = state_change(change(event_name, "PROFILE", item(old), item(new)))
    if detail is None:
        return
    assert not set(detail.values) & set(PII_PROFILE_FIELDS)
    assert "PII<" not in detail.model_dump_json()
    before, after = ({} if event_name == "INSERT" else old), ({} if event_name == "REMOVE" else new)
    assert set(detail.changed) >= {name for name in PII_PROFILE_FIELDS if before.get(name) != after.get(name)}


@given(document=DOCUMENT)
def test_insert_and_remove_always_publish_and_mirror_each_other(document: dict[str, Any]) -> None:
    item = state(3, **document)
    created = state_change(change("INSERT", "STATE", {}, item))
    removed = state_change(change("REMOVE", "STATE", item, {}))
    assert created is not None
    assert removed is not None
    assert created.changed == removed.changed == sorted(document)
    assert (created.version, removed.version) == (3, None)
    assert all(value is None for value in removed.values.values())
