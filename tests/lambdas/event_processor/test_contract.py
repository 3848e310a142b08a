"""The event contract and its published schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omni_domain.customer_events import EVENT_TYPES, InvalidEventError, parse_event
from omni_domain.event_schemas import schema_documents
from omni_domain.identity_map import link_from_item

from .conftest import PAYLOADS, event_dict

DOCS = Path(__file__).resolve().parents[3] / "docs" / "events"


def test_the_published_schemas_are_current() -> None:
    # Regenerate with: PYTHONPATH=lambdas .venv/bin/python -m omni_domain.event_schemas docs/events
    for name, content in schema_documents().items():
        assert (DOCS / name).read_text(encoding="utf-8") == content, f"docs/events/{name} is stale"


def test_every_event_type_has_a_payload_model_and_a_schema_branch() -> None:
    schema = json.loads((DOCS / "customer-event.schema.json").read_text())
    assert set(schema["discriminator"]["mapping"]) == set(EVENT_TYPES) == set(PAYLOADS)
    for event_type in EVENT_TYPES:
        assert parse_event(json.dumps(event_dict(event_type))).event_type == event_type


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"occurred_at": "2026-11-23T10:00:00"}, "occurred_at: Value error, occurred_at needs a time zone"),
        ({"occurred_at": "2026-11-23T10:00:00+01:00"}, "occurred_at: Value error, occurred_at must be UTC"),
        ({"identity": {"email": "a@example.com", "phone": "+447700900123"}}, "identity: Value error, give exactly one"),
        ({"identity": {"email": "not-an-email"}}, "identity.email: Value error, not an e-mail address"),
        ({"channel": "fax"}, "channel: Input should be"),
        ({"event_type": "teleport"}, "event_type: Input tag 'teleport'"),
        (
            {"payload": {"order_id": "o-1", "amount": "1.005", "currency": "GBP"}},
            "payload.amount: Value error, at most two",
        ),
        ({"payload": {"complaint_id": "c", "category": "delivery", "severity": "meh"}}, "payload.severity"),
    ],
)
def test_invalid_events_name_the_field(change: dict[str, object], expected: str) -> None:
    base_type = "complaint" if "severity" in expected else "purchase"
    with pytest.raises(InvalidEventError) as raised:
        parse_event(json.dumps({**event_dict(base_type), **change}))
    assert any(error.startswith(expected) for error in raised.value.errors), raised.value.errors
    assert "not-an-email" not in str(raised.value.errors)


def test_provisional_links_keep_their_origin() -> None:
    item = {"identifier": "email#a@example.com", "customer_id": "gc-1", "origin": "event-processor"}
    assert link_from_item(item).origin == "event-processor"
    assert link_from_item({**item, "origin": "unheard-of"}).origin == "mdm"
