"""Monthly cost of a stage at given volumes: what the synthesized templates deploy, priced from a dated file.

Pure: `estimate(assembly, config, volumes, prices)` reads the resources of the
target stage's templates (`infra/assembly.py`), the settings that size them
(`infra/config.py`) and the unit prices of `infra/data/prices.json` for the
environment's region, and returns one line per service and dimension. A line
exists only when its resource is deployed: no SageMaker line before stage 4, no
Kinesis line before stage 3. Usage-driven lines scale linearly with the volumes;
fixed lines (keys, alarms, web ACLs, stream-hours) do not.

Every figure that is not read from a template or the config is a named constant
below with where it comes from: measured (with the command) or assumed (and
why). The estimate prints them with its price date, so a reader can redo it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from infra.assembly import CloudAssembly, Resource
from infra.config import PlatformConfig

PRICES_FILE = Path(__file__).resolve().parent / "data" / "prices.json"
DAYS_PER_MONTH = 30.4
HOURS_PER_MONTH = 730
GB = 1024**3

# -- measured figures (re-measure when the processor changes) ---------------------------------------------------
# `PYTHONPATH=.:lambdas .venv/bin/python -m benchmarks.events.request_units` (moto, 200 customers, one event per
# customer per batch, 5% of them new, 15% named by e-mail or device): DynamoDB units per event and the live-state
# item's size, a base plus the bytes each event it remembers (its dedup window) adds.
READ_UNITS_PER_EVENT = 2.15
WRITE_UNITS_PER_EVENT_SMALL_ITEM = 1.2  # at the measured 463-byte item: 1 WRU per write, 2 per new customer x2
STATE_ITEM_BASE_BYTES = 463
STATE_ITEM_BYTES_PER_REMEMBERED_EVENT = 66.2
TRIGGERS_PER_EVENT = 0.0  # the same run: no trigger fired on a customer's next ordinary event
# `PYTHONPATH=.:lambdas .venv/bin/python -m benchmarks.events.events_benchmark` (in-memory run: the handler's own
# CPU, 15,827 records/s for 10,000 records of 1,000 customers on a 2-core build machine).
PROCESSOR_CPU_MS_PER_RECORD = 0.063

# -- assumptions (stated in every estimate) -----------------------------------------------------------------------
EVENT_BYTES = 400  # a customer event as the benchmarks' samples encode it (JSON, 300-500 bytes)
STATE_WRITE_MS = 10  # one conditional PutItem round trip inside the region, per customer per batch
INVOCATION_OVERHEAD_MS = 20  # per invocation: the batch read, the bus and queue calls, Powertools
API_CALL_MS = 60  # profile and eligibility calls: a DynamoDB query or two and the answer
CONNECT_LOOKUP_MS = 40  # caller lookup, offer check, next action: one or two reads
ENDPOINT_CALL_MS = 100  # a propensity score on the serverless endpoint
SCHEDULED_CALLS_PER_DAY = 24  # loaders, cleanup, alert routing, drift: a few calls a day each, 5 s each at most
SCHEDULED_CALL_MS = 5000
PROFILE_SHARE_OF_API_CALLS = 0.5  # with both APIs deployed, calls split evenly (all to profiles before stage 4)
API_READ_UNITS = 2  # a profile read (query of the customer's items) or a decision's state + rules read
API_WRITE_UNITS = 1  # an eligibility decision audited; a profile write is rarer than its reads
CONTACT_MINUTES = 5.0  # average handled minutes per contact
CUSTOMER_BYTES = 3 * 1024  # profile, live state, identity links and decisions of one customer in DynamoDB
LAKE_PARTITIONS = 10  # event types written per buffer interval (the benchmarks' sample has 10)
CUSTOM_METRICS_PER_FUNCTION = 10  # Powertools EMF metrics per function, by their dimensions
KMS_REQUESTS_PER_OBJECT = 1  # one data key per lake object (services cache data keys otherwise)
TRAINING_RUN_SHARE_OF_LIMIT = 1.0  # every tuning job taken at its max_training_minutes: an upper bound

ASSUMPTIONS: tuple[str, ...] = (
    f"a month is {DAYS_PER_MONTH} days ({HOURS_PER_MONTH} hours); list prices, no free tier, first volume tier",
    f"DynamoDB: {READ_UNITS_PER_EVENT} RRU and one write per event (measured, no batching of a customer's events), "
    f"the state item {STATE_ITEM_BASE_BYTES} B + {STATE_ITEM_BYTES_PER_REMEMBERED_EVENT} B per event in the dedup "
    "window; API calls "
    f"{API_READ_UNITS} RRU + {API_WRITE_UNITS} WRU; {CUSTOMER_BYTES // 1024} KB stored per customer",
    f"event processor: {PROCESSOR_CPU_MS_PER_RECORD} ms CPU per record (measured in memory) + {STATE_WRITE_MS} ms per "
    f"state write + {INVOCATION_OVERHEAD_MS} ms per batch; API calls {API_CALL_MS} ms, Connect lookups "
    f"{CONNECT_LOOKUP_MS} ms, scheduled functions {SCHEDULED_CALLS_PER_DAY} calls a day of {SCHEDULED_CALL_MS} ms",
    f"events are {EVENT_BYTES} bytes; the lake gets {LAKE_PARTITIONS} partitions per buffer interval; one month of "
    "events in S3 Standard (storage grows each month until the lifecycle moves it)",
    f"contacts last {CONTACT_MINUTES} minutes; each one calls every deployed Connect lookup once",
    "Glue and SageMaker training runs take their configured timeouts (an upper bound); the propensity endpoint "
    f"answers in {ENDPOINT_CALL_MS} ms",
    f"API calls split {PROFILE_SHARE_OF_API_CALLS:.0%} profiles / the rest eligibility where both are deployed",
    "not estimated: CloudWatch Logs ingestion and storage, data transfer out, SQS and SNS (dead letters and alerts), "
    "Step Functions transitions, phone numbers, S3 lifecycle transitions",
)


class CostError(Exception):
    """The estimate cannot be made: a bad volume, a region or a price the prices file does not hold."""


@dataclass(frozen=True)
class Volumes:
    """The workload an estimate is for."""

    events_per_day: float = 1_000_000
    customers: float = 500_000
    api_calls_per_day: float = 200_000
    contacts_per_month: float = 20_000

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise CostError(f"--{name.replace('_', '-')} = {value!r}: must be a number, 0 or more")


@dataclass(frozen=True)
class Price:
    key: str
    price: float
    unit: str
    source: str


@dataclass(frozen=True)
class PriceList:
    """The unit prices of one region, as of a date."""

    region: str
    checked: str
    currency: str
    prices: Mapping[str, Price]

    @classmethod
    def load(cls, region: str, path: Path = PRICES_FILE) -> PriceList:
        document = json.loads(path.read_text(encoding="utf-8"))
        regions: Mapping[str, Mapping[str, Any]] = document["regions"]
        if region not in regions:
            raise CostError(
                f"region {region}: {path.name} has no prices for it; regions priced: {', '.join(sorted(regions))} "
                "(add the region's prices from the pages listed in the file)"
            )
        sources: Mapping[str, str] = document["sources"]
        prices = {
            key: Price(key, float(entry["price"]), str(entry["unit"]), sources[key.split(".", 1)[0]])
            for key, entry in regions[region].items()
        }
        return cls(region, str(document["checked"]), str(document["currency"]), prices)

    def __getitem__(self, key: str) -> Price:
        try:
            return self.prices[key]
        except KeyError:
            raise CostError(f"no price {key} for {self.region} in {PRICES_FILE.name}") from None


@dataclass(frozen=True)
class Line:
    """One priced quantity: what, how much per month, at which unit price, from which page."""

    service: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    source: str
    basis: str = ""

    @property
    def monthly(self) -> float:
        return self.quantity * self.unit_price


@dataclass
class Estimate:
    env: str
    stage: str
    region: str
    prices_checked: str
    currency: str
    volumes: Volumes
    lines: list[Line] = field(default_factory=list)
    assumptions: Sequence[str] = ASSUMPTIONS

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)

    def by_service(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.service] = totals.get(line.service, 0.0) + line.monthly
        return totals

    def as_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "stage": self.stage,
            "region": self.region,
            "prices_checked": self.prices_checked,
            "currency": self.currency,
            "volumes": asdict(self.volumes),
            "monthly_total": round(self.total, 2),
            "by_service": {service: round(cost, 2) for service, cost in self.by_service().items()},
            "lines": [asdict(line) | {"monthly": round(line.monthly, 2)} for line in self.lines],
            "assumptions": list(self.assumptions),
        }

    def as_text(self) -> str:
        out = [
            f"{self.env} at stage {self.stage} ({self.region}): about {self.currency} {self.total:,.2f} a month",
            f"prices as checked on {self.prices_checked} (infra/data/prices.json; re-check before quoting)",
            "volumes: "
            + ", ".join(f"{name.replace('_', ' ')} {value:,.0f}" for name, value in asdict(self.volumes).items()),
            "",
        ]
        for service, cost in self.by_service().items():
            out.append(f"{service:<22} {cost:>12,.2f}")
            for line in (line for line in self.lines if line.service == service):
                basis = f"; {line.basis}" if line.basis else ""
                out.append(
                    f"    {line.item:<38} {line.quantity:>16,.2f} x {line.unit_price:g} per {line.unit}"
                    f" = {line.monthly:,.2f}{basis}"
                )
                out.append(f"        source: {line.source}")
        out += ["", "assumptions:"] + [f"  - {assumption}" for assumption in self.assumptions]
        return "\n".join(out)


# -- what the templates deploy ------------------------------------------------------------------------------------
FUNCTION_ROLES = {
    "EventProcessor": "event processor",
    "Profiles": "profile API",
    "Eligibility": "eligibility API",
    "CallerLookup": "caller lookup",
    "OfferCheck": "offer check",
    "NextAction": "next action",
    "StatePublisher": "state publisher",
    "Rescorer": "rescorer",
}


def _role(resource: Resource) -> str:
    for prefix, role in FUNCTION_ROLES.items():
        if resource.logical_id.startswith(prefix):
            return role
    return "scheduled"


def _capabilities(assembly: CloudAssembly, config: PlatformConfig) -> set[str]:
    prefix = config.resource_name("")
    return {name.removeprefix(prefix) for name in assembly.stacks if name.startswith(prefix)}


def runs_per_month(schedule: str) -> float:
    """How often a `cron(...)`/`rate(...)` schedule fires in a month (hours x days it names; rate by its unit)."""
    rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", schedule)
    if rate:
        every, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        per_day = {"minute": 1440, "hour": 24, "day": 1}[unit] / every
        return per_day * DAYS_PER_MONTH
    fields = schedule.removeprefix("cron(").removesuffix(")").split()
    if len(fields) != 6:
        raise CostError(f"schedule {schedule}: not a cron(...) or rate(...) expression")
    minutes, hours, day_of_month, _, day_of_week, _ = fields

    def count(expression: str) -> int:
        return 1 if expression in ("*", "?") else len(expression.split(","))

    per_day = (60 if minutes == "*" else count(minutes)) * (24 if hours == "*" else count(hours))
    if day_of_week not in ("*", "?"):
        return per_day * count(day_of_week) * DAYS_PER_MONTH / 7
    if day_of_month not in ("*", "?"):
        return per_day * count(day_of_month)
    return per_day * DAYS_PER_MONTH


@dataclass(frozen=True)
class _Usage:
    """The month's volumes as each service sees them."""

    config: PlatformConfig
    volumes: Volumes
    capabilities: frozenset[str]
    events_month: float
    api_month: float
    profile_calls: float
    eligibility_calls: float
    state_writes: float
    wru_per_write: int
    state_item_bytes: float

    @property
    def env(self) -> Any:
        return self.config.environment


def estimate(assembly: CloudAssembly, config: PlatformConfig, volumes: Volumes, prices: PriceList) -> Estimate:
    """The monthly lines of what `assembly` deploys for `config`'s environment at these volumes."""
    result = Estimate(config.env_name, config.maturity.label, prices.region, prices.checked, prices.currency, volumes)
    builder = _Builder(result, prices)
    capabilities = _capabilities(assembly, config)
    env = config.environment
    events_month = volumes.events_per_day * DAYS_PER_MONTH
    # API calls reach DynamoDB and Lambda only once an API is deployed (stage 3).
    has_api = bool(assembly.resources("AWS::ApiGateway::RestApi"))
    api_month = volumes.api_calls_per_day * DAYS_PER_MONTH if has_api else 0.0
    has_eligibility = "eligibility" in capabilities
    profile_calls = api_month * (PROFILE_SHARE_OF_API_CALLS if has_eligibility else 1.0)
    eligibility_calls = api_month - profile_calls if has_eligibility else 0.0
    has_stream = bool(assembly.resources("AWS::Kinesis::Stream"))
    # One write per event (no coalescing: the bill's worst case); WRUs grow with the events the item remembers.
    dedup_hours = max(72, env.events.retention_hours + 24)
    remembered = volumes.events_per_day * dedup_hours / 24 / max(volumes.customers, 1)
    state_item_bytes = STATE_ITEM_BASE_BYTES + STATE_ITEM_BYTES_PER_REMEMBERED_EVENT * remembered
    state_writes = events_month if has_stream else 0.0

    usage = _Usage(
        config,
        volumes,
        frozenset(capabilities),
        events_month,
        api_month,
        profile_calls,
        eligibility_calls,
        state_writes,
        max(1, math.ceil(state_item_bytes / 1024)),
        state_item_bytes,
    )
    for add_lines in (
        _kinesis,
        _lambda,
        _dynamodb,
        _lake,
        _glue,
        _sagemaker,
        _connect,
        _apis,
        _eventbridge,
        _cloudwatch,
        _kms,
    ):
        add_lines(builder, assembly, usage)
    return result


class _Builder:
    def __init__(self, estimate: Estimate, prices: PriceList) -> None:
        self.estimate = estimate
        self.prices = prices

    def add(self, service: str, item: str, quantity: float, price_key: str, basis: str = "", *, per: float = 1) -> None:
        """A line of `quantity` in the price's unit (`per`: how many base units the priced unit holds)."""
        price = self.prices[price_key]
        self.estimate.lines.append(Line(service, item, quantity / per, price.unit, price.price, price.source, basis))


def _kinesis(builder: _Builder, assembly: CloudAssembly, usage: _Usage) -> None:
    env, events_month = usage.env, usage.events_month
    for stream in assembly.resources("AWS::Kinesis::Stream"):
        retention = int(stream.properties.get("RetentionPeriodHours", 24))
        mode = (stream.properties.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        gb = events_month * EVENT_BYTES / GB
        # The event processor reads every record; so does Firehose where the analytical pathway is deployed.
        consumers = len(assembly.resources("AWS::KinesisFirehose::DeliveryStream")) + 1
        if mode == "ON_DEMAND":
            builder.add("Kinesis", "on-demand stream-hours", HOURS_PER_MONTH, "kinesis.on_demand_stream_hour")
            builder.add("Kinesis", "data written", gb, "kinesis.on_demand_ingest_gb", f"{EVENT_BYTES} B per event")
            builder.add(
                "Kinesis", "data read", gb * consumers, "kinesis.on_demand_retrieval_gb", f"{consumers} readers"
            )
            if retention > 24:
                builder.add(
                    "Kinesis",
                    "retention beyond 24 h",
                    gb * (retention - 24) / (DAYS_PER_MONTH * 24),
                    "kinesis.on_demand_extended_retention_gb_month",
                    f"{retention} h kept",
                )
        else:
            shards = int(stream.properties.get("ShardCount", env.events.shards))
            builder.add("Kinesis", "shard-hours", shards * HOURS_PER_MONTH, "kinesis.shard_hour", f"{shards} shard(s)")
            builder.add("Kinesis", "PUT payload units", events_month, "kinesis.put_payload_units_million", per=1e6)
            if retention > 24:
                builder.add(
                    "Kinesis",
                    "retention beyond 24 h",
                    shards * HOURS_PER_MONTH,
                    "kinesis.extended_retention_shard_hour",
                    f"{retention} h kept",
                )


def _lambda(builder: _Builder, assembly: CloudAssembly, usage: _Usage) -> None:
    env, volumes, events_month, state_writes = usage.env, usage.volumes, usage.events_month, usage.state_writes
    profile_calls, eligibility_calls = usage.profile_calls, usage.eligibility_calls
    contacts = volumes.contacts_per_month
    # A shard is polled about once per batching window: small volumes make small batches.
    polls = DAYS_PER_MONTH * 86_400 / max(env.events.batching_window_seconds, 1) * env.events.parallelization_factor
    batches = min(events_month, max(events_month / env.events.batch_size, polls)) if events_month else 0.0
    rescores = min(state_writes, volumes.customers * DAYS_PER_MONTH * 86_400 / env.live_state.rescore_debounce_seconds)
    calls_and_ms: dict[str, tuple[float, float]] = {
        "event processor": (
            batches,
            events_month * PROCESSOR_CPU_MS_PER_RECORD
            + state_writes * STATE_WRITE_MS
            + batches * INVOCATION_OVERHEAD_MS,
        ),
        "profile API": (profile_calls, profile_calls * API_CALL_MS),
        "eligibility API": (eligibility_calls, eligibility_calls * (API_CALL_MS + ENDPOINT_CALL_MS)),
        "caller lookup": (contacts, contacts * CONNECT_LOOKUP_MS),
        "offer check": (contacts, contacts * (CONNECT_LOOKUP_MS + ENDPOINT_CALL_MS)),
        "next action": (contacts, contacts * CONNECT_LOOKUP_MS),
        "state publisher": (
            state_writes / max(env.live_state.publisher_batch_size, 1) + polls,
            state_writes * STATE_WRITE_MS / 2,
        ),
        "rescorer": (rescores, rescores * (CONNECT_LOOKUP_MS + ENDPOINT_CALL_MS)),
    }
    requests = 0.0
    for function in assembly.resources("AWS::Lambda::Function"):
        role = _role(function)
        if "Code" in function.properties and "ZipFile" in function.properties["Code"]:
            continue  # CDK's inline custom-resource handlers run at deploy time only
        invocations, ms = calls_and_ms.get(role, (SCHEDULED_CALLS_PER_DAY * DAYS_PER_MONTH, 0.0))
        if role == "scheduled":
            ms = invocations * SCHEDULED_CALL_MS
        if role == "state publisher":
            invocations = min(invocations, state_writes) if state_writes else polls
        memory_gb = int(function.properties.get("MemorySize", 128)) / 1024
        architecture = (function.properties.get("Architectures") or ["x86_64"])[0]
        requests += invocations
        key = f"lambda.gb_second_{architecture}"
        builder.add(
            "Lambda",
            f"{role} ({function.logical_id[:24]})",
            ms / 1000 * memory_gb,
            key,
            f"{invocations:,.0f} calls, {int(memory_gb * 1024)} MB",
        )
    if requests:
        builder.add("Lambda", "requests", requests, "lambda.requests_million", per=1e6)


def _dynamodb(builder: _Builder, assembly: CloudAssembly, usage: _Usage) -> None:
    volumes, api_month, state_writes = usage.volumes, usage.api_month, usage.state_writes
    wru_per_write, state_item_bytes = usage.wru_per_write, usage.state_item_bytes
    tables = assembly.resources("AWS::DynamoDB::Table")
    if not tables:
        return
    reads = state_writes * READ_UNITS_PER_EVENT + api_month * API_READ_UNITS
    writes = state_writes * wru_per_write + api_month * API_WRITE_UNITS
    builder.add(
        "DynamoDB",
        "read request units",
        reads,
        "dynamodb.read_request_units_million",
        f"{READ_UNITS_PER_EVENT} per event (measured), {API_READ_UNITS} per API call",
        per=1e6,
    )
    if writes:
        builder.add(
            "DynamoDB",
            "write request units",
            writes,
            "dynamodb.write_request_units_million",
            f"{wru_per_write} per event (state item about {state_item_bytes:,.0f} B), {API_WRITE_UNITS} per API call",
            per=1e6,
        )
    stored_gb = volumes.customers * CUSTOMER_BYTES / GB
    builder.add("DynamoDB", "storage", stored_gb, "dynamodb.storage_gb_month", f"{len(tables)} tables")
    with_pitr = [
        table
        for table in tables
        if (table.properties.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
    ]
    if with_pitr:
        builder.add(
            "DynamoDB", "point-in-time recovery", stored_gb, "dynamodb.pitr_gb_month", f"{len(with_pitr)} tables"
        )


def _lake(builder: _Builder, assembly: CloudAssembly, usage: _Usage) -> None:
    env, events_month = usage.env, usage.events_month
    for _stream in assembly.resources("AWS::KinesisFirehose::DeliveryStream"):
        billed_gb = events_month * math.ceil(EVENT_BYTES / 5120) * 5120 / GB
        gb = events_month * EVENT_BYTES / GB
        intervals = DAYS_PER_MONTH * 86_400 / env.events.lake_buffer_seconds
        objects = max(intervals * LAKE_PARTITIONS, gb * 1024 / env.events.lake_buffer_mb) if events_month else 0.0
        builder.add("Firehose", "ingestion", billed_gb, "firehose.ingest_gb", "records rounded up to 5 KB")
        builder.add("Firehose", "dynamic partitioning", gb, "firehose.dynamic_partitioning_gb")
        builder.add(
            "Firehose",
            "objects delivered",
            objects,
            "firehose.dynamic_partitioning_objects_thousand",
            f"{LAKE_PARTITIONS} partitions per {env.events.lake_buffer_seconds} s",
            per=1000,
        )
        builder.add("S3", "lake storage (one month of events)", gb, "s3.standard_gb_month")
        builder.add("S3", "PUT requests", objects, "s3.put_requests_thousand", per=1000)
        builder.add(
            "KMS", "requests (lake objects)", objects * KMS_REQUESTS_PER_OBJECT, "kms.requests_ten_thousand", per=1e4
        )


def _glue(builder: _Builder, assembly: CloudAssembly, usage: _Usage) -> None:
    config, capabilities = usage.config, usage.capabilities
    schedules = {
        "customer-domain": config.environment.mdm.schedule,
        "propensity": config.environment.propensity.schedule,
    }
    prefix = config.resource_name("")
    dpu_per_worker = {"G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8, "G.025X": 0.25, "Standard": 1}
    for job in assembly.resources("AWS::Glue::Job"):
        capability = job.stack.removeprefix(prefix)
        if capability not in schedules or capability not in capabilities:
            continue
        minutes = int(job.properties.get("Timeout", 60))
        runs = runs_per_month(schedules[capability])
        if "WorkerType" in job.properties:
            worker_type = str(job.properties["WorkerType"])
            dpus = int(job.properties.get("NumberOfWorkers", 2)) * dpu_per_worker.get(worker_type, 1)
            size = f"{job.properties.get('NumberOfWorkers', 2)} x {worker_type}"
        else:  # a Python shell job: its MaxCapacity in DPUs
            dpus = float(job.properties.get("MaxCapacity", 0.0625))
            size = f"{dpus:g} DPU"
        builder.add(
            "Glue",
            f"{capability} job",
            dpus * minutes / 60 * runs,
            "glue.dpu_hour",
            f"{size}, {minutes} min (timeout) x {runs:.1f} runs",
        )


def _sagemaker(builder: _Builder, assembly: CloudAssembly, usage: _Usage) -> None:
    config, capabilities, volumes = usage.config, usage.capabilities, usage.volumes
    eligibility_calls, state_writes = usage.eligibility_calls, usage.state_writes
    if "propensity" not in capabilities:
        return
    settings = config.environment.propensity
    runs = runs_per_month(settings.schedule)
    hours = settings.tuning_max_jobs * settings.max_training_minutes * TRAINING_RUN_SHARE_OF_LIMIT / 60 * runs
    builder.add(
        "SageMaker",
        f"training ({settings.training_instance_type})",
        hours,
        f"sagemaker.training.{settings.training_instance_type}",
        f"{settings.tuning_max_jobs} tuning jobs x {settings.max_training_minutes} min x {runs:.1f} runs",
    )
    scores = eligibility_calls + volumes.contacts_per_month * ("offers-contact-centre" in capabilities)
    if "realtime-rescoring" in capabilities:
        debounce = config.environment.live_state.rescore_debounce_seconds
        scores += min(state_writes, volumes.customers * DAYS_PER_MONTH * 86_400 / debounce)
    builder.add(
        "SageMaker",
        f"serverless inference ({settings.endpoint_memory_mb} MB)",
        scores * ENDPOINT_CALL_MS / 1000 * settings.endpoint_memory_mb / 1024,
        "sagemaker.serverless_gb_second",
        f"{scores:,.0f} scores",
    )


def _connect(builder: _Builder, assembly: CloudAssembly, usage: _Usage) -> None:
    volumes = usage.volumes
    if not assembly.resources("AWS::Connect::Instance", "AWS::Connect::ContactFlow"):
        return
    minutes = volumes.contacts_per_month * CONTACT_MINUTES
    basis = f"{volumes.contacts_per_month:,.0f} contacts x {CONTACT_MINUTES} min"
    builder.add("Connect", "voice service", minutes, "connect.voice_minute", basis)
    builder.add("Connect", "inbound telephony", minutes, "connect.inbound_did_minute", basis)


def _apis(builder: _Builder, assembly: CloudAssembly, usage: _Usage) -> None:
    api_month = usage.api_month
    if assembly.resources("AWS::ApiGateway::RestApi"):
        builder.add("API Gateway", "REST API calls", api_month, "apigateway.rest_requests_million", per=1e6)
    acls = assembly.resources("AWS::WAFv2::WebACL")
    if acls:
        rules = sum(len(acl.properties.get("Rules", [])) for acl in acls)
        builder.add("WAF", "web ACLs", len(acls), "waf.web_acl_month")
        builder.add("WAF", "rules", rules, "waf.rule_month")
        builder.add("WAF", "requests inspected", api_month, "waf.requests_million", per=1e6)


def _eventbridge(builder: _Builder, assembly: CloudAssembly, usage: _Usage) -> None:
    capabilities, events_month, state_writes = usage.capabilities, usage.events_month, usage.state_writes
    published = events_month * TRIGGERS_PER_EVENT
    basis = f"triggers: {TRIGGERS_PER_EVENT} per event (measured)"
    if "state-fanout" in capabilities:
        published += state_writes
        basis += "; one CustomerStateChanged per state write"
    if published:
        builder.add("EventBridge", "custom events", published, "eventbridge.custom_events_million", basis, per=1e6)


def _cloudwatch(builder: _Builder, assembly: CloudAssembly, usage: _Usage) -> None:
    alarms = assembly.resources("AWS::CloudWatch::Alarm")
    anomaly = [alarm for alarm in alarms if "ThresholdMetricId" in alarm.properties]
    if len(alarms) > len(anomaly):
        builder.add("CloudWatch", "alarms", len(alarms) - len(anomaly), "cloudwatch.standard_alarm_month")
    if anomaly:
        builder.add("CloudWatch", "anomaly-detection alarms", len(anomaly), "cloudwatch.anomaly_alarm_month")
    composite = assembly.resources("AWS::CloudWatch::CompositeAlarm")
    if composite:
        builder.add("CloudWatch", "composite alarms", len(composite), "cloudwatch.composite_alarm_month")
    dashboards = assembly.resources("AWS::CloudWatch::Dashboard")
    if dashboards:
        builder.add("CloudWatch", "dashboards", len(dashboards), "cloudwatch.dashboard_month")
    functions = [
        f for f in assembly.resources("AWS::Lambda::Function") if "ZipFile" not in (f.properties.get("Code") or {})
    ]
    if functions:
        builder.add(
            "CloudWatch",
            "custom metrics (EMF)",
            len(functions) * CUSTOM_METRICS_PER_FUNCTION,
            "cloudwatch.custom_metric_month",
            f"{len(functions)} functions x {CUSTOM_METRICS_PER_FUNCTION}",
        )


def _kms(builder: _Builder, assembly: CloudAssembly, usage: _Usage) -> None:
    keys = assembly.resources("AWS::KMS::Key")
    if keys:
        builder.add("KMS", "customer managed keys", len(keys), "kms.key_month")
