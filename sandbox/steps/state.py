"""Step 5, unified live state (stage 5): the customer table's stream through the real state publisher.

Every write the loader and the event processor made to the customer table is on
its DynamoDB stream. The records are read from moto's stream (describe, shard
iterators, `get_records` in the mapping's batch size) and handed to the real
publisher as the Lambda DynamoDB-stream event; its CustomerStateChanged events
arrive on the bus. Records it reports failed (a change it could not put on the
bus) are retried as the event source mapping does (`sandbox.stream_mapping`: from
the earliest failed record, up to MaximumRetryAttempts, then the batch's metadata
to the on-failure destination, which `omni state-changes redrive` reads). The rescoring stack's rule picks the model-relevant changes
out of them; a sample of those goes to the real rescorer (the model stood in).
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox import stream_mapping
from sandbox.context import RunContext
from sandbox.events import dynamodb_stream_event

PUBLISHER = "state_publisher.handler.lambda_handler"
RESCORER = "rescorer.handler.lambda_handler"
STATE_CHANGED = "CustomerStateChanged"
GET_RECORDS_LIMIT = 1000
RESCORE_SAMPLE = 60  # each rescoring reads the customer and calls the model: a sample shows it working


@dataclass
class PublisherTally:
    """What the stream's mapping did with the publisher's batches (`sandbox.stream_mapping.MappingTally`)."""

    invocations: int = 0
    failed_items: int = 0  # records the publisher reported failed, over every attempt (the mapping retried them)
    retried_records: int = 0
    failed_after_retries: int = 0
    counted_twice: int = 0
    crashed_invocations: int = 0
    handler_seconds: float = 0.0

    def answered(self, response: Any) -> None:
        self.invocations += 1
        self.failed_items += len((response or {}).get("batchItemFailures", []))


@dataclass(frozen=True)
class StateChangesResult:
    stream_records: int
    batches: int
    failed_items: int  # reported failed over every attempt, retried by the mapping
    given_up: int  # records of batches given up after the mapping's retries
    on_failure_records: int  # the records the on-failure records in the mapping's destination cover (moto)
    retried_records: int
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


def _stream_records(context: RunContext, stream_arn: str, limit: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """The stream's records from the trim horizon, per shard in `get_records` pages of at most the mapping's batch
    size."""
    streams = context.platform.client("dynamodbstreams")
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=min(limit, GET_RECORDS_LIMIT))
            if not response["Records"]:
                break
            batches.append((shard["ShardId"], response["Records"]))
            iterator = response.get("NextShardIterator")
    return batches


def run(context: RunContext) -> StateChangesResult:
    say = context.progress.step("state")
    platform = context.platform
    mapping = platform.event_sources(PUBLISHER)[0]
    stream_arn = mapping.source_arn
    pages = _stream_records(context, stream_arn, mapping.batch_size)
    records = sum(len(page) for _, page in pages)
    say(f"{records:,} records on the customer table's stream ({stream_arn.rsplit('/', 1)[-1]})")
    failure_queue = stream_mapping.on_failure_queue(platform, mapping)
    as_event = functools.partial(dynamodb_stream_event, stream_arn=stream_arn, region=platform.region)
    tally = PublisherTally()
    for shard_id, batch in pages:
        poll = stream_mapping.Poll(
            handler=PUBLISHER,
            mapping=mapping,
            kind=stream_mapping.DYNAMODB,
            shard_id=shard_id,
            stream_arn=stream_arn,
            on_failure_queue=failure_queue,
            event=as_event,
        )
        stream_mapping.deliver(platform, batch, poll, tally, faults=context.faults, answered=tally.answered)
    _, on_failure_records = stream_mapping.failed_batches(platform, mapping, stream_mapping.DYNAMODB)
    arrived = [event for event in platform.bus_events("customer-events") if event.get("detail-type") == STATE_CHANGED]
    by_record = Counter(str(event["detail"].get("record")) for event in arrived)
    changed = Counter(name for event in arrived for name in event["detail"].get("changed", []))
    rate = records / tally.handler_seconds if tally.handler_seconds else 0.0
    say(
        f"{len(pages)} batches through the state publisher ({tally.invocations} invocations):"
        f" {len(arrived):,} {STATE_CHANGED} on the bus; {tally.failed_items} records reported failed,"
        f" {tally.retried_records} resent, {tally.failed_after_retries} given up"
        f" ({on_failure_records} in the on-failure destination)"
    )

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
        stream_records=records,
        batches=len(pages),
        failed_items=tally.failed_items,
        given_up=tally.failed_after_retries,
        on_failure_records=on_failure_records,
        retried_records=tally.retried_records,
        published_on_bus=len(arrived),
        by_record=by_record,
        changed_fields=changed,
        rescore_deliveries=deliveries,
        rescored=sum(outcomes.values()),
        rescore_outcomes=outcomes,
        events_per_second=rate,
        notes=notes,
    )
