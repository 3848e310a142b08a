"""The platform's operational alarms: a metric at or above a threshold notifies a topic.

Every alarm treats missing data as fine (no traffic is not an incident) and
fires on the first breaching period: these watch dead letters, errors and lag,
where one occurrence already needs a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct


@dataclass(frozen=True)
class Watch:
    construct_id: str
    metric: cloudwatch.IMetric
    threshold: float
    what: str  # the alarm description: what a person reading the notification should know


def alarm_at_or_above(scope: Construct, topic: sns.ITopic, watches: Iterable[Watch]) -> list[cloudwatch.Alarm]:
    action = cw_actions.SnsAction(topic)
    alarms = []
    for watch in watches:
        alarm = cloudwatch.Alarm(
            scope,
            watch.construct_id,
            alarm_description=watch.what,
            metric=watch.metric,
            threshold=watch.threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(action)
        alarms.append(alarm)
    return alarms
