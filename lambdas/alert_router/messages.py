"""The plain-text messages people receive: what moved, expected versus observed, since when, where to look.

SNS subjects must be under 100 characters with no line breaks or control characters.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from alert_router.alarm import AlarmChange, Evidence

SUBJECT_LIMIT = 99
DASHBOARD_FIELDS = frozenset({"alarm_name", "journey", "channel", "region"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class Notification:
    subject: str
    message: str


def subject_line(text: str) -> str:
    """`text` as a valid SNS subject: one line, no control characters, under 100 characters."""
    single = " ".join(_CONTROL.sub(" ", text).split())
    return single if len(single) <= SUBJECT_LIMIT else single[: SUBJECT_LIMIT - 1].rstrip() + "\u2026"


def dashboard_placeholders(template: str) -> set[str]:
    """The placeholders a dashboard URL template uses (ValueError when it is not a valid template)."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def dashboard_link(template: str, change: AlarmChange) -> str:
    routing = change.routing
    values = {
        "alarm_name": change.alarm_name,
        "journey": routing.journey if routing else "",
        "channel": (routing.channel or "") if routing else "",
        "region": change.region,
    }
    return template.format_map({name: quote(value, safe="") for name, value in values.items()})


def _value(number: float) -> str:
    return f"{number:,.4g}" if abs(number) < 1e4 else f"{number:,.0f}"


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _duration(span: timedelta) -> str:
    minutes = max(round(span.total_seconds() / 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _what(change: AlarmChange) -> tuple[str, str, str]:
    """(where, for the subject; the metric; the "what moved" line)."""
    routing = change.routing
    metric = (routing.metric if routing else None) or change.metric_label or change.alarm_name
    if routing is None:
        return change.alarm_name, metric, f"{metric} (alarm {change.alarm_name}, no routing metadata)"
    where = f"journey {routing.journey}, channel {routing.channel}" if routing.channel else f"journey {routing.journey}"
    scope = f"{routing.journey}/{routing.channel}" if routing.channel else routing.journey
    return scope, metric, f"{metric} ({where})"


def _comparison(evidence: Evidence, reason: str) -> list[str]:
    if evidence.triggering_alarms:
        return [f"Triggered by: {', '.join(evidence.triggering_alarms)}", f"Reason: {reason}"]
    if evidence.is_band:
        if evidence.lower is not None and evidence.upper is not None:
            expected = f"between {_value(evidence.lower)} and {_value(evidence.upper)}"
        elif evidence.upper is not None:
            expected = f"at most {_value(evidence.upper)}"
        else:
            expected = f"at least {_value(evidence.lower or 0.0)}"
        lines = [f"Expected: {expected} (anomaly detection band)"]
    elif evidence.threshold is not None:
        lines = [f"Threshold: {_value(evidence.threshold)}"]
    else:
        return [f"Reason: {reason}"]
    if evidence.observed is not None:
        lines.insert(0, f"Observed: {_value(evidence.observed)}")
    return lines


def alert_message(change: AlarmChange, *, team: str, dashboard_url: str, window: timedelta) -> Notification:
    scope, metric, what = _what(change)
    headline = f"{scope}: {change.routing.summary or metric}" if change.routing else scope
    lines = [
        change.routing.summary if change.routing and change.routing.summary else f"Alarm {change.alarm_name} fired.",
        "",
        f"What moved: {what}",
        *_comparison(change.evidence, change.reason),
        f"Since: {_utc(change.since)}",
        f"Owning team: {team}",
        f"Dashboard: {dashboard_link(dashboard_url, change)}",
        "",
        f"Alarm: {change.alarm_name} ({change.region}). "
        f"Repeats of this alarm until {_utc(change.since + window)} are not notified again (flapping window).",
    ]
    return Notification(subject=subject_line(f"ALARM {headline}"), message="\n".join(lines))


def resolved_message(change: AlarmChange, *, alarm_since: datetime, dashboard_url: str) -> Notification:
    scope, metric, what = _what(change)
    lines = [
        f"Resolved: {what} is back to normal.",
        f"In alarm from {_utc(alarm_since)} to {_utc(change.since)} ({_duration(change.since - alarm_since)}).",
        f"Dashboard: {dashboard_link(dashboard_url, change)}",
        f"Alarm: {change.alarm_name} ({change.region})",
    ]
    return Notification(
        subject=subject_line(f"RESOLVED {scope}: {metric} back to normal" if change.routing else f"RESOLVED {scope}"),
        message="\n".join(lines),
    )
