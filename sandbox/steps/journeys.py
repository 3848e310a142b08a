"""Step 2, experience pathway: synthetic journeys on the stream, the real event processor reading it.

Journeys (browse, cart, purchase, abandonment, complaint, contact-centre call)
are put on the experience stack's Kinesis stream with `put_records`, keyed by
the events' own partition key; they are read back shard by shard with the
event source mapping's batch size and starting position (from the template) and
handed to the real handler as the Lambda Kinesis event. Records the handler
reports failed are retried as the mapping would. Triggers arrive on the custom
bus, seen through the sandbox's tap.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from omni_domain.customer_events import InvalidEventError, parse_event
from sandbox.context import GoldenCustomer, RunContext
from sandbox.events import kinesis_event

PROCESSOR = "event_processor.handler.lambda_handler"
PUT_RECORDS_LIMIT = 500
INVALID_SHARE = 0.006  # producer bugs the pathway must dead-letter, not lose
ANONYMOUS_SHARE = 0.12
JOURNEY_WEIGHTS = {"browse": 34, "abandonment": 18, "purchase": 26, "complaint": 8, "call": 14}
CATEGORIES = ("delivery", "product", "billing", "service")
SEVERITIES = ("low", "medium", "medium", "high")


@dataclass
class StreamTally:
    """What the handler reported over every batch (its own BatchReport, summed)."""

    batches: int = 0
    records: int = 0
    applied: Counter[tuple[str, str]] = field(default_factory=Counter)
    dead_lettered: int = 0
    duplicates: int = 0
    erased_skipped: int = 0
    provisional_ids: int = 0
    state_writes: int = 0
    write_conflicts: int = 0
    invalid_reasons: Counter[str] = field(default_factory=Counter)
    triggers: Counter[str] = field(default_factory=Counter)
    retried_records: int = 0
    failed_after_retries: int = 0
    handler_seconds: float = 0.0

    @property
    def applied_total(self) -> int:
        return sum(self.applied.values())


@dataclass(frozen=True)
class JourneysResult:
    journeys: Counter[str]
    events_in: int
    invalid_sent: int
    events_by_type: Counter[str]
    tally: StreamTally
    dead_letter_messages: int
    bus_events: Counter[str]
    sample_triggers: list[dict[str, Any]]
    events_per_second: float
    seconds: float

    @property
    def consistent(self) -> bool:
        """No event lost: every record put on the stream was applied, a duplicate, or dead-lettered."""
        tally = self.tally
        accounted = (
            tally.applied_total
            + tally.dead_lettered
            + tally.duplicates
            + tally.erased_skipped
            + tally.failed_after_retries
        )
        return accounted == self.events_in and tally.dead_lettered == self.dead_letter_messages


def generate(context: RunContext, population: list[GoldenCustomer], journeys: int) -> tuple[list[bytes], Counter[str]]:
    """The journeys' events as the JSON a producer puts on the stream, in time order; some deliberately invalid."""
    rng = context.rng
    kinds = rng.choices(list(JOURNEY_WEIGHTS), weights=list(JOURNEY_WEIGHTS.values()), k=journeys)
    events: list[tuple[str, dict[str, Any]]] = []
    for number, drawn in enumerate(kinds):
        customer = rng.choice(population) if population and rng.random() > ANONYMOUS_SHARE else None
        kind = drawn
        if kind == "purchase" and customer is not None and rng.random() > customer.intent + 0.3:
            kind = "browse"  # low intent browses rather than buys: the signal the propensity model learns
        start = context.now - timedelta(seconds=rng.uniform(600, 2 * 24 * 3600))
        for offset, event in enumerate(_journey(context, kind, number, customer)):
            occurred = start + timedelta(seconds=offset * rng.uniform(20, 240))
            events.append((occurred.isoformat().replace("+00:00", "Z"), event))
    events.sort(key=lambda pair: pair[0])
    documents = []
    for sequence, (occurred_at, body) in enumerate(events):
        event = {"event_id": f"sbx-{context.sizes.seed}-{sequence:08d}", "occurred_at": occurred_at, **body}
        documents.append(json.dumps(_broken(context, event) if rng.random() < INVALID_SHARE else event).encode())
    return documents, Counter(kinds)


def _identity(context: RunContext, customer: GoldenCustomer | None, number: int) -> dict[str, str]:
    if customer is None:
        return {"device_id": f"device-{context.sizes.seed}-{number % 997:05d}"}
    draw = context.rng.random()
    if draw < 0.15 and customer.email:
        return {"email": customer.email}
    if draw < 0.22 and customer.phone:
        return {"phone": customer.phone}
    return {"customer_id": customer.golden_id}


def _journey(context: RunContext, kind: str, number: int, customer: GoldenCustomer | None) -> list[dict[str, Any]]:
    rng = context.rng
    identity = _identity(context, customer, number)
    channel = rng.choice(("web", "web", "app", "app", "store")) if kind not in ("call",) else "contact_centre"
    if kind == "complaint":
        channel = rng.choice(("web", "app", "contact_centre"))

    def event(event_type: str, payload: dict[str, Any], on: str | None = None) -> dict[str, Any]:
        return {"event_type": event_type, "channel": on or channel, "identity": identity, "payload": payload}

    product = f"p-{rng.randrange(1, 400):04d}"
    steps = [event("page_view", {"page": rng.choice(("/", "/offers", "/broadband", "/mobile", "/help"))})]
    if kind in ("browse", "abandonment", "purchase"):
        steps.append(
            event("product_viewed", {"product_id": product, "category": rng.choice(("mobile", "broadband", "tv"))})
        )
    if kind in ("abandonment", "purchase"):
        quantity = rng.randint(1, 3)
        price = Decimal(str(round(rng.lognormvariate(4.2, 0.8), 2)))
        value = str(price * quantity)
        cart = f"cart-{number:07d}"
        items = [{"product_id": product, "quantity": quantity, "unit_price": str(price)}]
        steps.append(event("cart_updated", {"cart_id": cart, "items": items, "value": value, "currency": "GBP"}))
        if kind == "abandonment":
            payload = {"cart_id": cart, "value": value, "currency": "GBP", "item_count": quantity}
            steps.append(event("cart_abandoned", payload))
        else:
            amount = price * quantity
            if customer is not None and rng.random() < customer.intent**2:
                amount = amount * 8  # the big orders that cross the spending threshold
            payload = {"order_id": f"o-{number:07d}", "amount": str(amount), "currency": "GBP", "cart_id": cart}
            steps.append(event("purchase", payload))
            if rng.random() < 0.1:
                steps.append(event("loyalty_points", {"points": int(amount), "reason": "purchase"}))
    if kind == "complaint":
        complaint = f"cp-{number:07d}"
        payload = {"complaint_id": complaint, "category": rng.choice(CATEGORIES), "severity": rng.choice(SEVERITIES)}
        steps.append(event("complaint", payload))
    if kind == "call":
        contact = f"k-{number:07d}"
        steps = [
            event("contact_started", {"contact_id": contact, "reason": rng.choice(("billing", "upgrade", "fault"))}),
            event(
                "contact_resolved",
                {"contact_id": contact, "outcome": rng.choice(("resolved", "resolved", "unresolved"))},
            ),
        ]
    if kind == "browse" and rng.random() < 0.3:
        steps.append(event("app_event", {"name": "opened", "properties": {"version": "4.2"}}, on="app"))
    return steps


def _broken(context: RunContext, event: dict[str, Any]) -> dict[str, Any]:
    """The producer bugs a real pathway sees: an unknown type, a missing field, a local time."""
    bug = context.rng.randrange(3)
    if bug == 0:
        return {**event, "event_type": "page_viewed"}
    if bug == 1:
        return {key: value for key, value in event.items() if key != "channel"}
    return {**event, "occurred_at": event["occurred_at"].replace("Z", "")}


def _partition_key(document: bytes) -> str:
    try:
        return parse_event(document).identity.partition_key
    except InvalidEventError:
        return hashlib.sha256(document).hexdigest()


def put_on_stream(context: RunContext, documents: list[bytes]) -> int:
    kinesis = context.platform.client("kinesis")
    stream = context.platform.stream("customer-events")
    sent = 0
    for start in range(0, len(documents), PUT_RECORDS_LIMIT):
        pending = [
            {"Data": doc, "PartitionKey": _partition_key(doc)} for doc in documents[start : start + PUT_RECORDS_LIMIT]
        ]
        while pending:
            response = kinesis.put_records(StreamName=stream, Records=pending)
            failed = [
                entry for entry, result in zip(pending, response["Records"], strict=True) if "ErrorCode" in result
            ]
            sent += len(pending) - len(failed)
            pending = failed
    return sent


def consume(context: RunContext, tally: StreamTally) -> None:
    """Read every shard from the mapping's starting position in the mapping's batch size, as Lambda polls it."""
    platform = context.platform
    mapping = platform.event_sources(PROCESSOR)[0]
    max_retries = int(mapping.properties.get("MaximumRetryAttempts", 2))
    kinesis = platform.client("kinesis")
    stream = platform.stream("customer-events")
    stream_arn = platform.stream_arn("customer-events")
    if not context.shard_iterators:  # the first poll: from the mapping's starting position
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            context.shard_iterators[shard["ShardId"]] = kinesis.get_shard_iterator(
                StreamName=stream,
                ShardId=shard["ShardId"],
                ShardIteratorType=mapping.starting_position or "TRIM_HORIZON",
            )["ShardIterator"]
    for shard_id in list(context.shard_iterators):
        while True:
            response = kinesis.get_records(ShardIterator=context.shard_iterators[shard_id], Limit=mapping.batch_size)
            context.shard_iterators[shard_id] = response["NextShardIterator"]
            if not response["Records"]:
                break
            _deliver(context, response["Records"], stream_arn, tally, max_retries)


def _deliver(
    context: RunContext, records: list[dict[str, Any]], stream_arn: str, tally: StreamTally, max_retries: int
) -> None:
    # The handler's composition root holds its report of the batch; imported once the handler has run.
    dependencies = importlib.import_module("event_processor.dependencies")

    batch = records
    for attempt in range(max_retries + 1):
        started = time.perf_counter()
        response = context.platform.invoke(
            PROCESSOR, kinesis_event(batch, stream_arn=stream_arn, region=context.platform.region)
        )
        tally.handler_seconds += time.perf_counter() - started
        report = dependencies.current().report
        tally.batches += 1
        tally.records += len(batch) if attempt == 0 else 0
        tally.applied.update(report.applied)
        tally.dead_lettered += report.dead_lettered
        tally.duplicates += report.duplicates
        tally.erased_skipped += report.erased_skipped
        tally.provisional_ids += report.provisional_ids
        tally.state_writes += report.state_writes
        tally.write_conflicts += report.write_conflicts
        tally.invalid_reasons.update(report.invalid_reasons)
        tally.triggers.update(report.triggers)
        failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        if not failed:
            return
        batch = [record for record in batch if record["SequenceNumber"] in failed]
        if attempt < max_retries:
            tally.retried_records += len(batch)
    tally.failed_after_retries += len(batch)


def run(context: RunContext, population: list[GoldenCustomer]) -> JourneysResult:
    say = context.progress.step("journeys")
    started = context.progress.elapsed
    platform = context.platform
    documents, journeys = generate(context, population, context.sizes.journeys)
    by_type: Counter[str] = Counter(json.loads(doc).get("event_type", "?") for doc in documents)
    invalid = sum(1 for doc in documents if _invalid(doc))
    say(f"{context.sizes.journeys:,} journeys -> {len(documents):,} events ({invalid} deliberately invalid)")
    sent = put_on_stream(context, documents)
    say(f"put {sent:,} records on {platform.stream('customer-events')}")
    tally = StreamTally()
    consume(context, tally)
    rate = tally.records / tally.handler_seconds if tally.handler_seconds else 0.0
    say(
        f"{tally.batches} batches through the event processor: {tally.applied_total:,} applied, "
        f"{tally.dead_lettered} dead-lettered, {rate:,.0f} events/s"
    )
    queue = platform.function_environment(PROCESSOR)["EVENT_DEAD_LETTER_QUEUE_URL"]
    dead_letters = platform.queue_depth(queue)
    arrived = platform.bus_events("customer-events")
    on_bus = Counter(str(event.get("detail-type")) for event in arrived)
    say(f"{sum(on_bus.values()):,} events arrived on the bus: {dict(on_bus)}")
    samples = _samples(arrived)
    return JourneysResult(
        journeys=journeys,
        events_in=sent,
        invalid_sent=invalid,
        events_by_type=by_type,
        tally=tally,
        dead_letter_messages=dead_letters,
        bus_events=on_bus,
        sample_triggers=samples,
        events_per_second=rate,
        seconds=context.progress.elapsed - started,
    )


def _invalid(document: bytes) -> bool:
    try:
        parse_event(document)
    except InvalidEventError:
        return True
    return False


def _samples(arrived: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for event in arrived:
        seen.setdefault(
            str(event.get("detail-type")), {"detail-type": event.get("detail-type"), **event.get("detail", {})}
        )
    return list(seen.values())
