"""What each flow-language action type accepts: parameters, error branches, conditions, flow types.

One table, from the Amazon Connect flow-language reference (summarised in
CONNECT_FLOW_RULES.md); the validator enforces it and the simulator executes the
same types. Parameter values are checked by the small functions next to the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connect_flows.manifest import FlowType
from connect_flows.placeholders import is_jsonpath

# Reports a problem with one parameter: (path inside Parameters, message).
Report = Callable[[tuple[str | int, ...], str], None]

ALL_FLOW_TYPES: frozenset[FlowType] = frozenset(
    (
        "CONTACT_FLOW",
        "CUSTOMER_QUEUE",
        "CUSTOMER_HOLD",
        "CUSTOMER_WHISPER",
        "AGENT_HOLD",
        "AGENT_WHISPER",
        "OUTBOUND_WHISPER",
        "AGENT_TRANSFER",
        "QUEUE_TRANSFER",
        "CAMPAIGN",
    )
)
HOLD: frozenset[FlowType] = frozenset(("CUSTOMER_HOLD", "AGENT_HOLD"))
WHISPER: frozenset[FlowType] = frozenset(("CUSTOMER_WHISPER", "AGENT_WHISPER", "OUTBOUND_WHISPER"))
INBOUND_AND_TRANSFER: frozenset[FlowType] = frozenset(("CONTACT_FLOW", "AGENT_TRANSFER", "QUEUE_TRANSFER"))

OPERATORS = frozenset(
    (
        "Equals",
        "TextStartsWith",
        "TextEndsWith",
        "TextContains",
        "NumberGreaterThan",
        "NumberGreaterOrEqualTo",
        "NumberLessThan",
        "NumberLessOrEqualTo",
    )
)
MAX_CONDITIONS = 50
DTMF_CHARACTERS = frozenset("0123456789#*")


@dataclass(frozen=True)
class ActionRule:
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    errors: frozenset[str] = frozenset()
    conditions: bool = False
    terminal: bool = False
    flow_types: frozenset[FlowType] = ALL_FLOW_TYPES
    check: Callable[[Mapping[str, Any], Report], None] | None = None


def as_int(value: Any) -> int | None:
    """Console exports write numbers as digit strings: accept both, refuse booleans."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _one_message(params: Mapping[str, Any], report: Report, *, required: bool) -> None:
    given = [key for key in ("Text", "SSML", "PromptId") if key in params]
    if len(given) > 1:
        report((given[1],), f"give only one of Text, SSML and PromptId (found {', '.join(given)})")
    elif required and not given:
        report((), "needs exactly one of Text, SSML or PromptId")
    for key in given:
        if not isinstance(params[key], str) or not params[key]:
            report((key,), "must be a non-empty string")


def _within(report: Report, prefix: tuple[str | int, ...]) -> Report:
    return lambda path, message: report((*prefix, *path), message)


def _message_participant(params: Mapping[str, Any], report: Report) -> None:
    _one_message(params, report, required=True)


def _message_iteratively(params: Mapping[str, Any], report: Report) -> None:
    messages = params.get("Messages")
    if not isinstance(messages, list) or not messages:
        report(("Messages",), "must be a non-empty list of messages")
        return
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            report(("Messages", index), "must be an object with one of Text, SSML or PromptId")
            continue
        _one_message(message, _within(report, ("Messages", index)), required=True)
    if "InterruptFrequencySeconds" in params and (as_int(params["InterruptFrequencySeconds"]) or 0) < 1:
        report(("InterruptFrequencySeconds",), "must be a positive integer")


def _invoke_lambda(params: Mapping[str, Any], report: Report) -> None:
    if not isinstance(params.get("LambdaFunctionARN"), str):
        report(("LambdaFunctionARN",), "must be a string")
    seconds = as_int(params.get("InvocationTimeLimitSeconds"))
    if seconds is None or not 1 <= seconds <= 8:
        report(("InvocationTimeLimitSeconds",), "must be an integer from 1 to 8 (seconds)")
    if "InvocationType" in params and params["InvocationType"] not in ("SYNCHRONOUS", "ASYNCHRONOUS"):
        report(("InvocationType",), "must be SYNCHRONOUS or ASYNCHRONOUS")
    attributes = params.get("LambdaInvocationAttributes", {})
    if not isinstance(attributes, dict) or not all(isinstance(value, str) for value in attributes.values()):
        report(("LambdaInvocationAttributes",), "must be a map of strings")
    if "ResponseValidation" in params:
        validation = params["ResponseValidation"]
        if not isinstance(validation, dict) or validation.get("ResponseType") not in ("STRING_MAP", "JSON"):
            report(("ResponseValidation", "ResponseType"), "must be STRING_MAP or JSON")


def _update_attributes(params: Mapping[str, Any], report: Report) -> None:
    attributes = params.get("Attributes")
    if not isinstance(attributes, dict) or not attributes:
        report(("Attributes",), "must be a non-empty map")
    else:
        for key, value in attributes.items():
            if not isinstance(value, str):
                report(("Attributes", key), "must be a string (static, or one JSONPath)")
    if "TargetContact" in params and params["TargetContact"] not in ("Current", "Related"):
        report(("TargetContact",), "must be Current or Related")


def _compare(params: Mapping[str, Any], report: Report) -> None:
    value = params.get("ComparisonValue")
    if not isinstance(value, str) or not is_jsonpath(value):
        report(("ComparisonValue",), "must be one JSONPath such as $.Attributes.tier")


def _target_queue(params: Mapping[str, Any], report: Report) -> None:
    given = [key for key in ("QueueId", "AgentId") if key in params]
    if len(given) != 1:
        report((), "needs exactly one of QueueId or AgentId")


def _get_input(params: Mapping[str, Any], report: Report) -> None:
    _one_message(params, report, required=False)
    seconds = as_int(params.get("InputTimeLimitSeconds"))
    if seconds is None or seconds < 1:
        report(("InputTimeLimitSeconds",), "must be a positive integer (seconds)")
    store = params.get("StoreInput", "False")
    if store not in ("True", "False"):
        report(("StoreInput",), 'must be "True" or "False"')
    if "InputValidation" in params and store != "True":
        report(("InputValidation",), 'is allowed only when StoreInput is "True"')


def _logging(params: Mapping[str, Any], report: Report) -> None:
    if params.get("FlowLoggingBehavior") not in ("Enabled", "Disabled"):
        report(("FlowLoggingBehavior",), "must be Enabled or Disabled")


def _recording(params: Mapping[str, Any], report: Report) -> None:
    behaviour = params.get("RecordingBehavior")
    participants = behaviour.get("RecordedParticipants") if isinstance(behaviour, dict) else None
    if not isinstance(participants, list) or not set(participants) <= {"Agent", "Customer"}:
        report(("RecordingBehavior", "RecordedParticipants"), "must be a list drawn from Agent and Customer")


def _event_hooks(params: Mapping[str, Any], report: Report) -> None:
    hooks = params.get("EventHooks")
    if not isinstance(hooks, dict) or len(hooks) != 1:
        report(("EventHooks",), "must hold exactly one event hook")
        return
    for name in hooks:
        if name not in EVENT_HOOKS:
            report(("EventHooks", name), f"unknown event hook (expected one of {', '.join(sorted(EVENT_HOOKS))})")


EVENT_HOOKS = frozenset(
    (
        "AgentHold",
        "AgentWhisper",
        "CustomerHold",
        "CustomerQueue",
        "CustomerRemaining",
        "CustomerWhisper",
        "DefaultAgentUI",
        "DisconnectAgentUI",
        "PauseContact",
        "ResumeContact",
    )
)
_ERROR = frozenset(("NoMatchingError",))

ACTION_RULES: dict[str, ActionRule] = {
    "MessageParticipant": ActionRule(
        optional=frozenset(("Text", "SSML", "PromptId", "Media")),
        errors=_ERROR,
        flow_types=ALL_FLOW_TYPES - HOLD,
        check=_message_participant,
    ),
    "MessageParticipantIteratively": ActionRule(
        required=frozenset(("Messages",)),
        optional=frozenset(("InterruptFrequencySeconds",)),
        errors=_ERROR,
        conditions=True,
        flow_types=frozenset(("CUSTOMER_QUEUE", "CUSTOMER_HOLD", "AGENT_HOLD")),
        check=_message_iteratively,
    ),
    "InvokeLambdaFunction": ActionRule(
        required=frozenset(("LambdaFunctionARN", "InvocationTimeLimitSeconds")),
        optional=frozenset(("InvocationType", "LambdaInvocationAttributes", "ResponseValidation")),
        errors=_ERROR,
        check=_invoke_lambda,
    ),
    "UpdateContactAttributes": ActionRule(
        required=frozenset(("Attributes",)),
        optional=frozenset(("TargetContact",)),
        errors=_ERROR,
        check=_update_attributes,
    ),
    "Compare": ActionRule(
        required=frozenset(("ComparisonValue",)),
        errors=frozenset(("NoMatchingCondition",)),
        conditions=True,
        check=_compare,
    ),
    "CheckHoursOfOperation": ActionRule(
        optional=frozenset(("HoursOfOperationId",)),
        errors=_ERROR,
        conditions=True,
        flow_types=INBOUND_AND_TRANSFER | {"CUSTOMER_QUEUE"},
    ),
    "UpdateContactTargetQueue": ActionRule(
        optional=frozenset(("QueueId", "AgentId")),
        errors=_ERROR,
        flow_types=INBOUND_AND_TRANSFER,
        check=_target_queue,
    ),
    "TransferContactToQueue": ActionRule(
        errors=frozenset(("QueueAtCapacity", "NoMatchingError")),
        flow_types=INBOUND_AND_TRANSFER,
    ),
    "TransferToFlow": ActionRule(
        required=frozenset(("ContactFlowId",)),
        errors=_ERROR,
        flow_types=INBOUND_AND_TRANSFER,
    ),
    "GetParticipantInput": ActionRule(
        required=frozenset(("InputTimeLimitSeconds",)),
        optional=frozenset(
            (
                "Text",
                "SSML",
                "PromptId",
                "Media",
                "StoreInput",
                "InputValidation",
                "InputEncryption",
                "DTMFConfiguration",
            )
        ),
        errors=frozenset(("NoMatchingCondition", "NoMatchingError", "InputTimeLimitExceeded", "InvalidPhoneNumber")),
        conditions=True,
        flow_types=INBOUND_AND_TRANSFER | {"CUSTOMER_QUEUE"},
        check=_get_input,
    ),
    "UpdateFlowLoggingBehavior": ActionRule(required=frozenset(("FlowLoggingBehavior",)), check=_logging),
    "UpdateContactRecordingBehavior": ActionRule(
        required=frozenset(("RecordingBehavior",)),
        flow_types=INBOUND_AND_TRANSFER | {"CUSTOMER_QUEUE", "OUTBOUND_WHISPER"},
        check=_recording,
    ),
    "UpdateContactEventHooks": ActionRule(required=frozenset(("EventHooks",)), errors=_ERROR, check=_event_hooks),
    "DisconnectParticipant": ActionRule(terminal=True, flow_types=ALL_FLOW_TYPES - HOLD - WHISPER),
    "EndFlowExecution": ActionRule(terminal=True, flow_types=WHISPER | {"CUSTOMER_QUEUE"}),
}

# Terminal types this validator knows only as terminal (their parameters are not checked).
OTHER_TERMINAL_TYPES = frozenset(("EndFlowModuleExecution", "TransferContactToAgent"))
