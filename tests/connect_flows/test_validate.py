"""One negative case per flow-language rule, each made by mutating a good repository flow."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from connect_flows.manifest import FlowType, load_manifest
from connect_flows.validate import Problem, Severity, errors, validate_flow

from .conftest import action, index_of

MANIFEST = load_manifest()
QUEUE_ARN = "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555/queue/66666666-7777-8888-9999-000000000000"


def menu_flow() -> dict[str, Any]:
    """A small inbound flow with a DTMF menu (no repository flow asks for input)."""
    return {
        "Version": "2019-10-30",
        "StartAction": "menu",
        "Metadata": {
            "entryPointPosition": {"x": 0, "y": 0},
            "ActionMetadata": {name: {"position": {"x": 1, "y": 1}} for name in ("menu", "bye")},
        },
        "Actions": [
            {
                "Identifier": "menu",
                "Type": "GetParticipantInput",
                "Parameters": {"Text": "Press 1 for billing", "StoreInput": "False", "InputTimeLimitSeconds": "5"},
                "Transitions": {
                    "NextAction": "bye",
                    "Conditions": [{"NextAction": "bye", "Condition": {"Operator": "Equals", "Operands": ["1"]}}],
                    "Errors": [
                        {"NextAction": "bye", "ErrorType": "NoMatchingCondition"},
                        {"NextAction": "bye", "ErrorType": "InputTimeLimitExceeded"},
                    ],
                },
            },
            {"Identifier": "bye", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}},
        ],
    }


@dataclass(frozen=True)
class Case:
    rule: str
    mutate: Callable[[dict[str, Any]], Any]
    path: Callable[[dict[str, Any]], str]
    fragment: str
    flow: str = "basic_inbound"
    severity: Severity = Severity.ERROR
    rendered: bool = False


def at(identifier: str, suffix: str = "") -> Callable[[dict[str, Any]], str]:
    return lambda flow: f"Actions[{index_of(flow, identifier)}]{suffix}"


def second(identifier: str, suffix: str) -> Callable[[dict[str, Any]], str]:
    """The path of the second action with this identifier (after a mutation duplicated it)."""
    return lambda flow: (
        f"Actions[{[i for i, a in enumerate(flow['Actions']) if a['Identifier'] == identifier][1]}]{suffix}"
    )


def fixed(path: str) -> Callable[[dict[str, Any]], str]:
    return lambda _flow: path


def params(identifier: str, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda flow: action(flow, identifier)["Parameters"].update(values)


def transitions(identifier: str, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda flow: action(flow, identifier)["Transitions"].update(values)


def padded(count: int) -> Callable[[dict[str, Any]], None]:
    def mutate(flow: dict[str, Any]) -> None:
        for number in range(count):
            flow["Actions"].append(
                {
                    "Identifier": f"pad-{number}",
                    "Type": "MessageParticipant",
                    "Parameters": {"Text": "x"},
                    "Transitions": {"NextAction": "disconnect"},
                }
            )
            flow["Metadata"]["ActionMetadata"][f"pad-{number}"] = {"position": {"x": 0, "y": 0}}

    return mutate


def pop_key(identifier: str, key: str) -> Callable[[dict[str, Any]], None]:
    return lambda flow: action(flow, identifier).pop(key)


def rename(identifier: str, new: str) -> Callable[[dict[str, Any]], None]:
    return lambda flow: action(flow, identifier).update(Identifier=new)


def many_conditions(flow: dict[str, Any]) -> None:
    condition = {"NextAction": "disconnect", "Condition": {"Operator": "Equals", "Operands": ["x"]}}
    action(flow, "check-known")["Transitions"]["Conditions"] = [condition] * 51


CASES = [
    Case("version", lambda f: f.update(Version="2020-01-01"), fixed("Version"), 'must be "2019-10-30"'),
    Case(
        "unknown top-level key",
        lambda f: f.update(Extra=1),
        fixed("Extra"),
        "unknown top-level key",
        severity=Severity.WARNING,
    ),
    Case("at least one action", lambda f: f.update(Actions=[]), fixed("Actions"), "non-empty list"),
    Case("at most 250 actions", padded(240), fixed("Actions"), "at most 250"),
    Case(
        "console exports under 100 blocks",
        padded(95),
        fixed("Actions"),
        "console exports only",
        severity=Severity.WARNING,
    ),
    Case("action needs Type", pop_key("welcome", "Type"), at("welcome", ".Type"), "missing required property"),
    Case(
        "action needs Parameters",
        pop_key("welcome", "Parameters"),
        at("welcome", ".Parameters"),
        "missing required property",
    ),
    Case(
        "Parameters is an object",
        lambda f: action(f, "welcome").update(Parameters=[]),
        at("welcome", ".Parameters"),
        "must be an object",
    ),
    Case(
        "unique identifiers",
        rename("closed-message", "welcome"),
        second("welcome", ".Identifier"),
        "duplicate Identifier",
    ),
    Case(
        "identifier length",
        rename("disconnect", "d" * 51),
        lambda f: f"Actions[{len(f['Actions']) - 1}].Identifier",
        "1 to 50 characters",
    ),
    Case(
        "identifier characters",
        rename("disconnect", "end:now"),
        lambda f: f"Actions[{len(f['Actions']) - 1}].Identifier",
        "must not contain :",
    ),
    Case(
        "reserved identifier",
        rename("disconnect", "constructor"),
        lambda f: f"Actions[{len(f['Actions']) - 1}].Identifier",
        "reserved JavaScript",
    ),
    Case("StartAction resolves", lambda f: f.update(StartAction="nowhere"), fixed("StartAction"), "names no action"),
    Case(
        "NextAction resolves",
        transitions("welcome", NextAction="nowhere"),
        at("welcome", ".Transitions.NextAction"),
        "'nowhere' names no action",
    ),
    Case(
        "error NextAction resolves",
        lambda f: action(f, "welcome")["Transitions"]["Errors"][0].update(NextAction="nowhere"),
        at("welcome", ".Transitions.Errors[0].NextAction"),
        "names no action",
    ),
    Case(
        "condition NextAction resolves",
        lambda f: action(f, "check-hours")["Transitions"]["Conditions"][1].update(NextAction="nowhere"),
        at("check-hours", ".Transitions.Conditions[1].NextAction"),
        "names no action",
    ),
    Case(
        "terminal actions have no transitions",
        transitions("disconnect", NextAction="welcome"),
        at("disconnect", ".Transitions"),
        "Transitions must be {}",
    ),
    Case(
        "non-terminal actions need NextAction",
        lambda f: action(f, "welcome")["Transitions"].pop("NextAction"),
        at("welcome", ".Transitions.NextAction"),
        "Action is missing required property. Path: Actions[",
    ),
    Case(
        "error types the action raises",
        lambda f: action(f, "welcome")["Transitions"]["Errors"].append(
            {"NextAction": "disconnect", "ErrorType": "QueueAtCapacity"}
        ),
        at("welcome", ".Transitions.Errors[1].ErrorType"),
        "MessageParticipant does not raise QueueAtCapacity",
    ),
    Case(
        "no duplicate error types",
        lambda f: action(f, "transfer-to-queue")["Transitions"]["Errors"].append(
            {"NextAction": "disconnect", "ErrorType": "QueueAtCapacity"}
        ),
        at("transfer-to-queue", ".Transitions.Errors[2].ErrorType"),
        "duplicate ErrorType QueueAtCapacity",
    ),
    Case(
        "NextAction-only actions raise nothing",
        transitions("enable-logging", Errors=[{"NextAction": "disconnect", "ErrorType": "NoMatchingError"}]),
        at("enable-logging", ".Transitions.Errors[0].ErrorType"),
        "(allowed: none)",
    ),
    Case(
        "conditions only where supported",
        transitions(
            "lookup-caller",
            Conditions=[{"NextAction": "greet", "Condition": {"Operator": "Equals", "Operands": ["x"]}}],
        ),
        at("lookup-caller", ".Transitions.Conditions"),
        "Action does not support conditions",
        flow="caller_greeting",
    ),
    Case(
        "condition operators",
        lambda f: action(f, "check-known")["Transitions"]["Conditions"][0]["Condition"].update(Operator="Contains"),
        at("check-known", ".Transitions.Conditions[0].Condition.Operator"),
        "unknown operator 'Contains'",
        flow="personalised_inbound",
    ),
    Case(
        "operands are strings",
        lambda f: action(f, "check-known")["Transitions"]["Conditions"][0]["Condition"].update(Operands=[True]),
        at("check-known", ".Transitions.Conditions[0].Condition.Operands"),
        "list of strings",
        flow="personalised_inbound",
    ),
    Case(
        "at most 50 conditions",
        many_conditions,
        at("check-known", ".Transitions.Conditions"),
        "at most 50",
        flow="personalised_inbound",
    ),
    Case(
        "Compare needs conditions",
        transitions("check-known", Conditions=[]),
        at("check-known", ".Transitions.Conditions"),
        "at least one condition",
        flow="personalised_inbound",
    ),
    Case(
        "hours check has True and False",
        lambda f: action(f, "check-hours")["Transitions"]["Conditions"].pop(),
        at("check-hours", ".Transitions.Conditions"),
        'Equals "True" and Equals "False"',
    ),
    Case(
        "one message source",
        params("welcome", PromptId="${prompt:welcome}"),
        at("welcome", ".Parameters.PromptId"),
        "only one of Text, SSML and PromptId",
    ),
    Case(
        "Lambda time limit 1-8",
        params("lookup-caller", InvocationTimeLimitSeconds="9"),
        at("lookup-caller", ".Parameters.InvocationTimeLimitSeconds"),
        "from 1 to 8",
        flow="caller_greeting",
    ),
    Case(
        "Lambda response type",
        params("lookup-caller", ResponseValidation={"ResponseType": "XML"}),
        at("lookup-caller", ".Parameters.ResponseValidation.ResponseType"),
        "STRING_MAP or JSON",
        flow="caller_greeting",
    ),
    Case(
        "Lambda invocation type",
        params("lookup-caller", InvocationType="LATER"),
        at("lookup-caller", ".Parameters.InvocationType"),
        "SYNCHRONOUS or ASYNCHRONOUS",
        flow="caller_greeting",
    ),
    Case(
        "Lambda needs its function",
        lambda f: action(f, "lookup-caller")["Parameters"].pop("LambdaFunctionARN"),
        at("lookup-caller", ".Parameters.LambdaFunctionARN"),
        "missing required property",
        flow="caller_greeting",
    ),
    Case(
        "queue or agent, never both",
        params("set-general-queue", AgentId="$.Attributes.agent"),
        at("set-general-queue", ".Parameters"),
        "exactly one of QueueId or AgentId",
    ),
    Case(
        "ComparisonValue is one JSONPath",
        params("check-known", ComparisonValue="known"),
        at("check-known", ".Parameters.ComparisonValue"),
        "one JSONPath",
        flow="personalised_inbound",
    ),
    Case(
        "attribute target contact",
        params("store-profile", TargetContact="Other"),
        at("store-profile", ".Parameters.TargetContact"),
        "Current or Related",
        flow="caller_greeting",
    ),
    Case(
        "logging behaviour values",
        params("enable-logging", FlowLoggingBehavior="On"),
        at("enable-logging", ".Parameters.FlowLoggingBehavior"),
        "Enabled or Disabled",
    ),
    Case(
        "one event hook per action",
        params(
            "set-queue-flow",
            EventHooks={"CustomerQueue": "${flow:customer_queue}", "AgentWhisper": "${flow:agent_whisper}"},
        ),
        at("set-queue-flow", ".Parameters.EventHooks"),
        "exactly one event hook",
    ),
    Case(
        "unknown parameter",
        params("welcome", Colour="blue"),
        at("welcome", ".Parameters.Colour"),
        "MessageParticipant has no parameter Colour",
    ),
    Case(
        "misspelled parameter",
        lambda f: action(f, "welcome")["Parameters"].update(Txt=action(f, "welcome")["Parameters"].pop("Text")),
        at("welcome", ".Parameters.Txt"),
        "has no parameter Txt (did you mean Text?)",
    ),
    Case(
        "unknown action type",
        lambda f: action(f, "welcome").update(Type="DoSomethingNew"),
        at("welcome", ".Type"),
        "DoSomethingNew is not an action type of the flow language",
    ),
    Case(
        "misspelled action type",
        lambda f: action(f, "welcome").update(Type="MesageParticipant"),
        at("welcome", ".Type"),
        "(did you mean MessageParticipant?)",
    ),
    Case(
        "condition operands the action can produce",
        lambda f: action(f, "check-hours")["Transitions"]["Conditions"][0]["Condition"].update(Operands=["Open"]),
        at("check-hours", ".Transitions.Conditions[0].Condition.Operands"),
        "CheckHoursOfOperation results are False, True: Open can never match",
    ),
    Case(
        "condition operators the action supports",
        lambda f: action(f, "check-hours")["Transitions"]["Conditions"][0]["Condition"].update(Operator="TextContains"),
        at("check-hours", ".Transitions.Conditions[0].Condition.Operator"),
        "CheckHoursOfOperation conditions support only Equals",
    ),
    Case(
        "event hook configuration names the hook set",
        params("set-queue-flow", EventHooksConfiguration={"AgentWhisper": {"DisableExecution": "false"}}),
        at("set-queue-flow", ".Parameters.EventHooksConfiguration"),
        "may only configure the hook this action sets",
    ),
    Case(
        "rendered flows hold no template tokens of other tools",
        params("welcome", Text="Welcome to ${BRAND}"),
        at("welcome", ".Parameters.Text"),
        "unfilled template token ${BRAND}",
        rendered=True,
    ),
    Case("size limit", params("welcome", Text="x" * 256_001), fixed(""), "limit is 256,000"),
    Case(
        "malformed placeholder",
        params("set-general-queue", QueueId="${queue:General Support}"),
        at("set-general-queue", ".Parameters.QueueId"),
        "malformed placeholder",
    ),
    Case(
        "placeholder kind matches the field",
        params("set-general-queue", QueueId="${hours:business_hours}"),
        at("set-general-queue", ".Parameters.QueueId"),
        "wrong kind here",
    ),
    Case(
        "placeholders are whole values",
        params("welcome", Text="Call ${queue:general_support}"),
        at("welcome", ".Parameters.Text"),
        "whole value of a resource reference",
    ),
    Case(
        "references are not literals in source",
        params("set-general-queue", QueueId="General support"),
        at("set-general-queue", ".Parameters.QueueId"),
        "must be ${queue:name}",
    ),
    Case(
        "no literal ARN in source flows",
        params("set-general-queue", QueueId=QUEUE_ARN),
        at("set-general-queue", ".Parameters.QueueId"),
        "literal ARN",
    ),
    Case(
        "no literal ARN in metadata either",
        lambda f: f["Metadata"]["ActionMetadata"]["welcome"].update(queue=QUEUE_ARN),
        fixed("Metadata.ActionMetadata.welcome.queue"),
        "literal ARN",
    ),
    Case(
        "rendered flows hold no placeholder",
        lambda f: None,
        at("set-general-queue", ".Parameters.QueueId"),
        "unresolved placeholder",
        rendered=True,
    ),
    Case("unreachable actions", padded(1), at("pad-0"), "unreachable from StartAction", severity=Severity.WARNING),
    Case(
        "layout metadata",
        lambda f: f.pop("Metadata"),
        fixed("Metadata"),
        "no layout metadata",
        severity=Severity.WARNING,
    ),
    Case(
        "entry point position",
        lambda f: f["Metadata"].pop("entryPointPosition"),
        fixed("Metadata.entryPointPosition"),
        "missing",
        severity=Severity.WARNING,
    ),
    Case(
        "every action positioned",
        lambda f: f["Metadata"]["ActionMetadata"].pop("welcome"),
        at("welcome"),
        "no position",
        severity=Severity.WARNING,
    ),
    Case(
        "metadata matches actions",
        lambda f: f["Metadata"]["ActionMetadata"].update(ghost={"position": {"x": 0, "y": 0}}),
        fixed("Metadata.ActionMetadata.ghost"),
        "matches no action",
        severity=Severity.WARNING,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.rule for case in CASES])
def test_each_rule_reports_its_mutation(case: Case) -> None:
    # Given a good repository flow (or module) with one rule broken
    flow = copy.deepcopy(MANIFEST.load(case.flow))
    case.mutate(flow)
    # When it is validated with its manifest flow type
    problems = validate_flow(flow, rendered=case.rendered, flow_type=MANIFEST.kind(case.flow))
    # Then the rule's problem is reported at the service-style path
    expected_path = case.path(flow)
    found = [
        p for p in problems if p.path == expected_path and case.fragment in p.message and p.severity is case.severity
    ]
    assert found, "\n".join(p.format(case.flow) for p in problems) or "no problems"


GET_INPUT_CASES = [
    (
        "conditions need StoreInput False",
        {"StoreInput": "True"},
        None,
        "Actions[0].Transitions.Conditions",
        "does not support conditions",
    ),
    (
        "InputValidation needs StoreInput True",
        {"InputValidation": {"PhoneNumberValidation": {}}},
        None,
        "Actions[0].Parameters.InputValidation",
        'only when StoreInput is "True"',
    ),
    ("StoreInput values", {"StoreInput": "yes"}, None, "Actions[0].Parameters.StoreInput", '"True" or "False"'),
    (
        "input time limit",
        {"InputTimeLimitSeconds": "soon"},
        None,
        "Actions[0].Parameters.InputTimeLimitSeconds",
        "positive integer",
    ),
    ("single DTMF character", {}, ["12"], "Actions[0].Transitions.Conditions[0].Condition", "one character"),
]


@pytest.mark.parametrize(
    ("changes", "operands", "path", "fragment"),
    [case[1:] for case in GET_INPUT_CASES],
    ids=[case[0] for case in GET_INPUT_CASES],
)
def test_get_participant_input_rules(
    changes: dict[str, Any], operands: list[str] | None, path: str, fragment: str
) -> None:
    # Given a DTMF menu with one input rule broken
    flow = menu_flow()
    flow["Actions"][0]["Parameters"].update(changes)
    if operands is not None:
        flow["Actions"][0]["Transitions"]["Conditions"][0]["Condition"]["Operands"] = operands
    # When it is validated, Then that rule is reported
    problems = validate_flow(flow, flow_type="CONTACT_FLOW")
    assert any(p.path == path and fragment in p.message for p in problems), [p.format("menu") for p in problems]


def test_no_matching_condition_is_not_raised_when_input_is_stored() -> None:
    flow = menu_flow()
    flow["Actions"][0]["Parameters"]["StoreInput"] = "True"
    flow["Actions"][0]["Transitions"].pop("Conditions")
    problems = validate_flow(flow)
    assert [p.path for p in problems] == ["Actions[0].Transitions.Errors[0].ErrorType"]


def test_the_menu_flow_itself_is_valid_and_numbers_may_be_ints_or_digit_strings() -> None:
    flow = menu_flow()
    assert validate_flow(flow, flow_type="CONTACT_FLOW") == []
    flow["Actions"][0]["Parameters"]["InputTimeLimitSeconds"] = 5
    assert validate_flow(flow, flow_type="CONTACT_FLOW") == []
    flow["Actions"][0]["Parameters"]["InputTimeLimitSeconds"] = True
    assert validate_flow(flow, flow_type="CONTACT_FLOW") != []


@pytest.mark.parametrize(
    ("flow", "identifier", "flow_type", "fragment"),
    [
        (
            "basic_inbound",
            "set-general-queue",
            "AGENT_WHISPER",
            "UpdateContactTargetQueue is not available in AGENT_WHISPER flows",
        ),
        (
            "basic_inbound",
            "check-hours",
            "CUSTOMER_HOLD",
            "CheckHoursOfOperation is not available in CUSTOMER_HOLD flows",
        ),
        ("agent_whisper", "end-flow", "CONTACT_FLOW", "EndFlowExecution is not available in CONTACT_FLOW flows"),
        (
            "customer_queue",
            "hold-messages",
            "CONTACT_FLOW",
            "MessageParticipantIteratively is not available in CONTACT_FLOW flows",
        ),
    ],
)
def test_flow_type_restrictions(flow: str, identifier: str, flow_type: FlowType, fragment: str) -> None:
    # Given a repository flow validated as if it were another flow type
    document = MANIFEST.load_flow(flow)
    problems = validate_flow(document, flow_type=flow_type)
    # Then the actions that type does not allow are errors at their Type
    assert any(p.path == f"Actions[{index_of(document, identifier)}].Type" and p.message == fragment for p in problems)


def test_rendered_mode_accepts_arns_that_source_mode_refuses() -> None:
    # Given a flow rendered for an instance (its queue placeholder replaced by an ARN)
    flow = copy.deepcopy(MANIFEST.load_flow("basic_inbound"))
    for item in flow["Actions"]:
        for key, value in item["Parameters"].items():
            if isinstance(value, str) and value.startswith("${"):
                item["Parameters"][key] = QUEUE_ARN
            elif isinstance(value, dict):
                item["Parameters"][key] = {name: QUEUE_ARN for name in value}
    # Then rendered mode accepts it, and source mode rejects every ARN
    assert validate_flow(flow, rendered=True, flow_type="CONTACT_FLOW") == []
    assert all("literal ARN" in p.message for p in validate_flow(flow) if p.message.startswith("literal"))
    assert len([p for p in validate_flow(flow) if "literal ARN" in p.message]) == 4


def test_problems_print_in_the_service_path_style() -> None:
    problem = Problem(Severity.ERROR, "Actions[3].Transitions.NextAction", "'x' names no action")
    assert (
        problem.format("flows/basic_inbound.json")
        == "flows/basic_inbound.json: Actions[3].Transitions.NextAction: 'x' names no action"
    )
    warning = Problem(Severity.WARNING, "Actions[1]", "unreachable")
    assert warning.format("f.json") == "f.json: Actions[1]: warning: unreachable"


def test_a_document_that_is_not_an_object_is_one_error() -> None:
    assert [(p.path, p.message) for p in validate_flow([1, 2])] == [("", "a flow must be a JSON object")]


def test_an_action_whose_type_takes_no_parameters_may_leave_them_out_and_is_still_checked() -> None:
    # Given the console's export of a transfer block without Parameters (the type takes none)
    flow = copy.deepcopy(MANIFEST.load_flow("basic_inbound"))
    action(flow, "transfer-to-queue").pop("Parameters")
    # Then the flow is valid
    assert validate_flow(flow, flow_type="CONTACT_FLOW") == []
    # And its branches still take part in the transition checks
    action(flow, "transfer-to-queue")["Transitions"]["Errors"][0]["NextAction"] = "nowhere"
    path = f"Actions[{index_of(flow, 'transfer-to-queue')}].Transitions.Errors[0].NextAction"
    assert [(p.path, p.message) for p in errors(validate_flow(flow, flow_type="CONTACT_FLOW"))] == [
        (path, "'nowhere' names no action")
    ]


def test_a_message_loop_may_end_without_next_action_keeping_only_its_interruption() -> None:
    # Given a queue flow whose message loop is exported with only the MessagesInterrupted condition
    flow = copy.deepcopy(MANIFEST.load_flow("customer_queue"))
    loop = action(flow, "hold-messages")
    loop["Parameters"]["InterruptFrequencySeconds"] = "30"
    loop["Transitions"] = {
        "Conditions": [
            {"NextAction": "end-flow", "Condition": {"Operator": "Equals", "Operands": ["MessagesInterrupted"]}}
        ]
    }
    # Then it is valid, and the condition is still checked
    assert validate_flow(flow, flow_type="CUSTOMER_QUEUE") == []
    loop["Transitions"]["Conditions"][0]["Condition"]["Operands"] = ["Interrupted"]
    assert any("can never match" in p.message for p in validate_flow(flow, flow_type="CUSTOMER_QUEUE"))


def loop_flow(conditions: list[str]) -> dict[str, Any]:
    return {
        "Version": "2019-10-30",
        "StartAction": "loop",
        "Actions": [
            {
                "Identifier": "loop",
                "Type": "Loop",
                "Parameters": {"LoopCount": "3"},
                "Transitions": {
                    "NextAction": "end",
                    "Conditions": [
                        {"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": [operand]}}
                        for operand in conditions
                    ],
                },
            },
            {"Identifier": "end", "Type": "DisconnectParticipant", "Transitions": {}},
        ],
    }


def test_a_loop_needs_both_of_its_results_as_conditions() -> None:
    assert errors_of(loop_flow(["ContinueLooping", "DoneLooping"])) == []
    assert errors_of(loop_flow(["ContinueLooping"])) == [
        ("Actions[0].Transitions.Conditions", 'Loop needs conditions Equals "ContinueLooping" and Equals "DoneLooping"')
    ]


def errors_of(flow: dict[str, Any], flow_type: FlowType | None = "CONTACT_FLOW") -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in validate_flow(flow, flow_type=flow_type) if p.severity is Severity.ERROR]


def module_flow() -> dict[str, Any]:
    return {
        "Version": "2019-10-30",
        "StartAction": "hello",
        "Actions": [
            {
                "Identifier": "hello",
                "Type": "MessageParticipant",
                "Parameters": {"Text": "Hello", "SkipWhenDTMFBufferEnabled": "false"},
                "Transitions": {"NextAction": "return"},
            },
            {"Identifier": "return", "Type": "EndFlowModuleExecution", "Parameters": {}, "Transitions": {}},
        ],
        "Settings": {"InputParameters": [], "OutputParameters": [], "Transitions": []},
    }


def test_a_flow_module_has_settings_and_returns_with_end_flow_module_execution() -> None:
    # Given a module (top-level Settings), When validated with no flow type, Then it is checked as a module
    assert errors_of(module_flow(), flow_type=None) == []
    # And the module's own action is an error in a flow, and its Settings only a warning there
    problems = validate_flow(module_flow(), flow_type="CONTACT_FLOW")
    assert [(p.path, p.message) for p in errors(problems)] == [
        ("Actions[1].Type", "EndFlowModuleExecution is not available in CONTACT_FLOW flows")
    ]
    assert any(p.path == "Settings" and "only flow modules have Settings" in p.message for p in problems)


def test_a_module_cannot_invoke_a_module() -> None:
    flow = module_flow()
    flow["Actions"][0] = {
        "Identifier": "hello",
        "Type": "InvokeFlowModule",
        "Parameters": {"FlowModuleId": "${module:caller_greeting}"},
        "Transitions": {"NextAction": "return", "Errors": [{"NextAction": "return", "ErrorType": "NoMatchingError"}]},
    }
    assert errors_of(flow, flow_type=None) == [("Actions[0].Type", "InvokeFlowModule is not available in flow modules")]
