"""Stage-4 anomaly alerts: one anomaly alarm per configured watch, journey health, routing, the lookout switch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from alert_router import constants as router
from alert_router.routing import parse_alarm_description
from infra.config import config_for
from infra.platform_app import synthesize
from tests.infra.full_context import full_context

from .conftest import Synthesis, load_templates


def _alerts(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.template("anomaly-alerts"))


def _band_of(alarm: dict[str, Any]) -> tuple[str, float]:
    (band,) = [m for m in alarm["Properties"]["Metrics"] if "Expression" in m]
    expression = band["Expression"]
    return expression, float(expression.split(",")[1].rstrip(")"))


def test_every_watched_metric_has_an_anomaly_alarm_with_its_configured_band(dev5: Synthesis) -> None:
    watches = {w.name: w for w in config_for("dev").environment.alerts.watches}
    alarms = {
        a["Properties"]["AlarmName"]: a
        for a in _alerts(dev5).find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("AlarmName", "").startswith("omni-cx-dev-watch-")
    }
    assert set(alarms) == {f"omni-cx-dev-watch-{name}" for name in watches}
    for name, watch in watches.items():
        alarm = alarms[f"omni-cx-dev-watch-{name}"]
        expression, band = _band_of(alarm)
        assert expression.startswith("ANOMALY_DETECTION_BAND(")
        assert band == watch.band
        assert alarm["Properties"]["EvaluationPeriods"] == watch.evaluation_periods
        assert alarm["Properties"]["DatapointsToAlarm"] == watch.datapoints_to_alarm
        expected = {"above": "GreaterThanUpperThreshold", "below": "LessThanLowerThreshold"}[watch.direction]
        assert alarm["Properties"]["ComparisonOperator"] == expected


def test_each_alarm_description_routes_it_to_the_owning_team(dev5: Synthesis) -> None:
    watches = {w.name: w for w in config_for("dev").environment.alerts.watches}
    watch_alarms = [
        a
        for a in _alerts(dev5).find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("AlarmName", "").startswith("omni-cx-dev-watch-")
    ]
    assert len(watch_alarms) == len(watches)
    for alarm in watch_alarms:
        name = alarm["Properties"]["AlarmName"].removeprefix("omni-cx-dev-watch-")
        routing = parse_alarm_description(alarm["Properties"]["AlarmDescription"])
        assert routing is not None
        assert (routing.team, routing.journey) == (watches[name].team, watches[name].journey)


def test_business_watches_read_the_event_processors_metrics(dev5: Synthesis) -> None:
    complaints = next(
        a
        for a in _alerts(dev5).find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == "omni-cx-dev-watch-complaints-web"
    )
    (metric,) = [m for m in complaints["Properties"]["Metrics"] if "MetricStat" in m]
    stat = metric["MetricStat"]["Metric"]
    assert (stat["Namespace"], stat["MetricName"]) == ("omni-cx", "EventsApplied")
    assert {d["Name"]: d["Value"] for d in stat["Dimensions"]} == {
        "event_type": "complaint",
        "channel": "web",
        "service": "event-processor",
    }


def test_revenue_watches_read_purchase_amounts_in_the_spend_currency(dev5: Synthesis) -> None:
    revenue = next(
        a
        for a in _alerts(dev5).find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("AlarmName") == "omni-cx-dev-watch-revenue-web"
    )
    (metric,) = [m for m in revenue["Properties"]["Metrics"] if "MetricStat" in m]
    stat = metric["MetricStat"]["Metric"]
    assert stat["MetricName"] == "Revenue"
    assert {d["Name"]: d["Value"] for d in stat["Dimensions"]} == {
        "channel": "web",
        "currency": "GBP",
        "service": "event-processor",
    }
    assert revenue["Properties"]["ComparisonOperator"] == "LessThanLowerThreshold"


def test_a_composite_alarm_gives_each_journey_one_health(dev5: Synthesis) -> None:
    composites = _alerts(dev5).find_resources("AWS::CloudWatch::CompositeAlarm")
    journeys = {w.journey for w in config_for("dev").environment.alerts.watches}
    assert {c["Properties"]["AlarmName"] for c in composites.values()} == {
        f"omni-cx-dev-journey-{journey}" for journey in journeys
    }
    purchase = next(c for c in composites.values() if c["Properties"]["AlarmName"].endswith("-purchase"))
    assert json.dumps(purchase["Properties"]["AlarmRule"]).count("ALARM(") == 6


def test_team_topics_are_encrypted_and_only_the_router_publishes(dev5: Synthesis) -> None:
    template = _alerts(dev5)
    topics = template.find_resources("AWS::SNS::Topic")
    assert len(topics) == len(config_for("dev").environment.alerts.teams)
    assert all("PlatformKey" in json.dumps(t["Properties"]["KmsMasterKeyId"]) for t in topics.values())
    publishes = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "sns:Publish"
    ]
    published = {
        json.dumps(resource)
        for s in publishes
        for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    assert published == {json.dumps({"Ref": topic}) for topic in topics}


def test_watch_state_changes_invoke_the_router(dev5: Synthesis) -> None:
    template = _alerts(dev5)
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == [router.ALARM_EVENT_SOURCE]
    assert pattern["detail-type"] == [router.ALARM_STATE_CHANGE]
    assert pattern["detail"]["alarmName"] == [{"prefix": "omni-cx-dev-watch-"}]
    (function,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == router.ALERT_ROUTER_HANDLER
    ]
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables[router.ENV_DEFAULT_TEAM] == "platform"
    assert variables[router.ENV_SUPPRESSION_MINUTES] == "30"


def test_the_dashboard_shows_journeys_and_every_watch(dev5: Synthesis) -> None:
    (dashboard,) = _alerts(dev5).find_resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for watch in config_for("dev").environment.alerts.watches:
        assert f"{watch.name}: band and value" in body


def test_the_retired_lookout_engine_builds_its_detector_with_a_warning(tmp_path: Path) -> None:
    # Given the lookout engine selected (passes cdk-nag: synthesize raises on any finding)
    context: dict[str, Any] = full_context()
    context["omni:environments"]["dev"]["alerts"]["engine"] = "lookout"
    synthesize("dev", 4, str(tmp_path), context=context)
    # Then synthesis warns that the service is retired
    metadata = (tmp_path / "omni-cx-dev-anomaly-alerts.metadata.json").read_text()
    assert "Amazon Lookout for Metrics reached end of support on 2025-10-09" in metadata
    # And the detector and its alert are there, KMS-encrypted, beside the CloudWatch alarms
    # (cfn-lint is not run on this template: the AWS::LookoutMetrics types are gone from the spec, E3006)
    template = Template.from_json(
        next(t for name, t in load_templates(tmp_path).items() if name.endswith("anomaly-alerts"))
    )
    (detector,) = template.find_resources("AWS::LookoutMetrics::AnomalyDetector").values()
    assert "PlatformKey" in json.dumps(detector["Properties"]["KmsKeyArn"])
    (alert,) = template.find_resources("AWS::LookoutMetrics::Alert").values()
    assert "Teamplatform" in json.dumps(alert["Properties"]["Action"]["SNSConfiguration"]["SnsTopicArn"])
    assert template.find_resources("AWS::CloudWatch::CompositeAlarm")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda a: a["watches"][0].update(team="nobody"),
            r"alerts: Value error, team\(s\) nobody not in teams|alerts: team\(s\) nobody not in teams",
        ),
        (lambda a: a["watches"][1].update(name=a["watches"][0]["name"]), "watch names must be unique"),
        (lambda a: a["watches"][0].pop("channel"), "customer-events watches need event_type and channel"),
    ],
)
def test_a_bad_watch_table_is_refused_with_its_reason(change: Any, message: str) -> None:
    context: dict[str, Any] = full_context()
    change(context["omni:environments"]["dev"]["alerts"])
    from infra.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        config_for("dev", context=context)


def test_the_router_environment_satisfies_its_runtime_settings(dev5: Synthesis) -> None:
    from alert_router.settings import RouterSettings

    template = _alerts(dev5)
    (function,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == router.ALERT_ROUTER_HANDLER
    ]
    variables = dict(function["Properties"]["Environment"]["Variables"])
    # Filled by CloudFormation at deploy time: the team -> topic JSON and the table name.
    topics = {
        team: f"arn:aws:sns:eu-west-2:123456789012:omni-cx-dev-alerts-{team}"
        for team in config_for("dev").environment.alerts.teams
    }
    variables[router.ENV_TEAM_TOPICS] = json.dumps(topics)
    variables[router.ENV_SUPPRESSION_TABLE] = "omni-cx-dev-alert-suppression"
    settings = RouterSettings.from_environment(variables)
    assert settings is not None
    team_topics = json.dumps(function["Properties"]["Environment"]["Variables"][router.ENV_TEAM_TOPICS])
    assert all(f'\\"{team}\\"' in team_topics for team in topics)
