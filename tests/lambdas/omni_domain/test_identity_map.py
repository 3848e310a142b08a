"""The identity map item shape both writers use."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omni_domain.identity_map import IdentityLink, identity_item, link_from_item, new_link


def test_item_round_trip() -> None:
    link = new_link("source#crm:123", "gc-1", origin="mdm", at=datetime(2026, 11, 20, tzinfo=UTC))
    item = identity_item(link)
    assert item == {
        "identifier": "source#crm:123",
        "identifier_type": "source",
        "customer_id": "gc-1",
        "origin": "mdm",
        "updated_at": "2026-11-20T00:00:00+00:00",
    }
    assert link_from_item(item) == link


def test_a_link_needs_a_key_not_a_bare_value() -> None:
    with pytest.raises(ValueError, match="identity map key"):
        new_link("ada@example.com", "gc-1", origin="profile-service", at=datetime.now(UTC))


def test_items_without_origin_are_read_as_published_by_mdm() -> None:
    link = link_from_item({"identifier": "device#d-1", "customer_id": "gc-2"})
    assert link == IdentityLink("device#d-1", "gc-2", "mdm", "")
