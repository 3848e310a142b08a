"""The simulator's paths through the repository flows, with small fake Lambda functions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from connect_flows.action_rules import ACTION_RULES
from connect_flows.manifest import load_manifest
from connect_flows.simulate import Contact, EndReason, HoursOfOperation, Simulator, Step, Trace, matches

MANIFEST = load_manifest()
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
HOURS = HoursOfOperation(
    "Europe/London", {**dict.fromkeys(WEEKDAYS, ("08:00", "20:00")), "SATURDAY": ("09:00", "17:00")}
)
MONDAY_MORNING = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
SUNDAY = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
PROFILE = {
    "known": "true",
    "customer_id": "c-42",
    "first_name": "Ada",
    "tier": "gold",
    "last_contact_reason": "billing",
}


def lookup(event: dict[str, Any], context: Any) -> dict[str, str]:
    """A caller lookup that knows one number, answering in Connect's flat string-map shape."""
    if event["Details"]["Parameters"]["phone"] == "+447700900123":
        return PROFILE
    return {"known": "false"}


def eligible(event: dict[str, Any], context: Any) -> dict[str, str]:
    assert event["Details"]["ContactData"]["Attributes"]["customer_id"] == event["Details"]["Parameters"]["customer_id"]
    return {"eligible": "true", "reason": "loyalty discount"}


def failing(event: dict[str, Any], context: Any) -> dict[str, str]:
    raise ConnectionError("profile service unavailable")


def simulator(**lambdas: Any) -> Simulator:
    return Simulator(
        {key: MANIFEST.load_flow(key) for key in MANIFEST.flows},
        lambdas=lambdas,
        hours={"business_hours": HOURS},
        queue_hours={"general_support": "business_hours"},
        time_limit_scale=0.01,
    )


def step(trace: Trace, flow: str, identifier: str) -> Step:
    return next(item for item in trace.steps if (item.flow, item.identifier) == (flow, identifier))


def test_known_caller_is_greeted_by_name_and_queued_with_their_profile_attributes() -> None:
    # Given a caller the lookup knows, calling on a Monday morning
    contact = Contact("+447700900123", at=MONDAY_MORNING)
    # When the personalised flow runs
    trace = simulator(caller_lookup=lookup).run("personalised_inbound", contact)
    # Then they are greeted by name and queued for general support, their profile kept for the agent
    assert [(step.flow, step.identifier) for step in trace.steps] == [
        ("personalised_inbound", "enable-logging"),
        ("personalised_inbound", "set-queue-flow"),
        ("personalised_inbound", "set-whisper-flow"),
        ("personalised_inbound", "greet-caller"),
        ("caller_greeting", "lookup-caller"),
        ("caller_greeting", "check-known"),
        ("caller_greeting", "store-profile"),
        ("caller_greeting", "greet"),
        ("caller_greeting", "return"),
        ("personalised_inbound", "check-known"),
        ("personalised_inbound", "check-hours"),
        ("personalised_inbound", "set-general-queue"),
        ("personalised_inbound", "transfer-to-queue"),
    ]
    assert trace.messages[0].startswith("Hello Ada, welcome back.")
    assert trace.attributes == {
        "caller_known": "true",
        "customer_id": "c-42",
        "first_name": "Ada",
        "tier": "gold",
        "last_contact_reason": "billing",
    }
    assert (trace.queue, trace.end_reason) == ("general_support", EndReason.QUEUED)
    assert trace.event_hooks == {"CustomerQueue": "customer_queue", "AgentWhisper": "agent_whisper"}


def test_unknown_caller_falls_back_to_the_basic_flow() -> None:
    trace = simulator(caller_lookup=lookup).run("personalised_inbound", Contact("+447700900999", at=MONDAY_MORNING))
    flows = [step.flow for step in trace.steps]
    # The module marks the caller unknown and returns; the flow then falls back to the basic flow
    assert step(trace, "caller_greeting", "check-known").outcome == "error NoMatchingCondition"
    assert trace.path[6:9] == ["caller-unknown", "return", "check-known"]
    assert trace.steps[8].outcome == "error NoMatchingCondition"
    assert trace.steps[9].identifier == "fallback-to-basic"
    assert flows[10:] == ["basic_inbound"] * (len(flows) - 10)
    assert trace.path[-2:] == ["set-general-queue", "transfer-to-queue"]
    assert "first_name" not in trace.attributes
    assert trace.attributes == {"caller_known": "false"}
    assert trace.messages == ("Thank you for calling. Please hold while we connect you to the next available adviser.",)
    assert trace.end_reason is EndReason.QUEUED


def test_out_of_hours_callers_hear_the_closed_message_and_are_disconnected() -> None:
    trace = simulator(caller_lookup=lookup).run("basic_inbound", Contact("+447700900123", at=SUNDAY))
    assert trace.path[-3:] == ["check-hours", "closed-message", "disconnect"]
    assert "We are closed" in trace.messages[-1]
    assert (trace.queue, trace.end_reason) == (None, EndReason.DISCONNECTED)


def test_a_lambda_error_takes_the_error_branch_to_the_basic_flow() -> None:
    trace = simulator(caller_lookup=failing).run("personalised_inbound", Contact("+447700900123", at=MONDAY_MORNING))
    assert step(trace, "caller_greeting", "lookup-caller").outcome == "error NoMatchingError"
    assert trace.path[5:9] == ["caller-unknown", "return", "check-known", "fallback-to-basic"]
    assert any("ConnectionError: profile service unavailable" in note for note in trace.notes)
    assert trace.end_reason is EndReason.QUEUED


def test_a_lambda_that_overruns_its_time_limit_takes_the_error_branch() -> None:
    release = threading.Event()

    def slow(event: dict[str, Any], context: Any) -> dict[str, str]:
        release.wait(5)
        return PROFILE

    try:
        trace = simulator(caller_lookup=slow).run("personalised_inbound", Contact("+447700900123", at=MONDAY_MORNING))
    finally:
        release.set()
    assert step(trace, "caller_greeting", "lookup-caller").outcome == "error NoMatchingError"
    assert any("timed out after 3 s" in note for note in trace.notes)


@pytest.mark.parametrize(
    ("response", "problem"),
    [
        ({"known": "true", "tier": {"level": "gold"}}, "flat map of strings"),
        ({"known": True}, "flat map of strings"),
        (["known"], "JSON object"),
        ({"known": "true", "blob": "x" * 33_000}, "the limit is 32768"),
    ],
)
def test_string_map_responses_must_be_flat_string_maps_within_32_kb(response: Any, problem: str) -> None:
    trace = simulator(caller_lookup=lambda event, context: response).run(
        "personalised_inbound", Contact("+447700900123", at=MONDAY_MORNING)
    )
    assert step(trace, "caller_greeting", "lookup-caller").outcome == "error NoMatchingError"
    assert any(problem in note for note in trace.notes)


def test_an_unregistered_lambda_is_an_error_branch_with_a_note() -> None:
    trace = simulator().run("personalised_inbound", Contact("+447700900123", at=MONDAY_MORNING))
    assert step(trace, "caller_greeting", "lookup-caller").outcome == "error NoMatchingError"
    assert "no Lambda function registered for 'caller_lookup'" in trace.notes[0]


def test_the_offer_flow_routes_an_eligible_caller_to_retention_offers_and_the_whisper_says_why() -> None:
    sim = simulator(caller_lookup=lookup, offer_check=eligible)
    trace = sim.run("personalised_inbound_offers", Contact("+447700900123", at=MONDAY_MORNING))
    assert trace.queue == "retention_offers"
    assert trace.attributes["offer_reason"] == "loyalty discount"
    whisper = sim.run("agent_whisper", Contact("+447700900123", attributes=trace.attributes))
    assert whisper.messages == (
        "Ada, gold customer. Last contact: billing.",
        "Eligible for a retention offer: loyalty discount.",
    )
    assert whisper.end_reason is EndReason.FLOW_ENDED


def test_offer_check_failure_still_greets_and_routes_to_general_support() -> None:
    trace = simulator(caller_lookup=lookup, offer_check=failing).run(
        "personalised_inbound_offers", Contact("+447700900123", at=MONDAY_MORNING)
    )
    assert "greet" in trace.path
    assert trace.queue == "general_support"


def test_a_full_queue_takes_the_queue_at_capacity_branch() -> None:
    sim = simulator()
    sim.full_queues = frozenset({"general_support"})
    trace = sim.run("basic_inbound", Contact("+447700900123", at=MONDAY_MORNING))
    assert trace.path[-2:] == ["queue-full-message", "disconnect"]


def test_the_queue_flow_greets_gold_callers_and_waits_with_looping_messages() -> None:
    trace = simulator().run("customer_queue", Contact("+4477", attributes={"tier": "gold", "first_name": "Ada"}))
    assert trace.path == ["check-tier", "gold-greeting", "hold-messages"]
    assert trace.messages[0].startswith("Thank you for waiting, Ada.")
    assert trace.end_reason is EndReason.WAITING_IN_QUEUE


def test_the_whisper_for_an_unknown_caller_asks_the_agent_to_confirm_identity() -> None:
    trace = simulator().run("agent_whisper", Contact("+4477"))
    assert trace.messages == ("Caller not recognised. Please confirm their identity.",)


MENU = {
    "Version": "2019-10-30",
    "StartAction": "menu",
    "Actions": [
        {
            "Identifier": "menu",
            "Type": "GetParticipantInput",
            "Parameters": {"Text": "Press 1 for billing", "InputTimeLimitSeconds": "5"},
            "Transitions": {
                "NextAction": "bye",
                "Conditions": [{"NextAction": "billing", "Condition": {"Operator": "Equals", "Operands": ["1"]}}],
                "Errors": [
                    {"NextAction": "menu", "ErrorType": "NoMatchingCondition"},
                    {"NextAction": "bye", "ErrorType": "InputTimeLimitExceeded"},
                ],
            },
        },
        {
            "Identifier": "billing",
            "Type": "MessageParticipant",
            "Parameters": {"Text": "Billing"},
            "Transitions": {"NextAction": "bye"},
        },
        {"Identifier": "bye", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}},
    ],
}


@pytest.mark.parametrize(
    ("digits", "path"),
    [
        (("1",), ["menu", "billing", "bye"]),
        (("7", "1"), ["menu", "menu", "billing", "bye"]),
        ((), ["menu", "bye"]),
    ],
)
def test_scripted_dtmf_input_chooses_the_menu_branch(digits: tuple[str, ...], path: list[str]) -> None:
    trace = Simulator({"menu": MENU}).run("menu", Contact("+4477", dtmf=digits))
    assert trace.path == path


def test_a_loop_stops_at_the_step_limit() -> None:
    # Given a menu that re-asks forever on a wrong key and a caller who keeps pressing it
    trace = Simulator({"menu": MENU}, max_steps=10).run("menu", Contact("+4477", dtmf=("9",) * 50))
    assert trace.end_reason is EndReason.STEP_LIMIT
    assert len(trace.steps) == 10


def one_action_flow(action: dict[str, Any], *extra: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2019-10-30", "StartAction": action["Identifier"], "Actions": [action, *extra]}


def test_an_action_that_cannot_run_offline_stops_the_walk_with_one_line_naming_it() -> None:
    # Given a flow that branches on a live queue metric
    flow = one_action_flow(
        {
            "Identifier": "staffed",
            "Type": "CheckMetricData",
            "Parameters": {"MetricType": "NumberOfAgentsAvailable"},
            "Transitions": {"NextAction": "staffed"},
        }
    )
    # When it is simulated, Then the walk stops there, saying which action, which type and why
    trace = Simulator({"f": flow}).run("f", Contact("+4477"))
    assert trace.end_reason is EndReason.STOPPED
    assert trace.notes == (
        "stopped at f/staffed (CheckMetricData): the simulator does not run CheckMetricData: "
        "it branches on live queue metrics",
    )


@pytest.mark.parametrize(
    ("action", "fragment"),
    [
        ({"Identifier": "x", "Type": "TransferContactToQueue", "Transitions": {"NextAction": "nowhere"}}, "no working"),
        ({"Identifier": "x", "Type": "MesageParticipant", "Transitions": {}}, "not an action type of the flow"),
        (
            {"Identifier": "x", "Type": "Compare", "Parameters": {}, "Transitions": {}},
            "missing or malformed parameters",
        ),
        ({"Identifier": "x", "Type": "MessageParticipant", "Parameters": [], "Transitions": {}}, "not an object"),
        (
            {
                "Identifier": "x",
                "Type": "MessageParticipant",
                "Parameters": {"Text": "hi"},
                "Transitions": {"NextAction": "y"},
            },
            "leads to 'y', which names no action",
        ),
    ],
)
def test_a_broken_flow_stops_with_a_note_and_never_raises(action: dict[str, Any], fragment: str) -> None:
    trace = Simulator({"f": one_action_flow(action)}).run("f", Contact("+4477"))
    assert trace.end_reason in (EndReason.BROKEN, EndReason.NO_BRANCH)
    assert any(fragment in note for note in trace.notes), trace.notes


def test_every_action_type_is_run_or_refused_by_name() -> None:
    # Each type of the language has a handler, changes nothing offline, or has a reason it cannot run.
    from connect_flows.simulate import NO_OFFLINE_EFFECT, NOT_SIMULATED, _Run

    handled = {name for name in ACTION_RULES if hasattr(_Run, "_" + _snake(name))}
    assert not handled & set(NOT_SIMULATED)
    assert not NO_OFFLINE_EFFECT & set(NOT_SIMULATED)
    assert handled | NO_OFFLINE_EFFECT | set(NOT_SIMULATED) == set(ACTION_RULES)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def loop_flow(count: str) -> dict[str, Any]:
    def say(identifier: str, text: str, after: str) -> dict[str, Any]:
        return {
            "Identifier": identifier,
            "Type": "MessageParticipant",
            "Parameters": {"Text": text},
            "Transitions": {"NextAction": after},
        }

    loop = {
        "Identifier": "loop",
        "Type": "Loop",
        "Parameters": {"LoopCount": count},
        "Transitions": {
            "NextAction": "bye",
            "Conditions": [
                {"NextAction": "again", "Condition": {"Operator": "Equals", "Operands": ["ContinueLooping"]}},
                {"NextAction": "bye", "Condition": {"Operator": "Equals", "Operands": ["DoneLooping"]}},
            ],
        },
    }
    bye = {"Identifier": "bye", "Type": "DisconnectParticipant", "Transitions": {}}
    return one_action_flow(loop, say("again", "again", "loop"), bye)


def test_a_loop_continues_loop_count_times_then_is_done() -> None:
    trace = Simulator({"f": loop_flow("2")}).run("f", Contact("+4477"))
    assert trace.path == ["loop", "again", "loop", "again", "loop", "bye"]
    assert trace.steps[-2].outcome == "condition Equals 'DoneLooping'"


MODULE = {
    "Version": "2019-10-30",
    "StartAction": "hello",
    "Actions": [
        {
            "Identifier": "hello",
            "Type": "UpdateContactAttributes",
            "Parameters": {"Attributes": {"greeted": "yes"}},
            "Transitions": {"NextAction": "return"},
        },
        {"Identifier": "return", "Type": "EndFlowModuleExecution", "Transitions": {}},
    ],
    "Settings": {"InputParameters": [], "OutputParameters": [], "Transitions": []},
}


def test_a_flow_module_runs_and_returns_to_the_action_after_its_invocation() -> None:
    flow = one_action_flow(
        {
            "Identifier": "invoke",
            "Type": "InvokeFlowModule",
            "Parameters": {"FlowModuleId": "${module:greeting}"},
            "Transitions": {"NextAction": "bye", "Errors": [{"NextAction": "bye", "ErrorType": "NoMatchingError"}]},
        },
        {"Identifier": "bye", "Type": "DisconnectParticipant", "Transitions": {}},
    )
    trace = Simulator({"f": flow}, modules={"greeting": MODULE}).run("f", Contact("+4477"))
    assert [(step.flow, step.identifier) for step in trace.steps] == [
        ("f", "invoke"),
        ("greeting", "hello"),
        ("greeting", "return"),
        ("f", "bye"),
    ]
    assert trace.attributes == {"greeted": "yes"}
    # Without the module, the invocation takes its error branch
    missing = Simulator({"f": flow}).run("f", Contact("+4477"))
    assert missing.steps[0].outcome == "error NoMatchingError"


def test_a_lex_bot_branches_on_the_intent_the_caller_gives() -> None:
    flow = one_action_flow(
        {
            "Identifier": "bot",
            "Type": "ConnectParticipantWithLexBot",
            "Parameters": {"Text": "How can I help?", "LexV2Bot": {"AliasArn": "$.Attributes.bot"}},
            "Transitions": {
                "NextAction": "bye",
                "Conditions": [{"NextAction": "sales", "Condition": {"Operator": "Equals", "Operands": ["Sales"]}}],
                "Errors": [{"NextAction": "bye", "ErrorType": "NoMatchingCondition"}],
            },
        },
        {"Identifier": "sales", "Type": "DisconnectParticipant", "Transitions": {}},
        {"Identifier": "bye", "Type": "DisconnectParticipant", "Transitions": {}},
    )
    assert Simulator({"f": flow}).run("f", Contact("+4477", dtmf=("Sales",))).path == ["bot", "sales"]
    assert Simulator({"f": flow}).run("f", Contact("+4477", dtmf=("Billing",))).path == ["bot", "bye"]


@pytest.mark.parametrize(
    ("operator", "operand", "value", "expected"),
    [
        ("Equals", "gold", "gold", True),
        ("Equals", "gold", "Gold", False),
        ("TextStartsWith", "+44", "+447700", True),
        ("TextStartsWith", "+33", "+447700", False),
        ("TextEndsWith", "123", "+447700900123", True),
        ("TextContains", "7009", "+447700900123", True),
        ("TextContains", "555", "+447700900123", False),
        ("NumberGreaterThan", "10", "10.5", True),
        ("NumberGreaterThan", "10", "10", False),
        ("NumberGreaterOrEqualTo", "10", "10", True),
        ("NumberLessThan", "10", "9", True),
        ("NumberLessOrEqualTo", "10", "11", False),
        ("NumberLessThan", "10", "nine", False),
        ("Equals", "x", None, False),
    ],
)
def test_condition_operators(operator: str, operand: str, value: str | None, expected: bool) -> None:
    assert matches(operator, operand, value) is expected


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (datetime(2026, 11, 23, 7, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 23, 8, 0, tzinfo=UTC), True),
        (datetime(2026, 11, 23, 19, 59, tzinfo=UTC), True),
        (datetime(2026, 11, 23, 20, 0, tzinfo=UTC), False),
        # British Summer Time: 07:30 UTC is 08:30 in London
        (datetime(2026, 7, 6, 7, 30, tzinfo=UTC), True),
        (datetime(2026, 11, 28, 16, 59, tzinfo=UTC), True),
        (datetime(2026, 11, 29, 12, 0, tzinfo=UTC), False),
    ],
)
def test_hours_of_operation_are_local_to_their_time_zone(at: datetime, open_: bool) -> None:
    assert HOURS.is_open(at) is open_


def test_the_lambda_event_has_connects_shape() -> None:
    seen: list[dict[str, Any]] = []

    def record(event: dict[str, Any], context: Any) -> dict[str, str]:
        seen.append(event)
        assert context.get_remaining_time_in_millis() == 3000
        return {"known": "false"}

    simulator(caller_lookup=record).run(
        "personalised_inbound", Contact("+447700900123", at=MONDAY_MORNING, attributes={"a": "b"})
    )
    contact_data = seen[0]["Details"]["ContactData"]
    assert seen[0]["Name"] == "ContactFlowEvent"
    assert contact_data["CustomerEndpoint"] == {"Address": "+447700900123", "Type": "TELEPHONE_NUMBER"}
    assert contact_data["Attributes"] == {"a": "b"}
    assert seen[0]["Details"]["Parameters"] == {"phone": "+447700900123"}
