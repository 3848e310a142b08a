"""The published schema of CustomerStateChanged, and the settings the stack must provide."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from omni_domain.constants import ENV_EVENT_BUS, ENV_IDEMPOTENCY_EXPIRY_SECONDS, ENV_IDEMPOTENCY_TABLE
from state_publisher.schema import schema_documents
from state_publisher.settings import PublisherSettings

from .conftest import World, erasure, invoke, live_state, profile, state_item, stream_event, stream_record

DOCS = Path(__file__).resolve().parents[3] / "docs" / "events"
REQUIRED = {ENV_EVENT_BUS: "bus", ENV_IDEMPOTENCY_TABLE: "idempotency"}


def test_the_published_schema_is_current() -> None:
    # Regenerate with: PYTHONPATH=lambdas .venv/bin/python -m state_publisher.schema docs/events
    for name, content in schema_documents().items():
        assert (DOCS / name).read_text(encoding="utf-8") == content, f"docs/events/{name} is stale"


def test_published_events_validate_against_the_committed_schema(world: World, handler: Any) -> None:
    schema = json.loads((DOCS / "CustomerStateChanged.schema.json").read_text())
    invoke(
        handler,
        stream_event(
            stream_record("INSERT", new=state_item("gc-1", live_state())),
            stream_record("REMOVE", old=profile()),
            stream_record("INSERT", new=erasure()),
        ),
    )
    details = [message["detail"] for message in world.drain()]
    assert len(details) == 3
    for detail in details:
        jsonschema.validate(detail, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**details[0], "email": "someone@example.com"}, schema)


def test_settings_default_the_idempotency_window_beyond_the_streams_retention() -> None:
    settings = PublisherSettings.from_environment(REQUIRED)
    assert (settings.event_bus, settings.idempotency_table) == ("bus", "idempotency")
    assert settings.idempotency_expiry_seconds >= 24 * 3600


@pytest.mark.parametrize(
    "environment",
    [
        {ENV_IDEMPOTENCY_TABLE: "idempotency"},
        {ENV_EVENT_BUS: "bus"},
        {**REQUIRED, ENV_IDEMPOTENCY_EXPIRY_SECONDS: "3600"},
    ],
)
def test_settings_refuse_a_missing_bus_or_table_and_a_window_shorter_than_the_stream(
    environment: dict[str, str],
) -> None:
    with pytest.raises(ValidationError):
        PublisherSettings.from_environment(environment)
