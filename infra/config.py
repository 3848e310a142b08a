"""The platform's typed configuration, built and validated once per synthesis.

Environments live in `cdk.json` context under `omni:environments`; `-c env=NAME`
selects one and `-c maturity=N` overrides its stage. `load_config` turns that raw
context into one frozen `PlatformConfig`; stacks and constructs receive it as an
argument and never read context or environment variables themselves.

Every setting has its default here, next to its type: the value production runs
(data retained, logs kept a year, canary deployments), so an environment that says
nothing else is production-like. An environment in `cdk.json` gives `region` and
`maturity` (and `account`) and only the settings it sets differently; a section it
gives in part keeps the defaults of the rest, while a list or a map (watches, teams,
hours, queues) is replaced whole. A new setting gets a default here; `cdk.json`
names it only for an environment that needs another value.

Every problem is reported as a `ConfigError` whose message is one line naming the
key, the value given and what is allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from infra.errors import PlatformDefinitionError
from infra.stages import Stage

ENVIRONMENTS_KEY = "omni:environments"
PROJECT_KEY = "omni:project"
ENV_KEY = "env"
MATURITY_KEY = "maturity"
DEFAULT_ENV = "dev"

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"

# The retention periods CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
REGION_PATTERN = re.compile(
    r"^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d$"
)
ACCOUNT_PATTERN = re.compile(r"^\d{12}$")
PROJECT_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,20}$")
ENV_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,15}$")

PositiveInt = Annotated[int, Field(gt=0)]


class ConfigError(PlatformDefinitionError):
    """Invalid configuration: the message is one line for the person running synth."""


class _Frozen(BaseModel):
    # validate_default: a default in code is checked and typed exactly like a value from cdk.json.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False, validate_default=True)


class SizingConfig(_Frozen):
    lambda_memory_mb: Annotated[int, Field(ge=128, le=10240)] = 1024
    lambda_reserved_concurrency: Annotated[int, Field(ge=0)] = 100


class DataLakeConfig(_Frozen):
    infrequent_access_after_days: Annotated[int, Field(ge=30)] = 30  # S3's minimum for STANDARD_IA
    glacier_after_days: PositiveInt = 365
    noncurrent_versions_expire_after_days: PositiveInt = 90
    access_logs_expire_after_days: PositiveInt = 400

    @field_validator("glacier_after_days")
    @classmethod
    def _after_infrequent_access(cls, value: int, info: Any) -> int:
        ia = info.data.get("infrequent_access_after_days")
        if ia is not None and value <= ia:
            raise ValueError(f"must be greater than infrequent_access_after_days ({ia})")
        return value


Weekday = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
CLOCK_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


DEFAULT_HOURS: dict[Weekday, tuple[str, str]] = {
    "MONDAY": ("08:00", "20:00"),
    "TUESDAY": ("08:00", "20:00"),
    "WEDNESDAY": ("08:00", "20:00"),
    "THURSDAY": ("08:00", "20:00"),
    "FRIDAY": ("08:00", "20:00"),
    "SATURDAY": ("09:00", "17:00"),
}


class QueueConfig(_Frozen):
    name: Annotated[str, Field(min_length=1, max_length=127)]
    description: Annotated[str, Field(max_length=250)] = ""


class ContactCentreConfig(_Frozen):
    """The Amazon Connect instance: created by the stack, or an existing one given by ARN."""

    instance_alias: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$")] | None = None
    existing_instance_arn: (
        Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance/[0-9a-f-]{36}$")] | None
    ) = None
    time_zone: str = "Europe/London"
    # Opening hours per day, local to time_zone: [open, close] as HH:MM; a missing day is closed.
    hours: dict[Weekday, tuple[str, str]] = Field(default_factory=lambda: dict(DEFAULT_HOURS))
    # Logical queue name (what flows refer to as ${queue:NAME}) -> its settings.
    queues: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")], QueueConfig] = Field(
        default_factory=lambda: {
            "general_support": QueueConfig(name="General support", description="Every caller who needs help"),
            "retention_offers": QueueConfig(
                name="Retention offers", description="Callers with an eligible offer or at risk of leaving"
            ),
        }
    )

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/London") from None
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        for day, (opens, closes) in value.items():
            if not (CLOCK_PATTERN.match(opens) and CLOCK_PATTERN.match(closes)):
                raise ValueError(f"{day}: times must be HH:MM (24-hour)")
            if closes <= opens:
                raise ValueError(f"{day}: closing time {closes} must be after opening time {opens}")
        return value

    @field_validator("queues")
    @classmethod
    def _queues(cls, value: dict[str, QueueConfig]) -> dict[str, QueueConfig]:
        if not value:
            raise ValueError("at least one queue is needed")
        return value


GlueWorkerType = Literal["G.1X", "G.2X", "G.4X", "G.8X"]


class GlueJobSizing(_Frozen):
    worker_type: GlueWorkerType = "G.1X"
    number_of_workers: Annotated[int, Field(ge=2, le=299)] = 10
    timeout_minutes: Annotated[int, Field(ge=1, le=2880)] = 60


class FindMatchesConfig(GlueJobSizing):
    timeout_minutes: Annotated[int, Field(ge=1, le=2880)] = 120  # FindMatches also transforms: it runs longer
    # FindMatches trade-offs: 1.0 favours precision / accuracy, 0.0 recall / cost.
    precision_recall_tradeoff: Annotated[float, Field(ge=0, le=1)] = 0.9
    accuracy_cost_tradeoff: Annotated[float, Field(ge=0, le=1)] = 0.5
    enforce_provided_labels: bool = True


class EntityResolutionConfig(_Frozen):
    """AWS Entity Resolution, the managed matching service (`mdm.engine: entity-resolution`)."""

    # ml: the service's own model (no labels, no tuning); rules: the deterministic rules the Splink model
    # estimates its prior with, run by the service exactly as written (glue_jobs.entity_resolution_schema).
    matching: Literal["ml", "rules"] = "ml"
    # An ML match set whose ConfidenceLevel is below this is not merged: each of its records stays its own
    # customer (rules matches carry no confidence and are all kept).
    min_confidence: Annotated[float, Field(ge=0, le=1)] = 0.9
    # The pipeline looks at the matching job after first_poll_seconds, then doubles the wait up to
    # max_poll_seconds; a run still unfinished after timeout_hours fails (and alerts).
    first_poll_seconds: Annotated[int, Field(ge=10, le=3600)] = 60
    max_poll_seconds: Annotated[int, Field(ge=10, le=3600)] = 900
    timeout_hours: Annotated[int, Field(ge=1, le=24)] = 12

    @field_validator("max_poll_seconds")
    @classmethod
    def _at_least_the_first_wait(cls, value: int, info: Any) -> int:
        first = info.data.get("first_poll_seconds")
        if first is not None and value < first:
            raise ValueError(f"must be at least first_poll_seconds ({first})")
        return value


class MdmConfig(_Frozen):
    """Customer de-duplication. `engine` selects the deployed matching job: `splink` (current Glue, the
    default), `entity-resolution` (AWS Entity Resolution, managed) or `findmatches` (AWS Glue FindMatches,
    Glue 2.0 only)."""

    engine: Literal["splink", "findmatches", "entity-resolution"] = "splink"
    schedule: Annotated[str, Field(pattern=r"^(cron|rate)\(.+\)$")] = "cron(0 2 * * ? *)"
    match_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.9
    findmatches: FindMatchesConfig = Field(default_factory=FindMatchesConfig)
    splink: GlueJobSizing = Field(default_factory=GlueJobSizing)
    entity_resolution: EntityResolutionConfig = Field(default_factory=EntityResolutionConfig)


class EventsConfig(_Frozen):
    """The experience pathway (Kinesis -> event processor) and the analytical pathway (Firehose -> lake)."""

    stream_mode: Literal["on_demand", "provisioned"] = "on_demand"
    shards: Annotated[int, Field(ge=1, le=500)] = 1  # provisioned mode only
    # At most 13 days: the processor remembers applied event ids for retention + 1 day, up to 14 days.
    retention_hours: Annotated[int, Field(ge=24, le=312)] = 168
    batch_size: Annotated[int, Field(ge=1, le=10000)] = 500
    batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = 1
    parallelization_factor: Annotated[int, Field(ge=1, le=10)] = 2
    max_retries: Annotated[int, Field(ge=0, le=10000)] = 5
    max_record_age_seconds: Annotated[int, Field(ge=60, le=604800)] = 3600
    # SpendingThresholdCrossed fires when the 30-day rolling spend first reaches this amount.
    spend_threshold: Annotated[float, Field(gt=0)] = 1000
    spend_currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "GBP"  # the currency spend is counted in
    # Interactions on two channels this close together are one journey switching channel (ChannelSwitched).
    channel_switch_minutes: Annotated[int, Field(ge=1, le=1440)] = 30
    # An event dated more than this after it reached the stream is dead-lettered ("occurred_at in the future"):
    # producers' clocks drift a little; a bigger lead is a broken clock or time zone, not a real event.
    future_tolerance_minutes: Annotated[int, Field(ge=0, le=60)] = 5
    # Firehose buffering into the lake (dynamic partitioning needs at least 64 MB).
    lake_buffer_seconds: Annotated[int, Field(ge=60, le=900)] = 300
    lake_buffer_mb: Annotated[int, Field(ge=64, le=128)] = 128


# The retraining pipeline runs at most 6 hours; tuning gets 5 of them (preparation and deployment the rest).
TUNING_MINUTES_LIMIT = 300


class PropensityConfig(_Frozen):
    """The propensity model: weekly tuning on SageMaker, champion/challenger in the model registry, served serverless."""

    schedule: Annotated[str, Field(pattern=r"^(cron|rate)\(.+\)$")] = "cron(0 3 ? * SUN *)"
    # A retrained model replaces the endpoint's only if its validation AUC reaches this.
    auc_threshold: Annotated[float, Field(gt=0.5, le=1)] = 0.78
    xgboost_version: Literal["1.7-1", "3.0-5"] = "3.0-5"  # the built-in images of the registries file
    training_instance_type: Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")] = "ml.m5.large"
    max_training_minutes: Annotated[int, Field(ge=5, le=1440)] = 60
    endpoint_memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    endpoint_max_concurrency: Annotated[int, Field(ge=1, le=200)] = 10
    # How long the eligibility service waits for a score before deciding on the rules alone.
    invoke_timeout_ms: Annotated[int, Field(ge=100, le=5000)] = 800
    # Each run leaves a model and an endpoint config: the pipeline keeps this many of the newest runs' (and
    # whatever the endpoint uses) and removes older ones (`omni propensity cleanup` does the same by hand).
    keep_models: Annotated[int, Field(ge=1, le=100)] = 3
    # Champion/challenger: a retrained model replaces the approved one only if its validation AUC beats the
    # approved model's, scored on the same holdout, by at least this (auc_threshold still applies as a floor).
    # Above the tuning job's own selection effect: the best of 12 jobs reads 0.0026-0.0034 AUC high on the bank
    # data (benchmarks/propensity/tuning_selection.py), so a smaller margin would promote noise.
    promotion_margin: Annotated[float, Field(ge=0, lt=0.5)] = 0.005
    # A promoted model waits for a person to approve its model package before it serves. Unset: required
    # where data is retained (production-like environments), automatic elsewhere.
    require_manual_approval: bool | None = None
    # SageMaker automatic model tuning over propensity.search_space: how many training jobs, how many at once.
    tuning_max_jobs: Annotated[int, Field(ge=1, le=100)] = 12
    tuning_parallel_jobs: Annotated[int, Field(ge=1, le=10)] = 3

    @model_validator(mode="after")
    def _tuning_fits_the_run(self) -> PropensityConfig:
        if self.tuning_parallel_jobs > self.tuning_max_jobs:
            raise ValueError("propensity.tuning_parallel_jobs exceeds tuning_max_jobs")
        if self.tuning_minutes > TUNING_MINUTES_LIMIT:
            raise ValueError(
                f"tuning could take {self.tuning_minutes} minutes (max_training_minutes x rounds of "
                f"tuning_parallel_jobs): at most {TUNING_MINUTES_LIMIT} fit in the pipeline's 6 hours"
            )
        return self

    @property
    def tuning_minutes(self) -> int:
        """The longest the tuning job may run: every round of parallel jobs taking the longest a job may."""
        rounds = -(-self.tuning_max_jobs // self.tuning_parallel_jobs)
        return rounds * self.max_training_minutes


Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,40}$")]


class WatchConfig(_Frozen):
    """One business or service metric under anomaly detection, and who owns it."""

    name: Name
    # customer-events: EventsApplied of the event processor by event type and channel; revenue: its
    # purchase amounts by channel (in events.spend_currency); profile-api: the profile API's API Gateway
    # metrics; event-processor: its Lambda metrics.
    source: Literal["customer-events", "revenue", "profile-api", "event-processor"]
    event_type: str | None = None
    channel: str | None = None
    metric: str | None = None
    statistic: str = "Sum"
    direction: Literal["above", "below", "both"]
    band: Annotated[float, Field(gt=0, le=10)]  # the band's width, in standard deviations
    period_minutes: Literal[1, 5, 10, 15, 30, 60]
    evaluation_periods: Annotated[int, Field(ge=1, le=24)]
    datapoints_to_alarm: Annotated[int, Field(ge=1, le=24)]
    journey: Name
    team: Name

    @model_validator(mode="after")
    def _source_fields(self) -> WatchConfig:
        if self.source == "customer-events" and not (self.event_type and self.channel):
            raise ValueError(f"watch {self.name}: customer-events watches need event_type and channel")
        if self.source == "revenue" and not self.channel:
            raise ValueError(f"watch {self.name}: revenue watches need channel")
        if self.source in ("profile-api", "event-processor") and not self.metric:
            raise ValueError(f"watch {self.name}: {self.source} watches need metric")
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(f"watch {self.name}: datapoints_to_alarm exceeds evaluation_periods")
        return self


def _default_watches() -> tuple[WatchConfig, ...]:
    """The default watch table. Each watch alarms outside a band of 2 standard deviations over 5-minute periods,
    2 of 3 periods outside it, unless its row says otherwise."""
    shape = {"band": 2, "period_minutes": 5, "evaluation_periods": 3, "datapoints_to_alarm": 2}
    # fmt: off
    rows: tuple[tuple[str, str, str, str, str, dict[str, Any]], ...] = (
        # name                       source             direction journey             team            what it reads, other settings
        ("complaints-contact-centre", "customer-events", "above", "service-recovery", "customer-care", {"event_type": "complaint", "channel": "contact_centre"}),
        ("complaints-web",            "customer-events", "above", "service-recovery", "customer-care", {"event_type": "complaint", "channel": "web"}),
        ("complaints-app",            "customer-events", "above", "service-recovery", "customer-care", {"event_type": "complaint", "channel": "app"}),
        ("cart-abandonment-web",      "customer-events", "above", "purchase",         "digital",       {"event_type": "cart_abandoned", "channel": "web"}),
        ("cart-abandonment-app",      "customer-events", "above", "purchase",         "digital",       {"event_type": "cart_abandoned", "channel": "app"}),
        ("purchases-web",             "customer-events", "below", "purchase",         "digital",       {"event_type": "purchase", "channel": "web"}),
        ("purchases-store",           "customer-events", "below", "purchase",         "retail",        {"event_type": "purchase", "channel": "store"}),
        ("revenue-web",               "revenue",         "below", "purchase",         "digital",       {"channel": "web", "period_minutes": 15}),
        ("revenue-store",             "revenue",         "below", "purchase",         "retail",        {"channel": "store", "period_minutes": 15}),
        ("profile-api-5xx",           "profile-api",     "above", "customer-profile", "platform",      {"metric": "5XXError", "statistic": "Sum"}),
        ("profile-api-latency",       "profile-api",     "above", "customer-profile", "platform",      {"metric": "Latency", "statistic": "p99", "band": 3}),
        ("stream-iterator-age",       "event-processor", "above", "live-state",       "platform",      {"metric": "IteratorAge", "statistic": "Maximum", "band": 3}),
    )
    # fmt: on
    return tuple(
        WatchConfig.model_validate(
            {"name": name, "source": source, "direction": direction, "journey": journey, "team": team}
            | shape
            | settings
        )
        for name, source, direction, journey, team, settings in rows
    )


class AlertsConfig(_Frozen):
    """Anomaly alerts: which metrics are watched, by which team, how alerts are routed."""

    # cloudwatch: anomaly-detection alarms (default). lookout: Amazon Lookout for Metrics, retired by AWS.
    engine: Literal["cloudwatch", "lookout"] = "cloudwatch"
    # Repeats of a flapping alarm stay quiet this long.
    suppression_minutes: Annotated[int, Field(ge=1, le=1440)] = 30
    default_team: Name = "platform"
    teams: tuple[Name, ...] = ("platform", "customer-care", "digital", "retail")
    watches: tuple[WatchConfig, ...] = Field(default_factory=_default_watches)

    @model_validator(mode="after")
    def _teams_and_names(self) -> AlertsConfig:
        owners = {self.default_team, *(watch.team for watch in self.watches)}
        unknown = sorted(owners - set(self.teams))
        if unknown:
            raise ValueError(f"team(s) {', '.join(unknown)} not in teams {list(self.teams)}")
        names = [watch.name for watch in self.watches]
        if len(names) != len(set(names)):
            raise ValueError("watch names must be unique")
        return self


class EligibilityConfig(_Frozen):
    # How long each decision is kept for audit (DynamoDB TTL), and what the contact centre offers.
    decision_ttl_days: Annotated[int, Field(ge=1, le=3650)] = 400
    offer_check_product: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] = "retention-offer"


class LiveStateConfig(_Frozen):
    """Stage 5: the customer table's stream fanned out as CustomerStateChanged, and real-time rescoring."""

    # The publisher's stream mapping: small batches keep the fan-out within seconds.
    publisher_batch_size: Annotated[int, Field(ge=1, le=1000)] = 100
    publisher_batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = 0
    publisher_max_retries: Annotated[int, Field(ge=0, le=10000)] = 10
    # DynamoDB keeps stream records 24 hours: older ones cannot be read anyway.
    publisher_max_record_age_seconds: Annotated[int, Field(ge=60, le=86400)] = 86400
    # A customer is rescored at most once per this many seconds, however fast their state changes.
    rescore_debounce_seconds: Annotated[int, Field(ge=1, le=86400)] = 300


class GameDaysConfig(_Frozen):
    """AWS FIS game days on the event processor and the two APIs (stage 4 on): off unless an environment opts in.

    Enabling them also gives the target functions the FIS extension layer and its settings."""

    enabled: bool = False
    # Each experiment affects this share of the target's invocations, for this long.
    invocation_percentage: Annotated[int, Field(ge=1, le=100)] = 10
    duration_minutes: Annotated[int, Field(ge=1, le=720)] = 10
    # What the delay experiments add before an affected invocation starts (FIS allows up to 900000).
    added_delay_ms: Annotated[int, Field(ge=0, le=900_000)] = 3000


class FeatureDriftConfig(_Frozen):
    """The daily feature-drift check (stage 4, eligibility): live model inputs against the training baseline."""

    # When the check runs (EventBridge Scheduler, UTC): after the night's decisions, before the working day.
    schedule: Annotated[str, Field(pattern=r"^(cron|rate)\(.+\)$")] = "cron(0 5 * * ? *)"
    # Decisions of the last window_days are compared with the baseline of the model serving now.
    window_days: Annotated[int, Field(ge=1, le=90)] = 7
    # A population stability index at or above this on any input alarms (0.1-0.2 moving, above 0.2 shifted).
    threshold: Annotated[float, Field(gt=0, le=10)] = 0.2
    # An input with fewer live values than this is not measured; the check reads at most max_rows decisions.
    min_rows: Annotated[int, Field(ge=10)] = 200
    max_rows: Annotated[int, Field(ge=100, le=1_000_000)] = 50_000
    # Who is told (one of alerts.teams); unset: alerts.default_team.
    team: Name | None = None


class EnvironmentConfig(_Frozen):
    """One environment: what cdk.json gives for it over the defaults below (region and maturity it must give)."""

    account: str | None = None
    region: str
    maturity: Stage
    removal_policy: Literal["destroy", "retain"] = "retain"
    log_retention_days: int = 365
    sizing: SizingConfig = Field(default_factory=SizingConfig)
    # How a new function version reaches traffic: CodeDeploy canary (10% for 5 minutes) or all at once.
    lambda_deployment: Literal["canary", "all_at_once"] = "canary"
    # Version of the public layer AWSLambdaPowertoolsPythonV3-python314-arm64 (runtime libraries).
    powertools_layer_version: PositiveInt = 36
    data_lake: DataLakeConfig = Field(default_factory=DataLakeConfig)
    event_archive_retention_days: PositiveInt = 90
    # Phone numbers captured without a country code are read as this region's (ISO 3166-1 alpha-2).
    default_phone_region: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "GB"
    contact_centre: ContactCentreConfig = Field(default_factory=ContactCentreConfig)
    mdm: MdmConfig = Field(default_factory=MdmConfig)
    events: EventsConfig = Field(default_factory=EventsConfig)
    propensity: PropensityConfig = Field(default_factory=PropensityConfig)
    eligibility: EligibilityConfig = Field(default_factory=EligibilityConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    live_state: LiveStateConfig = Field(default_factory=LiveStateConfig)
    game_days: GameDaysConfig = Field(default_factory=GameDaysConfig)
    feature_drift: FeatureDriftConfig = Field(default_factory=FeatureDriftConfig)

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not ACCOUNT_PATTERN.match(value):
            raise ValueError("must be a 12-digit AWS account id, or null for an environment-agnostic synth")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not REGION_PATTERN.match(value):
            raise ValueError("must be an AWS region code such as eu-west-2 or us-east-1")
        return value

    @field_validator("maturity", mode="before")
    @classmethod
    def _maturity(cls, value: Any) -> Stage:
        try:
            return Stage(int(value))
        except (TypeError, ValueError):
            raise ValueError(f"must be one of {Stage.allowed()}") from None

    @field_validator("log_retention_days")
    @classmethod
    def _log_retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of the CloudWatch Logs retention periods {LOG_RETENTION_DAYS}")
        return value

    @model_validator(mode="after")
    def _drift_team(self) -> EnvironmentConfig:
        team = self.feature_drift.team
        if team is not None and team not in self.alerts.teams:
            raise ValueError(f"feature_drift.team {team!r} is not in alerts.teams {list(self.alerts.teams)}")
        return self

    @property
    def feature_drift_team(self) -> str:
        """The team the feature-drift alarm notifies."""
        return self.feature_drift.team or self.alerts.default_team


class PlatformConfig(_Frozen):
    """Everything a stack may know about the environment it is synthesized for."""

    project: str
    env_name: str
    environment: EnvironmentConfig

    @property
    def maturity(self) -> Stage:
        return self.environment.maturity

    @property
    def region(self) -> str:
        return self.environment.region

    @property
    def account(self) -> str | None:
        return self.environment.account

    @property
    def retain_data(self) -> bool:
        """Stateful resources are retained and protected (production-like)."""
        return self.environment.removal_policy == "retain"

    def resource_name(self, *parts: str) -> str:
        """A physical-name prefix shared by infrastructure and runtime: project-env-part."""
        return "-".join((self.project, self.env_name, *parts))


PIPELINE_KEY = "omni:pipeline"
GITHUB_REPOSITORY_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
CONNECTION_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
)


class PipelineSourceConfig(_Frozen):
    """Where the delivery pipeline reads the repository: a CodeConnections connection or an S3 object (a zip)."""

    kind: Literal["connection", "s3"] = "connection"
    repository: Annotated[str, Field(pattern=GITHUB_REPOSITORY_PATTERN)] | None = None  # owner/name
    branch: Annotated[str, Field(min_length=1, max_length=255)] = "main"
    connection_arn: Annotated[str, Field(pattern=CONNECTION_ARN_PATTERN)] | None = None
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] | None = None
    object_key: Annotated[str, Field(min_length=1, max_length=1024)] = "omni-cx/source.zip"


class PipelineConfig(_Frozen):
    """The opt-in delivery pipeline (`pipeline_app.py`): one self-mutating CodePipeline that deploys the
    environments in order, each at its configured maturity, with `omni plan` before each deploy.

    cdk.json gives it under `context."omni:pipeline"`; nothing there means no pipeline."""

    enabled: bool = False
    # The account the pipeline lives in (needed once enabled; an environment without an account deploys
    # into it) and its region (null: the region of the first environment it deploys).
    account: str | None = None
    region: str | None = None
    source: PipelineSourceConfig = Field(default_factory=PipelineSourceConfig)
    # The environments it deploys, in this order (names of omni:environments), and those that wait for a
    # person to approve the change before their plan and deploy run.
    environments: tuple[Annotated[str, Field(pattern=ENV_NAME_PATTERN.pattern)], ...] = ("dev", "prod")
    approval_before: tuple[str, ...] = ("prod",)

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not ACCOUNT_PATTERN.match(value):
            raise ValueError("must be a 12-digit AWS account id, or null for the deploying account")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not REGION_PATTERN.match(value):
            raise ValueError("must be an AWS region code such as eu-west-2 or us-east-1")
        return value

    @model_validator(mode="after")
    def _complete(self) -> PipelineConfig:
        if not self.environments or len(set(self.environments)) != len(self.environments):
            raise ValueError("environments: give each environment once, in deployment order")
        unknown = sorted(set(self.approval_before) - set(self.environments))
        if unknown:
            raise ValueError(f"approval_before: {', '.join(unknown)} not in environments {list(self.environments)}")
        source = self.source
        if self.enabled and self.account is None:
            raise ValueError("account: the pipeline's AWS account id is needed once it is enabled")
        if self.enabled and source.kind == "connection" and not (source.repository and source.connection_arn):
            raise ValueError("source: a connection source needs repository (owner/name) and connection_arn")
        if self.enabled and source.kind == "s3" and not source.bucket:
            raise ValueError("source: an s3 source needs bucket (and object_key, the zip of the repository)")
        return self


def load_pipeline_config(get_context: Callable[[str], Any]) -> PipelineConfig:
    """The delivery pipeline's settings from CDK context; every environment it names must exist."""
    raw = get_context(PIPELINE_KEY) or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{PIPELINE_KEY} = {raw!r}: must be an object of pipeline settings")
    try:
        pipeline = PipelineConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_one_line(error, prefix=PIPELINE_KEY, raw=raw, model=PipelineConfig)) from None
    environments = get_context(ENVIRONMENTS_KEY) or {}
    unknown = [name for name in pipeline.environments if name not in environments]
    if unknown:
        raise ConfigError(
            f"{PIPELINE_KEY}.environments: {', '.join(unknown)} not in {ENVIRONMENTS_KEY} "
            f"({', '.join(sorted(environments))})"
        )
    return pipeline


def read_cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The `context` block of cdk.json (what the CDK CLI passes to the app)."""
    with path.open(encoding="utf-8") as handle:
        context = json.load(handle).get("context", {})
    if not isinstance(context, dict):
        raise ConfigError(f"{path.name}: 'context' must be an object")
    return context


def load_config(get_context: Callable[[str], Any]) -> PlatformConfig:
    """Build the config from CDK context (`app.node.try_get_context`)."""
    project = get_context(PROJECT_KEY) or "omni-cx"
    if not isinstance(project, str) or not PROJECT_PATTERN.match(project):
        raise ConfigError(
            f"{PROJECT_KEY} = {project!r}: must be 2-21 lower-case letters, digits or hyphens, starting with a letter"
        )

    environments = get_context(ENVIRONMENTS_KEY)
    if not isinstance(environments, Mapping) or not environments:
        raise ConfigError(f"{ENVIRONMENTS_KEY} = {environments!r}: must map environment names to settings in cdk.json")

    env_name = get_context(ENV_KEY) or DEFAULT_ENV
    bad_names = sorted(name for name in environments if not ENV_NAME_PATTERN.match(name))
    if bad_names:
        raise ConfigError(
            f"{ENVIRONMENTS_KEY}: environment name {bad_names[0]!r} must be 1-16 lower-case letters, digits or "
            "hyphens, starting with a letter (it is part of resource names)"
        )
    if env_name not in environments:
        raise ConfigError(f"{ENV_KEY} = {env_name!r}: unknown environment; allowed: {', '.join(sorted(environments))}")

    raw = dict(environments[env_name])
    maturity_override = get_context(MATURITY_KEY)
    if maturity_override is not None:
        raw["maturity"] = _parse_maturity(maturity_override)

    try:
        environment = EnvironmentConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_one_line(error, prefix=f"{ENVIRONMENTS_KEY}.{env_name}", raw=raw)) from None
    return PlatformConfig(project=project, env_name=env_name, environment=environment)


def config_for(
    env_name: str, maturity: int | None = None, *, context: Mapping[str, Any] | None = None
) -> PlatformConfig:
    """Config for tools and tests that run outside the CDK CLI (reads cdk.json)."""
    merged = dict(read_cdk_json_context() if context is None else context)
    merged[ENV_KEY] = env_name
    if maturity is not None:
        merged[MATURITY_KEY] = maturity
    return load_config(merged.get)


def _parse_maturity(value: Any) -> Stage:
    try:
        return Stage(int(value))
    except (TypeError, ValueError):
        raise ConfigError(f"{MATURITY_KEY} = {value!r}: must be one of {Stage.allowed()}") from None


def _one_line(
    error: ValidationError, *, prefix: str, raw: Mapping[str, Any], model: type[BaseModel] | None = None
) -> str:
    first = error.errors(include_url=False)[0]
    path = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        return f"{prefix}.{path}: missing; add it to the environment in cdk.json"
    if first["type"] == "extra_forbidden":
        allowed = _allowed_keys(first["loc"], model or EnvironmentConfig)
        return f"{prefix}.{path}: unknown key; allowed keys: {', '.join(allowed)}"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    value = repr(first["input"])
    if not path:  # a check of the whole object: its message names the keys
        return f"{prefix}: {message}{more}"
    if len(value) > 80:  # a whole section (a model-level check): its message names what is wrong
        return f"{prefix}.{path}: {message}{more}"
    return f"{prefix}.{path} = {value}: {message}{more}"


def _allowed_keys(loc: tuple[int | str, ...], model: type[BaseModel]) -> list[str]:
    for part in loc[:-1]:
        annotation = model.model_fields[str(part)].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return sorted(model.model_fields)
