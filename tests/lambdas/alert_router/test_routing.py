"""The routing metadata in an alarm description: built by the stack, parsed by the router."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alert_router.routing import (
    DESCRIPTION_LIMIT,
    ELLIPSIS,
    RoutingMetadata,
    alarm_description,
    parse_alarm_description,
)

# Config names (journeys, channels, teams, metrics) are short; any Unicode is allowed, even where escaping costs most.
identifiers = (st.from_regex(r"[A-Za-z0-9 _./-]{1,64}", fullmatch=True) | st.text(min_size=1, max_size=16)).filter(
    lambda text: text.strip() != ""
)


def test_given_routing_fields_when_described_then_the_description_is_compact_json_that_parses_back() -> None:
    # Given / When
    description = alarm_description("checkout", "web", "growth", "EventsApplied purchase", "Purchases dropped")
    # Then
    assert description == (
        '{"journey":"checkout","channel":"web","team":"growth","metric":"EventsApplied purchase",'
        '"summary":"Purchases dropped"}'
    )
    assert parse_alarm_description(description) == RoutingMetadata(
        "checkout", "web", "growth", "EventsApplied purchase", "Purchases dropped"
    )


def test_given_no_channel_when_described_then_channel_is_null() -> None:
    description = alarm_description("profile", None, "platform", "5XXError", "Profile API failing")
    assert json.loads(description)["channel"] is None
    assert parse_alarm_description(description) == RoutingMetadata(
        "profile", None, "platform", "5XXError", "Profile API failing"
    )


@given(
    journey=identifiers,
    channel=st.none() | identifiers,
    team=identifiers,
    metric=identifiers,
    summary=st.text(max_size=3000),
)
def test_any_description_fits_cloudwatch_and_round_trips(
    journey: str, channel: str | None, team: str, metric: str, summary: str
) -> None:
    # Given any fields (long and non-ASCII summaries included) / When described
    description = alarm_description(journey, channel, team, metric, summary)
    parsed = parse_alarm_description(description)
    # Then it fits, every routing field survives and the summary is kept or shortened with an ellipsis
    assert len(description) <= DESCRIPTION_LIMIT
    assert len(description.encode()) == len(description)
    assert parsed is not None
    assert (parsed.journey, parsed.channel, parsed.team, parsed.metric) == (journey, channel, team, metric)
    if parsed.summary != summary:
        assert parsed.summary.endswith(ELLIPSIS)
        assert summary.startswith(parsed.summary[: -len(ELLIPSIS)])


def test_given_a_long_summary_when_described_then_it_is_shortened_to_exactly_the_limit_or_less() -> None:
    description = alarm_description("checkout", "web", "growth", "Purchases", "x" * 5000)
    assert DESCRIPTION_LIMIT - 6 <= len(description) <= DESCRIPTION_LIMIT
    parsed = parse_alarm_description(description)
    assert parsed is not None
    assert parsed.summary.endswith(ELLIPSIS)


@pytest.mark.parametrize("field", ["journey", "team", "metric"])
def test_given_an_empty_routing_field_when_described_then_it_is_refused(field: str) -> None:
    values = {"journey": "checkout", "channel": None, "team": "growth", "metric": "Purchases", "summary": "s"}
    values[field] = " "
    with pytest.raises(ValueError, match=field):
        alarm_description(**values)


def test_given_routing_fields_too_long_for_any_summary_then_it_is_refused() -> None:
    with pytest.raises(ValueError, match="no room for a summary"):
        alarm_description("j" * 600, None, "t" * 600, "m", "summary")


@pytest.mark.parametrize(
    "description",
    [
        None,
        "",
        "Goes into alarm when server CPU utilization is too high!",
        "[1, 2]",
        '{"journey":"checkout","team":"growth"}',
        '{"journey":"checkout","channel":null,"team":"","metric":"m","summary":"s"}',
        '{"journey":"checkout","channel":3,"team":"growth","metric":"m","summary":"s"}',
        '{"journey":"checkout","channel":null,"team":"growth","metric":"m","summary":"s","extra":1}',
    ],
)
def test_given_a_description_without_routing_metadata_then_none_is_parsed(description: str | None) -> None:
    assert parse_alarm_description(description) is None
