"""An alarm state change as the router reasons about it, and the evidence its `reasonData` holds.

CloudWatch's `reasonData` is a JSON string whose shape depends on the alarm:
- anomaly detection: `recentDatapoints` with `recentLowerThresholds` / `recentUpperThresholds`
  (one of the two is absent for a one-sided band);
- static threshold (single metric or metric math): `recentDatapoints` and `threshold`;
- composite: `triggeringAlarms` (ARNs and states of the children that decided).
Anything else (or no reasonData) leaves the state's reason text as the only evidence.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alert_router.events import AlarmStateChangeEvent, StateModel, StateValue
from alert_router.routing import RoutingMetadata, parse_alarm_description

ALARM: StateValue = "ALARM"
OK: StateValue = "OK"
INSUFFICIENT_DATA: StateValue = "INSUFFICIENT_DATA"


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the alarm saw: the latest observed value against its band or threshold, or the children that fired."""

    observed: float | None = None
    lower: float | None = None
    upper: float | None = None
    threshold: float | None = None
    triggering_alarms: tuple[str, ...] = ()

    @property
    def is_band(self) -> bool:
        return self.lower is not None or self.upper is not None


@dataclass(frozen=True, slots=True)
class AlarmChange:
    event_id: str
    alarm_name: str
    region: str
    state: StateValue
    since: datetime
    reason: str
    evidence: Evidence
    previous_state: StateValue | None
    previous_since: datetime | None
    routing: RoutingMetadata | None
    metric_label: str | None


def _last_number(values: Any) -> float | None:
    if isinstance(values, list) and values:
        return _number(values[-1])
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _alarm_name_of(arn: Any) -> str | None:
    if not isinstance(arn, str) or ":alarm:" not in arn:
        return None
    return arn.split(":alarm:", 1)[1]


def evidence_of(reason_data: str | None) -> Evidence:
    """The evidence in a state's `reasonData`; empty evidence when it is absent or not understood."""
    if not reason_data:
        return Evidence()
    try:
        data = json.loads(reason_data)
    except ValueError:
        return Evidence()
    if not isinstance(data, dict):
        return Evidence()
    triggering = data.get("triggeringAlarms")
    if isinstance(triggering, list):
        names = (_alarm_name_of(child.get("arn")) for child in triggering if isinstance(child, dict))
        return Evidence(triggering_alarms=tuple(name for name in names if name))
    return Evidence(
        observed=_last_number(data.get("recentDatapoints")),
        lower=_last_number(data.get("recentLowerThresholds")),
        upper=_last_number(data.get("recentUpperThresholds")),
        threshold=_number(data.get("threshold")),
    )


def _metric_label(event: AlarmStateChangeEvent) -> str | None:
    """The name of the watched metric: the one the alarm reads that is not the anomaly band expression."""
    for metric in event.detail.configuration.metrics:
        if metric.expression and "ANOMALY_DETECTION_BAND" in metric.expression:
            continue
        stat = metric.metric_stat or {}
        name = (stat.get("metric") or {}).get("name")
        if metric.return_data and (metric.label or name):
            return str(metric.label or name)
    return None


def _previous(state: StateModel | None) -> tuple[StateValue | None, datetime | None]:
    return (state.value, state.timestamp) if state else (None, None)


def alarm_change(event: AlarmStateChangeEvent) -> AlarmChange:
    detail = event.detail
    previous_state, previous_since = _previous(detail.previous_state)
    return AlarmChange(
        event_id=event.id,
        alarm_name=detail.alarm_name,
        region=event.region,
        state=detail.state.value,
        since=detail.state.timestamp,
        reason=detail.state.reason,
        evidence=evidence_of(detail.state.reason_data),
        previous_state=previous_state,
        previous_since=previous_since,
        routing=parse_alarm_description(detail.configuration.description),
        metric_label=_metric_label(event),
    )
