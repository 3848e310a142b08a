"""Logger and metrics of the rescorer.

Logs carry the customer id, the change id, the outcome, the score source and
model version only: never an attribute, a feature, a score or the event's values.
Metrics (EMF, the function's metric set): `Rescored`, `RescoredModel` or
`RescoredFallback` with `RescoreFallback<Reason>` (e.g. `RescoreFallbackTimeout`;
alarm on `RescoredFallback`), `Debounced` (with `TrailingRescoreScheduled` when it sent
the window's delayed message), `Skipped` with `Skipped<Reason>`,
`TrailingRescores` (delayed messages handled), `StaleStateRetries`, and
`InvalidEvents`.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from omni_domain.constants import ENV_SERVICE_NAME, RESCORER_SERVICE
from rescorer.rescoring import RescoreOutcome, Trigger

logger = Logger(service=os.environ.get(ENV_SERVICE_NAME, RESCORER_SERVICE))
metrics = Metrics()


def _pascal(text: str) -> str:
    return "".join(part.capitalize() for part in text.split("-"))


def outcome_metric_names(outcome: RescoreOutcome, trigger: Trigger = "change") -> list[str]:
    names = ["TrailingRescores"] if trigger == "trailing" else []
    if outcome.status == "debounced":
        scheduled = ["TrailingRescoreScheduled"] if outcome.trailing_delay_seconds is not None else []
        return [*names, "Debounced", *scheduled]
    if outcome.status == "skipped":
        return [*names, "Skipped", f"Skipped{_pascal(outcome.skip_reason or 'unknown')}"]
    names += ["Rescored", "RescoredModel" if outcome.source == "model" else "RescoredFallback"]
    if outcome.fallback_reason is not None:
        names.append(f"RescoreFallback{_pascal(outcome.fallback_reason)}")
    return names


def record_outcome(outcome: RescoreOutcome, *, customer_id: str, change_id: str, trigger: Trigger) -> None:
    """`change_id`: the change handled, or for a trailing rescore the debounced change that scheduled it."""
    for name in outcome_metric_names(outcome, trigger):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    if outcome.stale_retries:
        metrics.add_metric(name="StaleStateRetries", unit=MetricUnit.Count, value=outcome.stale_retries)
    logger.info(
        "rescore",
        extra={
            "customer_id": customer_id,
            "change_id": change_id,
            "trigger": trigger,
            "status": outcome.status,
            "score_source": outcome.source,
            "model_version": outcome.model_version,
            "fallback_reason": outcome.fallback_reason,
            "skip_reason": outcome.skip_reason,
            "stale_retries": outcome.stale_retries,
            "trailing_delay_seconds": outcome.trailing_delay_seconds,
        },
    )


def record_invalid(reason: str) -> None:
    metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
    logger.error("invalid event", extra={"reason": reason})
