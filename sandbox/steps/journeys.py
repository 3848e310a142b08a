"""Step 2, experience pathway: synthetic journeys on the stream, the real event processor reading it.

Journeys (browse, cart, purchase, abandonment, complaint, contact-centre call)
are put on the experience stack's Kinesis stream with `put_records`, keyed by
the events' own partition key; they are read back shard by shard with the
event source mapping's batch size and starting position (from the template) and
handed to the real handler as the Lambda Kinesis event. Records the handler
reports failed are retried as the mapping does (`sandbox.stream_mapping`): the
batch is sent again from the earliest failed record onward, later records that
had succeeded included, bisected on a function error, up to the mapping's
MaximumRetryAttempts; a batch still failing then goes to the mapping's
on-failure destination as Lambda's on-failure record. Triggers arrive on the custom bus, seen through the sandbox's tap.

Producers misbehave as real ones do: a few events are invalid (an unknown type,
a missing field, a local time, a clock a day fast), and a few are put twice (a
retried put that had succeeded), usually landing in the same batch.

"No event lost" is counted from moto where it can be: the records read back from
the stream, the dead-letter queue's depth, the on-failure records' batch sizes,
and the additive events the customers' ledgers in the customers table hold;
every record read, a copy put twice included, has exactly one outcome.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from event_processor.rules import ADDITIVE_TYPES
from omni_domain.constants import CUSTOMER_SORT_KEY, ENV_FUTURE_TOLERANCE_MINUTES, LIVE_STATE_RECORD
from omni_domain.customer_events import InvalidEventError, check_not_future, parse_event
from sandbox import stream_mapping
from sandbox.context import GoldenCustomer, RunContext
from sandbox.events import kinesis_event

PROCESSOR = "event_processor.handler.lambda_handler"
PUT_RECORDS_LIMIT = 500
INVALID_SHARE = 0.006  # producer bugs the pathway must dead-letter, not lose
DUPLICATE_SHARE = 0.01  # events a producer puts twice (its put succeeded, it retried anyway)
# Journeys end at least this long before the run's clock: only the deliberately broken clocks are in the future.
LATEST_JOURNEY_END = timedelta(minutes=4)
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
    triggers: Counter[str] = field(default_factory=Counter)
    retried_records: int = 0  # records sent again (Lambda resends from the earliest failed record onward)
    failed_after_retries: int = 0  # records of batches sent to the on-failure destination
    counted_twice: int = 0  # settled records the handler saw again (a resend, or an exhausted batch's last attempt)
    crashed_invocations: int = 0  # invocations that died before answering: their report is lost with them
    redelivered_records: int = 0  # records of processed batches the stream delivered again (injected faults)
    read_back: set[str] = field(default_factory=set)  # sequence numbers read from the stream
    handler_seconds: float = 0.0

    @property
    def applied_total(self) -> int:
        return sum(self.applied.values())


@dataclass(frozen=True)
class JourneysResult:
    journeys: Counter[str]
    events_in: int  # records put on the stream (accepted by put_records)
    read_back: int  # distinct records read back from the stream's shards
    invalid_sent: int
    duplicates_sent: int  # valid events put a second time, right after the first
    events_by_type: Counter[str]
    tally: StreamTally
    dead_letter_messages: int  # the dead-letter queue's depth in moto
    failed_batch_records: int  # records of the on-failure records in the mapping's destination queue (moto)
    on_failure_messages: int
    additive_reported: int  # additive events (purchases, complaints...) the handler reported applied
    additive_in_ledgers: int  # their ids in the customers' ledgers in the customers table (moto)
    state_items: int  # live-state items in the customers table
    bus_events: Counter[str]
    sample_triggers: list[dict[str, Any]]
    events_per_second: float

    @property
    def accounted(self) -> int:
        """Every record's final outcome: applied, a duplicate, erased, dead-lettered, or in a failed batch.

        Dead letters and failed batches are read from moto; a record Lambda handed to
        the handler again after it had settled is reported twice and counted once.
        """
        tally = self.tally
        return (
            tally.applied_total
            + tally.duplicates
            + tally.erased_skipped
            + self.dead_letter_messages
            + self.failed_batch_records
            - tally.counted_twice
        )

    @property
    def consistent(self) -> bool:
        """No event lost: what was put was read back, and every record read has exactly one outcome
        (a copy put twice is a duplicate: the handler also reports records Lambda resent as duplicates).

        An invocation that died after some writes took its report with it: the events it applied are in
        the ledgers and come back duplicates on the retry, so the ledgers may then hold more than reported.
        """
        ledgers_agree = (
            self.additive_in_ledgers >= self.additive_reported
            if self.tally.crashed_invocations
            else self.additive_in_ledgers == self.additive_reported
        )
        return ledgers_agree and (
            self.read_back == self.events_in
            and self.accounted == self.events_in
            and self.tally.duplicates >= self.duplicates_sent
            and self.tally.dead_lettered == self.dead_letter_messages
            and self.failed_batch_records == self.tally.failed_after_retries
        )


def generate(context: RunContext, population: list[GoldenCustomer], journeys: int) -> tuple[list[bytes], Counter[str]]:
    """The journeys' events as the JSON a producer puts on the stream, in time order; some deliberately invalid,
    some valid ones put twice in a row."""
    rng = context.rng
    kinds = rng.choices(list(JOURNEY_WEIGHTS), weights=list(JOURNEY_WEIGHTS.values()), k=journeys)
    events: list[tuple[str, dict[str, Any]]] = []
    for number, drawn in enumerate(kinds):
        customer = rng.choice(population) if population and rng.random() > ANONYMOUS_SHARE else None
        kind = drawn
        if kind == "purchase" and customer is not None and rng.random() > customer.intent + 0.3:
            kind = "browse"  # low intent browses rather than buys: the signal the propensity model learns
        steps = _journey(context, kind, number, customer)
        # Steps are at most 240 s apart: starting early enough, a journey ends before LATEST_JOURNEY_END.
        earliest = LATEST_JOURNEY_END.total_seconds() + 240 * (len(steps) - 1)
        start = context.now - timedelta(seconds=rng.uniform(earliest, 2 * 24 * 3600))
        for offset, event in enumerate(steps):
            occurred = start + timedelta(seconds=offset * rng.uniform(20, 240))
            events.append((occurred.isoformat().replace("+00:00", "Z"), event))
    events.sort(key=lambda pair: pair[0])
    documents = []
    for sequence, (occurred_at, body) in enumerate(events):
        event = {"event_id": f"sbx-{context.sizes.seed}-{sequence:08d}", "occurred_at": occurred_at, **body}
        if rng.random() < INVALID_SHARE:
            documents.append(json.dumps(_broken(context, event)).encode())
            continue
        documents.append(json.dumps(event).encode())
        if rng.random() < DUPLICATE_SHARE:
            documents.append(documents[-1])
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
    """The producer bugs a real pathway sees: an unknown type, a missing field, a local time, a clock a day fast."""
    bug = context.rng.randrange(4)
    if bug == 0:
        return {**event, "event_type": "page_viewed"}
    if bug == 1:
        return {key: value for key, value in event.items() if key != "channel"}
    if bug == 2:
        return {**event, "occurred_at": event["occurred_at"].replace("Z", "")}
    fast = datetime.fromisoformat(event["occurred_at"]) + timedelta(days=1)
    return {**event, "occurred_at": fast.isoformat().replace("+00:00", "Z")}


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
    kinesis = platform.client("kinesis")
    stream = platform.stream("customer-events")
    stream_arn = platform.stream_arn("customer-events")
    failure_queue = stream_mapping.on_failure_queue(platform, mapping)
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
            tally.read_back.update(record["SequenceNumber"] for record in response["Records"])
            poll = stream_mapping.Poll(
                handler=PROCESSOR,
                mapping=mapping,
                kind=stream_mapping.KINESIS,
                shard_id=shard_id,
                stream_arn=stream_arn,
                on_failure_queue=failure_queue,
                event=functools.partial(kinesis_event, stream_arn=stream_arn, shard_id=shard_id),
            )
            _deliver(context, response["Records"], poll, tally)


def _deliver(context: RunContext, records: list[dict[str, Any]], poll: stream_mapping.Poll, tally: StreamTally) -> None:
    """One batch as Lambda handles it with ReportBatchItemFailures (`sandbox.stream_mapping`), then, as an
    injected fault, the same batch delivered once more."""
    tally.records += len(records)

    def report(_response: Any) -> None:
        # The handler's composition root holds its report of the batch; imported once the handler has run.
        _add(tally, importlib.import_module("event_processor.dependencies").current().report)

    faults = context.faults
    settled = stream_mapping.deliver(context.platform, records, poll, tally, faults=faults, answered=report)
    if settled and faults is not None and faults.redeliver():
        # The stream hands the processed batch over again (as after a lost checkpoint): every record a second time.
        tally.counted_twice += len(records)
        tally.redelivered_records += len(records)
        applied_before = tally.applied_total
        stream_mapping.deliver(context.platform, records, poll, tally, faults=faults, answered=report)
        faults.redelivered(applied_again=tally.applied_total - applied_before, records=len(records))


def _add(tally: StreamTally, report: Any) -> None:
    """One invocation's BatchReport, added to the tally."""
    tally.batches += 1
    tally.applied.update(report.applied)
    tally.dead_lettered += report.dead_lettered
    tally.duplicates += report.duplicates
    tally.erased_skipped += report.erased_skipped
    tally.provisional_ids += report.provisional_ids
    tally.state_writes += report.state_writes
    tally.triggers.update(report.triggers)


def on_failure_queue(context: RunContext) -> str | None:
    """The queue of the event source mapping's on-failure destination (None: the mapping has none)."""
    platform = context.platform
    return stream_mapping.on_failure_queue(platform, platform.event_sources(PROCESSOR)[0])


def failed_batches(context: RunContext) -> tuple[int, int]:
    """The on-failure records waiting in the destination queue (moto) and the records they cover."""
    platform = context.platform
    return stream_mapping.failed_batches(platform, platform.event_sources(PROCESSOR)[0], stream_mapping.KINESIS)


def additive_in_ledgers(context: RunContext) -> tuple[int, int]:
    """Additive event ids held in the customers' ledgers (live-state items of the customers table), and the items."""
    platform = context.platform
    paginator = platform.client("dynamodb").get_paginator("scan")
    ids: set[str] = set()
    items = 0
    for page in paginator.paginate(
        TableName=platform.table("customers"),
        FilterExpression="#r = :state",
        ProjectionExpression="#r, #l.#a",
        ExpressionAttributeNames={"#r": CUSTOMER_SORT_KEY, "#l": "ledger", "#a": "applied"},
        ExpressionAttributeValues={":state": {"S": LIVE_STATE_RECORD}},
    ):
        for item in page["Items"]:
            items += 1
            ids.update(item.get("ledger", {}).get("M", {}).get("applied", {}).get("M", {}))
    return len(ids), items


def run(context: RunContext, population: list[GoldenCustomer]) -> JourneysResult:
    say = context.progress.step("journeys")
    platform = context.platform
    documents, journeys = generate(context, population, context.sizes.journeys)
    by_type: Counter[str] = Counter(json.loads(doc).get("event_type", "?") for doc in documents)
    tolerance = timedelta(minutes=int(platform.function_environment(PROCESSOR)[ENV_FUTURE_TOLERANCE_MINUTES]))
    invalid = sum(1 for doc in documents if _invalid(doc, tolerance))
    put_twice = len(documents) - len(set(documents))  # every event id is unique: only a copy repeats a document
    say(
        f"{context.sizes.journeys:,} journeys -> {len(documents):,} events"
        f" ({invalid} deliberately invalid, {put_twice} put twice)"
    )
    sent = put_on_stream(context, documents)
    say(f"put {sent:,} records on {platform.stream('customer-events')}")
    tally = StreamTally()
    consume(context, tally)
    say(f"read back {len(tally.read_back):,} records from the stream")
    rate = tally.records / tally.handler_seconds if tally.handler_seconds else 0.0
    say(
        f"{tally.batches} batches through the event processor: {tally.applied_total:,} applied, "
        f"{tally.duplicates} duplicates, {tally.dead_lettered} dead-lettered, {rate:,.0f} events/s"
    )
    queue = platform.function_environment(PROCESSOR)["EVENT_DEAD_LETTER_QUEUE_URL"]
    dead_letters = platform.queue_depth(queue)
    on_failure_messages, failed_batch_records = failed_batches(context)
    in_ledgers, state_items = additive_in_ledgers(context)
    additive = sum(count for (event_type, _), count in tally.applied.items() if event_type in ADDITIVE_TYPES)
    say(
        f"moto holds {dead_letters} dead letters, {on_failure_messages} on-failure records "
        f"({failed_batch_records} records), {in_ledgers:,} additive event ids in {state_items:,} ledgers"
        f" ({additive:,} reported applied); {tally.retried_records} records resent"
    )
    arrived = platform.bus_events("customer-events")
    on_bus = Counter(str(event.get("detail-type")) for event in arrived)
    say(f"{sum(on_bus.values()):,} events arrived on the bus: {dict(on_bus)}")
    samples = _samples(arrived)
    return JourneysResult(
        journeys=journeys,
        events_in=sent,
        read_back=len(tally.read_back),
        invalid_sent=invalid,
        duplicates_sent=put_twice,
        events_by_type=by_type,
        tally=tally,
        dead_letter_messages=dead_letters,
        failed_batch_records=failed_batch_records,
        on_failure_messages=on_failure_messages,
        additive_reported=additive,
        additive_in_ledgers=in_ledgers,
        state_items=state_items,
        bus_events=on_bus,
        sample_triggers=samples,
        events_per_second=rate,
    )


def _invalid(document: bytes, tolerance: timedelta) -> bool:
    """Whether the processor must dead-letter it (the stream receives it after this moment)."""
    try:
        check_not_future(parse_event(document), now=datetime.now(UTC), tolerance=tolerance)
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
