"""The Amazon Connect flow language as data: every action type, its parameters, branches and flow types.

One entry per action type of the flow-language reference (contact actions, flow
control actions, interactions, participant actions), each citing its reference
page. The validator enforces the table (an action type or a parameter the table
does not know is an error), the simulator runs or refuses each type by name, and
`docs/connect-flow-language.md` is generated from it (`omni flows reference`).

Where the reference and the console's own exports disagree, both are accepted and
the entry says so in `notes` (for example `MessageParticipantIteratively` exported
with no `NextAction`, `UpdateFlowAttributes` exported with an error branch the page
does not list). Parameter values are checked by the small functions next to the
table; the table itself is plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, get_args

from connect_flows.manifest import MODULE, FlowKind, FlowType
from connect_flows.placeholders import is_jsonpath

# Reports a problem with one parameter: (path inside Parameters, message).
Report = Callable[[tuple[str | int, ...], str], None]

FLOW_TYPES: tuple[FlowType, ...] = get_args(FlowType)
ALL_FLOW_TYPES: frozenset[FlowKind] = frozenset((*FLOW_TYPES, MODULE))
INBOUND: frozenset[FlowKind] = frozenset(("CONTACT_FLOW", MODULE))  # a module runs inside an inbound flow
TRANSFER: frozenset[FlowKind] = frozenset(("AGENT_TRANSFER", "QUEUE_TRANSFER"))
HOLD: frozenset[FlowKind] = frozenset(("CUSTOMER_HOLD", "AGENT_HOLD"))
WHISPER: frozenset[FlowKind] = frozenset(("CUSTOMER_WHISPER", "AGENT_WHISPER", "OUTBOUND_WHISPER"))
QUEUE: frozenset[FlowKind] = frozenset(("CUSTOMER_QUEUE",))
INBOUND_AND_TRANSFER = INBOUND | TRANSFER

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

_DEV = "https://docs.aws.amazon.com/connect/latest/devguide/"
TOUCHTONE_BUFFERING = "https://docs.aws.amazon.com/connect/latest/adminguide/touchtone-buffering.html"


class Category(StrEnum):
    CONTACT = "contact action"
    FLOW_CONTROL = "flow control action"
    INTERACTION = "interaction"
    PARTICIPANT = "participant action"


class Ending(StrEnum):
    """Whether an action ends the flow, which decides what its Transitions may hold."""

    NEVER = "never"  # Transitions.NextAction is required
    ALWAYS = "always"  # Transitions must be {}
    MAY = "may"  # NextAction may be left out: the action can hold the contact until something else ends it


@dataclass(frozen=True)
class Conditions:
    """The conditions an action's result supports: operators, and the operands allowed or required."""

    operators: frozenset[str] = OPERATORS
    operands: frozenset[str] | None = None  # None: any operand
    required: tuple[str, ...] = ()  # each must have its own condition
    at_least_one: bool = False


@dataclass(frozen=True)
class ActionRule:
    category: Category
    reference: str
    summary: str
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    errors: frozenset[str] = frozenset()
    conditions: Conditions | None = None  # None: "Action does not support conditions"
    ending: Ending = Ending.NEVER
    flow_types: frozenset[FlowKind] = ALL_FLOW_TYPES
    check: Callable[[Mapping[str, Any], Report], None] | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def takes_no_parameters(self) -> bool:
        """The reference documents no parameters: exports may leave `Parameters` out altogether."""
        return not self.required and not self.optional


def as_int(value: Any) -> int | None:
    """Console exports write numbers as digit strings: accept both, refuse booleans."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _in_range(value: Any, low: int, high: int, *, dynamic: bool = False) -> bool:
    """An integer (or digit string) from low to high; with `dynamic`, one JSONPath is accepted too."""
    if dynamic and isinstance(value, str) and is_jsonpath(value):
        return True
    number = as_int(value)
    return number is not None and low <= number <= high


def _within(report: Report, prefix: tuple[str | int, ...]) -> Report:
    return lambda path, message: report((*prefix, *path), message)


# Parameter checks, one per rule that needs more than "required/optional".


def _one_message(params: Mapping[str, Any], report: Report, *, required: bool) -> None:
    given = [key for key in ("Text", "SSML", "PromptId") if key in params]
    if len(given) > 1:
        report((given[1],), f"give only one of Text, SSML and PromptId (found {', '.join(given)})")
    elif required and not given and "Media" not in params:
        report((), "needs exactly one of Text, SSML or PromptId (or a Media source)")
    for key in given:
        if not isinstance(params[key], str) or not params[key]:
            report((key,), "must be a non-empty string")


def _true_false(params: Mapping[str, Any], report: Report, *keys: str) -> None:
    for key in keys:
        if key in params and str(params[key]).lower() not in ("true", "false"):
            report((key,), 'must be "true" or "false"')


def _message_participant(params: Mapping[str, Any], report: Report) -> None:
    _one_message(params, report, required=True)
    _true_false(params, report, "SkipWhenDTMFBufferEnabled")


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


def _target_contact(params: Mapping[str, Any], report: Report) -> None:
    if "TargetContact" in params and params["TargetContact"] not in ("Current", "Related"):
        report(("TargetContact",), "must be Current or Related")


def _update_attributes(params: Mapping[str, Any], report: Report) -> None:
    attributes = params.get("Attributes")
    if not isinstance(attributes, dict) or not attributes:
        report(("Attributes",), "must be a non-empty map")
    else:
        for key, value in attributes.items():
            if not isinstance(value, str):
                report(("Attributes", key), "must be a string (static, or one JSONPath)")
    _target_contact(params, report)


def _compare(params: Mapping[str, Any], report: Report) -> None:
    value = params.get("ComparisonValue")
    if not isinstance(value, str) or not is_jsonpath(value):
        report(("ComparisonValue",), "must be one JSONPath such as $.Attributes.tier")


def _queue_or_agent(params: Mapping[str, Any], report: Report) -> None:
    if "QueueId" in params and "AgentId" in params:
        report((), "give QueueId or AgentId, not both")


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


def _event_hooks(params: Mapping[str, Any], report: Report) -> None:
    hooks = params.get("EventHooks")
    if not isinstance(hooks, dict) or len(hooks) != 1:
        report(("EventHooks",), "must hold exactly one event hook")
        return
    for name in hooks:
        if name not in EVENT_HOOKS:
            report(("EventHooks", name), f"unknown event hook (expected one of {', '.join(sorted(EVENT_HOOKS))})")
    configuration = params.get("EventHooksConfiguration", {})
    if not isinstance(configuration, dict) or not set(configuration) <= set(hooks):
        report(("EventHooksConfiguration",), "may only configure the hook this action sets")


def _loop(params: Mapping[str, Any], report: Report) -> None:
    if not _in_range(params.get("LoopCount"), 0, 100, dynamic=True):
        report(("LoopCount",), "must be an integer from 0 to 100, or one JSONPath")


def _lex_bot(params: Mapping[str, Any], report: Report) -> None:
    _one_message(params, report, required=False)
    bots = [key for key in ("LexV2Bot", "LexBot") if key in params]
    if len(bots) != 1:
        report((), "needs exactly one of LexV2Bot or LexBot")


def _third_party(params: Mapping[str, Any], report: Report) -> None:
    _true_false(params, report, "ContinueFlowExecution")
    seconds = params.get("ThirdPartyConnectionTimeLimitSeconds")
    if seconds is not None and not _in_range(seconds, 0, 600, dynamic=True):
        report(("ThirdPartyConnectionTimeLimitSeconds",), "must be an integer from 0 to 600, or one JSONPath")


def _wait(params: Mapping[str, Any], report: Report) -> None:
    if not _in_range(params.get("TimeoutSeconds"), 1, 604_800, dynamic=True):
        report(("TimeoutSeconds",), "must be a positive integer up to 604800 (seven days), or one JSONPath")
    if "Events" in params and not isinstance(params["Events"], list):
        report(("Events",), "must be a list of events")


def _routing_behavior(params: Mapping[str, Any], report: Report) -> None:
    given = [key for key in ("QueuePriority", "QueueTimeAdjustmentSeconds", "RoutingProficiencies") if key in params]
    if len(given) != 1:
        report((), "needs exactly one of QueuePriority, QueueTimeAdjustmentSeconds or RoutingProficiencies")


def _create_task(params: Mapping[str, Any], report: Report) -> None:
    if "DelaySeconds" in params and "ScheduledTime" in params:
        report(("ScheduledTime",), "give DelaySeconds or ScheduledTime, not both")


def _callback_number(params: Mapping[str, Any], report: Report) -> None:
    number = params.get("CallbackNumber")
    if not isinstance(number, str) or not is_jsonpath(number):
        report(("CallbackNumber",), "must be one JSONPath (the reference allows no static number)")


def _callback_contact(params: Mapping[str, Any], report: Report) -> None:
    _queue_or_agent(params, report)
    for key, limit in (("InitialCallDelaySeconds", 259_200), ("RetryDelaySeconds", 259_200)):
        if key in params and not _in_range(params[key], 1, limit):
            report((key,), f"must be an integer from 1 to {limit:,}")
    if "MaximumConnectionAttempts" in params and (as_int(params["MaximumConnectionAttempts"]) or 0) < 1:
        report(("MaximumConnectionAttempts",), "must be a positive integer")


def _one_of(*choices: str) -> Callable[[str], Callable[[Mapping[str, Any], Report], None]]:
    def for_key(key: str) -> Callable[[Mapping[str, Any], Report], None]:
        def check(params: Mapping[str, Any], report: Report) -> None:
            if key in params and params[key] not in choices:
                report((key,), f"must be one of {', '.join(choices)}")

        return check

    return for_key


_ERROR = frozenset(("NoMatchingError",))
_PROMPT = frozenset(("Text", "SSML", "PromptId", "Media"))
_PROFILE = frozenset(("ProfileRequestData", "ProfileResponseData"))
_NO_PARAMETERS = "the reference lists no parameters; exports write `{}` or leave `Parameters` out, both are accepted"

ACTION_RULES: dict[str, ActionRule] = {
    # Contact actions.
    "CompleteOutboundCall": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-completeoutboundcall.html",
        "places the outbound call of an outbound contact",
        optional=frozenset(("CallerId", "VoiceConnector", "ConnectionTimeLimitSeconds")),
    ),
    "CreateCase": ActionRule(
        Category.CONTACT,
        _DEV + "createcase.html",
        "creates a case from a case template",
        required=frozenset(("LinkContactToCase", "CaseTemplateId")),
        optional=frozenset(("CaseRequestFields",)),
        errors=frozenset(("ContactNotLinked", "NoMatchingError")),
    ),
    "CreateTask": ActionRule(
        Category.CONTACT,
        _DEV + "createtask.html",
        "creates a task that runs a flow",
        required=frozenset(("ContactFlowId", "Name")),
        optional=frozenset(
            ("Attributes", "Description", "References", "DelaySeconds", "ScheduledTime", "TaskTemplateId")
        ),
        errors=_ERROR,
        check=_create_task,
    ),
    "CreateWisdomSession": ActionRule(
        Category.CONTACT,
        _DEV + "createwisdomsession.html",
        "associates an Amazon Q in Connect (Wisdom) assistant with the contact",
        required=frozenset(("WisdomAssistantArn",)),
        errors=_ERROR,
    ),
    "DequeueContactAndTransferToQueue": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-dequeuecontactandtransfertoqueue.html",
        "moves a queued contact to another queue",
        optional=frozenset(("QueueId", "AgentId")),
        errors=frozenset(("QueueAtCapacity", "NoMatchingError")),
        flow_types=QUEUE,
        check=_queue_or_agent,
    ),
    "EndFlowModuleExecution": ActionRule(
        Category.CONTACT,
        _DEV + "endflowmoduleexecution.html",
        "returns from a flow module to the flow that invoked it",
        ending=Ending.ALWAYS,
        flow_types=frozenset((MODULE,)),
        notes=(_NO_PARAMETERS,),
    ),
    "GetCase": ActionRule(
        Category.CONTACT,
        _DEV + "getcase.html",
        "finds a customer's cases",
        required=frozenset(("LinkContactToCase", "CustomerId")),
        optional=frozenset(("GetLastUpdatedCase", "CaseRequestFields", "CaseResponseFields")),
        errors=frozenset(("NoMatchingError", "ContactNotLinked", "MultipleFound", "NoneFound")),
    ),
    "InvokeFlowModule": ActionRule(
        Category.CONTACT,
        _DEV + "flow-language-actions-invoke-flow-module.html",
        "runs a flow module, then continues at NextAction",
        required=frozenset(("FlowModuleId",)),
        errors=_ERROR,
        flow_types=frozenset(("CONTACT_FLOW",)),
        notes=("the reference allows it only in inbound flows, so a module cannot invoke another module",),
    ),
    "ResumeContact": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontactresumecontact.html",
        "resumes a paused contact",
        errors=_ERROR,
        notes=(_NO_PARAMETERS,),
    ),
    "StartOutboundChatContact": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-startoutboundchatcontact.html",
        "starts an outbound SMS chat",
        required=frozenset(("SourceEndpoint", "DestinationEndpoint", "ContactFlowArn", "ContactSubtype")),
        optional=frozenset(("InitialSystemMessage", "RelatedContact")),
        errors=_ERROR,
    ),
    "TagContact": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-tagcontact.html",
        "adds user-defined tags to the contact",
        required=frozenset(("Tags",)),
    ),
    "TransferContactToAgent": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-transfercontacttoagent.html",
        "ends the flow and transfers the contact to an agent",
        ending=Ending.ALWAYS,
        flow_types=TRANSFER,
        notes=(_NO_PARAMETERS,),
    ),
    "TransferContactToQueue": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-transfercontacttoqueue.html",
        "puts the contact in its working queue",
        errors=frozenset(("QueueAtCapacity", "NoMatchingError")),
        flow_types=INBOUND_AND_TRANSFER,
        notes=(_NO_PARAMETERS,),
    ),
    "UnTagContact": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-untagcontact.html",
        "removes user-defined tags from the contact",
        required=frozenset(("TagKeys",)),
        errors=_ERROR,
    ),
    "UpdateCase": ActionRule(
        Category.CONTACT,
        _DEV + "updatecase.html",
        "updates a case's fields",
        required=frozenset(("LinkContactToCase", "CaseId")),
        optional=frozenset(("CaseRequestFields",)),
        errors=frozenset(("ContactNotLinked", "NoMatchingError")),
    ),
    "UpdateContactAttributes": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontactattributes.html",
        "sets contact attributes on the current or related contact",
        required=frozenset(("Attributes",)),
        optional=frozenset(("TargetContact",)),
        errors=_ERROR,
        check=_update_attributes,
    ),
    "UpdateContactCallbackNumber": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontactcallbacknumber.html",
        "sets the number a callback dials",
        required=frozenset(("CallbackNumber",)),
        errors=frozenset(("InvalidCallbackNumber", "CallbackNumberNotDialable")),
        flow_types=INBOUND_AND_TRANSFER | QUEUE,
        check=_callback_number,
    ),
    "UpdateContactData": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontactdata.html",
        "sets Connect-defined contact data (name, language, Voice ID settings, ...)",
        required=frozenset(("TargetContact",)),
        optional=frozenset(
            (
                "Name",
                "Description",
                "LanguageCode",
                "CustomerId",
                "References",
                "IsVoiceIdStreamingEnabled",
                "IsVoiceAuthenticationEnabled",
                "IsFraudDetectionEnabled",
                "VoiceAuthenticationThreshold",
                "VoiceAuthenticationResponseTime",
                "FraudDetectionThreshold",
                "WatchlistId",
                "WisdomSessionArn",
            )
        ),
        errors=_ERROR,
        check=_target_contact,
    ),
    "UpdateContactEventHooks": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontacteventhooks.html",
        "sets the flow that runs on a contact event (customer queue, whisper, hold, ...)",
        required=frozenset(("EventHooks",)),
        optional=frozenset(("EventHooksConfiguration",)),
        errors=_ERROR,
        check=_event_hooks,
        notes=(
            "console exports add `EventHooksConfiguration` (for example `DisableExecution` of the hook set); "
            "it may configure only the hook the action sets",
        ),
    ),
    "UpdateContactMediaProcessing": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontactmediaprocessing.html",
        "applies a Lambda message processor to a chat",
        required=frozenset(("ChatProcessor",)),
        errors=frozenset(("NoMatchingError", "ChannelMismatch")),
    ),
    "UpdateContactMediaStreamingBehavior": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontactmediastreamingbehavior.html",
        "starts or stops live media streaming",
        required=frozenset(("MediaStreamingState", "Participants", "MediaStreamType")),
        errors=_ERROR,
        flow_types=ALL_FLOW_TYPES - HOLD,
        check=_one_of("Enabled", "Disabled")("MediaStreamingState"),
    ),
    "UpdateContactRecordingAndAnalyticsBehavior": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontactrecordingandanalyticsbehavior.html",
        "sets recording and Contact Lens analytics per channel",
        optional=frozenset(("ChatBehavior", "VoiceBehavior", "EmailBehavior", "ScreenRecordingBehavior")),
        errors=frozenset(("NoMatchingError", "ChannelMismatch", "InFlightRedactionConfigurationFailed")),
    ),
    "UpdateContactRecordingBehavior": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontactrecordingbehavior.html",
        "sets which participants are recorded, and Contact Lens analytics",
        required=frozenset(("RecordingBehavior",)),
        optional=frozenset(("AnalyticsBehavior",)),
        flow_types=INBOUND_AND_TRANSFER | QUEUE | {"OUTBOUND_WHISPER"},
        check=_recording,
    ),
    "UpdateContactRoutingBehavior": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontactroutingbehavior.html",
        "changes the contact's routing priority, age or proficiency",
        optional=frozenset(("QueuePriority", "QueueTimeAdjustmentSeconds", "RoutingProficiencies")),
        flow_types=INBOUND,
        check=_routing_behavior,
    ),
    "UpdateContactTargetQueue": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontacttargetqueue.html",
        "sets the working queue",
        optional=frozenset(("QueueId", "AgentId")),
        errors=_ERROR,
        flow_types=INBOUND_AND_TRANSFER,
        check=_target_queue,
    ),
    "UpdateContactTextToSpeechVoice": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatecontacttexttospeechvoice.html",
        "sets the Amazon Polly voice",
        required=frozenset(("TextToSpeechVoice",)),
        optional=frozenset(("TextToSpeechEngine", "TextToSpeechStyle")),
        errors=_ERROR,
    ),
    "UpdatePreviousContactParticipantState": ActionRule(
        Category.CONTACT,
        _DEV + "contact-actions-updatepreviouscontactparticipantstate.html",
        "puts the previous contact's agent or customer on hold, or off hold",
        required=frozenset(("PreviousContactParticipantState",)),
        errors=_ERROR,
        flow_types=INBOUND_AND_TRANSFER,
        check=_one_of("AgentOnHold", "CustomerOnHold", "OffHold")("PreviousContactParticipantState"),
    ),
    # Flow control actions.
    "CheckHoursOfOperation": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-checkhoursofoperation.html",
        "branches on whether hours of operation are open now",
        optional=frozenset(("HoursOfOperationId",)),
        errors=_ERROR,
        conditions=Conditions(frozenset(("Equals",)), frozenset(("True", "False")), ("True", "False")),
        flow_types=INBOUND_AND_TRANSFER | QUEUE,
    ),
    "CheckMetricData": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-checkmetricdata.html",
        "branches on a real-time queue metric",
        required=frozenset(("MetricType",)),
        optional=frozenset(("QueueId", "AgentId")),
        errors=frozenset(("NoMatchingError", "NoMatchingCondition")),
        conditions=Conditions(),
        flow_types=INBOUND_AND_TRANSFER | QUEUE,
        check=_queue_or_agent,
    ),
    "CheckOutboundCallStatus": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-checkoutboundcallstatus.html",
        "branches on how an outbound campaign call was answered",
        errors=_ERROR,
        conditions=Conditions(
            frozenset(("Equals",)), frozenset(("CallAnswered", "VoicemailBeep", "VoicemailNoBeep", "NotDetected"))
        ),
        notes=(_NO_PARAMETERS, "works only for outbound campaign calls, which no flow type expresses"),
    ),
    "CheckVoiceId": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-checkvoiceid.html",
        "branches on a Voice ID result",
        required=frozenset(("CheckVoiceIdOption",)),
        errors=_ERROR,
        conditions=Conditions(frozenset(("Equals",))),
        check=_one_of("enrollmentStatus", "voiceAuthentication", "fraudDetection")("CheckVoiceIdOption"),
    ),
    "Compare": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-compare.html",
        "branches on one value of the contact's data",
        required=frozenset(("ComparisonValue",)),
        errors=frozenset(("NoMatchingCondition",)),
        conditions=Conditions(at_least_one=True),
        check=_compare,
    ),
    "DistributeByPercentage": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-distributebypercentage.html",
        "branches at random by percentage",
        errors=frozenset(("NoMatchingCondition",)),
        conditions=Conditions(),
        flow_types=INBOUND_AND_TRANSFER | QUEUE,
        notes=(_NO_PARAMETERS,),
    ),
    "EndFlowExecution": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-endflowexecution.html",
        "ends the flow without disconnecting",
        ending=Ending.ALWAYS,
        flow_types=WHISPER | QUEUE,
        notes=(_NO_PARAMETERS,),
    ),
    "GetMetricData": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-getmetricdata.html",
        "loads real-time queue metrics into the flow's data",
        optional=frozenset(("QueueId", "AgentId", "QueueChannel")),
        errors=_ERROR,
        check=_queue_or_agent,
    ),
    "Loop": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-loop.html",
        "counts passes through itself: ContinueLooping LoopCount times, then DoneLooping",
        required=frozenset(("LoopCount",)),
        errors=_ERROR,
        conditions=Conditions(
            frozenset(("Equals",)),
            frozenset(("ContinueLooping", "DoneLooping")),
            ("ContinueLooping", "DoneLooping"),
        ),
        check=_loop,
        notes=(
            "the page lists no errors; the console's Loop block has an Error branch, so NoMatchingError is accepted",
        ),
    ),
    "StartVoiceIdStream": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-startvoiceidstream.html",
        "starts streaming the caller's audio to Voice ID",
        errors=_ERROR,
        notes=(_NO_PARAMETERS,),
    ),
    "TransferToFlow": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-transfertoflow.html",
        "continues in another flow",
        required=frozenset(("ContactFlowId",)),
        errors=_ERROR,
        flow_types=INBOUND_AND_TRANSFER,
    ),
    "UpdateFlowAttributes": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-updateflowattributes.html",
        "sets flow attributes ($.FlowAttributes), which later flows do not see",
        required=frozenset(("FlowAttributes",)),
        errors=_ERROR,
        notes=("the page lists no errors; console exports carry a NoMatchingError branch, so it is accepted",),
    ),
    "UpdateFlowLoggingBehavior": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-updateflowloggingbehavior.html",
        "turns flow logs on or off (the console's Set logging behavior block)",
        required=frozenset(("FlowLoggingBehavior",)),
        check=_logging,
    ),
    "UpdateRoutingCriteria": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-updateroutingcriteria.html",
        "sets step-based routing criteria",
        required=frozenset(("RoutingCriteria",)),
        errors=_ERROR,
        flow_types=INBOUND_AND_TRANSFER | QUEUE,
    ),
    "Wait": ActionRule(
        Category.FLOW_CONTROL,
        _DEV + "flow-control-actions-wait.html",
        "waits for a time or an event (chat)",
        required=frozenset(("TimeoutSeconds",)),
        optional=frozenset(("Events",)),
        errors=frozenset(("NoMatchingError", "ParticipantNotFound")),
        conditions=Conditions(frozenset(("Equals",)), required=("WaitCompleted",)),
        check=_wait,
    ),
    # Interactions.
    "AssociateContactToCustomerProfile": ActionRule(
        Category.INTERACTION,
        _DEV + "interactions-associatecontacttocustomerprofile.html",
        "associates the contact with a customer profile",
        required=frozenset(("ProfileRequestData",)),
        optional=frozenset(("ProfileResponseData",)),
        errors=_ERROR,
    ),
    "CreateCallbackContact": ActionRule(
        Category.INTERACTION,
        _DEV + "interactions-createcallbackcontact.html",
        "queues a callback",
        required=frozenset(("InitialCallDelaySeconds", "MaximumConnectionAttempts", "RetryDelaySeconds")),
        optional=frozenset(("QueueId", "AgentId", "ContactFlowId", "CallerId")),
        errors=_ERROR,
        flow_types=INBOUND_AND_TRANSFER | QUEUE,
        check=_callback_contact,
    ),
    "CreateCustomerProfile": ActionRule(
        Category.INTERACTION,
        _DEV + "interactions-createcustomerprofile.html",
        "creates a customer profile",
        optional=_PROFILE,
        errors=_ERROR,
    ),
    "GetCalculatedAttributesForCustomerProfile": ActionRule(
        Category.INTERACTION,
        _DEV + "interactions-getcalculatedattributesforcustomerprofile.html",
        "loads a profile's calculated attributes",
        required=frozenset(("ProfileRequestData",)),
        optional=frozenset(("ProfileResponseData",)),
        errors=frozenset(("NoneFoundError", "NoMatchingError")),
    ),
    "GetCustomerProfile": ActionRule(
        Category.INTERACTION,
        _DEV + "interactions-getcustomerprofile.html",
        "finds a customer profile",
        required=frozenset(("ProfileRequestData",)),
        optional=frozenset(("ProfileResponseData",)),
        errors=frozenset(("MultipleFoundError", "NoneFoundError", "NoMatchingError")),
    ),
    "GetCustomerProfileObject": ActionRule(
        Category.INTERACTION,
        _DEV + "interactions-getcustomerprofileobject.html",
        "loads a profile object (asset, order, case)",
        required=frozenset(("ProfileRequestData",)),
        optional=frozenset(("ProfileResponseData",)),
        errors=frozenset(("NoneFoundError", "NoMatchingError")),
    ),
    "InvokeLambdaFunction": ActionRule(
        Category.INTERACTION,
        _DEV + "interactions-invokelambdafunction.html",
        "calls a Lambda function; its answer is $.External",
        required=frozenset(("LambdaFunctionARN", "InvocationTimeLimitSeconds")),
        optional=frozenset(("InvocationType", "LambdaInvocationAttributes", "ResponseValidation")),
        errors=_ERROR,
        check=_invoke_lambda,
    ),
    "UpdateCustomerProfile": ActionRule(
        Category.INTERACTION,
        _DEV + "interactions-updatecustomerprofile.html",
        "updates the profile found or created earlier in the flow",
        optional=_PROFILE,
        errors=_ERROR,
    ),
    # Participant actions.
    "ConnectParticipantWithLexBot": ActionRule(
        Category.PARTICIPANT,
        _DEV + "participant-actions-connectparticipantwithlexbot.html",
        "hands the participant to an Amazon Lex bot and branches on the intent",
        optional=_PROMPT
        | {
            "LexV2Bot",
            "LexBot",
            "LexSessionAttributes",
            "LexInitializationData",
            "LexInitilizationData",
            "LexTimeoutSeconds",
        },
        errors=frozenset(("NoMatchingCondition", "NoMatchingError", "InputTimeLimitExceeded")),
        conditions=Conditions(frozenset(("Equals",))),
        flow_types=INBOUND_AND_TRANSFER | QUEUE,
        check=_lex_bot,
        notes=("the page's syntax spells `LexInitilizationData`; both spellings are accepted",),
    ),
    "DisconnectParticipant": ActionRule(
        Category.PARTICIPANT,
        _DEV + "participant-actions-disconnectparticipant.html",
        "disconnects the participant and ends the flow",
        ending=Ending.ALWAYS,
        notes=(_NO_PARAMETERS,),
    ),
    "GetParticipantInput": ActionRule(
        Category.PARTICIPANT,
        _DEV + "participant-actions-getparticipantinput.html",
        "plays a prompt and collects DTMF (or stores the input)",
        required=frozenset(("InputTimeLimitSeconds",)),
        optional=_PROMPT | {"StoreInput", "InputValidation", "InputEncryption", "DTMFConfiguration"},
        errors=frozenset(("NoMatchingCondition", "NoMatchingError", "InputTimeLimitExceeded", "InvalidPhoneNumber")),
        conditions=Conditions(frozenset(("Equals",)), frozenset(DTMF_CHARACTERS)),
        flow_types=INBOUND_AND_TRANSFER | QUEUE,
        check=_get_input,
        notes=('conditions only when StoreInput is "False"; NoMatchingCondition likewise',),
    ),
    "MessageParticipant": ActionRule(
        Category.PARTICIPANT,
        _DEV + "participant-actions-messageparticipant.html",
        "plays a prompt or sends a message",
        optional=_PROMPT | {"SkipWhenDTMFBufferEnabled"},
        errors=_ERROR,
        flow_types=ALL_FLOW_TYPES - HOLD,
        check=_message_participant,
        notes=(f"`SkipWhenDTMFBufferEnabled` comes with touchtone buffering ({TOUCHTONE_BUFFERING})",),
    ),
    "MessageParticipantIteratively": ActionRule(
        Category.PARTICIPANT,
        _DEV + "participant-actions-messageparticipantiteratively.html",
        "loops prompts while the contact waits in queue or on hold",
        required=frozenset(("Messages",)),
        optional=frozenset(("InterruptFrequencySeconds",)),
        errors=_ERROR,
        conditions=Conditions(frozenset(("Equals",)), frozenset(("MessagesInterrupted",))),
        ending=Ending.MAY,
        flow_types=QUEUE | HOLD,
        check=_message_iteratively,
        notes=(
            "the loop holds the contact until an agent answers or the hold ends, so console exports "
            "leave out NextAction (some keep only the MessagesInterrupted condition); that is accepted",
        ),
    ),
    "ShowView": ActionRule(
        Category.PARTICIPANT,
        _DEV + "participant-actions-showview.html",
        "shows a view (step-by-step guide) in the agent workspace and branches on the result",
        required=frozenset(("ViewResource", "InvocationTimeLimitSeconds")),
        optional=frozenset(("ViewData", "SensitiveDataConfiguration")),
        errors=frozenset(("NoMatchingError", "NoMatchingCondition", "TimeLimitExceeded")),
        conditions=Conditions(frozenset(("Equals",))),
        flow_types=INBOUND | QUEUE,
    ),
    "TransferParticipantToThirdParty": ActionRule(
        Category.PARTICIPANT,
        "https://docs.aws.amazon.com/connect/latest/adminguide/participant-actions-transferparticipanttothirdparty.html",
        "transfers the participant to an external phone number",
        required=frozenset(("ThirdPartyPhoneNumber",)),
        optional=frozenset(
            ("ThirdPartyConnectionTimeLimitSeconds", "ContinueFlowExecution", "ThirdPartyDTMFDigits", "CallerId")
        ),
        errors=frozenset(("ConnectionTimeLimitExceeded", "CallFailed", "NoMatchingError")),
        flow_types=INBOUND_AND_TRANSFER | QUEUE,
        check=_third_party,
    ),
}


def rule_for(action_type: str) -> ActionRule | None:
    return ACTION_RULES.get(action_type)
