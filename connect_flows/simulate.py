"""Walk a flow offline with a simulated contact, so admins can see the path a caller takes before import.

The simulator runs the action types of the flow language with the service's branch
rules: an error with no branch of its own takes NoMatchingError; `$.External`
holds only the latest Lambda's answer; a STRING_MAP answer must be a flat map of
strings within 32 KB; a Lambda that raises or overruns its time limit takes the
error branch; a Loop counts passes through itself; InvokeFlowModule runs the module
and EndFlowModuleExecution returns to the flow that invoked it. Lambda functions
are in-process Python callables with the real handler signature `(event, context)`,
registered per placeholder name (`caller_lookup` for `${lambda:caller_lookup}`) or,
in a flow exported from an instance, per function name, so the real handlers plug in.

Every action type of the language is either run here or stops the walk with one
line naming the action, its type and why it cannot run offline (a queue metric, a
Voice ID result, an agent's choice in a view): a flow file never makes the
simulator fail, whatever it holds.
"""

from __future__ import annotations

import concurrent.futures
import json
import random
import re
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from connect_flows.action_rules import ACTION_RULES, as_int
from connect_flows.manifest import load_manifest
from connect_flows.placeholders import Kind, is_jsonpath, parse_placeholder

LambdaFunction = Callable[[dict[str, Any], Any], Any]

MAX_LAMBDA_RESPONSE_BYTES = 32 * 1024
MAX_ATTRIBUTE_BYTES = 32_768
_INLINE_REFERENCE = re.compile(r"\$\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_-]+)*")
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:]+)")


class SimulationError(Exception):
    """The walk cannot start: no such flow, or its StartAction names no action."""


class EndReason(StrEnum):
    QUEUED = "queued"
    DISCONNECTED = "disconnected"
    FLOW_ENDED = "flow ended"
    WAITING_IN_QUEUE = "waiting in queue with looping messages"
    TRANSFERRED_TO_AGENT = "transferred to agent"
    TRANSFERRED_OUT = "transferred to an external number"
    NO_BRANCH = "error with no branch (the service disconnects)"
    STEP_LIMIT = "step limit reached (a loop?)"
    STOPPED = "stopped: this step cannot run offline"
    BROKEN = "stopped: the flow is broken here"


# Why each action type the simulator does not run cannot run offline.
NOT_SIMULATED: dict[str, str] = {
    "AssociateContactToCustomerProfile": "it needs Customer Profiles",
    "CheckMetricData": "it branches on live queue metrics",
    "CheckOutboundCallStatus": "it branches on a real outbound call's answering-machine detection",
    "CheckVoiceId": "it branches on Voice ID's analysis of the caller's voice",
    "CreateCase": "it needs Amazon Connect Cases",
    "CreateCustomerProfile": "it needs Customer Profiles",
    "CreateWisdomSession": "it needs an Amazon Q in Connect assistant",
    "GetCalculatedAttributesForCustomerProfile": "it needs Customer Profiles",
    "GetCase": "it needs Amazon Connect Cases",
    "GetCustomerProfile": "it needs Customer Profiles",
    "GetCustomerProfileObject": "it needs Customer Profiles",
    "GetMetricData": "it loads live queue metrics",
    "ShowView": "it waits for an agent's choice in the agent workspace",
    "StartOutboundChatContact": "it would send an SMS",
    "UpdateCase": "it needs Amazon Connect Cases",
    "UpdateCustomerProfile": "it needs Customer Profiles",
}
# Types that change nothing the simulated caller can observe: the walk goes on.
NO_OFFLINE_EFFECT = frozenset(
    (
        "CompleteOutboundCall",
        "CreateTask",
        "ResumeContact",
        "StartVoiceIdStream",
        "TagContact",
        "UnTagContact",
        "UpdateContactData",
        "UpdateContactMediaProcessing",
        "UpdateContactMediaStreamingBehavior",
        "UpdateContactRecordingAndAnalyticsBehavior",
        "UpdateContactRecordingBehavior",
        "UpdateContactRoutingBehavior",
        "UpdateContactTextToSpeechVoice",
        "UpdateFlowLoggingBehavior",
        "UpdatePreviousContactParticipantState",
        "UpdateRoutingCriteria",
    )
)


@dataclass(frozen=True)
class HoursOfOperation:
    """Weekly opening hours in a time zone: day name (MONDAY...) -> (opens, closes) as HH:MM."""

    time_zone: str
    days: Mapping[str, tuple[str, str]]

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.time_zone))
        window = self.days.get(local.strftime("%A").upper())
        return window is not None and window[0] <= local.strftime("%H:%M") < window[1]


@dataclass(frozen=True)
class Contact:
    """The simulated caller: `at` is when they call (naive times are UTC).

    `dtmf` answers input blocks in turn: digits for GetParticipantInput, the intent
    name for a Lex bot (ConnectParticipantWithLexBot).
    """

    phone: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    attributes: Mapping[str, str] = field(default_factory=dict)
    dtmf: tuple[str, ...] = ()
    channel: str = "VOICE"


@dataclass(frozen=True)
class LambdaContext:
    """The parts of the Lambda context object handlers (and Powertools) read."""

    function_name: str
    aws_request_id: str
    invoked_function_arn: str
    time_limit_ms: int
    memory_limit_in_mb: int = 128

    def get_remaining_time_in_millis(self) -> int:
        return self.time_limit_ms


@dataclass(frozen=True)
class Step:
    flow: str
    identifier: str
    type: str
    outcome: str


@dataclass(frozen=True)
class Trace:
    steps: tuple[Step, ...]
    messages: tuple[str, ...]
    attributes: Mapping[str, str]
    queue: str | None
    end_reason: EndReason
    event_hooks: Mapping[str, str]
    notes: tuple[str, ...]

    @property
    def path(self) -> list[str]:
        return [step.identifier for step in self.steps]

    def format(self) -> str:
        lines = [f"{step.flow}/{step.identifier} ({step.type}) -> {step.outcome}" for step in self.steps]
        lines += [f"note: {note}" for note in self.notes]
        lines += [f"message: {message}" for message in self.messages]
        lines += [f"attribute: {key}={value}" for key, value in sorted(self.attributes.items())]
        lines += [f"event hook: {name} -> {flow}" for name, flow in sorted(self.event_hooks.items())]
        lines.append(f"queue: {self.queue or '-'}")
        lines.append(f"end: {self.end_reason}")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Branch:
    """How an action finished: next, a condition, an error, the end of the contact, or a jump."""

    label: str
    condition: int | None = None
    error: str | None = None
    end: EndReason | None = None
    flow: str | None = None  # continue in this flow
    module: str | None = None  # run this module, then come back
    returns: bool = False  # back from a module to the flow that invoked it
    reason: str = ""  # why the walk stops here


_NEXT = _Branch("next")


def _snake_case(action_type: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action_type).lower()


def _error(error_type: str) -> _Branch:
    return _Branch(f"error {error_type}", error=error_type)


def _stop(reason: str, end: EndReason = EndReason.STOPPED) -> _Branch:
    return _Branch("stopped", end=end, reason=reason)


_TEXT_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "Equals": lambda value, operand: value == operand,
    "TextStartsWith": str.startswith,
    "TextEndsWith": str.endswith,
    "TextContains": lambda value, operand: operand in value,
}
_NUMBER_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "NumberGreaterThan": lambda value, operand: value > operand,
    "NumberGreaterOrEqualTo": lambda value, operand: value >= operand,
    "NumberLessThan": lambda value, operand: value < operand,
    "NumberLessOrEqualTo": lambda value, operand: value <= operand,
}


def matches(operator: str, operand: str, value: str | None) -> bool:
    """One condition of the flow language; numeric operators are false for non-numbers, as in the service."""
    if value is None:
        return False
    if operator in _TEXT_OPERATORS:
        return _TEXT_OPERATORS[operator](value, operand)
    try:
        number, limit = float(value), float(operand)
    except ValueError:
        return False
    return operator in _NUMBER_OPERATORS and _NUMBER_OPERATORS[operator](number, limit)


class Simulator:
    """Runs flows by name. `queue_hours` gives each queue's hours, for CheckHoursOfOperation without an id.

    `modules` are the flow modules InvokeFlowModule can run, by name (`${module:name}`);
    by default the manifest's, which the repository's flows invoke.
    `time_limit_scale` shrinks Lambda time limits (tests use 0.01 so a timeout costs
    milliseconds); `seed` makes DistributeByPercentage repeatable.
    """

    def __init__(
        self,
        flows: Mapping[str, Mapping[str, Any]],
        *,
        modules: Mapping[str, Mapping[str, Any]] | None = None,
        lambdas: Mapping[str, LambdaFunction] | None = None,
        hours: Mapping[str, HoursOfOperation] | None = None,
        queue_hours: Mapping[str, str] | None = None,
        full_queues: frozenset[str] = frozenset(),
        max_steps: int = 200,
        time_limit_scale: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.flows = flows
        self.modules = dict(modules) if modules is not None else _manifest_modules()
        self.lambdas = dict(lambdas or {})
        self.hours = dict(hours or {})
        self.queue_hours = dict(queue_hours or {})
        self.full_queues = full_queues
        self.max_steps = max_steps
        self.time_limit_scale = time_limit_scale
        self.seed = seed

    def run(self, flow_name: str, contact: Contact) -> Trace:
        return _Run(self, contact).walk(flow_name)


def _manifest_modules() -> dict[str, dict[str, Any]]:
    manifest = load_manifest()
    return {key: manifest.load_module(key) for key in manifest.modules}


def _actions_by_id(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    actions = doc.get("Actions") if isinstance(doc, Mapping) else None
    if not isinstance(actions, list):
        return {}
    return {
        action["Identifier"]: action
        for action in actions
        if isinstance(action, dict) and isinstance(action.get("Identifier"), str)
    }


@dataclass
class _Frame:
    """Where the walk is: the flow or module, its actions, and where a module returns to."""

    name: str
    actions: dict[str, dict[str, Any]]
    resume: str | None = None  # in the invoking flow, the action after InvokeFlowModule


class _Run:
    def __init__(self, simulator: Simulator, contact: Contact) -> None:
        self.sim = simulator
        self.contact = contact
        self.at = contact.at if contact.at.tzinfo else contact.at.replace(tzinfo=UTC)
        self.attributes: dict[str, str] = dict(contact.attributes)
        self.flow_attributes: dict[str, str] = {}
        self.external: Any = {}
        self.lex: dict[str, Any] = {}
        self.stored_input: str | None = None
        self.queue: str | None = None
        self.dtmf = deque(contact.dtmf)
        self.loops: dict[int, int] = {}  # passes through each Loop action, by the action object's id
        self.random = random.Random(simulator.seed)  # noqa: S311 - a repeatable branch choice, not a secret
        self.steps: list[Step] = []
        self.messages: list[str] = []
        self.notes: list[str] = []
        self.hooks: dict[str, str] = {}
        self.callers: list[_Frame] = []
        self.contact_id = str(uuid.uuid4())

    def trace(self, reason: EndReason) -> Trace:
        return Trace(
            tuple(self.steps),
            tuple(self.messages),
            dict(self.attributes),
            self.queue,
            reason,
            dict(self.hooks),
            tuple(self.notes),
        )

    def walk(self, flow_name: str) -> Trace:
        if flow_name not in self.sim.flows:
            raise SimulationError(f"no flow {flow_name!r} (flows: {', '.join(self.sim.flows)})")
        frame, current = self._enter(flow_name, self.sim.flows[flow_name])
        if current is None:
            raise SimulationError(f"{flow_name}: StartAction names no action")
        for _ in range(self.sim.max_steps):
            action = frame.actions[current]
            branch = self._execute(action)
            self.steps.append(Step(frame.name, current, str(action.get("Type")), branch.label))
            if branch.end is not None:
                if branch.end in (EndReason.STOPPED, EndReason.BROKEN):
                    self.notes.append(f"stopped at {frame.name}/{current} ({action.get('Type')}): {branch.reason}")
                return self.trace(branch.end)
            moved = self._move(frame, current, action, branch)
            if isinstance(moved, EndReason):
                return self.trace(moved)
            frame, current = moved
        return self.trace(EndReason.STEP_LIMIT)

    def _move(
        self, frame: _Frame, current: str, action: Mapping[str, Any], branch: _Branch
    ) -> tuple[_Frame, str] | EndReason:
        """The next (frame, action) after `branch`, or why the walk ends there."""
        if branch.flow is not None:
            entered = self._enter(branch.flow, self.sim.flows[branch.flow])
            return self._started(entered, branch.flow)
        if branch.module is not None:
            frame.resume = self._target(_transitions(action), _NEXT)
            self.callers.append(frame)
            entered = self._enter(branch.module, self.sim.modules[branch.module])
            return self._started(entered, branch.module)
        if branch.returns:
            if not self.callers:
                return EndReason.FLOW_ENDED
            caller = self.callers.pop()
            return self._at(caller, caller.resume, f"{caller.name}: the module call has no NextAction to return to")
        target = self._target(_transitions(action), branch)
        if target is None:
            self.notes.append(f"{frame.name}/{current}: {branch.label} has no branch")
            return EndReason.NO_BRANCH
        return self._at(
            frame, target, f"{frame.name}/{current}: {branch.label} leads to {target!r}, which names no action"
        )

    def _at(self, frame: _Frame, target: str | None, broken: str) -> tuple[_Frame, str] | EndReason:
        if target is None or target not in frame.actions:
            self.notes.append(broken)
            return EndReason.BROKEN
        return frame, target

    def _started(self, entered: tuple[_Frame, str | None], name: str) -> tuple[_Frame, str] | EndReason:
        frame, start = entered
        if start is None:
            self.notes.append(f"{name}: StartAction names no action")
            return EndReason.BROKEN
        return frame, start

    @staticmethod
    def _enter(name: str, doc: Mapping[str, Any]) -> tuple[_Frame, str | None]:
        actions = _actions_by_id(doc)
        start = doc.get("StartAction") if isinstance(doc, Mapping) else None
        return _Frame(name, actions), start if isinstance(start, str) and start in actions else None

    @staticmethod
    def _target(transitions: Mapping[str, Any], branch: _Branch) -> str | None:
        if branch.condition is not None:
            entry = transitions["Conditions"][branch.condition]
            return entry.get("NextAction") if isinstance(entry.get("NextAction"), str) else None
        if branch.error is not None:
            entries = transitions.get("Errors")
            errors = {
                entry.get("ErrorType"): entry.get("NextAction")
                for entry in (entries if isinstance(entries, list) else [])
                if isinstance(entry, dict)
            }
            target = errors.get(branch.error, errors.get("NoMatchingError"))
            return target if isinstance(target, str) else None
        target = transitions.get("NextAction")
        return target if isinstance(target, str) else None

    # Values: JSONPath references against the contact's data.

    def lookup(self, path: str) -> str | None:
        root: dict[str, Any] = {
            "Attributes": self.attributes,
            "FlowAttributes": self.flow_attributes,
            "External": self.external,
            "Lex": self.lex,
            "CustomerEndpoint": {"Address": self.contact.phone, "Type": "TELEPHONE_NUMBER"},
            "Channel": self.contact.channel,
            "ContactId": self.contact_id,
            "InitialContactId": self.contact_id,
            "StoredCustomerInput": self.stored_input,
            "Queue": {"Name": self.queue} if self.queue else {},
        }
        value: Any = root
        for segment in path.split(".")[1:]:
            if not isinstance(value, dict) or segment not in value:
                return None
            value = value[segment]
        if isinstance(value, bool):
            return str(value).lower()
        return str(value) if isinstance(value, str | int | float) else None

    def value(self, raw: str) -> str | None:
        return self.lookup(raw) if is_jsonpath(raw) else raw

    def interpolate(self, text: str) -> str:
        return _INLINE_REFERENCE.sub(lambda match: self.lookup(match.group(0)) or "", text)

    def reference(self, raw: Any, kind: Kind) -> str | None:
        """The logical name a resource reference points at (through a JSONPath if dynamic)."""
        if not isinstance(raw, str):
            return None
        value = self.value(raw)
        if value is None:
            return None
        placeholder = parse_placeholder(value)
        if placeholder is None:
            return value
        return placeholder.name if placeholder.kind == kind else None

    def condition_branch(self, action: Mapping[str, Any], value: str | None, otherwise: str) -> _Branch:
        entries = _transitions(action).get("Conditions")
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            condition = entry.get("Condition") if isinstance(entry, dict) else None
            if not isinstance(condition, dict):
                continue
            operator, operands = str(condition.get("Operator")), condition.get("Operands")
            first = operands[0] if isinstance(operands, list) and operands else None
            if isinstance(first, str) and matches(operator, first, value):
                return _Branch(f"condition {operator} {first!r}", condition=index)
        return _error(otherwise)

    # Actions.

    def _execute(self, action: Mapping[str, Any]) -> _Branch:
        action_type = action.get("Type")
        params = action.get("Parameters", {})
        if not isinstance(action_type, str) or not isinstance(params, dict):
            return _stop("the action has no Type, or its Parameters are not an object", EndReason.BROKEN)
        handler = getattr(self, "_" + _snake_case(action_type), None)
        if action_type in NO_OFFLINE_EFFECT:
            return _Branch("next (no effect offline)")
        if action_type not in ACTION_RULES:
            return _stop(f"{action_type} is not an action type of the flow language", EndReason.BROKEN)
        if action_type in NOT_SIMULATED or handler is None:
            return _stop(f"the simulator does not run {action_type}: {NOT_SIMULATED.get(action_type, 'not offline')}")
        try:
            branch: _Branch = handler(params, action)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            return _stop(f"{action_type} has missing or malformed parameters ({error!r})", EndReason.BROKEN)
        return branch

    def _disconnect_participant(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        return _Branch("end", end=EndReason.DISCONNECTED)

    def _end_flow_execution(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        return _Branch("end", end=EndReason.FLOW_ENDED)

    def _transfer_contact_to_agent(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        return _Branch("end", end=EndReason.TRANSFERRED_TO_AGENT)

    def _end_flow_module_execution(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        caller = self.callers[-1].name if self.callers else None
        return _Branch(f"return to {caller}" if caller else "end", returns=True)

    def _invoke_flow_module(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        name = self.reference(params["FlowModuleId"], "module")
        if name is None or name not in self.sim.modules:
            self.notes.append(f"{action['Identifier']}: module {name or params['FlowModuleId']} is not available")
            return _error("NoMatchingError")
        return _Branch(f"invoke module {name}", module=name)

    def _message(self, params: Mapping[str, Any]) -> None:
        if "PromptId" in params:
            self.messages.append(f"[prompt {self.reference(params['PromptId'], 'prompt')}]")
        for key in ("Text", "SSML"):
            if key in params:
                self.messages.append(self.interpolate(str(params[key])))

    def _message_participant(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        self._message(params)
        return _NEXT

    def _message_participant_iteratively(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        for message in params["Messages"]:
            if isinstance(message, dict):
                self._message(message)
        if "InterruptFrequencySeconds" in params:
            return self.condition_branch(action, "MessagesInterrupted", "NoMatchingError")
        return _Branch("loops until an agent answers", end=EndReason.WAITING_IN_QUEUE)

    def _update_contact_event_hooks(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        for name, raw in params["EventHooks"].items():
            flow = self.reference(raw, "flow")
            if flow is None:
                return _error("NoMatchingError")
            self.hooks[name] = flow
        return _NEXT

    def _set(self, action: Mapping[str, Any], raw_values: Mapping[str, Any], target: dict[str, str]) -> _Branch:
        updates = {}
        for key, raw in raw_values.items():
            value = self.value(str(raw))
            if value is None:
                self.notes.append(f"{action['Identifier']}: {raw} has no value, so nothing is set")
                return _error("NoMatchingError")
            updates[key] = value
        merged = {**target, **updates}
        if len(json.dumps(merged).encode()) > MAX_ATTRIBUTE_BYTES:
            self.notes.append(f"{action['Identifier']}: attributes would exceed {MAX_ATTRIBUTE_BYTES} bytes")
            return _error("NoMatchingError")
        target.update(updates)
        return _NEXT

    def _update_contact_attributes(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        if params.get("TargetContact", "Current") != "Current":
            self.notes.append(f"{action['Identifier']}: attributes of the related contact are not simulated")
            return _NEXT
        return self._set(action, params["Attributes"], self.attributes)

    def _update_flow_attributes(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        values = {
            key: entry.get("Value") if isinstance(entry, dict) else entry
            for key, entry in params["FlowAttributes"].items()
        }
        return self._set(action, values, self.flow_attributes)

    def _compare(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        return self.condition_branch(action, self.lookup(params["ComparisonValue"]), "NoMatchingCondition")

    def _loop(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        count = as_int(self.value(str(params["LoopCount"]))) or 0
        key = id(action)
        done = self.loops.get(key, 0)
        if done < count:
            self.loops[key] = done + 1
            return self.condition_branch(action, "ContinueLooping", "NoMatchingError")
        self.loops[key] = 0
        return self.condition_branch(action, "DoneLooping", "NoMatchingError")

    def _distribute_by_percentage(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        return self.condition_branch(action, str(self.random.randint(1, 100)), "NoMatchingCondition")

    def _wait(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        return self.condition_branch(action, "WaitCompleted", "NoMatchingError")

    def _check_hours_of_operation(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        if "HoursOfOperationId" in params:
            name = self.reference(params["HoursOfOperationId"], "hours")
        else:
            name = self.sim.queue_hours.get(self.queue or "")
        hours = self.sim.hours.get(name or "")
        if hours is None:
            self.notes.append(f"{action['Identifier']}: no hours of operation {name or '(queue has none)'} defined")
            return _error("NoMatchingError")
        return self.condition_branch(action, str(hours.is_open(self.at)), "NoMatchingError")

    def _update_contact_target_queue(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        if "AgentId" in params:
            agent = self.value(params["AgentId"])
            queue = f"agent {agent}" if agent else None
        else:
            queue = self.reference(params.get("QueueId"), "queue")
        if queue is None:
            return _error("NoMatchingError")
        self.queue = queue
        return _NEXT

    def _update_contact_callback_number(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        number = self.value(str(params["CallbackNumber"]))
        return _NEXT if number and number.startswith("+") else _error("InvalidCallbackNumber")

    def _create_callback_contact(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        self.notes.append(f"{action['Identifier']}: a callback would be queued for {self.contact.phone}")
        return _NEXT

    def _transfer_contact_to_queue(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        if self.queue is None:
            self.notes.append(f"{action['Identifier']}: no working queue set")
            return _error("NoMatchingError")
        if self.queue in self.sim.full_queues:
            return _error("QueueAtCapacity")
        return _Branch(f"queued in {self.queue}", end=EndReason.QUEUED)

    def _dequeue_contact_and_transfer_to_queue(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        queue = self.reference(params.get("QueueId"), "queue") or (
            f"agent {self.value(params['AgentId'])}" if "AgentId" in params else None
        )
        if queue is None:
            return _error("NoMatchingError")
        self.queue = queue
        return _Branch(f"queued in {queue}", end=EndReason.QUEUED)

    def _transfer_to_flow(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        flow = self.reference(params["ContactFlowId"], "flow")
        if flow is None or flow not in self.sim.flows:
            self.notes.append(f"{action['Identifier']}: flow {flow or params['ContactFlowId']} is not available")
            return _error("NoMatchingError")
        return _Branch(f"transfer to flow {flow}", flow=flow)

    def _transfer_participant_to_third_party(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        number = self.value(str(params["ThirdPartyPhoneNumber"]))
        if str(params.get("ContinueFlowExecution", "True")).lower() == "false":
            return _Branch(f"transferred to {number}", end=EndReason.TRANSFERRED_OUT)
        self.notes.append(f"{action['Identifier']}: the call to {number} is taken to end with the caller still on")
        return _NEXT

    def _get_participant_input(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        self._message(params)
        if not self.dtmf:
            return _error("InputTimeLimitExceeded")
        entered = self.dtmf.popleft()
        if params.get("StoreInput") == "True":
            self.stored_input = entered
            return _Branch(f"stored input {entered!r}")
        return self.condition_branch(action, entered[:1], "NoMatchingCondition")

    def _connect_participant_with_lex_bot(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        self._message(params)
        if not self.dtmf:
            return _error("InputTimeLimitExceeded")
        intent = self.dtmf.popleft()
        self.lex = {"IntentName": intent, "Slots": {}}
        return self.condition_branch(action, intent, "NoMatchingCondition")

    def _lambda_name(self, raw: Any) -> str | None:
        """The registered function a LambdaFunctionARN names: its placeholder, or an ARN's function name."""
        name = self.reference(raw, "lambda")
        if name is None:
            return None
        arn = _LAMBDA_ARN.match(name)
        return arn.group(1) if arn and name not in self.sim.lambdas else name

    def _invoke_lambda_function(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        name = self._lambda_name(params["LambdaFunctionARN"])
        function = self.sim.lambdas.get(name or "")
        if function is None:
            self.notes.append(f"{action['Identifier']}: no Lambda function registered for {name!r}")
            return _error("NoMatchingError")
        seconds = as_int(params.get("InvocationTimeLimitSeconds")) or 8
        arguments = {key: self.value(raw) or "" for key, raw in params.get("LambdaInvocationAttributes", {}).items()}
        event = self._lambda_event(arguments)
        context = LambdaContext(
            function_name=str(name),
            aws_request_id=str(uuid.uuid4()),
            invoked_function_arn=f"simulated:{name}",
            time_limit_ms=seconds * 1000,
        )
        if params.get("InvocationType") == "ASYNCHRONOUS":
            self._call(function, event, context, seconds, action)
            return _NEXT
        outcome = self._call(function, event, context, seconds, action)
        if outcome is None:
            return _error("NoMatchingError")
        problem = _response_problem(outcome[0], params.get("ResponseValidation", {}).get("ResponseType", "STRING_MAP"))
        if problem:
            self.notes.append(f"{action['Identifier']}: {name}: {problem}")
            return _error("NoMatchingError")
        self.external = outcome[0]
        return _NEXT

    def _call(
        self,
        function: LambdaFunction,
        event: dict[str, Any],
        context: LambdaContext,
        seconds: int,
        action: Mapping[str, Any],
    ) -> tuple[Any] | None:
        """(response,) or None when the function raised or overran its time limit (both take the error branch)."""
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        future = executor.submit(function, event, context)
        try:
            return (future.result(timeout=seconds * self.sim.time_limit_scale),)
        except concurrent.futures.TimeoutError:
            self.notes.append(f"{action['Identifier']}: {context.function_name} timed out after {seconds} s")
            return None
        except Exception as error:  # noqa: BLE001 - any failure of the function is the flow's error branch
            self.notes.append(f"{action['Identifier']}: {context.function_name} raised {type(error).__name__}: {error}")
            return None
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    def _lambda_event(self, arguments: dict[str, str]) -> dict[str, Any]:
        """The event Amazon Connect sends a Lambda function (ContactFlowEvent)."""
        return {
            "Name": "ContactFlowEvent",
            "Details": {
                "ContactData": {
                    "Attributes": dict(self.attributes),
                    "Channel": self.contact.channel,
                    "ContactId": self.contact_id,
                    "InitialContactId": self.contact_id,
                    "InitiationMethod": "INBOUND",
                    "CustomerEndpoint": {"Address": self.contact.phone, "Type": "TELEPHONE_NUMBER"},
                    "Queue": {"Name": self.queue} if self.queue else None,
                },
                "Parameters": arguments,
            },
        }


def _response_problem(response: Any, response_type: str) -> str | None:
    """Why Connect would reject a Lambda response, or None."""
    try:
        size = len(json.dumps(response).encode())
    except (TypeError, ValueError):
        return "response is not JSON"
    if size > MAX_LAMBDA_RESPONSE_BYTES:
        return f"response is {size} bytes: the limit is {MAX_LAMBDA_RESPONSE_BYTES}"
    if not isinstance(response, dict):
        return "response must be a JSON object"
    if response_type == "STRING_MAP":
        bad = [key for key, value in response.items() if not isinstance(value, str)]
        if bad:
            return f"STRING_MAP response must be a flat map of strings: {', '.join(map(str, bad))} not strings"
    return None


def _transitions(action: Mapping[str, Any]) -> dict[str, Any]:
    transitions = action.get("Transitions")
    return transitions if isinstance(transitions, dict) else {}
