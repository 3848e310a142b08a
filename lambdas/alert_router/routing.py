"""Routing metadata carried in an alarm's description: written by the stack, read by the router.

The description is a compact JSON object,
`{"journey": "...", "channel": "..." | null, "team": "...", "metric": "...", "summary": "..."}`,
ASCII-escaped so its length in characters equals its length in bytes and always fits
CloudWatch's 1,024-character limit: the summary is shortened (ending with an ellipsis)
when the whole would not fit. Standard library only: the CDK app imports this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

DESCRIPTION_LIMIT = 1024
ELLIPSIS = "\u2026"
_KEYS = ("journey", "channel", "team", "metric", "summary")
_REQUIRED = ("journey", "team", "metric")


@dataclass(frozen=True, slots=True)
class RoutingMetadata:
    journey: str
    channel: str | None
    team: str
    metric: str
    summary: str


def _encode(journey: str, channel: str | None, team: str, metric: str, summary: str) -> str:
    values = {"journey": journey, "channel": channel, "team": team, "metric": metric, "summary": summary}
    return json.dumps(values, separators=(",", ":"), ensure_ascii=True)


def _escaped_length(character: str) -> int:
    return len(json.dumps(character, ensure_ascii=True)) - 2


def alarm_description(journey: str, channel: str | None, team: str, metric: str, summary: str) -> str:
    """The alarm description that routes the alarm to `team`; at most 1,024 characters.

    Raises ValueError when journey, team or metric is empty, or when they alone leave no room for a summary.
    """
    for name, value in (("journey", journey), ("team", team), ("metric", metric)):
        if not value.strip():
            raise ValueError(f"alarm routing: {name} must not be empty")
    channel = channel or None
    description = _encode(journey, channel, team, metric, summary)
    if len(description) <= DESCRIPTION_LIMIT:
        return description
    budget = DESCRIPTION_LIMIT - len(_encode(journey, channel, team, metric, "")) - _escaped_length(ELLIPSIS)
    if budget < 1:
        raise ValueError(
            f"alarm routing: journey, channel, team and metric leave no room for a summary within "
            f"{DESCRIPTION_LIMIT} characters (journey {len(journey)}, team {len(team)}, metric {len(metric)})"
        )
    kept, used = [], 0
    for character in summary:
        used += _escaped_length(character)
        if used > budget:
            break
        kept.append(character)
    return _encode(journey, channel, team, metric, "".join(kept).rstrip() + ELLIPSIS)


def parse_alarm_description(description: str | None) -> RoutingMetadata | None:
    """The routing metadata of a description; None when it carries none (plain text, other JSON, missing keys)."""
    if not description:
        return None
    try:
        values = json.loads(description)
    except ValueError:
        return None
    if not isinstance(values, dict) or set(values) != set(_KEYS):
        return None
    if any(not isinstance(values[key], str) or not values[key].strip() for key in _REQUIRED):
        return None
    if not isinstance(values["summary"], str) or not isinstance(values["channel"], str | None):
        return None
    return RoutingMetadata(
        journey=values["journey"],
        channel=values["channel"] or None,
        team=values["team"],
        metric=values["metric"],
        summary=values["summary"],
    )
