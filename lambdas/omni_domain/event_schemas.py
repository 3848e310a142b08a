"""The published JSON Schemas of the experience pathway, generated from the models.

`PYTHONPATH=lambdas python -m omni_domain.event_schemas docs/events` rewrites the
committed copies; a test fails when one is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from omni_domain.customer_events import event_schema
from omni_domain.event_triggers import TRIGGER_TYPES, trigger_schema


def schema_documents() -> dict[str, str]:
    """File name (relative to docs/events) -> content."""
    documents: dict[str, dict[str, Any]] = {"customer-event.schema.json": event_schema()}
    for trigger_type in TRIGGER_TYPES:
        documents[f"triggers/{trigger_type.detail_type}.schema.json"] = trigger_schema(trigger_type)
    return {name: json.dumps(schema, indent=2, sort_keys=True) + "\n" for name, schema in documents.items()}


def write_documents(documents: dict[str, str], argv: list[str]) -> int:
    """Write `documents` (as `schema_documents` returns them) below argv[0], by default docs/events."""
    target = Path(argv[0]) if argv else Path("docs/events")
    for name, content in documents.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return 0


def main(argv: list[str]) -> int:
    return write_documents(schema_documents(), argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
