"""Routing one alarm state change to its owning team.

- ALARM: the team's topic gets one message people can act on, unless the same alarm was
  notified within the flapping window (then it is suppressed and counted). The window is
  claimed with one conditional write before publishing, so concurrent or duplicated
  deliveries notify at most once; a retry of the same event after a failed publish may
  claim again, so a failure never silences the alert.
- OK: when it closes an ALARM that was notified, a short "resolved" message (once per
  notification, claimed the same way).
- INSUFFICIENT_DATA: no message.
The team comes from the alarm's routing metadata; without metadata, or with a team that
has no topic, the default team gets it (the outcome says which, for a warning and a metric).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from alert_router.alarm import ALARM, OK, AlarmChange
from alert_router.messages import alert_message, resolved_message
from alert_router.ports import Claim, NotificationLedger, Publisher
from alert_router.routing import RoutingMetadata

# How long a notified alarm is remembered (TTL) after its window, so an OK can still announce the resolution.
LEDGER_RETENTION = timedelta(days=7)


class Decision(enum.StrEnum):
    NOTIFIED = "notified"
    SUPPRESSED = "suppressed"
    RESOLVED = "resolved"
    OK_WITHOUT_ALERT = "ok_without_alert"
    INSUFFICIENT_DATA = "insufficient_data"


class TeamChoice(enum.StrEnum):
    ROUTED = "routed"
    NO_METADATA = "no_metadata"
    UNKNOWN_TEAM = "unknown_team"


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    team_topics: Mapping[str, str]
    default_team: str
    dashboard_url: str
    window: timedelta

    def team_for(self, routing: RoutingMetadata | None) -> tuple[str, TeamChoice]:
        if routing is None:
            return self.default_team, TeamChoice.NO_METADATA
        if routing.team not in self.team_topics:
            return self.default_team, TeamChoice.UNKNOWN_TEAM
        return routing.team, TeamChoice.ROUTED


@dataclass(frozen=True, slots=True)
class Outcome:
    alarm_name: str
    state: str
    team: str
    team_choice: TeamChoice
    decision: Decision
    requested_team: str | None = None
    message_id: str | None = None

    def as_log(self) -> dict[str, str | None]:
        return {
            "alarm_name": self.alarm_name,
            "state": self.state,
            "team": self.team,
            "team_choice": self.team_choice.value,
            "requested_team": self.requested_team,
            "decision": self.decision.value,
        }


def route(change: AlarmChange, *, policy: RoutingPolicy, ledger: NotificationLedger, publisher: Publisher) -> Outcome:
    team, choice = policy.team_for(change.routing)

    def outcome(decision: Decision, message_id: str | None = None) -> Outcome:
        requested = change.routing.team if change.routing else None
        return Outcome(change.alarm_name, change.state, team, choice, decision, requested, message_id)

    topic = policy.team_topics[team]
    if change.state == ALARM:
        claim = Claim(
            alarm_name=change.alarm_name,
            event_id=change.event_id,
            at=change.since,
            suppress_until=change.since + policy.window,
            expires_at=change.since + policy.window + LEDGER_RETENTION,
        )
        if not ledger.claim(claim):
            return outcome(Decision.SUPPRESSED)
        notification = alert_message(change, team=team, dashboard_url=policy.dashboard_url, window=policy.window)
        message_id = publisher.publish(topic, notification)
        ledger.confirm(change.alarm_name, change.event_id)
        return outcome(Decision.NOTIFIED, message_id)
    if change.state == OK:
        alarm_since = ledger.resolve(change.alarm_name, change.event_id, change.since)
        if alarm_since is None:
            return outcome(Decision.OK_WITHOUT_ALERT)
        notification = resolved_message(change, alarm_since=alarm_since, dashboard_url=policy.dashboard_url)
        message_id = publisher.publish(topic, notification)
        ledger.confirm_resolution(change.alarm_name, change.event_id)
        return outcome(Decision.RESOLVED, message_id)
    return outcome(Decision.INSUFFICIENT_DATA)
