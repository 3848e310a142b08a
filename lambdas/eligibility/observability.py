"""Logger, metrics and tracing of the eligibility service.

Logs carry the route, the customer id, the rule-set version and outcomes only:
never a request body, header value or a customer attribute. The Tracer is
created only when tracing is on (it loads the X-Ray SDK, most of a cold start).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

from eligibility.constants import ELIGIBILITY_SERVICE
from eligibility.decisions import DecisionRecord
from omni_domain.constants import ENV_SERVICE_NAME, ENV_TRACE_DISABLED

logger = Logger(service=os.environ.get(ENV_SERVICE_NAME, ELIGIBILITY_SERVICE))
metrics = Metrics()

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def tracing_enabled(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    disabled = resolve_truthy_env_var_choice(env=env.get(ENV_TRACE_DISABLED, "false"))
    return "LAMBDA_TASK_ROOT" in env and not disabled


def traced(handler: Handler) -> Handler:
    if not tracing_enabled():
        return handler
    return Tracer().capture_lambda_handler(handler, capture_response=False, capture_error=False)


def fallback_metric_names(record: DecisionRecord) -> list[str]:
    """`ScoreFallback` (alarm on it) and one per reason, e.g. `ScoreFallbackTimeout`."""
    if record.fallback_reason is None:
        return []
    reason = "".join(part.capitalize() for part in record.fallback_reason.split("-"))
    return ["ScoreFallback", f"ScoreFallback{reason}"]


def count_decision(record: DecisionRecord, *, log: Logger, sink: Metrics) -> None:
    decision = record.decision
    names = ["Decision", "Eligible" if decision.eligible else "NotEligible", *fallback_metric_names(record)]
    for name in names:
        sink.add_metric(name=name, unit=MetricUnit.Count, value=1)
    log.info(
        "decision",
        extra={
            "customer_id": decision.customer_id,
            "eligible": decision.eligible,
            "rule_set_version": decision.rule_set_version,
            "score_source": decision.score_source,
            "fallback_reason": record.fallback_reason,
        },
    )
