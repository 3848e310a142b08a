"""DynamoDB request units and EventBridge entries per customer event, measured on moto: the cost estimate's inputs.

Run: `PYTHONPATH=.:lambdas .venv/bin/python -m benchmarks.events.request_units`.
The real event processor handler runs over moto with a botocore hook on every
DynamoDB and EventBridge call. DynamoDB's units are computed from each request
as the service bills them on demand: a consistent read is 1 RRU per 4 KB of
the item (a missing item still 1), a write 1 WRU per 1 KB of the item, a
transaction twice that per item. Item sizes are the marshalled attribute names
and values (DynamoDB's own rule, to within a few bytes).

Worst case for the bill, and the one measured: every event is alone in its
batch for its customer (no coalescing), on a customer who already has a live
state. The STATE item grows with the ids of the events it remembers (the
processor's dedup window), so its size is measured after 1 and after 21 events
of one customer and reported as a base plus bytes per remembered event.
`infra/cost.py` records the figures this prints, as its measured constants.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from typing import Any
from unittest import mock

from benchmarks.events.events_benchmark import ENVIRONMENT, _moto_world, kinesis_batch
from tests.lambdas.conftest import FakeLambdaContext

CUSTOMERS = 200
GROWTH_EVENTS = 20


def attribute_bytes(value: dict[str, Any]) -> int:  # noqa: PLR0911 - one return per DynamoDB type
    """Size of one marshalled attribute value as DynamoDB counts it."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return math.ceil(len(inner.lstrip("-").replace(".", "")) / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + 1 + attribute_bytes(item) for name, item in inner.items())
    if kind == "L":
        return 3 + sum(1 + attribute_bytes(item) for item in inner)
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_bytes({kind[0]: item}) for item in inner)
    raise ValueError(f"unknown attribute type {kind}")


def item_bytes(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_bytes(value) for name, value in item.items())


class Meter:
    """Request units and entries counted from each call's parameters (and a read's response)."""

    def __init__(self) -> None:
        self.rru = 0.0
        self.wru = 0.0
        self.state_item_bytes: list[int] = []
        self.bus_entries = 0
        self.calls: Counter[str] = Counter()

    def before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "PutItem":
            self.wru += math.ceil(item_bytes(params["Item"]) / 1024)
            self.state_item_bytes.append(item_bytes(params["Item"]))
        elif model.name == "TransactWriteItems":
            for action in params["TransactItems"]:
                put = action.get("Put")
                self.wru += 2 * (math.ceil(item_bytes(put["Item"]) / 1024) if put else 1)
        elif model.name == "PutEvents":
            self.bus_entries += len(params["Entries"])
        elif model.name == "BatchGetItem":
            self.rru += sum(len(table["Keys"]) for table in params["RequestItems"].values())
        elif model.name in ("GetItem", "Query"):
            self.rru += 1

    def after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.name == "BatchGetItem":
            # A key costs 1 unit per 4 KB of its item (counted once in `before`): the units beyond the first.
            found = [item for items in parsed.get("Responses", {}).values() for item in items]
            self.rru += sum(max(1, math.ceil(item_bytes(item) / 4096)) - 1 for item in found)


def measure(customers: int = CUSTOMERS) -> dict[str, Any]:
    """Units per event in the steady state (one event per customer per batch) and the STATE item's growth."""
    meter = Meter()
    with mock.patch.dict(os.environ, ENVIRONMENT), _moto_world(Counter()):
        import boto3  # noqa: PLC0415

        session: Any = boto3.DEFAULT_SESSION
        # provide-client-params: the call's parameters as the code passed them (before-call has the wire body).
        session.events.register("provide-client-params.dynamodb", meter.before)
        session.events.register("provide-client-params.events", meter.before)
        session.events.register("after-call.dynamodb", meter.after)
        from event_processor import dependencies, handler  # noqa: PLC0415

        dependencies.use(None)
        context = FakeLambdaContext(function_name="event-processor")
        # Event n goes to customer n % customers: `customers` events are one per customer; each later
        # batch of the same size gives every customer one more event (new ids, later times).
        events = kinesis_batch(customers * (GROWTH_EVENTS + 1), customers)["Records"]
        batches = [events[start : start + customers] for start in range(0, len(events), customers)]
        handler.lambda_handler({"Records": batches[0]}, context)
        report = dependencies.current().report
        first: dict[str, Any] = {
            "rru": meter.rru,
            "wru": meter.wru,
            "bus_entries": meter.bus_entries,
            "state_writes": report.state_writes,
            "item_bytes": sorted(meter.state_item_bytes),
            "calls": dict(meter.calls),
        }
        for batch in batches[1:]:
            handler.lambda_handler({"Records": batch}, context)
        last_bytes = sorted(meter.state_item_bytes[-report.state_writes :]) if report.state_writes else []
        dependencies.use(None)
    events_in_first = len(batches[0])
    median_first = first["item_bytes"][len(first["item_bytes"]) // 2] if first["item_bytes"] else 0
    median_last = last_bytes[len(last_bytes) // 2] if last_bytes else 0
    return {
        "events": events_in_first,
        "state_writes": first["state_writes"],
        "dynamodb_calls": first["calls"],
        "rru_per_event": round(first["rru"] / events_in_first, 3),
        "wru_per_event": round(first["wru"] / events_in_first, 3),
        "bus_entries_per_event": round(first["bus_entries"] / events_in_first, 3),
        "state_item_bytes_after_1_event": median_first,
        f"state_item_bytes_after_{GROWTH_EVENTS + 1}_events": median_last,
        "state_item_bytes_per_remembered_event": round((median_last - median_first) / GROWTH_EVENTS, 1),
    }


def main() -> None:
    print(json.dumps(measure(), indent=2))  # noqa: T201 - the measurement's report


if __name__ == "__main__":
    main()
