"""The published JSON Schema of CustomerStateChanged, generated from its model (as omni_domain.event_schemas
does for the triggers: same layout, same envelope annotation).

`PYTHONPATH=lambdas python -m state_publisher.schema docs/events` rewrites the
committed copy; a test fails when it is stale.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from omni_domain.constants import STATE_CHANGE_SOURCE, STATE_CHANGED_DETAIL_TYPE
from omni_domain.event_schemas import write_documents
from state_publisher.changes import CustomerStateChanged


def detail_schema() -> dict[str, Any]:
    """The JSON Schema of the detail, with the EventBridge envelope fields that select it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://omni-cx.example/schemas/{STATE_CHANGED_DETAIL_TYPE}.schema.json",
        "x-eventbridge": {"source": STATE_CHANGE_SOURCE, "detail-type": STATE_CHANGED_DETAIL_TYPE},
        **CustomerStateChanged.model_json_schema(mode="serialization"),
    }


def schema_documents() -> dict[str, str]:
    """File name (relative to docs/events) -> content."""
    return {f"{STATE_CHANGED_DETAIL_TYPE}.schema.json": json.dumps(detail_schema(), indent=2, sort_keys=True) + "\n"}


def main(argv: list[str]) -> int:
    return write_documents(schema_documents(), argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
