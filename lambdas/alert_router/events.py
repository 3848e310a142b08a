"""What the router accepts from EventBridge: a CloudWatch "Alarm State Change" event, validated at the edge.

Only the fields the router reads are modelled; anything else in the event is ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alert_router.constants import ALARM_EVENT_SOURCE, ALARM_STATE_CHANGE
from alert_router.errors import MalformedEventError

StateValue = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class StateModel(_Model):
    value: StateValue
    reason: str = ""
    reason_data: str | None = Field(default=None, alias="reasonData")
    timestamp: datetime


class MetricModel(_Model):
    id: str
    expression: str | None = None
    label: str | None = None
    metric_stat: dict[str, Any] | None = Field(default=None, alias="metricStat")
    return_data: bool = Field(default=True, alias="returnData")


class ConfigurationModel(_Model):
    description: str | None = None
    metrics: tuple[MetricModel, ...] = ()
    alarm_rule: str | None = Field(default=None, alias="alarmRule")


class DetailModel(_Model):
    alarm_name: str = Field(alias="alarmName", min_length=1)
    state: StateModel
    previous_state: StateModel | None = Field(default=None, alias="previousState")
    configuration: ConfigurationModel = ConfigurationModel()


class AlarmStateChangeEvent(_Model):
    id: str = Field(min_length=1)
    source: Literal["aws.cloudwatch"]
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    region: str
    account: str
    detail: DetailModel


def parse_event(event: Any) -> AlarmStateChangeEvent:
    """The validated event; MalformedEventError names the fields at fault (locations only, no values)."""
    try:
        return AlarmStateChangeEvent.model_validate(event)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) or "event" for issue in error.errors()})
        raise MalformedEventError(
            f"not a {ALARM_EVENT_SOURCE} {ALARM_STATE_CHANGE!r} event: invalid or missing {', '.join(fields)}"
        ) from None
