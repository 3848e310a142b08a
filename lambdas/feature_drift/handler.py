"""Scheduled feature-drift job: a thin adapter from EventBridge Scheduler's event to `job.check` and metrics.

The schedule sends `{"scheduled_time": "<aws.scheduler.scheduled-time>"}`: the
window ends at the scheduled time, so a retried or replayed run reads the same
window. Per measured feature it emits `FeatureDrift` (dimension `Feature`), and
`FeatureDriftMax`, the largest PSI, which the owning team's alarm watches;
features too sparse to measure are logged, not emitted. No model serving yet, or
artefacts without a baseline, is a warning and a `FeatureDriftNoBaseline` count,
not a failure. Logs carry feature names, PSI values and counts only.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from feature_drift.constants import FEATURE_DIMENSION, FEATURE_DRIFT_SERVICE, METRIC_FEATURE, METRIC_MAX, METRIC_ROWS
from feature_drift.job import DriftReport, check
from feature_drift.settings import DriftSettings
from feature_drift.sources import BaselineUnavailable
from omni_domain.constants import ENV_SERVICE_NAME
from omni_domain.wiring import Wiring

SERVICE = os.environ.get(ENV_SERVICE_NAME, FEATURE_DRIFT_SERVICE)
logger = Logger(service=SERVICE)
metrics = Metrics()


# The settings and the clients, built on the first run of an execution environment.
wiring: Wiring[dict[str, Any]] = Wiring(
    lambda: {
        "settings": DriftSettings.from_environment(),
        "sagemaker": boto3.client("sagemaker"),
        "s3": boto3.client("s3"),
        "dynamodb": boto3.client("dynamodb"),
    }
)


class ScheduledRun(BaseModel):
    model_config = ConfigDict(extra="ignore")

    scheduled_time: datetime | None = None  # absent (a run by hand): now


class BadEventError(ValueError):
    """The event cannot be read; the message names the field (the run fails and is retried, then dead-lettered)."""


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        run = ScheduledRun.model_validate(event if isinstance(event, dict) else {})
    except ValidationError as error:
        where = ".".join(str(part) for part in error.errors()[0]["loc"])
        raise BadEventError(f"{where}: {error.errors()[0]['msg']}") from None
    until = (run.scheduled_time or datetime.now(UTC)).astimezone(UTC)
    try:
        report = check(**wiring.current(), until=until)
    except BaselineUnavailable as unavailable:
        metrics.add_metric(name="FeatureDriftNoBaseline", unit=MetricUnit.Count, value=1)
        logger.warning("no baseline to compare with", extra={"reason": str(unavailable)})
        return {"status": "no-baseline", "reason": str(unavailable)}
    _emit(report)
    return summary(report)


def _emit(report: DriftReport) -> None:
    metrics.add_metric(name=METRIC_ROWS, unit=MetricUnit.Count, value=report.rows)
    for feature in report.measured:
        with single_metric(
            name=METRIC_FEATURE,
            unit=MetricUnit.NoUnit,
            value=feature.psi or 0.0,
            default_dimensions={"service": SERVICE},
        ) as metric:
            metric.add_dimension(name=FEATURE_DIMENSION, value=feature.feature)
    if report.largest is not None:
        metrics.add_metric(name=METRIC_MAX, unit=MetricUnit.NoUnit, value=report.largest)
    logger.info(
        "feature drift",
        extra={
            "rows": report.rows,
            "largest_psi": report.largest,
            "threshold": report.threshold,
            "drifted": {f.feature: f.psi for f in report.drifted},
            "too_few_rows": [f.feature for f in report.features if f.psi is None],
            "model_data": report.model_data,
        },
    )


def summary(report: DriftReport) -> dict[str, Any]:
    return {
        "status": "drifted" if report.drifted else "stable",
        "model_data": report.model_data,
        "window": {"since": report.since.isoformat(), "until": report.until.isoformat()},
        "rows": report.rows,
        "threshold": report.threshold,
        "largest_psi": report.largest,
        "drifted": [f.feature for f in report.drifted],
        "features": {f.feature: {"psi": f.psi, "rows": f.rows} for f in report.features},
    }
