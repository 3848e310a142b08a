"""The handler end to end: real-shaped alarm state change events through moto SNS (read via SQS) and DynamoDB."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from alert_router.errors import MalformedEventError, PublishError
from alert_router.routing import alarm_description
from alert_router.settings import RouterSettings
from tests.lambdas.alert_router.conftest import TEAMS, Aws, Invoke, alarm_event, later, load_event


def _all_received(aws: Aws) -> dict[str, list[str]]:
    return {team: [received.subject for received in aws.received(team)] for team in TEAMS}


def _emf(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if '"_aws"' in line]


def test_given_an_anomaly_alarm_then_the_owning_team_receives_an_actionable_message(aws: Aws, invoke: Invoke) -> None:
    # When
    result = invoke(alarm_event("alarm_anomaly_band"))
    # Then only the care team's topic has it
    [received] = aws.received("care")
    assert received.subject.startswith("ALARM complaints/web: ")
    assert "Observed: 42" in received.message
    assert "Expected: between 3.18 and 12.42 (anomaly detection band)" in received.message
    assert "Since: 2026-11-04 12:05 UTC" in received.message
    assert "Dashboard: https://console.aws.amazon.com/cloudwatch/home?region=eu-west-2#" in received.message
    assert result["decision"] == "notified"
    assert _all_received(aws) == {team: [] for team in TEAMS}


def test_given_a_static_alarm_then_its_ok_then_a_resolved_message_follows(aws: Aws, invoke: Invoke) -> None:
    invoke(alarm_event("alarm_static_threshold"))
    result = invoke(alarm_event("ok_static_threshold"))
    subjects = [received.subject for received in aws.received("platform")]
    assert subjects == [
        "ALARM profile: The customer-profile API is failing requests",
        "RESOLVED profile: 5XXError back to normal",
    ]
    assert result["decision"] == "resolved"


def test_given_insufficient_data_then_no_message_and_it_is_counted(
    aws: Aws, invoke: Invoke, capsys: pytest.CaptureFixture[str]
) -> None:
    result = invoke(alarm_event("insufficient_data"))
    assert result["decision"] == "insufficient_data"
    assert _all_received(aws) == {team: [] for team in TEAMS}
    assert any(blob.get("InsufficientData") == [1.0] for blob in _emf(capsys.readouterr().out))


def test_given_a_composite_alarm_then_the_journey_team_hears_which_children_fired(aws: Aws, invoke: Invoke) -> None:
    invoke(alarm_event("alarm_composite"))
    [received] = aws.received("growth")
    assert received.subject == "ALARM checkout: Checkout is degraded: purchases dropped and cart abandonment surged"
    assert "Triggered by: omni-dev-purchases-web-anomaly, omni-dev-cart-abandoned-web-anomaly" in received.message


def test_given_a_flapping_alarm_within_the_window_then_one_alert_and_the_repeat_is_counted(
    aws: Aws, invoke: Invoke, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given ALARM, OK, ALARM again 20 minutes after the first (window: 30 minutes)
    first = alarm_event("alarm_anomaly_band")
    invoke(first)
    invoke(alarm_event("ok_anomaly_band"))
    repeat = invoke(alarm_event("alarm_anomaly_band", event_id="repeat", at=later(first, 20)))
    # Then the team got one alert (and its resolution); the repeat is suppressed and counted
    assert [received.subject.split()[0] for received in aws.received("care")] == ["ALARM", "RESOLVED"]
    assert repeat["decision"] == "suppressed"
    assert any(blob.get("AlertsSuppressed") == [1.0] for blob in _emf(capsys.readouterr().out))


def test_given_a_flapping_alarm_after_the_window_then_two_alerts(aws: Aws, invoke: Invoke) -> None:
    first = alarm_event("alarm_anomaly_band")
    invoke(first)
    invoke(alarm_event("ok_anomaly_band"))
    invoke(alarm_event("alarm_anomaly_band", event_id="repeat", at=later(first, 31)))
    assert [received.subject.split()[0] for received in aws.received("care")] == ["ALARM", "RESOLVED", "ALARM"]


def test_given_an_alarm_without_routing_metadata_then_the_default_team_gets_it(aws: Aws, invoke: Invoke) -> None:
    invoke(alarm_event("alarm_static_threshold", description="Goes into alarm when the API fails"))
    assert [received.subject for received in aws.received("ops")] == ["ALARM omni-dev-profile-api-5xx"]


def test_given_an_unknown_team_then_the_default_team_gets_it_with_a_warning(
    aws: Aws, invoke: Invoke, caplog: pytest.LogCaptureFixture
) -> None:
    description = alarm_description("checkout", "web", "payments", "Purchases", "Purchases dropped")
    invoke(alarm_event("alarm_anomaly_band", description=description))
    assert len(aws.received("ops")) == 1
    warnings = [record.__dict__ for record in caplog.records if record.levelno == logging.WARNING]
    assert [(w["requested_team"], w["team"], w["alarm_name"]) for w in warnings] == [
        ("payments", "ops", "omni-dev-complaints-web-anomaly")
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.update({"detail-type": "CloudWatch Alarm Configuration Change"}), "detail-type"),
        (lambda e: e["detail"].pop("alarmName"), "detail.alarmName"),
        (lambda e: e["detail"]["state"].update({"value": "BROKEN"}), "detail.state.value"),
        (lambda e: e["detail"]["state"].update({"timestamp": "yesterday"}), "detail.state.timestamp"),
    ],
)
def test_given_a_malformed_event_then_the_invocation_fails_naming_the_field(
    aws: Aws, invoke: Invoke, change: Any, field: str
) -> None:
    event = load_event("alarm_anomaly_band")
    change(event)
    with pytest.raises(MalformedEventError, match=field.replace(".", r"\.")):
        invoke(event)
    assert _all_received(aws) == {team: [] for team in TEAMS}


def test_given_a_deleted_team_topic_then_the_invocation_fails_and_a_retry_still_notifies(
    aws: Aws, invoke: Invoke
) -> None:
    # Given the care topic is gone
    care = next(topic["TopicArn"] for topic in aws.sns.list_topics()["Topics"] if topic["TopicArn"].endswith("care"))
    aws.sns.delete_topic(TopicArn=care)
    # When the alarm arrives, then it fails loudly (Lambda retries, then the DLQ keeps it)
    with pytest.raises(PublishError, match="alerts-care"):
        invoke(alarm_event("alarm_anomaly_band"))
    # And once the topic is back, the retry of the same event is not suppressed
    aws.sns.create_topic(Name="alerts-care")
    assert invoke(alarm_event("alarm_anomaly_band"))["decision"] == "notified"


def test_logs_carry_alarm_state_team_and_decision_only(
    aws: Aws, invoke: Invoke, caplog: pytest.LogCaptureFixture
) -> None:
    invoke(alarm_event("alarm_anomaly_band"))
    [record] = [record for record in caplog.records if record.getMessage() == "alarm routed"]
    logged = {key: getattr(record, key) for key in ("alarm_name", "state", "team", "team_choice", "decision")}
    assert logged == {
        "alarm_name": "omni-dev-complaints-web-anomaly",
        "state": "ALARM",
        "team": "care",
        "team_choice": "routed",
        "decision": "notified",
    }
    # Nothing of the alarm's reason, values or description reaches the log record
    text = json.dumps({key: str(value) for key, value in record.__dict__.items()})
    for needle in ("Thresholds Crossed", "12.419", "Complaints logged on the web"):
        assert needle not in text


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ALERT_DEFAULT_TEAM", "nobody", "is not a team of ALERT_TEAM_TOPICS"),
        ("ALERT_TEAM_TOPICS", '{"care": "not-an-arn"}', "not an SNS topic ARN for team"),
        ("ALERT_TEAM_TOPICS", "{}", "at least one team topic"),
        ("ALERT_DASHBOARD_URL", "https://x.test/{customer}", "unknown placeholder"),
        ("ALERT_SUPPRESSION_MINUTES", "0", "greater than or equal to 1"),
    ],
)
def test_bad_settings_fail_the_cold_start_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message):
        RouterSettings.from_environment()


def test_the_suppression_window_defaults_to_30_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALERT_SUPPRESSION_MINUTES")
    assert RouterSettings.from_environment().policy().window.total_seconds() == 30 * 60
