"""Step 7, anomaly alerts: a complaint spike on the contact centre, the alarm, the router, the owning team's topic.

The watch is the anomaly-alerts stack's alarm on complaints applied on the
contact centre (its name, routing description, metric and band read from the
template). A history of ordinary periods is put on that metric; then complaint
events are streamed through the real event processor in two periods, and the
`EventsApplied` it emits (EMF in its output, with the watched dimensions) is put
as the latest datapoints. CloudWatch's band evaluation is not in
moto, so the band is computed here (mean +/- the template's width in standard
deviations of the history); when the alarm's datapoints-to-alarm breach, its
"CloudWatch Alarm State Change" event goes on the default bus, the stack's rule
delivers it, the real alert router publishes to the team's topic, and the
message arrives on the topic's subscription.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.context import GoldenCustomer, RunContext
from sandbox.platform import SandboxError
from sandbox.steps import journeys

ALERT_ROUTER = "alert_router.handler.lambda_handler"
ALARM_TYPE = "AWS::CloudWatch::Alarm"
WATCHED = {"event_type": "complaint", "channel": "contact_centre"}
HISTORY_PERIODS = 12
# Complaints in each of the last two periods. The history is drawn around 4 per period (sd 1.6, the spread
# floored at 1), so any band the template can set (at most 10 standard deviations) stays below ~21: these
# always breach it, which is the point of the step (the alarm, the router and the team's topic run every time).
SPIKE = (24, 31)


@dataclass(frozen=True)
class AlertResult:
    alarm: str
    team: str
    metric: str
    history: list[float]
    spike: list[float]
    upper_band: float
    state: str
    topic: str | None
    expected_topic: str  # the topic of the team the configuration's watch names (alerts.watches)
    config_team: str
    subject: str | None
    message: str | None
    complaints_applied: int
    notes: list[str] = field(default_factory=list)


def _watch(context: RunContext) -> tuple[str, dict[str, Any]]:
    """The alarm watching complaints on the contact centre, with its properties resolved."""
    platform = context.platform
    for resource in platform.resources(ALARM_TYPE):
        properties = platform.resolver.resolve(dict(resource.properties), resource.stack)
        for metric in properties.get("Metrics", []):
            dimensions = {
                d["Name"]: d["Value"] for d in metric.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
            }
            if all(dimensions.get(name) == value for name, value in WATCHED.items()):
                return str(properties["AlarmName"]), properties
    raise LookupError("no alarm watches complaints on the contact centre at this stage")


def _spike_events(
    context: RunContext, population: list[GoldenCustomer], count: int, at: datetime, batch: int
) -> list[bytes]:
    rng = context.rng
    documents = []
    for number in range(count):
        customer = rng.choice(population)
        event = {
            "event_id": f"sbx-spike-{context.sizes.seed}-{batch}-{number:05d}",
            "occurred_at": (at + timedelta(seconds=rng.uniform(0, 280))).isoformat().replace("+00:00", "Z"),
            "event_type": "complaint",
            "channel": "contact_centre",
            "identity": {"customer_id": customer.golden_id},
            "payload": {
                "complaint_id": f"cp-spike-{batch}-{number:05d}",
                "category": rng.choice(("billing", "service")),
                "severity": rng.choice(("medium", "high")),
            },
        }
        documents.append(json.dumps(event).encode())
    return documents


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def run(context: RunContext, population: list[GoldenCustomer]) -> AlertResult:
    say = context.progress.step("alert")
    platform = context.platform
    alarm_name, alarm = _watch(context)
    routing = json.loads(alarm["AlarmDescription"])
    stat = next(m for m in alarm["Metrics"] if "MetricStat" in m)
    band_expression = next(m["Expression"] for m in alarm["Metrics"] if "Expression" in m)
    width = float(re.findall(r"[\d.]+", band_expression.split(",", 1)[1])[0])
    metric = stat["MetricStat"]["Metric"]
    period = int(stat["MetricStat"]["Period"])
    now = context.now.replace(second=0) - timedelta(minutes=context.now.minute % (period // 60 or 1))

    history = [float(max(0, round(context.rng.gauss(4, 1.6)))) for _ in range(HISTORY_PERIODS)]
    spike = []
    applied_total = 0
    for batch, count in enumerate(SPIKE):
        at = now - timedelta(seconds=period * (len(SPIKE) - batch))
        journeys.put_on_stream(context, _spike_events(context, population, count, at, batch))
        mark = platform.output_mark()
        tally = journeys.StreamTally()
        journeys.consume(context, tally)
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        emitted = platform.emitted_metric(
            platform.handler_output(since=mark), metric["Namespace"], metric["MetricName"], dimensions
        )
        applied_total += tally.applied[(WATCHED["event_type"], WATCHED["channel"])]
        spike.append(emitted)
    say(
        f"complaint spike streamed: {metric['MetricName']} emitted {', '.join(f'{v:.0f}' for v in spike)}"
        f" in the last periods ({applied_total} reported applied)"
    )

    cloudwatch = platform.client("cloudwatch")
    series = history + spike
    cloudwatch.put_metric_data(
        Namespace=metric["Namespace"],
        MetricData=[
            {
                "MetricName": metric["MetricName"],
                "Dimensions": metric["Dimensions"],
                "Timestamp": now - timedelta(seconds=period * (len(series) - index)),
                "Value": value,
                "Unit": "Count",
            }
            for index, value in enumerate(series)
        ],
    )
    mean, spread = statistics.fmean(history), max(1.0, statistics.pstdev(history))
    upper, lower = mean + width * spread, max(0.0, mean - width * spread)
    recent = series[-int(alarm["EvaluationPeriods"]) :]
    breaching = sum(value > upper for value in recent)
    state = "ALARM" if breaching >= int(alarm["DatapointsToAlarm"]) else "OK"
    say(f"{alarm_name}: band {lower:.1f}-{upper:.1f}, {breaching} of the last {len(recent)} periods above it: {state}")

    topic, subject, message = None, None, None
    if state == "ALARM":
        _announce(
            context, alarm_name=alarm_name, alarm=alarm, recent=recent, lower=lower, upper=upper, period=period, now=now
        )
        routed = platform.deliveries_to(ALERT_ROUTER)
        if routed is None:
            raise SandboxError(f"no rule delivers to {ALERT_ROUTER}")
        rule_name, deliveries = routed
        for delivered in deliveries:
            platform.invoke(ALERT_ROUTER, delivered)
        for arn in platform.topic_taps:
            for note in platform.topic_messages(arn.rsplit(":", 1)[-1]):
                topic, subject, message = arn.rsplit(":", 1)[-1], note.get("Subject"), note.get("Message")
        say(f"rule {rule_name} -> alert router -> topic {topic or '(none)'}")
    watch = next(
        w
        for w in platform.config.environment.alerts.watches
        if w.source == "customer-events" and (w.event_type, w.channel) == (WATCHED["event_type"], WATCHED["channel"])
    )
    return AlertResult(
        alarm=alarm_name,
        expected_topic=platform.config.resource_name("alerts", watch.team),
        config_team=watch.team,
        team=str(routing.get("team")),
        metric=f"{metric['Namespace']}/{metric['MetricName']} {json.dumps({d['Name']: d['Value'] for d in metric['Dimensions']})}",
        history=history,
        spike=spike,
        upper_band=round(upper, 2),
        state=state,
        topic=topic,
        subject=subject,
        message=message,
        complaints_applied=applied_total,
    )


def _announce(
    context: RunContext,
    *,
    alarm_name: str,
    alarm: dict[str, Any],
    recent: list[float],
    lower: float,
    upper: float,
    period: int,
    now: datetime,
) -> None:
    """The state change CloudWatch puts on the default bus when the alarm goes into ALARM."""
    platform = context.platform
    reason_data = {
        "version": "1.0",
        "queryDate": _stamp(context.now),
        "startDate": _stamp(now - timedelta(seconds=period)),
        "period": period,
        "recentDatapoints": recent[-1:],
        "recentLowerThresholds": [round(lower, 4)],
        "recentUpperThresholds": [round(upper, 4)],
    }
    reason = (
        f"Thresholds Crossed: {int(alarm['DatapointsToAlarm'])} out of the last {int(alarm['EvaluationPeriods'])} "
        f"datapoints were greater than the upper thresholds [{upper:.4f}]"
    )
    detail = {
        "alarmName": alarm_name,
        "state": {
            "value": "ALARM",
            "reason": reason,
            "reasonData": json.dumps(reason_data),
            "timestamp": _stamp(context.now),
        },
        "previousState": {"value": "OK", "reason": "within the band", "timestamp": _stamp(now - timedelta(hours=1))},
        "configuration": {
            "description": alarm["AlarmDescription"],
            "metrics": [_metric(m) for m in alarm["Metrics"]],
        },
    }
    platform.client("events").put_events(
        Entries=[
            {
                "Source": "aws.cloudwatch",
                "DetailType": "CloudWatch Alarm State Change",
                "Resources": [f"arn:aws:cloudwatch:{platform.region}:{platform.account}:alarm:{alarm_name}"],
                "Detail": json.dumps(detail),
            }
        ]
    )


def _metric(metric: dict[str, Any]) -> dict[str, Any]:
    """A template metric query as the state-change event describes it (camel case, dimensions as a map)."""
    if "Expression" in metric:
        return {
            "id": metric["Id"],
            "expression": metric["Expression"],
            "label": metric.get("Label", ""),
            "returnData": True,
        }
    stat = metric["MetricStat"]
    return {
        "id": metric["Id"],
        "metricStat": {
            "metric": {
                "namespace": stat["Metric"]["Namespace"],
                "name": stat["Metric"]["MetricName"],
                "dimensions": {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]},
            },
            "period": stat["Period"],
            "stat": stat["Stat"],
        },
        "returnData": True,
    }
