"""Check a flow document against the flow-language rules before the service sees it.

Problems carry the service's own path style (`Actions[3].Transitions.NextAction`),
so a message from `omni flows validate` and one from `InvalidContactFlowException`
point at the same place. Source mode (the default) is for files in git: references
must be placeholders and no ARN may appear anywhere. Rendered mode accepts ARNs and
refuses placeholders, for flows rendered for, or exported from, an instance.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from connect_flows.action_rules import (
    ACTION_RULES,
    DTMF_CHARACTERS,
    MAX_CONDITIONS,
    OPERATORS,
    OTHER_TERMINAL_TYPES,
    ActionRule,
)
from connect_flows.manifest import FlowType, Manifest
from connect_flows.placeholders import (
    ARN_PATTERN,
    KINDS,
    format_path,
    is_jsonpath,
    mentions_placeholder,
    parse_placeholder,
    placeholders_in,
    reference_field,
    walk_strings,
)
from connect_flows.render import UnresolvedPlaceholderError, render

VERSION = "2019-10-30"
TOP_LEVEL_KEYS = frozenset(("Version", "StartAction", "Actions", "Metadata"))
MAX_ACTIONS = 250
CONSOLE_EXPORT_LIMIT = 100
MAX_CONTENT_CHARS = 256_000
MAX_IDENTIFIER_LENGTH = 50
IDENTIFIER_FORBIDDEN = frozenset("%:(\\/)=$,;[]{}")
RESERVED_IDENTIFIERS = frozenset(
    (
        "__proto__",
        "constructor",
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
        "toString",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "valueOf",
    )
)
MISSING_PROPERTY = "Action is missing required property"

# The longest ARNs a placeholder of each kind can become: a source flow's size is
# checked as if rendered for the most verbose target, so it cannot pass here and
# fail the 256,000-character limit at deploy time.
_UUID = "00000000-0000-0000-0000-000000000000"
_INSTANCE = f"arn:aws-us-gov:connect:ap-southeast-2:123456789012:instance/{_UUID}"
WORST_CASE_VALUES: dict[str, str] = {
    "lambda": "arn:aws-us-gov:lambda:ap-southeast-2:123456789012:function:" + "f" * 64 + ":" + "a" * 128,
    "queue": f"{_INSTANCE}/queue/{_UUID}",
    "hours": f"{_INSTANCE}/operating-hours/{_UUID}",
    "prompt": f"{_INSTANCE}/prompt/{_UUID}",
    "flow": f"{_INSTANCE}/contact-flow/{_UUID}",
    "module": f"{_INSTANCE}/flow-module/{_UUID}",
}


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    severity: Severity
    path: str
    message: str

    def format(self, source: str) -> str:
        where = f"{source}: {self.path}" if self.path else source
        label = "warning: " if self.severity is Severity.WARNING else ""
        return f"{where}: {label}{self.message}"


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.severity is Severity.ERROR]


class _Checker:
    def __init__(self, doc: Mapping[str, Any], *, rendered: bool, flow_type: FlowType | None) -> None:
        self.doc = doc
        self.rendered = rendered
        self.flow_type = flow_type
        self.problems: list[Problem] = []
        self.actions: list[dict[str, Any]] = []
        self.identifiers: dict[str, int] = {}

    def error(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(Severity.ERROR, format_path(path), message))

    def warn(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(Severity.WARNING, format_path(path), message))

    def run(self) -> list[Problem]:
        if not self._document():
            return self.problems
        for index, action in enumerate(self.doc["Actions"]):
            self._action(index, action)
        self._start_action()
        for index, action in self._well_formed():
            self._transitions(index, action)
            self._parameters(index, action)
            self._references(index, action)
        self._no_literal_arn()
        self._size()
        self._layout()
        self._reachability()
        return self.problems

    def _well_formed(self) -> Iterable[tuple[int, dict[str, Any]]]:
        for index, action in enumerate(self.doc["Actions"]):
            if (
                isinstance(action, dict)
                and isinstance(action.get("Type"), str)
                and isinstance(action.get("Parameters"), dict)
                and isinstance(action.get("Transitions"), dict)
            ):
                yield index, action

    def _document(self) -> bool:
        if not isinstance(self.doc, dict):
            self.error((), "a flow must be a JSON object")
            return False
        for key in self.doc:
            if key not in TOP_LEVEL_KEYS:
                self.warn((key,), "unknown top-level key (expected Version, StartAction, Actions, Metadata)")
        if self.doc.get("Version") != VERSION:
            self.error(("Version",), f'must be "{VERSION}"')
        actions = self.doc.get("Actions")
        if not isinstance(actions, list) or not actions:
            self.error(("Actions",), "must be a non-empty list of actions")
            return False
        if len(actions) > MAX_ACTIONS:
            self.error(("Actions",), f"{len(actions)} actions: at most {MAX_ACTIONS} are allowed")
        elif len(actions) > CONSOLE_EXPORT_LIMIT:
            self.warn(
                ("Actions",), f"{len(actions)} blocks: the console exports only flows under {CONSOLE_EXPORT_LIMIT}"
            )
        if "Metadata" in self.doc and not isinstance(self.doc["Metadata"], dict):
            self.error(("Metadata",), "must be an object")
        return True

    def _action(self, index: int, action: Any) -> None:
        path: tuple[str | int, ...] = ("Actions", index)
        if not isinstance(action, dict):
            self.error(path, "an action must be an object")
            return
        for key, kind in (("Identifier", str), ("Type", str), ("Parameters", dict), ("Transitions", dict)):
            if key not in action:
                self.error((*path, key), MISSING_PROPERTY)
            elif not isinstance(action[key], kind):
                self.error((*path, key), f"must be {'a string' if kind is str else 'an object'}")
        identifier = action.get("Identifier")
        if isinstance(identifier, str):
            self._identifier(index, identifier)
        action_type = action.get("Type")
        if isinstance(action_type, str) and action_type not in ACTION_RULES and action_type not in OTHER_TERMINAL_TYPES:
            self.warn((*path, "Type"), f"{action_type} is not known to this validator; its parameters are not checked")
        if (
            isinstance(action_type, str)
            and self.flow_type is not None
            and action_type in ACTION_RULES
            and self.flow_type not in ACTION_RULES[action_type].flow_types
        ):
            self.error((*path, "Type"), f"{action_type} is not available in {self.flow_type} flows")

    def _identifier(self, index: int, identifier: str) -> None:
        path = ("Actions", index, "Identifier")
        if identifier in self.identifiers:
            self.error(path, f"duplicate Identifier {identifier!r} (also Actions[{self.identifiers[identifier]}])")
        else:
            self.identifiers[identifier] = index
        if not identifier or len(identifier) > MAX_IDENTIFIER_LENGTH:
            self.error(path, f"must be 1 to {MAX_IDENTIFIER_LENGTH} characters")
        forbidden = sorted(set(identifier) & IDENTIFIER_FORBIDDEN)
        if forbidden:
            self.error(path, f"must not contain {' '.join(forbidden)}")
        if identifier in RESERVED_IDENTIFIERS:
            self.error(path, f"{identifier!r} is a reserved JavaScript property name")

    def _start_action(self) -> None:
        start = self.doc.get("StartAction")
        if not isinstance(start, str):
            self.error(("StartAction",), "must name the first action")
        elif start not in self.identifiers:
            self.error(("StartAction",), f"{start!r} names no action")

    def _next(self, path: tuple[str | int, ...], target: Any) -> None:
        if not isinstance(target, str):
            self.error(path, "must be an action Identifier")
        elif target not in self.identifiers:
            self.error(path, f"{target!r} names no action")

    def _transitions(self, index: int, action: dict[str, Any]) -> None:
        path: tuple[str | int, ...] = ("Actions", index, "Transitions")
        transitions = action["Transitions"]
        action_type = action["Type"]
        rule = ACTION_RULES.get(action_type)
        terminal = action_type in OTHER_TERMINAL_TYPES or (rule is not None and rule.terminal)
        if terminal:
            if transitions:
                self.error(path, f"{action_type} ends the flow: Transitions must be {{}}")
            return
        if "NextAction" not in transitions:
            self.error((*path, "NextAction"), f"{MISSING_PROPERTY}. Path: {format_path((*path, 'NextAction'))}")
        else:
            self._next((*path, "NextAction"), transitions["NextAction"])
        for key in transitions:
            if key not in ("NextAction", "Errors", "Conditions"):
                self.warn((*path, key), "unknown transition key (expected NextAction, Errors, Conditions)")
        self._errors(path, transitions.get("Errors", []), action, rule)
        self._conditions(path, transitions.get("Conditions", []), action, rule)

    def _allowed_errors(self, action: dict[str, Any], rule: ActionRule) -> frozenset[str]:
        if action["Type"] == "GetParticipantInput" and action["Parameters"].get("StoreInput") == "True":
            return rule.errors - {"NoMatchingCondition"}
        return rule.errors

    def _errors(
        self, path: tuple[str | int, ...], entries: Any, action: dict[str, Any], rule: ActionRule | None
    ) -> None:
        if not isinstance(entries, list):
            self.error((*path, "Errors"), "must be a list")
            return
        seen: set[str] = set()
        for number, entry in enumerate(entries):
            entry_path = (*path, "Errors", number)
            if not isinstance(entry, dict):
                self.error(entry_path, "must be an object with ErrorType and NextAction")
                continue
            self._next((*entry_path, "NextAction"), entry.get("NextAction"))
            error_type = entry.get("ErrorType")
            if not isinstance(error_type, str):
                self.error((*entry_path, "ErrorType"), MISSING_PROPERTY)
                continue
            if error_type in seen:
                self.error((*entry_path, "ErrorType"), f"duplicate ErrorType {error_type}")
            seen.add(error_type)
            if rule is not None:
                allowed = self._allowed_errors(action, rule)
                if error_type not in allowed:
                    expected = ", ".join(sorted(allowed)) or "none"
                    self.error(
                        (*entry_path, "ErrorType"),
                        f"{action['Type']} does not raise {error_type} (allowed: {expected})",
                    )

    def _conditions(
        self, path: tuple[str | int, ...], entries: Any, action: dict[str, Any], rule: ActionRule | None
    ) -> None:
        if not isinstance(entries, list):
            self.error((*path, "Conditions"), "must be a list")
            return
        action_type = action["Type"]
        stores_input = action_type == "GetParticipantInput" and action["Parameters"].get("StoreInput") == "True"
        if entries and rule is not None and (not rule.conditions or stores_input):
            reason = ' when StoreInput is "True"' if stores_input else ""
            self.error((*path, "Conditions"), f"Action does not support conditions{reason}")
            return
        if len(entries) > MAX_CONDITIONS:
            self.error((*path, "Conditions"), f"{len(entries)} conditions: at most {MAX_CONDITIONS}")
        operands_seen: list[tuple[str, list[str]]] = []
        for number, entry in enumerate(entries):
            entry_path = (*path, "Conditions", number)
            if not isinstance(entry, dict) or not isinstance(entry.get("Condition"), dict):
                self.error(entry_path, "must be an object with NextAction and Condition")
                continue
            self._next((*entry_path, "NextAction"), entry.get("NextAction"))
            condition = entry["Condition"]
            operator = condition.get("Operator")
            operands = condition.get("Operands")
            if operator not in OPERATORS:
                self.error((*entry_path, "Condition", "Operator"), f"unknown operator {operator!r}")
            if not isinstance(operands, list) or not operands or not all(isinstance(item, str) for item in operands):
                self.error((*entry_path, "Condition", "Operands"), "must be a non-empty list of strings")
                continue
            operands_seen.append((str(operator), operands))
            if action_type == "GetParticipantInput" and (
                operator != "Equals" or len(operands) != 1 or operands[0] not in DTMF_CHARACTERS
            ):
                self.error((*entry_path, "Condition"), "a DTMF condition is Equals one character of 0-9, # or *")
            if action_type == "MessageParticipantIteratively" and (operator, operands) != (
                "Equals",
                ["MessagesInterrupted"],
            ):
                self.error((*entry_path, "Condition"), 'the only condition is Equals "MessagesInterrupted"')
        if action_type == "CheckHoursOfOperation":
            expected = [("Equals", ["True"]), ("Equals", ["False"])]
            if sorted(operands_seen) != sorted(expected):
                self.error((*path, "Conditions"), 'needs exactly two conditions: Equals "True" and Equals "False"')
        if action_type == "Compare" and not entries:
            self.error((*path, "Conditions"), "Compare needs at least one condition")

    def _parameters(self, index: int, action: dict[str, Any]) -> None:
        rule = ACTION_RULES.get(action["Type"])
        if rule is None:
            return
        path: tuple[str | int, ...] = ("Actions", index, "Parameters")
        params = action["Parameters"]
        for key in sorted(rule.required - params.keys()):
            self.error((*path, key), MISSING_PROPERTY)
        for key in params:
            if key not in rule.required | rule.optional:
                self.warn((*path, key), f"{action['Type']} has no parameter {key}")
        if rule.check is not None:
            rule.check(params, lambda sub, message: self.error((*path, *sub), message))

    def _references(self, index: int, action: dict[str, Any]) -> None:
        base: tuple[str | int, ...] = ("Actions", index, "Parameters")
        for sub, value in walk_strings(action["Parameters"]):
            path = (*base, *sub)
            is_reference, kind = reference_field(sub)
            placeholder = parse_placeholder(value)
            if not is_reference:
                if mentions_placeholder(value):
                    self.error(path, "placeholders are allowed only as the whole value of a resource reference")
                continue
            if is_jsonpath(value):
                continue
            if self.rendered:
                if mentions_placeholder(value):
                    self.error(path, f"unresolved placeholder {value}")
                continue
            if placeholder is None:
                expected = f"${{{kind}:name}}" if kind else "a JSONPath"
                if mentions_placeholder(value):
                    kinds = ", ".join(KINDS)
                    self.error(
                        path,
                        f"malformed placeholder {value!r}: expected ${{kind:name}}, kind one of {kinds}, name in lower snake case",
                    )
                else:
                    self.error(path, f"resource reference must be {expected}, not a literal value")
            elif placeholder.kind != kind:
                expected = f"a ${{{kind}:...}} placeholder" if kind else "a JSONPath"
                self.error(path, f"{placeholder} is the wrong kind here: expected {expected}")

    def _no_literal_arn(self) -> None:
        if self.rendered:
            return
        for path, value in walk_strings(self.doc):
            if ARN_PATTERN.search(value):
                self.error(path, "literal ARN in a source flow: use a placeholder such as ${queue:general_support}")

    def _size(self) -> None:
        document = self.doc
        if not self.rendered:
            resolver: dict[tuple[str, str], str] = {
                (p.kind, p.name): WORST_CASE_VALUES[p.kind] for p in placeholders_in(dict(self.doc))
            }
            try:
                document = render(self.doc, resolver)
            except UnresolvedPlaceholderError:
                document = self.doc  # malformed placeholders are reported elsewhere
        size = len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))
        if not 1 <= size <= MAX_CONTENT_CHARS:
            self.error((), f"content is {size:,} characters when rendered: the limit is {MAX_CONTENT_CHARS:,}")

    def _layout(self) -> None:
        metadata = self.doc.get("Metadata")
        if not isinstance(metadata, dict):
            self.warn(("Metadata",), "no layout metadata: the flow designer will stack every block")
            return
        if not isinstance(metadata.get("entryPointPosition"), dict):
            self.warn(("Metadata", "entryPointPosition"), "missing: the designer places the entry point at random")
        positions = metadata.get("ActionMetadata")
        positions = positions if isinstance(positions, dict) else {}
        for identifier, index in self.identifiers.items():
            entry = positions.get(identifier)
            if not isinstance(entry, dict) or not isinstance(entry.get("position"), dict):
                self.warn(("Actions", index), "no position in Metadata.ActionMetadata: the designer will stack it")
        for identifier in positions:
            if identifier not in self.identifiers:
                self.warn(("Metadata", "ActionMetadata", identifier), "matches no action")

    def _reachability(self) -> None:
        start = self.doc.get("StartAction")
        if start not in self.identifiers:
            return
        by_id = {
            action["Identifier"]: action
            for _, action in self._well_formed()
            if isinstance(action.get("Identifier"), str)
        }
        reached = {start}
        pending = deque([start])
        while pending:
            action = by_id.get(pending.popleft())
            if action is None:
                continue
            for target in _targets(action["Transitions"]):
                if target in self.identifiers and target not in reached:
                    reached.add(target)
                    pending.append(target)
        for identifier, index in self.identifiers.items():
            if identifier not in reached:
                self.warn(("Actions", index), f"{identifier!r} is unreachable from StartAction")


def _targets(transitions: Mapping[str, Any]) -> list[Any]:
    targets = [transitions.get("NextAction")]
    for key in ("Errors", "Conditions"):
        entries = transitions.get(key)
        if isinstance(entries, list):
            targets += [entry.get("NextAction") for entry in entries if isinstance(entry, dict)]
    return targets


def validate_flow(doc: Any, *, rendered: bool = False, flow_type: FlowType | None = None) -> list[Problem]:
    """Every problem in one flow document; flow-type restrictions apply when `flow_type` is given."""
    return _Checker(doc, rendered=rendered, flow_type=flow_type).run()


def validate_file(path: Path, *, rendered: bool = False, manifest: Manifest | None = None) -> list[Problem]:
    """Problems in a flow file; its flow type comes from the manifest when the file is listed there."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        return [Problem(Severity.ERROR, "", f"cannot read: {error}")]
    except json.JSONDecodeError as error:
        return [Problem(Severity.ERROR, "", f"not valid JSON: {error}")]
    flow_type = None
    if manifest is not None:
        key = manifest.key_for_file(path)
        flow_type = manifest.flows[key].type if key is not None else None
    return validate_flow(doc, rendered=rendered, flow_type=flow_type)
