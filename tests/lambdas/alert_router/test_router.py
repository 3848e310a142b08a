"""The routing use case over in-memory fakes: who gets what, flapping, retries, concurrency."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from alert_router.alarm import AlarmChange, alarm_change
from alert_router.errors import PublishError
from alert_router.events import parse_event
from alert_router.messages import Notification
from alert_router.router import Decision, Outcome, RoutingPolicy, TeamChoice, route
from alert_router.routing import alarm_description
from omni_testing.alert_router import InMemoryLedger, RecordingPublisher
from tests.lambdas.alert_router.conftest import DASHBOARD, TEAMS, alarm_event, later, topic_arn

POLICY = RoutingPolicy(
    team_topics={team: topic_arn(team) for team in TEAMS},
    default_team="ops",
    dashboard_url=DASHBOARD,
    window=timedelta(minutes=30),
)


@dataclass
class World:
    ledger: InMemoryLedger = field(default_factory=InMemoryLedger)
    publisher: RecordingPublisher = field(default_factory=RecordingPublisher)

    def route(self, event: dict[str, Any]) -> Outcome:
        return route(_change(event), policy=POLICY, ledger=self.ledger, publisher=self.publisher)

    def subjects(self) -> list[str]:
        return [notification.subject for _, notification in self.publisher.published]


def _change(event: dict[str, Any]) -> AlarmChange:
    return alarm_change(parse_event(event))


class FailingOnce:
    def __init__(self, inner: RecordingPublisher) -> None:
        self.inner, self.failed = inner, False

    def publish(self, topic_arn: str, notification: Notification) -> str:
        if not self.failed:
            self.failed = True
            raise PublishError(f"topic {topic_arn}: publish failed (Throttling)")
        return self.inner.publish(topic_arn, notification)


def test_given_an_alarm_with_routing_metadata_then_its_team_gets_one_message() -> None:
    world = World()
    outcome = world.route(alarm_event("alarm_anomaly_band"))
    assert (outcome.decision, outcome.team, outcome.team_choice) == (Decision.NOTIFIED, "care", TeamChoice.ROUTED)
    assert [topic for topic, _ in world.publisher.published] == [topic_arn("care")]


def test_given_no_routing_metadata_then_the_default_team_gets_it() -> None:
    world = World()
    outcome = world.route(alarm_event("alarm_static_threshold", description=None))
    assert (outcome.team, outcome.team_choice) == ("ops", TeamChoice.NO_METADATA)
    assert world.publisher.published[0][0] == topic_arn("ops")


def test_given_a_team_without_a_topic_then_the_default_team_gets_it_and_the_outcome_says_so() -> None:
    world = World()
    description = alarm_description("checkout", "web", "payments", "Purchases", "Purchases dropped")
    outcome = world.route(alarm_event("alarm_anomaly_band", description=description))
    assert (outcome.team, outcome.team_choice, outcome.requested_team) == ("ops", TeamChoice.UNKNOWN_TEAM, "payments")
    assert world.publisher.published[0][0] == topic_arn("ops")


def test_given_insufficient_data_then_nothing_is_published() -> None:
    world = World()
    assert world.route(alarm_event("insufficient_data")).decision is Decision.INSUFFICIENT_DATA
    assert world.publisher.published == []


def test_given_an_ok_without_a_notified_alarm_then_nothing_is_published() -> None:
    world = World()
    assert world.route(alarm_event("ok_static_threshold")).decision is Decision.OK_WITHOUT_ALERT
    assert world.publisher.published == []


def test_given_alarm_ok_alarm_within_the_window_then_one_alert_and_its_resolution() -> None:
    # Given an alarm that fires, resolves and fires again 20 minutes after the first
    world = World()
    first = alarm_event("alarm_anomaly_band")
    decisions = [
        world.route(first).decision,
        world.route(alarm_event("ok_anomaly_band")).decision,
        world.route(alarm_event("alarm_anomaly_band", event_id="second", at=later(first, 20))).decision,
        # and the OK after the suppressed repeat
        world.route(alarm_event("ok_anomaly_band", event_id="second-ok", at=later(first, 25))).decision,
    ]
    # Then one alert, one resolution; the repeat is suppressed and its OK announces nothing
    assert decisions == [Decision.NOTIFIED, Decision.RESOLVED, Decision.SUPPRESSED, Decision.OK_WITHOUT_ALERT]
    assert [subject.split()[0] for subject in world.subjects()] == ["ALARM", "RESOLVED"]


def test_given_alarm_ok_alarm_after_the_window_then_two_alerts() -> None:
    world = World()
    first = alarm_event("alarm_anomaly_band")
    world.route(first)
    world.route(alarm_event("ok_anomaly_band"))
    world.route(alarm_event("alarm_anomaly_band", event_id="second", at=later(first, 30)))
    assert [subject.split()[0] for subject in world.subjects()] == ["ALARM", "RESOLVED", "ALARM"]


def test_given_the_same_alarm_event_delivered_twice_then_it_is_notified_once() -> None:
    world = World()
    event = alarm_event("alarm_composite")
    assert [world.route(event).decision for _ in range(2)] == [Decision.NOTIFIED, Decision.SUPPRESSED]


def test_given_a_failed_publish_when_the_event_is_retried_then_the_alert_is_published() -> None:
    # Given a publisher that fails the first call
    recording = RecordingPublisher()
    ledger, publisher = InMemoryLedger(), FailingOnce(recording)
    change = _change(alarm_event("alarm_static_threshold"))
    # When the invocation fails and Lambda retries the same event
    with pytest.raises(PublishError, match="Throttling"):
        route(change, policy=POLICY, ledger=ledger, publisher=publisher)
    outcome = route(change, policy=POLICY, ledger=ledger, publisher=publisher)
    # Then the retry publishes: the failed attempt did not take the window
    assert outcome.decision is Decision.NOTIFIED
    assert len(recording.published) == 1


def test_given_a_failed_resolution_publish_when_retried_then_the_resolution_is_published_once() -> None:
    ledger, recording = InMemoryLedger(), RecordingPublisher()
    route(_change(alarm_event("alarm_anomaly_band")), policy=POLICY, ledger=ledger, publisher=recording)
    ok = _change(alarm_event("ok_anomaly_band"))
    failing = FailingOnce(recording)
    with pytest.raises(PublishError):
        route(ok, policy=POLICY, ledger=ledger, publisher=failing)
    assert route(ok, policy=POLICY, ledger=ledger, publisher=failing).decision is Decision.RESOLVED
    assert route(ok, policy=POLICY, ledger=ledger, publisher=failing).decision is Decision.OK_WITHOUT_ALERT
    assert [n.subject.split()[0] for _, n in recording.published] == ["ALARM", "RESOLVED"]


def test_given_concurrent_alarm_events_for_one_alarm_then_exactly_one_is_notified() -> None:
    world = World()
    first = alarm_event("alarm_anomaly_band")
    events = [alarm_event("alarm_anomaly_band", event_id=f"e{n}", at=later(first, n / 10)) for n in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = [outcome.decision for outcome in pool.map(world.route, events)]
    assert decisions.count(Decision.NOTIFIED) == 1
    assert len(world.publisher.published) == 1


def test_the_outcome_log_holds_alarm_state_team_and_decision_only() -> None:
    outcome = World().route(alarm_event("alarm_anomaly_band"))
    assert json.loads(json.dumps(outcome.as_log())) == {
        "alarm_name": "omni-dev-complaints-web-anomaly",
        "state": "ALARM",
        "team": "care",
        "team_choice": "routed",
        "requested_team": "care",
        "decision": "notified",
    }
