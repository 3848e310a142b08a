"""After the services, feature drift: the daily check on a normal population (no alarm) and on a shifted one (alarm).

The model trained in step 3 is made the endpoint's in moto (its artefacts packed
as SageMaker packs them, under the retraining pipeline's prefix of the curated
lake, with a model, endpoint config and endpoint of the template's endpoint
name), so the job finds its baseline exactly as in AWS. Two populations are
decided by the eligibility service (in-process, over the moto tables and the
stood-in endpoint, so every decision is audited as in the API):

- normal: customers as they are, decided now; the job runs at the next minute;
- shifted: the same customers as a price rise would leave them (no spend this
  month, two more complaints, at risk), decided `SHIFT_DAYS` later, outside the
  normal window; the job runs then.

Each run is the real handler with the schedule's event. CloudWatch alarm
evaluation is not in moto, so the template's alarm (metric, threshold, action)
is evaluated here on the `FeatureDriftMax` the run emitted; in ALARM the
notification goes to the alarm's topic, and arrives on the team's subscription.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from eligibility.composition import service_from_settings
from eligibility.decisions import EligibilityService
from eligibility.rules import Target
from eligibility.settings import DecisionSettings
from feature_drift import constants as drift
from omni_domain.errors import NotFoundError
from omni_domain.models import CustomerView, LiveState
from omni_domain.repositories import CustomerRepository
from propensity.baseline import feature_baseline
from propensity.baseline import to_json as baseline_json
from propensity.data import read_csv
from propensity.features import FeatureSpec
from propensity.training import SPEC_FILE
from sandbox.context import GoldenCustomer, RunContext

ELIGIBILITY = "eligibility.handler.lambda_handler"
ALARM_TYPE = "AWS::CloudWatch::Alarm"
POPULATION = 320  # decisions per population: above the job's minimum per feature (drift.min_rows, 200 by default)
SHIFT_DAYS = 10  # the shifted population is decided this much later: outside the normal run's window
RUN_PREFIX = "propensity/runs/sandbox/model/"


@dataclass(frozen=True)
class DriftRun:
    population: str
    decisions: int
    status: str
    largest_psi: float | None
    drifted: list[str]
    alarm_state: str
    notified_topic: str | None


@dataclass(frozen=True)
class DriftResult:
    alarm: str
    threshold: float
    expected_topic: str  # the owning team's topic (feature_drift.team, else alerts.default_team)
    model_data: str
    runs: list[DriftRun]
    notes: list[str] = field(default_factory=list)

    def run(self, population: str) -> DriftRun:
        return next(run for run in self.runs if run.population == population)


class _Shifted:
    """The customers as a shift in the population would show them to the model (only their live state differs)."""

    def __init__(self, customers: CustomerRepository) -> None:
        self._customers = customers

    def get(self, customer_id: str) -> Any:
        stored = self._customers.get(customer_id)
        view = stored.view()
        return _View(None if view is None else _shift(view))


@dataclass(frozen=True)
class _View:
    shifted: CustomerView | None

    def view(self) -> CustomerView | None:
        return self.shifted


def _shift(view: CustomerView) -> CustomerView:
    state = view.live_state
    counters = dict(state.counters)
    counters["complaints"] = counters.get("complaints", 0) + 2
    counters["purchases"] = counters.get("purchases", 0) + 6
    rolling = state.rolling_spend.model_copy(
        update={"last_30_days": Decimal(0), "last_365_days": state.rolling_spend.last_365_days * 3 + 500}
    )
    shifted: LiveState = state.model_copy(
        update={"counters": counters, "rolling_spend": rolling, "journey_stage": "at_risk"}
    )
    return view.model_copy(update={"live_state": shifted})


def run(context: RunContext, population: list[GoldenCustomer], product: str) -> DriftResult:
    say = context.progress.step("drift")
    platform = context.platform
    environment = platform.function_environment(drift.FEATURE_DRIFT_HANDLER)
    notes: list[str] = []
    model_data = _serve_trained_model(context, environment["PROPENSITY_ENDPOINT_NAME"], notes)
    say(f"endpoint {environment['PROPENSITY_ENDPOINT_NAME']} serves {model_data} in moto")
    alarm_name, alarm = _alarm(context)
    threshold = float(alarm["Threshold"])
    settings = DecisionSettings.from_environment(platform.function_environment(ELIGIBILITY))
    service = service_from_settings(
        settings, dynamodb=platform.client("dynamodb"), sagemaker_runtime=platform.client("sagemaker-runtime")
    )
    customers = population[:POPULATION]
    runs = []
    shifted = replace(service, customers=cast(CustomerRepository, _Shifted(service.customers)))
    for name, at, decider in (
        ("normal", context.now, service),
        ("shifted", context.now + timedelta(days=SHIFT_DAYS), shifted),
    ):
        made = _decide(replace(decider, clock=_fixed(at)), customers, product)
        runs.append(_check(context, name, made, at=at + timedelta(minutes=1), alarm_name=alarm_name, alarm=alarm))
        last = runs[-1]
        psi = "n/a" if last.largest_psi is None else f"{last.largest_psi:.3f}"
        say(
            f"{name}: {made} decisions, largest PSI {psi} ({', '.join(last.drifted) or 'no input'} >= {threshold})"
            f" -> {alarm_name} {last.alarm_state}"
            + (f", notified {last.notified_topic}" if last.notified_topic else "")
        )
    return DriftResult(
        alarm=alarm_name,
        threshold=threshold,
        expected_topic=platform.config.resource_name("alerts", platform.config.environment.feature_drift_team),
        model_data=model_data,
        runs=runs,
        notes=notes,
    )


def _fixed(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def _decide(service: EligibilityService, customers: list[GoldenCustomer], product: str) -> int:
    made = 0
    for number, customer in enumerate(customers):
        try:
            service.decide(customer.golden_id, Target(product=product), decision_id=f"sbx-drift-{number:05d}")
        except NotFoundError:
            continue
        made += 1
    return made


def _check(
    context: RunContext, population: str, decisions: int, *, at: datetime, alarm_name: str, alarm: dict[str, Any]
) -> DriftRun:
    platform = context.platform
    mark = platform.output_mark()
    result = platform.invoke(drift.FEATURE_DRIFT_HANDLER, {"scheduled_time": at.isoformat()})
    metric = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
    emitted = [
        line
        for line in platform.handler_output(since=mark)
        if f'"{drift.METRIC_MAX}"' in line  # the run's own metrics blob (its value may legitimately be 0)
    ]
    largest = platform.emitted_metric(emitted, alarm["Namespace"], alarm["MetricName"], metric) if emitted else None
    breaching = largest is not None and largest >= float(alarm["Threshold"])
    topic = _notify(context, alarm_name, alarm, largest) if breaching else None
    return DriftRun(
        population=population,
        decisions=decisions,
        status=str(result.get("status")),
        largest_psi=None if largest is None else round(largest, 4),
        drifted=list(result.get("drifted", [])),
        alarm_state="ALARM" if breaching else "OK",
        notified_topic=topic,
    )


def _notify(context: RunContext, alarm_name: str, alarm: dict[str, Any], value: float | None) -> str | None:
    """What CloudWatch does on entering ALARM: the notification to each action's topic; the topic it arrived on."""
    platform = context.platform
    sns = platform.client("sns")
    for action in alarm.get("AlarmActions", []):
        sns.publish(
            TopicArn=action,
            Subject=f'ALARM: "{alarm_name}" in {platform.region}'[:100],
            Message=json.dumps(
                {
                    "AlarmName": alarm_name,
                    "AlarmDescription": alarm.get("AlarmDescription"),
                    "NewStateValue": "ALARM",
                    "NewStateReason": f"Threshold Crossed: 1 datapoint [{value}] was greater than or equal to "
                    f"the threshold ({alarm['Threshold']}).",
                    "Trigger": {"MetricName": alarm["MetricName"], "Namespace": alarm["Namespace"]},
                }
            ),
        )
    for action in alarm.get("AlarmActions", []):
        name = action.rsplit(":", 1)[-1]
        if action in platform.topic_taps and platform.topic_messages(name):
            return str(name)
    return None


def _alarm(context: RunContext) -> tuple[str, dict[str, Any]]:
    platform = context.platform
    for resource in platform.resources(ALARM_TYPE):
        if resource.properties.get("MetricName") == drift.METRIC_MAX:
            properties = platform.resolver.resolve(dict(resource.properties), resource.stack)
            return platform.name_of(resource), properties
    raise LookupError(f"no alarm watches {drift.METRIC_MAX} at this stage")


def _serve_trained_model(context: RunContext, endpoint_name: str, notes: list[str]) -> str:
    """Step 3's model as the endpoint's: packed, uploaded under the pipeline's prefix, and deployed in moto."""
    platform = context.platform
    model_dir = context.workdir / "propensity" / "model"
    if not (model_dir / drift.BASELINE_FILE).is_file():
        _write_baseline(context.workdir / "propensity", model_dir)
        notes.append(f"the trained model had no {drift.BASELINE_FILE}: the drift step wrote one from its training rows")
    bucket = platform.bucket(f"curated-{platform.account}-{platform.region}")
    key = f"{RUN_PREFIX}output/model.tar.gz"
    platform.client("s3").put_object(Bucket=bucket, Key=key, Body=_tar_gz(model_dir))
    model_data = f"s3://{bucket}/{key}"
    sagemaker = platform.client("sagemaker")
    name = "propensity-sandbox"
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=f"arn:aws:iam::{platform.account}:role/sandbox-training",
        PrimaryContainer={"Image": "sagemaker-xgboost", "ModelDataUrl": model_data},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "primary",
                "ModelName": name,
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 2},
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=name)
    return model_data


def _write_baseline(work: Path, model_dir: Path) -> None:
    """The training rows' baseline, as training writes it (for a model saved without one)."""
    spec = FeatureSpec.from_json((model_dir / SPEC_FILE).read_text(encoding="utf-8"))
    document = feature_baseline(read_csv(work / "train" / "data.csv"), spec)
    (model_dir / drift.BASELINE_FILE).write_text(baseline_json(document), encoding="utf-8")


def _tar_gz(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(directory.iterdir()):
            if path.is_file():
                archive.add(path, arcname=path.name)
    return buffer.getvalue()
