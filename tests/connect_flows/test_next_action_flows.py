"""The stage-5 flows: validated, rendered and simulated on the call path, with the action spoken in the whisper."""

from __future__ import annotations

from typing import Any

import pytest

from connect_flows.manifest import Manifest
from connect_flows.placeholders import placeholders_in
from connect_flows.render import render
from connect_flows.simulate import Contact, EndReason
from connect_flows.validate import validate_file
from eligibility.next_action import ACTIONS

from .conftest import action
from .test_render import instance_values
from .test_simulate import MONDAY_MORNING, failing, lookup, simulator

INBOUND = "personalised_inbound_next_action"
WHISPER = "agent_whisper_next_action"
SCRIPT = "Eligible for offer BB-LOYAL-20: mention it once their request is handled."


def next_action(event: dict[str, Any], context: Any) -> dict[str, str]:
    """The next-action lookup's answer shape, for the caller the lookup knows."""
    assert event["Details"]["Parameters"]["customer_id"] == "c-42"
    return {
        "next_action": "make_offer",
        "next_action_script": SCRIPT,
        "next_action_offer": "BB-LOYAL-20",
        "eligible": "true",
    }


def no_action(event: dict[str, Any], context: Any) -> dict[str, str]:
    return {
        "next_action": "no_action",
        "next_action_script": "No recommendation: handle the request as usual.",
        "next_action_offer": "",
        "eligible": "false",
    }


def test_the_stage_5_flows_are_in_the_manifest_at_stage_5_only(manifest: Manifest) -> None:
    assert {INBOUND, WHISPER} <= set(manifest.flows_for_stage(5))
    assert not {INBOUND, WHISPER} & set(manifest.flows_for_stage(4))
    assert (manifest.entry(INBOUND).type, manifest.entry(WHISPER).type) == ("CONTACT_FLOW", "AGENT_WHISPER")
    order = list(manifest.flows)
    assert order.index(WHISPER) < order.index(INBOUND)  # the inbound flow sets the whisper: created first


@pytest.mark.parametrize("key", [INBOUND, WHISPER])
def test_the_stage_5_flows_validate_and_render_completely(manifest: Manifest, key: str) -> None:
    assert validate_file(manifest.path_of(key), manifest=manifest) == []
    source = manifest.load_flow(key)
    assert placeholders_in(render(source, instance_values(source))) == set()


def test_the_inbound_flow_calls_the_next_action_lookup_and_sets_the_stage_5_whisper(manifest: Manifest) -> None:
    flow = manifest.load_flow(INBOUND)
    invoke = action(flow, "next-action")
    assert invoke["Parameters"]["LambdaFunctionARN"] == "${lambda:next_action}"
    assert int(invoke["Parameters"]["InvocationTimeLimitSeconds"]) <= 3
    assert action(flow, "set-whisper-flow")["Parameters"]["EventHooks"] == {"AgentWhisper": "${flow:" + WHISPER + "}"}


def test_the_whisper_speaks_every_action_of_the_catalogue_but_no_action(manifest: Manifest) -> None:
    conditions = action(manifest.load_flow(WHISPER), "check-next-action")["Transitions"]["Conditions"]
    spoken = {entry["Condition"]["Operands"][0] for entry in conditions}
    assert spoken == set(ACTIONS) - {"no_action"}
    assert {entry["NextAction"] for entry in conditions} == {"whisper-next-action"}


def test_a_known_caller_is_routed_on_the_same_decision_and_the_whisper_says_the_next_best_action() -> None:
    sim = simulator(caller_lookup=lookup, next_action=next_action)
    trace = sim.run(INBOUND, Contact("+447700900123", at=MONDAY_MORNING))
    assert trace.path[:12] == [
        "enable-logging",
        "set-queue-flow",
        "set-whisper-flow",
        "greet-caller",
        "lookup-caller",  # the caller greeting module
        "check-known",
        "store-profile",
        "greet",
        "return",
        "check-known",  # back in the inbound flow
        "next-action",
        "store-next-action",
    ]
    assert trace.event_hooks["AgentWhisper"] == WHISPER
    assert trace.queue == "retention_offers"
    assert trace.attributes["next_action"] == "make_offer"
    assert trace.attributes["next_action_offer"] == "BB-LOYAL-20"
    whisper = sim.run(WHISPER, Contact("+447700900123", attributes=trace.attributes))
    assert whisper.messages == ("Ada, gold customer. Last contact: billing.", f"Next best action: {SCRIPT}")
    assert whisper.end_reason is EndReason.FLOW_ENDED


def test_no_action_goes_to_general_support_and_the_whisper_stays_short() -> None:
    sim = simulator(caller_lookup=lookup, next_action=no_action)
    trace = sim.run(INBOUND, Contact("+447700900123", at=MONDAY_MORNING))
    assert trace.queue == "general_support"
    whisper = sim.run(WHISPER, Contact("+447700900123", attributes=trace.attributes))
    assert whisper.messages == ("Ada, gold customer. Last contact: billing.",)


def test_a_failing_lookup_still_greets_and_routes_and_the_whisper_says_no_action() -> None:
    sim = simulator(caller_lookup=lookup, next_action=failing)
    trace = sim.run(INBOUND, Contact("+447700900123", at=MONDAY_MORNING))
    assert "greet" in trace.path
    assert trace.queue == "general_support"
    assert "next_action" not in trace.attributes
    whisper = sim.run(WHISPER, Contact("+447700900123", attributes=trace.attributes))
    assert whisper.messages == ("Ada, gold customer. Last contact: billing.",)


def test_an_unknown_caller_falls_back_to_basic_inbound_without_a_lookup() -> None:
    trace = simulator(caller_lookup=lookup, next_action=next_action).run(
        INBOUND, Contact("+447700900999", at=MONDAY_MORNING)
    )
    assert "next-action" not in trace.path
    assert trace.queue == "general_support"
