"""Rendering for a target and exporting back: placeholders <-> values, failing loudly on any gap."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connect_flows.manifest import load_manifest
from connect_flows.placeholders import Placeholder, parse_placeholder, placeholders_in
from connect_flows.render import UnknownArnError, UnresolvedPlaceholderError, export, invert, render

from .conftest import index_of

MANIFEST = load_manifest()
INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555"


def instance_values(flow: dict[str, Any]) -> dict[tuple[str, str], str]:
    """A distinct ARN for every placeholder the flow uses."""
    values = {}
    for number, placeholder in enumerate(sorted(placeholders_in(flow))):
        if placeholder.kind == "lambda":
            values[placeholder.kind, placeholder.name] = f"arn:aws:lambda:eu-west-2:111122223333:function:omni-{number}"
        else:
            values[placeholder.kind, placeholder.name] = (
                f"{INSTANCE}/{placeholder.kind}/{number:08d}-0000-0000-0000-000000000000"
            )
    return values


@pytest.mark.parametrize("key", list(MANIFEST.flows))
def test_render_then_export_gives_the_source_back(key: str) -> None:
    # Given a source flow and the ARNs of a target instance
    source = MANIFEST.load_flow(key)
    values = instance_values(source)
    # When it is rendered, Then no placeholder is left and every ARN sits where its placeholder was
    rendered = render(source, values)
    assert placeholders_in(rendered) == set()
    # When the rendered flow is exported with the same resources, Then it is the source again
    assert export(rendered, invert(values)) == source


def test_render_does_not_change_its_input() -> None:
    source = MANIFEST.load_flow("basic_inbound")
    before = copy.deepcopy(source)
    render(source, instance_values(source))
    assert source == before


def test_rendering_with_a_missing_resource_names_the_placeholder_and_the_action() -> None:
    # Given an instance without the business hours
    source = MANIFEST.load_flow("basic_inbound")
    values = instance_values(source)
    del values["hours", "business_hours"]
    # When the flow is rendered, Then it fails, naming the placeholder and the action's parameter path
    with pytest.raises(UnresolvedPlaceholderError) as raised:
        render(source, values)
    path = f"Actions[{index_of(source, 'check-hours')}].Parameters.HoursOfOperationId"
    assert str(raised.value) == f"unresolved placeholders:\n  {path}: no value for ${{hours:business_hours}}"


def test_rendering_reports_every_gap_and_malformed_placeholders() -> None:
    source = MANIFEST.load_flow("personalised_inbound")
    source["Actions"][index_of(source, "closed-message")]["Parameters"]["Text"] = "${prompt:Hello}"
    with pytest.raises(UnresolvedPlaceholderError) as raised:
        render(source, {})
    messages = [str(item) for item in raised.value.unresolved]
    assert len(messages) == len(placeholders_in(source)) + 1
    assert any("is not a placeholder" in message and "closed-message" not in message for message in messages)


def test_cdk_tokens_render_as_opaque_strings() -> None:
    # CDK passes unresolved tokens; the renderer must place them untouched.
    source = MANIFEST.load_flow("basic_inbound")
    token_values = {key: f"${{Token[TOKEN.{number}]}}" for number, key in enumerate(instance_values(source))}
    rendered = render(source, token_values)
    queue = rendered["Actions"][index_of(source, "set-general-queue")]["Parameters"]["QueueId"]
    assert queue == token_values["queue", "general_support"]


def test_export_fails_on_an_arn_no_placeholder_names() -> None:
    # Given a flow from an instance where someone pointed a block at a queue the repository does not know
    source = MANIFEST.load_flow("basic_inbound")
    values = instance_values(source)
    rendered = render(source, values)
    stranger = f"{INSTANCE}/queue/99999999-0000-0000-0000-000000000000"
    rendered["Actions"][index_of(source, "set-general-queue")]["Parameters"]["QueueId"] = stranger
    # When it is exported, Then the unknown ARN and its path are named
    with pytest.raises(UnknownArnError, match=rf"Actions\[\d+\]\.Parameters\.QueueId: unknown ARN {stranger}"):
        export(rendered, invert(values))


def test_invert_refuses_a_value_shared_by_two_placeholders() -> None:
    with pytest.raises(ValueError, match="both"):
        invert({("queue", "a"): "arn:x", ("queue", "b"): "arn:x"})


@given(
    kind=st.sampled_from(["lambda", "queue", "hours", "prompt", "flow", "module"]),
    name=st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True),
)
def test_placeholders_parse_what_they_print(kind: str, name: str) -> None:
    placeholder = parse_placeholder(f"${{{kind}:{name}}}")
    assert placeholder is not None
    assert str(placeholder) == f"${{{kind}:{name}}}"


@pytest.mark.parametrize(
    "text", ["${queue:General}", "${queues:x}", "${queue:x} ", "queue:x", "${queue:}", "${lambda:a-b}"]
)
def test_malformed_placeholders_do_not_parse(text: str) -> None:
    assert parse_placeholder(text) is None


def test_placeholder_equality_and_order() -> None:
    assert Placeholder("queue", "a") == parse_placeholder("${queue:a}")
    assert sorted([Placeholder("queue", "b"), Placeholder("hours", "a")])[0].kind == "hours"
