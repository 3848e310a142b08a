"""Walk a flow offline with a simulated contact, so admins can see the path a caller takes before import.

The simulator executes the same action types the validator knows, with the
service's branch rules: an error with no branch of its own takes NoMatchingError;
`$.External` holds only the latest Lambda's answer; a STRING_MAP answer must be a
flat map of strings within 32 KB; a Lambda that raises or overruns its time limit
takes the error branch. Lambda functions are in-process Python callables with
the real handler signature `(event, context)`, registered per placeholder name
(`caller_lookup` for `${lambda:caller_lookup}`), so the real handlers plug in.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from connect_flows.action_rules import as_int
from connect_flows.placeholders import Kind, is_jsonpath, parse_placeholder

LambdaFunction = Callable[[dict[str, Any], Any], Any]

MAX_LAMBDA_RESPONSE_BYTES = 32 * 1024
MAX_ATTRIBUTE_BYTES = 32_768
_INLINE_REFERENCE = re.compile(r"\$\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_-]+)*")


class SimulationError(Exception):
    """The flow cannot be simulated (unknown start flow, action type the simulator does not run)."""


class EndReason(StrEnum):
    QUEUED = "queued"
    DISCONNECTED = "disconnected"
    FLOW_ENDED = "flow ended"
    WAITING_IN_QUEUE = "waiting in queue with looping messages"
    TRANSFERRED_TO_AGENT = "transferred to agent"
    NO_BRANCH = "error with no branch (the service disconnects)"
    STEP_LIMIT = "step limit reached (a loop?)"


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
    """The simulated caller: `at` is when they call (naive times are UTC); `dtmf` answers input blocks in turn."""

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
    """How an action finished: one of next, a condition index, an error type, or the end of the contact."""

    label: str
    condition: int | None = None
    error: str | None = None
    end: EndReason | None = None
    flow: str | None = None


_NEXT = _Branch("next")

_ENDINGS = {
    "DisconnectParticipant": EndReason.DISCONNECTED,
    "EndFlowExecution": EndReason.FLOW_ENDED,
    "EndFlowModuleExecution": EndReason.FLOW_ENDED,
    "TransferContactToAgent": EndReason.TRANSFERRED_TO_AGENT,
}
SIMULATED_TYPES = (
    frozenset(
        (
            "MessageParticipantIteratively",
            "MessageParticipant",
            "UpdateFlowLoggingBehavior",
            "UpdateContactRecordingBehavior",
            "UpdateContactEventHooks",
            "UpdateContactAttributes",
            "Compare",
            "CheckHoursOfOperation",
            "UpdateContactTargetQueue",
            "TransferContactToQueue",
            "TransferToFlow",
            "GetParticipantInput",
            "InvokeLambdaFunction",
        )
    )
    | _ENDINGS.keys()
)


def _snake_case(action_type: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action_type).lower()


def _error(error_type: str) -> _Branch:
    return _Branch(f"error {error_type}", error=error_type)


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
    """Runs flows by manifest name. `queue_hours` gives each queue's hours, for CheckHoursOfOperation without an id.

    `time_limit_scale` shrinks Lambda time limits (tests use 0.01 so a timeout costs milliseconds).
    """

    def __init__(
        self,
        flows: Mapping[str, Mapping[str, Any]],
        *,
        lambdas: Mapping[str, LambdaFunction] | None = None,
        hours: Mapping[str, HoursOfOperation] | None = None,
        queue_hours: Mapping[str, str] | None = None,
        full_queues: frozenset[str] = frozenset(),
        max_steps: int = 200,
        time_limit_scale: float = 1.0,
    ) -> None:
        self.flows = flows
        self.lambdas = dict(lambdas or {})
        self.hours = dict(hours or {})
        self.queue_hours = dict(queue_hours or {})
        self.full_queues = full_queues
        self.max_steps = max_steps
        self.time_limit_scale = time_limit_scale

    def run(self, flow_name: str, contact: Contact) -> Trace:
        return _Run(self, contact).walk(flow_name)


class _Run:
    def __init__(self, simulator: Simulator, contact: Contact) -> None:
        self.sim = simulator
        self.contact = contact
        self.at = contact.at if contact.at.tzinfo else contact.at.replace(tzinfo=UTC)
        self.attributes: dict[str, str] = dict(contact.attributes)
        self.external: Any = {}
        self.stored_input: str | None = None
        self.queue: str | None = None
        self.dtmf = deque(contact.dtmf)
        self.steps: list[Step] = []
        self.messages: list[str] = []
        self.notes: list[str] = []
        self.hooks: dict[str, str] = {}
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
        flow_name, actions, current = self._enter(flow_name)
        for _ in range(self.sim.max_steps):
            action = actions[current]
            branch = self._execute(action)
            self.steps.append(Step(flow_name, action["Identifier"], action["Type"], branch.label))
            if branch.end is not None:
                return self.trace(branch.end)
            if branch.flow is not None:
                flow_name, actions, current = self._enter(branch.flow)
                continue
            target = self._target(action["Transitions"], branch)
            if target is None:
                self.notes.append(f"{flow_name}/{action['Identifier']}: {branch.label} has no branch")
                return self.trace(EndReason.NO_BRANCH)
            current = target
        return self.trace(EndReason.STEP_LIMIT)

    def _enter(self, flow_name: str) -> tuple[str, dict[str, dict[str, Any]], str]:
        if flow_name not in self.sim.flows:
            raise SimulationError(f"no flow {flow_name!r} (flows: {', '.join(self.sim.flows)})")
        doc = self.sim.flows[flow_name]
        actions = {action["Identifier"]: action for action in doc["Actions"]}
        if doc.get("StartAction") not in actions:
            raise SimulationError(f"{flow_name}: StartAction names no action")
        return flow_name, actions, doc["StartAction"]

    @staticmethod
    def _target(transitions: Mapping[str, Any], branch: _Branch) -> str | None:
        if branch.condition is not None:
            target: str = transitions["Conditions"][branch.condition]["NextAction"]
            return target
        if branch.error is not None:
            errors = {entry["ErrorType"]: entry["NextAction"] for entry in transitions.get("Errors", [])}
            return errors.get(branch.error, errors.get("NoMatchingError"))
        return transitions.get("NextAction")

    # Values: JSONPath references against the contact's data.

    def lookup(self, path: str) -> str | None:
        root: dict[str, Any] = {
            "Attributes": self.attributes,
            "External": self.external,
            "CustomerEndpoint": {"Address": self.contact.phone, "Type": "TELEPHONE_NUMBER"},
            "Channel": self.contact.channel,
            "ContactId": self.contact_id,
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
        for index, entry in enumerate(action["Transitions"].get("Conditions", [])):
            condition = entry["Condition"]
            if matches(condition["Operator"], condition["Operands"][0], value):
                return _Branch(f"condition {condition['Operator']} {condition['Operands'][0]!r}", condition=index)
        return _error(otherwise)

    # Actions.

    def _execute(self, action: Mapping[str, Any]) -> _Branch:
        if action["Type"] in _ENDINGS:
            return _Branch("end", end=_ENDINGS[action["Type"]])
        handler = getattr(self, "_" + _snake_case(action["Type"]), None)
        if action["Type"] not in SIMULATED_TYPES or handler is None:
            raise SimulationError(f"{action['Identifier']}: the simulator does not run {action['Type']} actions")
        branch: _Branch = handler(action["Parameters"], action)
        return branch

    def _message(self, params: Mapping[str, Any]) -> None:
        if "PromptId" in params:
            self.messages.append(f"[prompt {self.reference(params['PromptId'], 'prompt')}]")
        for key in ("Text", "SSML"):
            if key in params:
                self.messages.append(self.interpolate(params[key]))

    def _message_participant(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        self._message(params)
        return _NEXT

    def _message_participant_iteratively(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        for message in params["Messages"]:
            self._message(message)
        if "InterruptFrequencySeconds" in params:
            return self.condition_branch(action, "MessagesInterrupted", "NoMatchingError")
        return _Branch("loops until an agent answers", end=EndReason.WAITING_IN_QUEUE)

    def _update_flow_logging_behavior(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        return _NEXT

    def _update_contact_recording_behavior(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        return _NEXT

    def _update_contact_event_hooks(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        for name, raw in params["EventHooks"].items():
            flow = self.reference(raw, "flow")
            if flow is None:
                return _error("NoMatchingError")
            self.hooks[name] = flow
        return _NEXT

    def _update_contact_attributes(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        updates = {}
        for key, raw in params["Attributes"].items():
            value = self.value(raw)
            if value is None:
                self.notes.append(f"{action['Identifier']}: {raw} has no value, so no attribute is set")
                return _error("NoMatchingError")
            updates[key] = value
        merged = {**self.attributes, **updates}
        if len(json.dumps(merged).encode()) > MAX_ATTRIBUTE_BYTES:
            self.notes.append(f"{action['Identifier']}: contact attributes would exceed {MAX_ATTRIBUTE_BYTES} bytes")
            return _error("NoMatchingError")
        self.attributes = merged
        return _NEXT

    def _compare(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        return self.condition_branch(action, self.lookup(params["ComparisonValue"]), "NoMatchingCondition")

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

    def _transfer_contact_to_queue(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        if self.queue is None:
            self.notes.append(f"{action['Identifier']}: no working queue set")
            return _error("NoMatchingError")
        if self.queue in self.sim.full_queues:
            return _error("QueueAtCapacity")
        return _Branch(f"queued in {self.queue}", end=EndReason.QUEUED)

    def _transfer_to_flow(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        flow = self.reference(params["ContactFlowId"], "flow")
        if flow is None or flow not in self.sim.flows:
            self.notes.append(f"{action['Identifier']}: flow {flow or params['ContactFlowId']} is not available")
            return _error("NoMatchingError")
        return _Branch(f"transfer to flow {flow}", flow=flow)

    def _get_participant_input(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        self._message(params)
        if not self.dtmf:
            return _error("InputTimeLimitExceeded")
        entered = self.dtmf.popleft()
        if params.get("StoreInput") == "True":
            self.stored_input = entered
            return _Branch(f"stored input {entered!r}")
        return self.condition_branch(action, entered[:1], "NoMatchingCondition")

    def _invoke_lambda_function(self, params: Mapping[str, Any], action: Mapping[str, Any]) -> _Branch:
        name = self.reference(params["LambdaFunctionARN"], "lambda")
        function = self.sim.lambdas.get(name or "")
        if function is None:
            self.notes.append(f"{action['Identifier']}: no Lambda function registered for {name!r}")
            return _error("NoMatchingError")
        seconds = as_int(params["InvocationTimeLimitSeconds"]) or 8
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
