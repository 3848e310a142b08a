"""Step 5, unified live state (stage 5): the customer table's stream through the real state publisher.

Every write the loader and the event processor made to the customer table is on
its DynamoDB stream. The records are read from moto's stream (describe, shard
iterators, `get_records` in the mapping's batch size) and handed to the real
publisher as the Lambda DynamoDB-stream event; its CustomerStateChanged events
arrive on the bus. The rescoring stack's rule picks the model-relevant changes
out of them; a sample of those goes to the real rescorer (the model stood in).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.context import RunContext
from sandbox.events import dynamodb_stream_event

PUBLISHER = "state_publisher.handler.lambda_handler"
RESCORER = "rescorer.handler.lambda_handler"
STATE_CHANGED = "CustomerStateChanged"
GET_RECORDS_LIMIT = 1000
RESCORE_SAMPLE = 60  # each rescoring reads the customer and calls the model: a sample shows it working


@dataclass(frozen=True)
class StateChangesResult:
    stream_records: int
    batches: int
    failed_items: int
    published_on_bus: int
    by_record: Counter[str]
    changed_fields: Counter[str]
    rescore_deliveries: int
    rescored: int
    rescore_outcomes: Counter[str]
    events_per_second: float
    notes: list[str] = field(default_factory=list)


def available(context: RunContext) -> bool:
    return context.platform.has_function(PUBLISHER)


def _stream_records(context: RunContext, stream_arn: str, limit: int) -> list[list[dict[str, Any]]]:
    """The stream's records from the trim horizon, in `get_records` pages of at most the mapping's batch size."""
    streams = context.platform.client("dynamodbstreams")
    batches: list[list[dict[str, Any]]] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=min(limit, GET_RECORDS_LIMIT))
            if not response["Records"]:
                break
            batches.append(response["Records"])
            iterator = response.get("NextShardIterator")
    return batches


def run(context: RunContext) -> StateChangesResult:
    say = context.progress.step("state")
    platform = context.platform
    mapping = platform.event_sources(PUBLISHER)[0]
    stream_arn = mapping.source_arn
    pages = _stream_records(context, stream_arn, mapping.batch_size)
    records = [record for page in pages for record in page]
    say(f"{len(records):,} records on the customer table's stream ({stream_arn.rsplit('/', 1)[-1]})")
    failed = 0
    batches = 0
    handler_seconds = 0.0
    for start in range(0, len(records), mapping.batch_size):
        batch = records[start : start + mapping.batch_size]
        clock = time.perf_counter()
        response = platform.invoke(
            PUBLISHER, dynamodb_stream_event(batch, stream_arn=stream_arn, region=platform.region)
        )
        handler_seconds += time.perf_counter() - clock
        batches += 1
        failed += len(response.get("batchItemFailures", []))
    arrived = [event for event in platform.bus_events("customer-events") if event.get("detail-type") == STATE_CHANGED]
    by_record = Counter(str(event["detail"].get("record")) for event in arrived)
    changed = Counter(name for event in arrived for name in event["detail"].get("changed", []))
    rate = len(records) / handler_seconds if handler_seconds else 0.0
    say(f"{batches} batches through the state publisher: {len(arrived):,} {STATE_CHANGED} on the bus, {failed} failed")

    rule_name, deliveries, outcomes = None, 0, Counter[str]()
    notes = []
    routed = platform.deliveries_to(RESCORER)
    if routed is not None:
        rule_name, delivered = routed
        deliveries = len(delivered)
        for event in delivered[:RESCORE_SAMPLE]:
            answer = platform.invoke(RESCORER, event)
            why = answer.get("source") or answer.get("reason")
            outcomes[f"{answer.get('status')} ({why})" if why else str(answer.get("status"))] += 1
        say(
            f"rule {rule_name} matched {deliveries:,} model-relevant changes; rescored a sample of {sum(outcomes.values())}"
        )
        if deliveries > RESCORE_SAMPLE:
            notes.append(f"rescorer run on the first {RESCORE_SAMPLE} of {deliveries} deliveries")
    return StateChangesResult(
        stream_records=len(records),
        batches=batches,
        failed_items=failed,
        published_on_bus=len(arrived),
        by_record=by_record,
        changed_fields=changed,
        rescore_deliveries=deliveries,
        rescored=sum(outcomes.values()),
        rescore_outcomes=outcomes,
        events_per_second=rate,
        notes=notes,
    )
