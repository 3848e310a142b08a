"""The flow-language table: complete, cited, consistent, and the page generated from it is current."""

from __future__ import annotations

from collections import Counter

import pytest

from connect_flows.action_rules import ACTION_RULES, MODULE, Category, Ending
from connect_flows.language_doc import DOC_PATH, render_reference

# The action types each reference index lists (contact, flow control, interactions,
# participant actions), plus TransferParticipantToThirdParty, still documented and
# still exported by the console.
EXPECTED_COUNTS = {
    Category.CONTACT: 27,
    Category.FLOW_CONTROL: 15,
    Category.INTERACTION: 8,
    Category.PARTICIPANT: 7,
}


def test_the_table_holds_every_action_type_of_the_reference() -> None:
    counts = Counter(rule.category for rule in ACTION_RULES.values())
    assert dict(counts) == EXPECTED_COUNTS
    for name in ("Loop", "ConnectParticipantWithLexBot", "InvokeFlowModule", "UpdateContactMediaStreamingBehavior"):
        assert name in ACTION_RULES
    assert "SetLoggingBehavior" not in ACTION_RULES  # a console block name, not a type


@pytest.mark.parametrize("name", sorted(ACTION_RULES))
def test_each_entry_cites_its_reference_page_and_is_consistent(name: str) -> None:
    rule = ACTION_RULES[name]
    assert rule.reference.startswith("https://docs.aws.amazon.com/connect/latest/")
    assert rule.reference.endswith(".html")
    assert rule.summary
    assert not rule.required & rule.optional
    assert rule.flow_types
    if rule.ending is Ending.ALWAYS:
        assert not rule.errors
        assert rule.conditions is None
    if rule.conditions is not None and rule.conditions.operands is not None:
        assert set(rule.conditions.required) <= rule.conditions.operands


@pytest.mark.parametrize(
    ("name", "no_parameters", "errors", "ending"),
    [
        ("TransferContactToQueue", True, {"QueueAtCapacity", "NoMatchingError"}, Ending.NEVER),
        ("DisconnectParticipant", True, set(), Ending.ALWAYS),
        ("EndFlowExecution", True, set(), Ending.ALWAYS),
        ("EndFlowModuleExecution", True, set(), Ending.ALWAYS),
        ("TransferContactToAgent", True, set(), Ending.ALWAYS),
        ("UpdateFlowLoggingBehavior", False, set(), Ending.NEVER),
        ("UpdateContactRecordingBehavior", False, set(), Ending.NEVER),
        ("MessageParticipantIteratively", False, {"NoMatchingError"}, Ending.MAY),
        ("Compare", False, {"NoMatchingCondition"}, Ending.NEVER),
    ],
)
def test_entries_agree_with_the_reference_facts(
    name: str, no_parameters: bool, errors: set[str], ending: Ending
) -> None:
    rule = ACTION_RULES[name]
    assert rule.takes_no_parameters is no_parameters
    assert rule.errors == errors
    assert rule.ending is ending


def test_module_only_and_inbound_only_actions() -> None:
    assert ACTION_RULES["EndFlowModuleExecution"].flow_types == {MODULE}
    assert ACTION_RULES["InvokeFlowModule"].flow_types == {"CONTACT_FLOW"}
    assert MODULE in ACTION_RULES["InvokeLambdaFunction"].flow_types


def test_the_flow_language_page_is_generated_from_the_table() -> None:
    # When the table changes, `omni flows reference` rewrites the page; a stale page fails here.
    text = DOC_PATH.read_text(encoding="utf-8")
    assert text == render_reference()
    for name, rule in ACTION_RULES.items():
        assert f"[`{name}`]({rule.reference})" in text
