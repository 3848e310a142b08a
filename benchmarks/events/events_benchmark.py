"""Event processor benchmarks: records/second through the handler, and DynamoDB requests per batch.

Run: `PYTHONPATH=.:lambdas .venv/bin/python -m benchmarks.events.events_benchmark`
(or `make bench` for the pytest-benchmark wrappers). One batch is 10,000 records
of 1,000 distinct customers (a tenth named by e-mail, resolved through the
identity map; a twentieth by an unknown device id, provisioned). `memory` runs
the real handler (Powertools batch processing, decoding, validation, folding,
projection, metrics) over the in-memory adapters: our own processing, CPU only.
`moto` runs it over moto DynamoDB, SQS and EventBridge in-process, in the
steady state (customers already have a STATE item, see `_seed_states`), so its
figure is dominated by moto. Figures compare runs on one machine; they are not
Lambda predictions.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from unittest import mock

import boto3
from boto3.dynamodb.types import TypeSerializer
from moto import mock_aws

from event_processor.batch import EventBatch
from event_processor.ledger import Ledger, ledger_document
from event_processor.policy import Policy
from event_processor.processor import CoalescingKinesisProcessor
from omni_domain.constants import (
    ENV_CUSTOMER_TABLE,
    ENV_DEAD_LETTER_QUEUE_URL,
    ENV_EVENT_BUS,
    ENV_IDENTITY_TABLE,
    TRIGGER_SOURCE,
)
from omni_domain.dynamodb_store import live_state_item
from omni_domain.identity_map import identity_item, new_link
from omni_domain.models import LiveState
from omni_testing.event_processor import InMemoryResolver, InMemoryStateStore, RecordingDeadLetters, RecordingPublisher
from tests.lambdas.conftest import REGION, TABLES, FakeLambdaContext, create_tables, load_event

Store = Literal["memory", "moto"]
RECORDS = 10_000
CUSTOMERS = 1_000
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "POWERTOOLS_SERVICE_NAME": "event-processor",
    "POWERTOOLS_METRICS_NAMESPACE": "omni-cx-benchmark",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    **TABLES,
}
KINDS = [
    ("page_view", {"page": "/products"}),
    ("product_viewed", {"product_id": "p-1"}),
    ("page_view", {"page": "/basket"}),
    ("cart_updated", {"cart_id": "c-1", "items": [{"product_id": "p-1", "quantity": 1, "unit_price": "9.99"}],
                      "value": "9.99", "currency": "GBP"}),
    ("app_event", {"name": "opened"}),
    ("purchase", {"order_id": "o-1", "amount": "19.99", "currency": "GBP"}),
    ("loyalty_points", {"points": 20}),
    ("page_view", {"page": "/help"}),
    ("contact_started", {"contact_id": "k-1"}),
    ("complaint", {"complaint_id": "cp-1", "category": "delivery", "severity": "medium"}),
]  # fmt: skip
CHANNELS = ["web", "app", "store", "contact_centre"]


@dataclass(frozen=True)
class Throughput:
    store: str
    records: int
    customers: int
    seconds: float
    records_per_second: float
    state_writes: int
    dynamodb_requests: dict[str, int]  # both runs (first + replay), by operation; moto only
    replay_state_writes: int
    failures: int


def _identity(customer: int) -> dict[str, str]:
    if customer % 20 == 1:
        return {"device_id": f"device-{customer:08d}"}
    if customer % 10 == 2:
        return {"email": f"customer{customer}@example.com"}
    return {"customer_id": _golden(customer)}


def kinesis_batch(records: int = RECORDS, customers: int = CUSTOMERS) -> dict[str, Any]:
    """One Lambda Kinesis event: `records` events spread evenly over `customers` customers."""
    template = load_event("kinesis_customer_events")["Records"][0]
    entries = []
    for number in range(records):
        customer = number % customers
        kind, payload = KINDS[(number // customers) % len(KINDS)]
        event = {
            "event_id": f"evt-{number:010d}",
            "event_type": kind,
            "occurred_at": (NOW - timedelta(seconds=records - number)).isoformat(),
            "channel": CHANNELS[(number // customers) % len(CHANNELS)],
            "identity": _identity(customer),
            "payload": payload,
        }
        entry = json.loads(json.dumps(template))
        entry["kinesis"]["data"] = base64.b64encode(json.dumps(event).encode()).decode()
        entry["kinesis"]["sequenceNumber"] = f"{number:056d}"
        # Arrived after it occurred: the sample's own arrival time would make every event "in the future".
        entry["kinesis"]["approximateArrivalTimestamp"] = NOW.timestamp()
        entries.append(entry)
    return {"Records": entries}


def _golden(customer: int) -> str:
    return f"gc-{customer:06d}"


def _known_emails(customers: int) -> dict[str, str]:
    """The identity map the MDM job would have published for the customers named by e-mail."""
    return {f"email#customer{number}@example.com": _golden(number) for number in range(customers) if number % 10 == 2}


def _memory_processor() -> tuple[CoalescingKinesisProcessor, InMemoryStateStore]:
    resolver, states = InMemoryResolver(), InMemoryStateStore()
    for key, customer in _known_emails(CUSTOMERS).items():
        resolver.identity_map.put(new_link(key, customer, origin="mdm", at=NOW))
    batch = EventBatch(
        identities=resolver,
        states=states,
        publisher=RecordingPublisher(),
        dead_letters=RecordingDeadLetters(),
        policy=Policy(spend_threshold=Decimal(100)),
        clock=lambda: NOW,
    )
    return CoalescingKinesisProcessor(batch), states


@contextlib.contextmanager
def _moto_world(calls: Counter[str]) -> Iterator[None]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_tables(dynamodb)
        for key, customer in _known_emails(CUSTOMERS).items():
            item = identity_item(new_link(key, customer, origin="mdm", at=NOW))
            dynamodb.put_item(TableName=TABLES[ENV_IDENTITY_TABLE], Item={k: {"S": v} for k, v in item.items()})
        _seed_states(dynamodb)
        sqs = boto3.client("sqs", region_name=REGION)
        os.environ[ENV_DEAD_LETTER_QUEUE_URL] = sqs.create_queue(QueueName="events-dlq")["QueueUrl"]
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name="bench-bus")
        events.put_rule(Name="all", EventBusName="bench-bus", EventPattern=json.dumps({"source": [TRIGGER_SOURCE]}))
        os.environ[ENV_EVENT_BUS] = "bench-bus"
        boto3.setup_default_session(region_name=REGION)
        session: Any = boto3.DEFAULT_SESSION
        session.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
        try:
            yield
        finally:
            boto3.DEFAULT_SESSION = None
            os.environ.pop(ENV_DEAD_LETTER_QUEUE_URL, None)
            os.environ.pop(ENV_EVENT_BUS, None)


def _seed_states(dynamodb: Any) -> None:
    """Steady state: every customer but the unknown devices already has a STATE item.

    First writes are transactions (they check the ERASURE record), and moto copies
    every table on each transaction: 1,000 of them would time moto, not us.
    """
    serializer = TypeSerializer()
    for customer in range(CUSTOMERS):
        if "device_id" in _identity(customer):
            continue
        item = {
            **live_state_item(_golden(customer), LiveState(version=1)),
            "ledger": ledger_document(Ledger()),
        }
        dynamodb.put_item(
            TableName=TABLES[ENV_CUSTOMER_TABLE], Item={name: serializer.serialize(v) for name, v in item.items()}
        )


def throughput(store: Store, *, records: int = RECORDS) -> Throughput:
    """Process one batch through the handler (timed), then replay it (counted, not timed)."""
    event = kinesis_batch(records)
    calls: Counter[str] = Counter()
    with mock.patch.dict(os.environ, ENVIRONMENT), _moto_world(calls) if store == "moto" else contextlib.nullcontext():
        # Powertools reads the environment when the handler module loads, as in Lambda: import it once set.
        from event_processor import dependencies, handler  # noqa: PLC0415

        if store == "memory":
            processor, _ = _memory_processor()
            dependencies.use(processor)
        else:
            dependencies.use(None)
        context = FakeLambdaContext(function_name="event-processor")
        with contextlib.redirect_stdout(io.StringIO()):
            started = time.perf_counter()
            response = handler.lambda_handler(event, context)
            seconds = time.perf_counter() - started
            first = dependencies.current().report
            handler.lambda_handler(event, context)
            replay = dependencies.current().report
        requests = dict(calls)
        dependencies.use(None)
    return Throughput(
        store=store,
        records=records,
        customers=first.customers,
        seconds=round(seconds, 3),
        records_per_second=round(records / seconds),
        state_writes=first.state_writes,
        dynamodb_requests=requests,
        replay_state_writes=replay.state_writes,
        failures=len(response["batchItemFailures"]),
    )


def main() -> None:
    results = [asdict(throughput("memory")), asdict(throughput("moto"))]
    print(json.dumps(results, indent=2))  # noqa: T201 - the benchmark's report


if __name__ == "__main__":
    main()
