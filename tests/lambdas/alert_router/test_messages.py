"""Pure: the evidence read from reasonData and the messages built from it (no AWS)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from alert_router.alarm import AlarmChange, Evidence, alarm_change, evidence_of
from alert_router.events import parse_event
from alert_router.messages import SUBJECT_LIMIT, alert_message, dashboard_link, resolved_message, subject_line
from tests.lambdas.alert_router.conftest import DASHBOARD, alarm_event, load_event

WINDOW = timedelta(minutes=30)


def _change(name: str, **changes: Any) -> AlarmChange:
    return alarm_change(parse_event(alarm_event(name, **changes)))


def test_given_an_anomaly_alarm_then_its_band_and_observed_value_are_read() -> None:
    change = _change("alarm_anomaly_band")
    assert change.evidence == Evidence(observed=42.0, lower=3.180212014134275, upper=12.419834710743801)
    assert change.metric_label == "EventsApplied"
    assert change.routing is not None
    assert (change.routing.team, change.routing.journey, change.routing.channel) == ("care", "complaints", "web")


def test_given_a_static_threshold_alarm_then_threshold_and_observed_value_are_read() -> None:
    assert _change("alarm_static_threshold").evidence == Evidence(observed=17.0, threshold=5.0)


def test_given_a_composite_alarm_then_the_triggering_children_are_read() -> None:
    evidence = _change("alarm_composite").evidence
    assert evidence.triggering_alarms == ("omni-dev-purchases-web-anomaly", "omni-dev-cart-abandoned-web-anomaly")


@pytest.mark.parametrize(
    ("reason_data", "expected"),
    [
        (None, Evidence()),
        ("not json", Evidence()),
        ("[1]", Evidence()),
        ('{"recentDatapoints":[],"threshold":5.0}', Evidence(threshold=5.0)),
        ('{"recentDatapoints":[2.0],"recentUpperThresholds":[1.5]}', Evidence(observed=2.0, upper=1.5)),
        ('{"recentDatapoints":["x"],"threshold":true}', Evidence()),
    ],
)
def test_reason_data_that_is_missing_partial_or_odd_gives_only_what_it_holds(
    reason_data: str | None, expected: Evidence
) -> None:
    assert evidence_of(reason_data) == expected


def test_given_an_anomaly_alarm_when_the_alert_is_built_then_it_says_what_moved_band_observed_since_and_where() -> None:
    # Given
    change = _change("alarm_anomaly_band")
    # When
    notification = alert_message(change, team="care", dashboard_url=DASHBOARD, window=WINDOW)
    # Then
    assert (
        notification.subject
        == "ALARM complaints/web: Complaints logged on the web channel are outside their expected band"
    )
    lines = notification.message.splitlines()
    assert "What moved: EventsApplied complaint (journey complaints, channel web)" in lines
    assert "Observed: 42" in lines
    assert "Expected: between 3.18 and 12.42 (anomaly detection band)" in lines
    assert "Since: 2026-11-04 12:05 UTC" in lines
    assert "Owning team: care" in lines
    assert f"Dashboard: {DASHBOARD.format(region='eu-west-2')}" in lines
    assert "until 2026-11-04 12:35 UTC" in notification.message


def test_given_a_static_threshold_alarm_then_the_alert_shows_observed_against_threshold() -> None:
    lines = alert_message(_change("alarm_static_threshold"), team="platform", dashboard_url=DASHBOARD, window=WINDOW)
    assert "Observed: 17\nThreshold: 5" in lines.message
    assert lines.subject == "ALARM profile: The customer-profile API is failing requests"


def test_given_reason_data_without_numbers_then_the_alert_falls_back_to_the_reason_text() -> None:
    change = replace(_change("alarm_static_threshold"), evidence=Evidence())
    message = alert_message(change, team="platform", dashboard_url=DASHBOARD, window=WINDOW).message
    assert "Reason: Threshold Crossed: 1 out of the last 1 datapoints [17.0" in message
    assert "Observed" not in message


def test_given_a_composite_alarm_then_the_alert_names_the_children_that_fired() -> None:
    message = alert_message(_change("alarm_composite"), team="growth", dashboard_url=DASHBOARD, window=WINDOW).message
    assert "Triggered by: omni-dev-purchases-web-anomaly, omni-dev-cart-abandoned-web-anomaly" in message


def test_given_no_routing_metadata_then_the_alert_is_named_after_the_alarm() -> None:
    change = _change("alarm_static_threshold", description="Goes into alarm when the API fails")
    notification = alert_message(change, team="ops", dashboard_url=DASHBOARD, window=WINDOW)
    assert notification.subject == "ALARM omni-dev-profile-api-5xx"
    assert "What moved: 5XXError (alarm omni-dev-profile-api-5xx, no routing metadata)" in notification.message


def test_given_a_resolution_then_the_message_is_short_and_says_how_long_it_lasted() -> None:
    alarm = _change("alarm_anomaly_band")
    notification = resolved_message(_change("ok_anomaly_band"), alarm_since=alarm.since, dashboard_url=DASHBOARD)
    assert notification.subject == "RESOLVED complaints/web: EventsApplied complaint back to normal"
    assert "In alarm from 2026-11-04 12:05 UTC to 2026-11-04 12:20 UTC (15 min)." in notification.message
    assert len(notification.message.splitlines()) == 4


@pytest.mark.parametrize("text", ["a" * 300, "line one\nline two\t\x00" + "b" * 120, "short"])
def test_subjects_are_one_line_without_control_characters_and_under_100_characters(text: str) -> None:
    subject = subject_line(text)
    assert len(subject) <= SUBJECT_LIMIT < 100
    assert subject.isprintable()


def test_the_dashboard_template_gets_url_encoded_alarm_and_routing_values() -> None:
    change = _change("alarm_anomaly_band")
    link = dashboard_link("https://example.test/d?alarm={alarm_name}&j={journey}&c={channel}&r={region}", change)
    assert link == "https://example.test/d?alarm=omni-dev-complaints-web-anomaly&j=complaints&c=web&r=eu-west-2"
    assert load_event("alarm_anomaly_band")["region"] == "eu-west-2"
