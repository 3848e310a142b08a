"""State fan-out latency, end to end and in-process: a customer event in, its CustomerStateChanged out.

Run: `PYTHONPATH=.:lambdas .venv/bin/python -m benchmarks.seamless.bench_state_fanout [--events N]`
(also the last step of `make bench`). Everything runs over moto in this process:

1. a customer event is put on the Kinesis stream and read back (get_records);
2. the real event processor handler runs on it, shaped as Lambda's Kinesis event,
   and writes the customer's STATE item (moto DynamoDB, stream NEW_AND_OLD_IMAGES);
3. the table's stream records are read (moto DynamoDB Streams, get_records) and
   shaped as Lambda's DynamoDB stream event;
4. the real state publisher handler runs on them (Powertools idempotency on moto
   DynamoDB, PutEvents on a moto bus);
5. the CustomerStateChanged is received from an SQS queue a bus rule targets.

Reported: p50/p95 of the whole path, the share of it spent inside the two
handlers (our code plus the moto calls they make), and the share spent in our
pure domain code (decoding and validating the event, folding it into the
ledger, projecting the live state; decoding the stream record and diffing the
images), timed by wrapping those functions. What is left is moto and boto3:
the figures compare runs on one machine, they are not Lambda latencies (no
event source mapping polling, no network).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from unittest import mock

import boto3
from botocore.config import Config
from moto import mock_aws

from omni_domain.constants import (
    ENV_CUSTOMER_TABLE,
    ENV_DEAD_LETTER_QUEUE_URL,
    ENV_EVENT_BUS,
    ENV_EVENT_STREAM,
    STATE_CHANGE_SOURCE,
)
from sandbox.events import kinesis_event
from tests.lambdas.conftest import REGION, TABLES, FakeLambdaContext, create_tables

STREAM = "bench-customer-events"
BUS = "bench-platform-bus"
CUSTOMERS = 25
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "POWERTOOLS_METRICS_NAMESPACE": "omni-cx-benchmark",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    ENV_EVENT_STREAM: STREAM,
    ENV_EVENT_BUS: BUS,
    **TABLES,
}
# Each kind changes a published live_state field, so every event fans out once.
KINDS: list[tuple[str, dict[str, Any]]] = [
    ("page_view", {"page": "/products"}),
    ("cart_updated", {"cart_id": "c-1", "items": [{"product_id": "p-1", "quantity": 1, "unit_price": "9.99"}],
                      "value": "9.99", "currency": "GBP"}),
    ("purchase", {"order_id": "o-{n}", "amount": "19.99", "currency": "GBP"}),
    ("complaint", {"complaint_id": "cp-{n}", "category": "delivery", "severity": "medium"}),
]  # fmt: skip
T = TypeVar("T")


@dataclass(frozen=True)
class Sample:
    total: float
    processor: float  # inside the event processor's handler (our code and the moto calls it makes)
    publisher: float  # inside the state publisher's handler (likewise)
    domain: float  # inside our pure domain functions


class DomainTimer:
    """Wraps the pure functions both handlers call, adding up the time spent in them."""

    # (module, attribute): the name each caller looks up at call time.
    TARGETS = (
        ("event_processor.decoding", "parse_event"),
        ("event_processor.batch", "apply_events"),
        ("event_processor.batch", "live_state"),
        ("state_publisher.fanout", "decode_change"),
        ("state_publisher.fanout", "state_change"),
    )

    def __init__(self) -> None:
        self.seconds = 0.0
        self.by_function: dict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        import importlib  # noqa: PLC0415 - the modules load once the environment is set

        saved = []
        for module_name, attribute in self.TARGETS:
            module = importlib.import_module(module_name)
            original = getattr(module, attribute)
            saved.append((module, attribute, original))
            setattr(module, attribute, self._timed(f"{module_name}.{attribute}", original))
        try:
            yield
        finally:
            for module, attribute, original in saved:
                setattr(module, attribute, original)

    def _timed(self, name: str, function: Callable[..., T]) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                self.seconds += elapsed
                self.by_function[name] += elapsed

        return timed


class World:
    """moto Kinesis, DynamoDB (+ Streams), SQS and EventBridge, wired as the stage-5 stacks wire them."""

    def __init__(self) -> None:
        self.kinesis = boto3.client("kinesis", region_name=REGION)
        self.kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        self.stream_arn = self.kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["StreamARN"]
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_tables(self.dynamodb)
        table = self.dynamodb.update_table(
            TableName=TABLES[ENV_CUSTOMER_TABLE],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        self.table_stream_arn = table["LatestStreamArn"]
        # Regional endpoint: moto does not answer botocore's account-based one (<account>.streams-ddb...).
        self.streams = boto3.client(
            "dynamodbstreams", region_name=REGION, config=Config(account_id_endpoint_mode="disabled")
        )
        shard = self.streams.describe_stream(StreamArn=self.table_stream_arn)["StreamDescription"]["Shards"][0]
        self.table_iterator = self.streams.get_shard_iterator(
            StreamArn=self.table_stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        self.kinesis_iterator = self.kinesis.get_shard_iterator(
            StreamName=STREAM, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        self.sqs = boto3.client("sqs", region_name=REGION)
        os.environ[ENV_DEAD_LETTER_QUEUE_URL] = self.sqs.create_queue(QueueName="bench-dlq")["QueueUrl"]
        self.queue_url = self.sqs.create_queue(QueueName="bench-state-changes")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name=BUS)
        events.put_rule(Name="state", EventBusName=BUS, EventPattern=json.dumps({"source": [STATE_CHANGE_SOURCE]}))
        events.put_targets(Rule="state", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": queue_arn}])

    def put_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Put a customer event on Kinesis and read it back as Lambda's Kinesis event."""
        self.kinesis.put_record(StreamName=STREAM, Data=json.dumps(event).encode(), PartitionKey=event["event_id"])
        response = self.kinesis.get_records(ShardIterator=self.kinesis_iterator, Limit=100)
        self.kinesis_iterator = response["NextShardIterator"]
        return kinesis_event(response["Records"], stream_arn=self.stream_arn, shard_id="shardId-000000000000")

    def table_changes(self) -> dict[str, Any]:
        """The customer table's new stream records, as Lambda's DynamoDB stream event."""
        response = self.streams.get_records(ShardIterator=self.table_iterator, Limit=100)
        self.table_iterator = response["NextShardIterator"]
        records = []
        for record in response["Records"]:
            stream = dict(record["dynamodb"])
            created = stream["ApproximateCreationDateTime"]
            stream["ApproximateCreationDateTime"] = (
                int(created.timestamp()) if isinstance(created, datetime) else created
            )
            records.append({**record, "dynamodb": stream, "eventSourceARN": self.table_stream_arn})
        return {"Records": records}

    def receive(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(message["Body"]) for message in messages]


def customer_event(number: int) -> dict[str, Any]:
    kind, payload = KINDS[(number // CUSTOMERS) % len(KINDS)]
    return {
        "event_id": f"evt-{number:08d}",
        "event_type": kind,
        "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "channel": "web",
        "identity": {"customer_id": f"gc-{number % CUSTOMERS:06d}"},
        "payload": json.loads(json.dumps(payload).replace("{n}", str(number))),
    }


def run(events: int = 300, warmup: int = CUSTOMERS) -> tuple[list[Sample], dict[str, float]]:
    """`warmup` events first (every customer's first write, which creates the item), then `events` timed."""
    samples: list[Sample] = []
    timer = DomainTimer()
    with mock.patch.dict(os.environ, ENVIRONMENT), mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        world = World()
        boto3.setup_default_session(region_name=REGION)
        # Powertools reads the environment when a handler module loads, as in Lambda: import them once set.
        from event_processor import dependencies as processor_dependencies  # noqa: PLC0415
        from event_processor.handler import lambda_handler as process_events  # noqa: PLC0415
        from state_publisher import dependencies as publisher_dependencies  # noqa: PLC0415
        from state_publisher.handler import lambda_handler as publish_changes  # noqa: PLC0415

        processor_dependencies.use(None)
        publisher_dependencies.use(None)
        processor_context = FakeLambdaContext(function_name="event-processor")
        publisher_context = FakeLambdaContext(function_name="state-publisher")
        with timer.installed():
            for number in range(warmup + events):
                domain_before = timer.seconds
                started = time.perf_counter()
                kinesis_event = world.put_event(customer_event(number))
                entered = time.perf_counter()
                processed = process_events(kinesis_event, processor_context)
                processor = time.perf_counter() - entered
                stream_event = world.table_changes()
                entered = time.perf_counter()
                published = publish_changes(stream_event, publisher_context)
                publisher = time.perf_counter() - entered
                received = world.receive()
                total = time.perf_counter() - started
                failures = processed["batchItemFailures"] + published["batchItemFailures"]
                if failures or len(received) != 1 or len(stream_event["Records"]) != 1:
                    raise RuntimeError(f"event {number}: {len(received)} state changes received, failures {failures}")
                if number >= warmup:
                    samples.append(Sample(total, processor, publisher, timer.seconds - domain_before))
        processor_dependencies.use(None)
        publisher_dependencies.use(None)
        boto3.DEFAULT_SESSION = None
    return samples, dict(timer.by_function)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(samples: list[Sample], by_function: dict[str, float]) -> str:
    totals = [sample.total for sample in samples]
    total = sum(totals)
    processor = sum(sample.processor for sample in samples)
    publisher = sum(sample.publisher for sample in samples)
    domain = sum(sample.domain for sample in samples)
    rows = [
        ("events (timed)", f"{len(samples)}"),
        ("end-to-end p50", f"{_percentile(totals, 0.50) * 1000:.1f} ms"),
        ("end-to-end p95", f"{_percentile(totals, 0.95) * 1000:.1f} ms"),
        ("end-to-end mean", f"{statistics.fmean(totals) * 1000:.1f} ms"),
        ("in the two handlers", f"{(processor + publisher) / total:.0%} of the path"),
        ("  event processor", f"{processor / total:.0%} ({processor / len(samples) * 1000:.1f} ms/event)"),
        ("  state publisher", f"{publisher / total:.0%} ({publisher / len(samples) * 1000:.1f} ms/event)"),
        ("in our domain code", f"{domain / total:.1%} of the path ({domain / len(samples) * 1000:.2f} ms/event)"),
        ("moto, boto3, Powertools", f"{(total - domain) / total:.0%} of the path"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = ["State fan-out: customer event -> CustomerStateChanged (in-process, moto)"]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    lines.append("  domain time by function (warm-up included):")
    lines += [f"    {name:<40} {seconds * 1000:8.1f} ms" for name, seconds in sorted(by_function.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=300, help="timed events (after one warm-up event per customer)")
    args = parser.parse_args(argv)
    print(report(*run(args.events)))  # noqa: T201 - the benchmark's report


if __name__ == "__main__":
    main()
