"""The sample events of each function: real event shapes, kept once for the tests and `omni lambda invoke`.

`sample_events/<function>/<name>.json` at the repository root (outside every asset):
`<function>` is the handler package with dashes (`event-processor`), `<name>` the
event's name, unique across functions. The handler tests load them, so a sample
cannot drift from the shape the handler is tested with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SAMPLE_EVENTS = Path(__file__).resolve().parent.parent / "sample_events"


def functions() -> list[str]:
    """The functions that have sample events."""
    return sorted(path.name for path in SAMPLE_EVENTS.iterdir() if path.is_dir() and any(path.glob("*.json")))


def names(function: str) -> list[str]:
    """The names of a function's sample events (none for a function without samples)."""
    return sorted(path.stem for path in (SAMPLE_EVENTS / function).glob("*.json"))


def path(function: str, name: str) -> Path:
    return SAMPLE_EVENTS / function / f"{name}.json"


def load(function: str, name: str) -> Any:
    return json.loads(path(function, name).read_text(encoding="utf-8"))


def summary(event: Any) -> str:
    """What an event is, in a few words: its source and what it carries."""
    if not isinstance(event, Mapping):
        return "JSON value"
    if "httpMethod" in event:
        return f"API Gateway REST proxy: {event['httpMethod']} {event.get('resource', event.get('path', ''))}"
    records = event.get("Records")
    if isinstance(records, list) and records:
        source = records[0].get("eventSource") or records[0].get("EventSource") or "records"
        kinds = {"aws:kinesis": "Kinesis", "aws:dynamodb": "DynamoDB stream", "aws:sqs": "SQS", "aws:sns": "SNS"}
        return f"{kinds.get(source, source)} batch of {len(records)} record{'s' if len(records) != 1 else ''}"
    if "detail-type" in event:
        return f"EventBridge: {event.get('source')} {event['detail-type']}"
    if "Details" in event and "ContactData" in event.get("Details", {}):
        return "Amazon Connect contact flow invocation"
    keys = ", ".join(sorted(event))
    return f"Step Functions task input ({keys})" if "step" in event or "execution" in event else f"object ({keys})"


def required_fields(function: str) -> list[str]:
    """The top-level fields every sample event of a function has: an event without one is not of its shape."""
    samples = [load(function, name) for name in names(function)]
    objects = [sample for sample in samples if isinstance(sample, Mapping)]
    if not objects or len(objects) != len(samples):
        return []
    common = set(objects[0])
    for sample in objects[1:]:
        common &= set(sample)
    return sorted(common)
